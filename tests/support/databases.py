"""Fresh, migrated databases for tests: a SQLite file, and a new PostgreSQL database.

PostgreSQL is at TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432/test, trust auth).
Setting TEST_POSTGRES_URL to an empty string leaves PostgreSQL out explicitly; an
unreachable server is an error, not a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from shared.db.engine import make_engine, normalise_url
from shared.db.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str | None:
    """The server to create test databases on, or None when explicitly turned off."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return normalise_url(url) if url else None


def backends() -> list[str]:
    """Database backends the integration tests run on."""
    return ["sqlite", "postgresql"] if postgres_admin_url() else ["sqlite"]


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, migrated, empty database; drop it afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    admin_url = postgres_admin_url()
    assert admin_url, "PostgreSQL requested but TEST_POSTGRES_URL is empty"
    name = f"sc_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        raise RuntimeError(
            f"PostgreSQL at {make_url(admin_url).render_as_string(hide_password=True)} is not "
            "reachable; start it, or set TEST_POSTGRES_URL='' to run on SQLite only"
        ) from exc
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine: Engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
