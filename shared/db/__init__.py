"""Database: engine and sessions (sqlmodel), tables, Alembic migrations."""
