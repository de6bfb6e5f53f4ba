"""The metrics worker as a real process on the real broker, writing to SQLite/PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from sqlmodel import Session, select

from deploy.local.processes import ManagedProcess
from shared.db.models import OpportunitySnapshot, Rep, RepDayBucket
from shared.embedded_broker import EmbeddedBroker
from shared.state import change_from_json
from shared.topics import Topic, topic_name
from tests.support.events import make_event, rep_upserted
from tests.support.kafka import produce_events, read_topic
from tests.support.poll import wait_for
from tests.support.services import start_service

T0 = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def worker(
    broker: EmbeddedBroker, topic_prefix: str, db_url: str, tmp_path: Path
) -> Iterator[ManagedProcess]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "DATABASE_URL": db_url,
        "VAR_DIR": str(tmp_path / "var"),
        "METRICS_RETENTION_DAYS": "30",
    }
    process = start_service("metrics", env, tmp_path)
    yield process
    process.stop()


async def test_events_become_snapshots_buckets_and_changes(
    worker: ManagedProcess, broker: EmbeddedBroker, topic_prefix: str, engine
) -> None:
    email = make_event(
        "email.sent", T0 + timedelta(hours=2), opportunity_id="opp-1", account_id="acc-1"
    )
    events = [
        rep_upserted(T0, "mgr-1", role="manager"),
        rep_upserted(T0, "rep-1", manager_id="mgr-1", time_zone="America/New_York"),
        make_event(
            "opportunity.created",
            T0 + timedelta(hours=1),
            opportunity_id="opp-1",
            account_id="acc-1",
            payload={"stage": "Discovery", "amount": "5000.00"},
        ),
        email,
        email,  # a retried delivery: same event id, counted once
        make_event(
            "call.made",
            T0 + timedelta(hours=3),
            account_id="acc-1",
            payload={"connected": True, "duration_seconds": 120},
        ),
        make_event(
            "meeting.scheduled",
            T0 + timedelta(hours=4),
            opportunity_id="opp-1",
            payload={"meeting_id": "m-1", "starts_at": (T0 + timedelta(days=3)).isoformat()},
        ),
    ]
    await produce_events(
        broker.bootstrap_servers, topic_name(Topic.SALES_EVENTS, topic_prefix), events
    )

    def snapshot() -> OpportunitySnapshot | None:
        with Session(engine) as session:
            row = session.get(OpportunitySnapshot, "opp-1")
            return row if row is not None and row.next_meeting_at is not None else None

    opp = wait_for(snapshot, timeout=30, what="opportunity snapshot in the DB")
    # the account-level call is the latest touch of the account's open opportunity
    assert opp.last_touch_at == T0 + timedelta(hours=3)
    assert opp.last_touch_type == "call.made"
    assert opp.next_meeting_at == T0 + timedelta(days=3)
    assert opp.stage == "Discovery" and opp.amount == 5000

    with Session(engine) as session:
        bucket = session.exec(select(RepDayBucket).where(RepDayBucket.rep_id == "rep-1")).one()
        rep = session.get(Rep, "rep-1")
    assert bucket.day == T0.date()  # 10:00 in New York
    assert (bucket.emails_sent, bucket.calls_made, bucket.calls_connected) == (1, 1, 1)
    assert (bucket.opps_created, bucket.meetings_scheduled, bucket.accounts_touched) == (1, 1, 1)
    assert rep is not None and rep.manager_id == "mgr-1"

    exposition = httpx.get(f"{worker.health_url.removesuffix('/healthz')}/metrics")
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")
    assert 'salescoach_metrics_events_total{outcome="duplicate"} 1.0' in exposition.text
    assert "salescoach_metrics_watermark_timestamp_seconds" in exposition.text

    records = await read_topic(
        broker.bootstrap_servers, topic_name(Topic.REP_METRICS, topic_prefix), min_count=8
    )
    kinds = [change_from_json(r.value).kind for r in records]
    assert kinds.count("rep") == 2 and kinds.count("opportunity") >= 3
    assert all(r.key == change_from_json(r.value).rep_id.encode() for r in records)


async def test_events_older_than_retention_go_to_the_dead_letter_topic(
    worker: ManagedProcess, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    recent = make_event("email.sent", T0)
    ancient = make_event("email.sent", T0 - timedelta(days=60))
    await produce_events(
        broker.bootstrap_servers, topic_name(Topic.SALES_EVENTS, topic_prefix), [recent, ancient]
    )
    records = await read_topic(
        broker.bootstrap_servers, topic_name(Topic.SALES_EVENTS_DLQ, topic_prefix), min_count=1
    )
    assert len(records) == 1
    parked = orjson.loads(records[0].value)
    assert parked["event_id"] == ancient.event_id
    assert parked["reason"] == "older than the retention horizon"
    assert orjson.loads(parked["raw"])["event_id"] == ancient.event_id
