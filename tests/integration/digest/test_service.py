"""The digest service as a real process: alerts topic in, Slack DMs and digest emails out.

Runs on the real broker, on SQLite and PostgreSQL, against the local Slack API and the
SMTP catcher. Ordering on the alerts topic (one partition per rep) is what lets a later
"marker" alert prove that an earlier message was handled, without sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from deploy.local.processes import ManagedProcess, python_module
from deploy.local.slack_api import SlackApiServer
from deploy.local.smtp_catcher import SmtpCatcher
from services.digest.email_digest import digest_message_id
from shared.alerting import AlertMessage, AlertState, fingerprint
from shared.db.engine import session_scope
from shared.db.models import Alert, DigestLog, NotificationOutbox, Rep
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.kafka import ensure_topics, key_for, make_producer
from shared.settings import CommonSettings
from shared.topics import Topic, topic_name
from tests.factories import make_alert
from tests.integration.digest.conftest import SLACK_TOKEN, slack_messages
from tests.support.poll import wait_for

API_KEY = "digest-integration-api-key"
MANAGER_EMAIL = "mia.manager@example.com"
NOV_2_5AM_NY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # before the 07:00 digest hour
NOV_3_730AM_NY = datetime(2026, 11, 3, 12, 30, tzinfo=UTC)  # after it, the next day


@dataclass
class RunningDigest:
    process: ManagedProcess
    url: str


StartService = Callable[..., RunningDigest]


def alert(subject_id: str, state: AlertState, at: datetime, **overrides: Any) -> AlertMessage:
    fields: dict[str, Any] = {
        "fingerprint": fingerprint("stale_opp", "opportunity", subject_id),
        "rule": "stale_opp",
        "subject_type": "opportunity",
        "subject_id": subject_id,
        "subject_name": f"Deal {subject_id}",
        "rep_id": "rep-1",
        "rep_name": "Rita Rep",
        "manager_id": "mgr-1",
        "state": state,
        "severity": "warning",
        "valence": "warning",
        "audience": "manager_only",
        "title": f"Deal {subject_id} has gone quiet",
        "why": "No touch for 21 days and nothing booked.",
        "next_step": "Ask Rita to call the champion this week.",
        "numbers": {"days_since_touch": 21, "threshold_days": 14},
        "started_at": at - timedelta(days=1),
        "updated_at": at,
        "resolved_at": at if state is AlertState.RESOLVED else None,
    }
    return AlertMessage(**(fields | overrides))


def manager_row() -> Rep:
    return Rep(
        rep_id="mgr-1",
        name="Mia Manager",
        email=MANAGER_EMAIL,
        role="manager",
        time_zone="America/New_York",
        updated_at=NOV_2_5AM_NY,
    )


def rep_row() -> Rep:
    return Rep(
        rep_id="rep-1",
        name="Rita Rep",
        email="rita@example.com",
        role="AE",
        manager_id="mgr-1",
        time_zone="America/New_York",
        updated_at=NOV_2_5AM_NY,
    )


def save(engine: Engine, *rows: Any) -> None:
    with session_scope(engine) as session:
        session.add_all(rows)


def outbox_row(engine: Engine, message: AlertMessage) -> NotificationOutbox | None:
    with Session(engine) as session:
        query = select(NotificationOutbox).where(
            NotificationOutbox.fingerprint == message.fingerprint
        )
        return session.exec(query).first()


def dm_messages(slack: SlackApiServer) -> list[dict[str, Any]]:
    return [m for m in slack_messages(slack) if m["user_email"] == MANAGER_EMAIL]


def message_titled(slack: SlackApiServer, title: str) -> dict[str, Any] | None:
    return next((m for m in dm_messages(slack) if title in m["text"]), None)


@pytest.fixture
async def settings(broker: EmbeddedBroker, topic_prefix: str) -> CommonSettings:
    common = CommonSettings(
        kafka_bootstrap_servers=broker.bootstrap_servers, topic_prefix=topic_prefix
    )
    await ensure_topics(common)
    return common


@pytest.fixture
async def produce(settings: CommonSettings) -> AsyncIterator[Callable[..., Any]]:
    producer: AIOKafkaProducer = make_producer(settings)
    await producer.start()
    topic = topic_name(Topic.ALERTS, settings.topic_prefix)

    async def send(*messages: AlertMessage) -> None:
        for message in messages:
            await producer.send_and_wait(topic, message.to_json(), key=key_for(message.rep_id))

    yield send
    await producer.stop()


@pytest.fixture
def start_service(
    settings: CommonSettings,
    db_url: str,
    slack_server: SlackApiServer,
    smtp_catcher: SmtpCatcher,
    tmp_path: Path,
) -> Iterator[StartService]:
    """Start `python -m services.digest` (ready: consumer started, DB answering)."""
    started: list[ManagedProcess] = []

    def start(**extra_env: str) -> RunningDigest:
        port = free_port()
        env = {
            "ENVIRONMENT": "dev",
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "TOPIC_PREFIX": settings.topic_prefix,
            "DATABASE_URL": db_url,
            "DIGEST_PORT": str(port),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_BASE_URL": slack_server.base_url,
            "SMTP_HOST": smtp_catcher.host,
            "SMTP_PORT": str(smtp_catcher.port),
            "API_KEY": API_KEY,
            "DIGEST_INTERVAL_SECONDS": "0.2",
            "DELIVERY_RETRY_INITIAL_SECONDS": "0.1",
            "DELIVERY_RETRY_MAX_SECONDS": "0.5",
            "LOG_LEVEL": "INFO",
            **extra_env,
        }
        process = ManagedProcess(
            "digest",
            python_module("services.digest"),
            env=env,
            log_path=tmp_path / f"digest-{len(started)}.log",
            health_url=f"http://127.0.0.1:{port}/healthz",
        ).start(Path.cwd())
        started.append(process)
        process.wait_healthy(60)
        ready = f"http://127.0.0.1:{port}/readyz"
        wait_for(lambda: httpx.get(ready).status_code == 200, timeout=60, what="digest ready")
        return RunningDigest(process, f"http://127.0.0.1:{port}")

    yield start
    for process in started:
        process.stop()


async def test_alert_lifecycle_posts_once_and_edits_in_place(
    engine: Engine,
    start_service: StartService,
    produce: Callable[..., Any],
    slack_server: SlackApiServer,
) -> None:
    save(engine, rep_row())  # the manager's own row arrives later
    service = start_service()
    firing = alert("opp-1", AlertState.FIRING, NOV_2_5AM_NY)
    await produce(firing)

    # No manager in the directory yet: retried, not dropped, not committed past.
    waiting = wait_for(
        lambda: (row := outbox_row(engine, firing)) and row.status == "retrying" and row,
        what="a retrying outbox row",
    )
    assert waiting.last_error == "recipient mgr-1 not in the directory yet"
    assert dm_messages(slack_server) == []
    save(engine, manager_row())
    posted = wait_for(lambda: message_titled(slack_server, "Deal opp-1"), what="the first post")
    row = wait_for(
        lambda: (r := outbox_row(engine, firing)) and r.status == "delivered" and r,
        what="the delivered outbox row",
    )
    assert (row.message_ts, row.notified_state, row.recipient_id) == (
        posted["ts"],
        "firing",
        "mgr-1",
    )
    assert row.attempts >= 2

    # The same firing message again, then a marker behind it on the same partition.
    await produce(firing, alert("opp-2", AlertState.FIRING, NOV_2_5AM_NY))
    wait_for(lambda: message_titled(slack_server, "Deal opp-2"), what="the marker post")
    assert len(dm_messages(slack_server)) == 2

    resolved = alert("opp-1", AlertState.RESOLVED, NOV_2_5AM_NY + timedelta(hours=2))
    await produce(resolved)
    edited = wait_for(
        lambda: (m := message_titled(slack_server, "Deal opp-1")) and m["updated"] and m,
        what="the resolved edit",
    )
    assert edited["ts"] == posted["ts"] and "Resolved" in edited["text"]
    assert len(dm_messages(slack_server)) == 2
    row = wait_for(
        lambda: (r := outbox_row(engine, firing)) and r.notified_state == "resolved" and r,
        what="the resolved outbox row",
    )
    assert (row.message_ts, row.status) == (posted["ts"], "delivered")

    # A restarted service resumes from committed offsets: nothing is posted twice.
    service.process.stop()
    start_service()
    await produce(alert("opp-3", AlertState.FIRING, NOV_2_5AM_NY))
    wait_for(lambda: message_titled(slack_server, "Deal opp-3"), what="a post after restart")
    assert len(dm_messages(slack_server)) == 3
    assert len(message_titled(slack_server, "Deal opp-1")["history"]) == 1  # type: ignore[index]


async def test_digest_on_demand_and_by_schedule_goes_out_once_per_day(
    engine: Engine,
    start_service: StartService,
    produce: Callable[..., Any],
    slack_server: SlackApiServer,
    smtp_catcher: SmtpCatcher,
) -> None:
    save(engine, manager_row(), rep_row(), firing_alert_row())
    service = start_service(CLOCK_MODE="replay")
    url = service.url
    # Event time reaches 05:00 in New York on Nov 2: too early for the scheduled digest.
    await produce(alert("opp-1", AlertState.FIRING, NOV_2_5AM_NY))
    wait_for(lambda: message_titled(slack_server, "Deal opp-1"), what="the clock to advance")

    send = f"{url}/v1/digests/mgr-1/send"
    assert httpx.post(send).status_code == 401
    assert httpx.post(send, headers={"X-API-Key": "wrong"}).status_code == 401
    unknown = httpx.post(f"{url}/v1/digests/nobody/send", headers={"X-API-Key": API_KEY})
    assert unknown.status_code == 404

    first = httpx.post(send, headers={"X-API-Key": API_KEY}, timeout=30)
    assert first.status_code == 200, first.text
    expected_id = digest_message_id("mgr-1", date(2026, 11, 2), "salescoach.local")
    assert first.json() == {
        "manager_id": "mgr-1",
        "digest_date": "2026-11-02",
        "message_id": expected_id,
        "sent": True,
        "alert_count": 1,
    }
    [eml] = smtp_catcher.messages()
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert (mail["Message-ID"], mail["X-Envelope-To"]) == (expected_id, MANAGER_EMAIL)
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert "Globex renewal has gone quiet" in mail.get_body(("plain",)).get_content()

    again = httpx.post(send, headers={"X-API-Key": API_KEY}, timeout=30)
    assert again.status_code == 200
    assert (again.json()["sent"], again.json()["message_id"]) == (False, expected_id)
    assert len(smtp_catcher.messages()) == 1

    # Event time moves to 07:30 on Nov 3 in New York: the scheduler sends that day's digest.
    await produce(alert("opp-2", AlertState.FIRING, NOV_3_730AM_NY))
    wait_for(lambda: len(smtp_catcher.messages()) == 2, what="the scheduled digest")
    scheduled = message_from_bytes(smtp_catcher.messages()[1].read_bytes(), policy=policy.default)
    assert scheduled["Message-ID"] == digest_message_id(
        "mgr-1", date(2026, 11, 3), "salescoach.local"
    )
    with Session(engine) as session:
        logged = sorted((r.manager_id, r.digest_date) for r in session.exec(select(DigestLog)))
    assert logged == [("mgr-1", date(2026, 11, 2)), ("mgr-1", date(2026, 11, 3))]
    metrics = httpx.get(f"{url}/metrics").text
    assert 'salescoach_digest_emails_total{outcome="delivered"} 2.0' in metrics
    assert 'salescoach_digest_emails_total{outcome="duplicate"} 1.0' in metrics


def firing_alert_row() -> Alert:
    return make_alert("stale_opp", "opp-9", title="Globex renewal has gone quiet")
