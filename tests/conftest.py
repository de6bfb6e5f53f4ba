"""Fixtures every test area may use: the real broker, topic prefixes, fresh databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from shared.db.engine import make_engine
from shared.embedded_broker import EmbeddedBroker
from tests.support.databases import backends, fresh_database


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real Tansu broker for the whole test session, on a free port."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def topic_prefix() -> str:
    """A topic/group prefix no other test uses, so tests share one broker safely."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture(params=backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database URL, once on SQLite and once on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the fresh database of `db_url`."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
