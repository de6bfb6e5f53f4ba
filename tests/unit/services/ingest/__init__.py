"""Unit tests of the ingest service (in-memory sink, no I/O)."""
