"""The alerts service as a real process: rep.metrics in, alerts table and topic out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import Session, select

from deploy.local.processes import ManagedProcess
from shared.alerting import AlertMessage, AlertState
from shared.db.models import Alert, AlertTransition
from shared.embedded_broker import EmbeddedBroker
from shared.events import Role
from shared.state import (
    OpportunityChanged,
    OpportunityState,
    RepChanged,
    RepProfile,
    change_to_json,
)
from shared.topics import Topic, topic_name
from tests.support.kafka import read_topic
from tests.support.poll import wait_for
from tests.support.services import start_service

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def alerts_service(
    broker: EmbeddedBroker, topic_prefix: str, db_url: str, tmp_path: Path
) -> Iterator[ManagedProcess]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "DATABASE_URL": db_url,
        "CLOCK_MODE": "replay",
        "ALERTS_REPLAY_SWEEP_HOURS": "1",
    }
    process = start_service("alerts", env, tmp_path)
    yield process
    process.stop()


def opportunity(last_touch: datetime, watermark_days: float) -> OpportunityChanged:
    state = OpportunityState(
        opportunity_id="opp-9",
        rep_id="rep-1",
        name="Globex renewal",
        stage="Proposal",
        amount=12000,
        created_at=T0 - timedelta(days=30),
        stage_changed_at=T0,
        last_touch_at=last_touch,
        last_touch_type="call.made",
        updated_at=last_touch,
    )
    return OpportunityChanged(
        rep_id="rep-1", state=state, watermark=T0 + timedelta(days=watermark_days)
    )


async def send(bootstrap: str, topic: str, *changes: object) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for change in changes:
            await producer.send_and_wait(topic, change_to_json(change), key=b"rep-1")  # type: ignore[arg-type]
    finally:
        await producer.stop()


async def test_replayed_event_time_fires_and_a_touch_resolves(
    alerts_service: ManagedProcess, broker: EmbeddedBroker, topic_prefix: str, engine
) -> None:
    metrics_topic = topic_name(Topic.REP_METRICS, topic_prefix)
    rep = RepProfile(
        rep_id="rep-1",
        name="Sam Lee",
        email="sam@example.com",
        role=Role.AE,
        manager_id="mgr-1",
        team="east",
        updated_at=T0,
    )
    # Day 0: touched. Day 5: still fine. Day 11: the watermark passes the Proposal threshold.
    await send(
        broker.bootstrap_servers,
        metrics_topic,
        RepChanged(rep_id="rep-1", watermark=T0, profile=rep),
        opportunity(T0, 0),
        opportunity(T0, 5),
        opportunity(T0, 11),
    )

    def firing() -> Alert | None:
        with Session(engine) as session:
            return session.exec(select(Alert).where(Alert.state == "firing")).first()

    alert = wait_for(firing, timeout=30, what="a firing stale_opp alert")
    assert alert.rule == "stale_opp" and alert.subject_id == "opp-9"
    assert alert.manager_id == "mgr-1" and alert.numbers["days_since_touch"] == 11
    assert alert.started_at == T0 + timedelta(days=11)  # event time, not wall time

    await send(broker.bootstrap_servers, metrics_topic, opportunity(T0 + timedelta(days=12), 12))

    def resolved() -> Alert | None:
        with Session(engine) as session:
            row = session.get(Alert, alert.fingerprint)
            return row if row is not None and row.state == "resolved" else None

    assert wait_for(resolved, timeout=30, what="resolution").resolved_at == T0 + timedelta(days=12)
    with Session(engine) as session:
        transitions = session.exec(
            select(AlertTransition).where(AlertTransition.fingerprint == alert.fingerprint)
        ).all()
    assert [(t.from_state, t.to_state) for t in transitions] == [
        (None, "firing"),
        ("firing", "resolved"),
    ]
    records = await read_topic(
        broker.bootstrap_servers, topic_name(Topic.ALERTS, topic_prefix), min_count=2
    )
    states = [AlertMessage.from_json(r.value).state for r in records]
    assert states == [AlertState.FIRING, AlertState.RESOLVED]
    assert all(r.key == b"rep-1" for r in records)
