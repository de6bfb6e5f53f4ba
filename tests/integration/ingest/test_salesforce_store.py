"""The Salesforce snapshot store on a real database, SQLite and PostgreSQL (`db_url`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from services.ingest.adapters import salesforce_fields as f
from services.ingest.adapters.base import Unavailable
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_outbound import SalesforceOutboundAdapter, build
from services.ingest.adapters.salesforce_store import Snapshot, SqlSnapshotStore, snapshot_key
from services.ingest.producer import InMemoryEventSink
from shared.db.engine import make_engine
from tests.unit.services.ingest.adapters.salesforce_support import (
    AT,
    OPP,
    ORG,
    OUTBOUND_URL,
    XML,
    client_of,
    mapping_document,
    opportunity,
    outbound,
    settings_for,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def snapshot(
    minutes: int, record_id: str = OPP, channel: str = "outbound", **fields: Any
) -> Snapshot:
    at = T0 + timedelta(minutes=minutes)
    values = {"Id": record_id, "StageName": "Prospecting", **fields}
    return Snapshot(channel, ORG, record_id, f.version(at), at, values)


@pytest.fixture
async def store(db_url: str) -> Any:
    running = SqlSnapshotStore(db_url)
    await running.start()
    yield running
    await running.stop()


KEY = snapshot_key("outbound", ORG, OPP)


async def test_a_record_never_seen_has_no_snapshot(store: SqlSnapshotStore) -> None:
    assert await store.load([KEY]) == {}


async def test_snapshots_round_trip_with_their_fields(store: SqlSnapshotStore) -> None:
    fields = {"Amount": "45000.0", "Name": "Café « Zürich »", "Nothing": None, "n": [1, {"a": 2}]}
    saved = snapshot(0, **fields)
    await store.save([saved])
    # The 18-character id and its 15-character form name the same record.
    loaded = await store.load([snapshot_key("outbound", ORG[:15], OPP[:15])])
    assert list(loaded) == [KEY]
    found = loaded[KEY]
    assert (found.key, found.version, found.fields) == (saved.key, saved.version, saved.fields)
    assert found.modified_at == T0


async def test_only_a_newer_version_replaces_a_snapshot(store: SqlSnapshotStore) -> None:
    await store.save([snapshot(10, StageName="Qualification")])
    await store.save([snapshot(5, StageName="Prospecting")])  # late
    await store.save([snapshot(10, StageName="Other")])  # same version again
    assert (await store.load([KEY]))[KEY].fields["StageName"] == "Qualification"
    await store.save([snapshot(20, StageName="Needs Analysis")])
    assert (await store.load([KEY]))[KEY].fields["StageName"] == "Needs Analysis"


async def test_the_newest_of_one_batch_wins_whatever_its_position(store: SqlSnapshotStore) -> None:
    await store.save([snapshot(3, StageName="c"), snapshot(9, StageName="z"), snapshot(1)])
    assert (await store.load([KEY]))[KEY].fields["StageName"] == "z"


async def test_channels_organisations_and_records_are_kept_apart(store: SqlSnapshotStore) -> None:
    other_opp = "0068W00000Opp02AAA"
    await store.save(
        [
            snapshot(1, StageName="om"),
            snapshot(2, channel="cdc", StageName="cdc"),
            snapshot(3, record_id=other_opp, StageName="other"),
            Snapshot("outbound", "00D5e000000OthErAA", OPP, f.version(T0), T0, {"x": 1}),
        ]
    )
    keys = [KEY, snapshot_key("cdc", ORG, OPP), snapshot_key("outbound", ORG, other_opp)]
    loaded = await store.load(keys)
    assert [loaded[key].fields["StageName"] for key in keys] == ["om", "cdc", "other"]


async def test_concurrent_saves_keep_the_newest(store: SqlSnapshotStore) -> None:
    versions = list(range(20))
    await asyncio.gather(*(store.save([snapshot(m, StageName=str(m))]) for m in versions))
    assert (await store.load([KEY]))[KEY].fields["StageName"] == "19"


async def test_the_adapter_diffs_against_the_state_a_previous_process_saved(
    db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, mapping_document(), database_url=db_url)
    sink = InMemoryEventSink()
    first = opportunity(AT - timedelta(hours=1))
    second = opportunity(AT, stage="Qualification")
    async with client_of(build(settings), sink, settings) as client:
        response = await client.post(
            OUTBOUND_URL, content=outbound([("Opportunity", first)]), headers=XML
        )
        assert response.status_code == 200, response.text
    async with client_of(build(settings), sink, settings) as client:  # a restart
        response = await client.post(
            OUTBOUND_URL, content=outbound([("Opportunity", second)]), headers=XML
        )
        assert response.status_code == 200, response.text
    assert [e.type.value for e in sink.events] == [
        "opportunity.created",
        "opportunity.stage_changed",
    ]
    assert sink.events[1].payload.model_dump()["from_stage"] == "Prospecting"


async def test_start_brings_a_blank_database_to_the_latest_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blank.db'}"
    store = SqlSnapshotStore(url)
    await store.start()
    await store.save([snapshot(0)])
    assert KEY in await store.load([KEY])
    await store.stop()
    engine = make_engine(url)
    assert "salesforce_snapshot" in inspect(engine).get_table_names()
    engine.dispose()


async def test_start_on_a_migrated_database_changes_nothing(db_url: str) -> None:
    store = SqlSnapshotStore(db_url)
    await store.start()
    await store.save([snapshot(0)])
    await store.stop()
    again = SqlSnapshotStore(db_url)
    await again.start()
    assert KEY in await again.load([KEY])
    await again.stop()


async def test_a_database_that_is_down_starts_and_then_answers_unavailable(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://ingest:pw-s3cret@127.0.0.1:9/nowhere"
    store = SqlSnapshotStore(url, connect_timeout_seconds=2)
    await store.start()  # logs, does not fail
    with pytest.raises(Unavailable) as down:
        await store.load([KEY])
    assert "s3cret" not in str(down.value)
    with pytest.raises(Unavailable):
        await store.save([snapshot(0)])
    await store.stop()
    # Through the app: a 503 Fault with Retry-After, which Salesforce retries.
    settings = settings_for(tmp_path, mapping_document(), database_url=url)
    adapter = SalesforceOutboundAdapter(SalesforceAccess.from_settings(settings), store)
    sink = InMemoryEventSink()
    async with client_of(adapter, sink, settings) as client:
        body = outbound([("Opportunity", opportunity())])
        response = await client.post(OUTBOUND_URL, content=body, headers=XML)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "s3cret" not in response.text
    assert sink.events == []
