"""The whole stack as processes, as `make run` starts it (without the demo feed).

A signed webhook becomes a stale_opp alert under the replay clock; the local Slack server
receives the message in the right manager's DM; the API shows the alert; a touch resolves
it and the Slack message is updated, not re-posted; unsigned and malformed requests are
refused and produce nothing; stopping the stack leaves nothing listening.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from deploy.local.processes import ManagedProcess, python_module
from shared.embedded_broker import port_open
from shared.events import SalesEvent
from shared.signing import signed_headers
from shared.topics import Topic, topic_name
from simulator.config import SCENARIOS
from simulator.delivery import Sender
from simulator.engine import Simulation
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.support.events import make_event, rep_upserted
from tests.support.kafka import read_topic
from tests.support.poll import wait_for

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
MANAGER_EMAIL = "morgan.manager@example.com"


@dataclass
class RunningStack:
    process: ManagedProcess
    description: dict[str, Any]
    credentials: dict[str, str]

    def url(self, part: str, path: str) -> str:
        return f"{self.description['urls'][part]}{path}"

    def post_events(
        self,
        events: list[SalesEvent] | bytes,
        *,
        sign: bool = True,
        content_type: str = "application/json",
    ) -> httpx.Response:
        body = (
            events
            if isinstance(events, bytes)
            else orjson.dumps([e.model_dump(mode="json") for e in events])
        )
        headers = {"Content-Type": content_type}
        if sign:
            headers |= signed_headers(self.credentials["INGEST_SECRET"], body, datetime.now(UTC))
        return httpx.post(self.url("ingest", "/v1/events"), content=body, headers=headers)

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.url("api", path), params=params, headers={"X-API-Key": self.credentials["API_KEY"]}
        )
        response.raise_for_status()
        return response.json()

    def slack_messages(self) -> list[dict[str, Any]]:
        return list(httpx.get(self.url("slack", "/api/_messages")).json())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    var = tmp_path_factory.mktemp("stack") / "var"
    process = ManagedProcess(
        "stack",
        python_module(
            "deploy.local.stack", "run", "--no-demo", "--free-ports", "--var-dir", str(var)
        ),
        env={"DATABASE_URL": "", "LOG_LEVEL": "INFO"},
        log_path=var.parent / "stack.log",
    ).start(Path.cwd())
    stack_file = var / "stack.json"
    try:
        wait_for(
            lambda: stack_file.exists() or not process.alive(),
            timeout=150,
            what="the stack to come up",
        )
        assert process.alive(), process.log_tail()
        credentials = dict(
            line.split("=", 1)
            for line in (var / "demo.env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        yield RunningStack(process, json.loads(stack_file.read_text()), credentials)
    finally:
        process.stop(timeout=30)


def org_and_stale_deal() -> list[SalesEvent]:
    """A manager, a rep, and a deal last touched 20 days before the newest event."""
    return [
        rep_upserted(NOW - timedelta(days=40), "mgr-e2e", role="manager", email=MANAGER_EMAIL),
        rep_upserted(NOW - timedelta(days=40), "rep-e2e", manager_id="mgr-e2e"),
        make_event(
            "opportunity.created",
            NOW - timedelta(days=30),
            rep_id="rep-e2e",
            opportunity_id="opp-e2e",
            account_id="acc-e2e",
            payload={"name": "Vandelay imports", "stage": "Discovery", "amount": "30000.00"},
        ),
        make_event(
            "call.made",
            NOW - timedelta(days=20),
            rep_id="rep-e2e",
            opportunity_id="opp-e2e",
            payload={"connected": True, "duration_seconds": 300},
        ),
        # Other work today moves the event-time watermark (the replay clock) to NOW.
        make_event("email.sent", NOW, rep_id="rep-e2e", account_id="acc-other"),
    ]


def test_signed_webhook_becomes_slack_message_and_api_alert(stack: RunningStack) -> None:
    events = org_and_stale_deal()
    response = stack.post_events(events)
    assert response.status_code == 202, response.text
    assert response.json()["event_ids"] == [e.event_id for e in events]

    def manager_message() -> dict[str, Any] | None:
        mine = [m for m in stack.slack_messages() if m.get("user_email") == MANAGER_EMAIL]
        return mine[0] if mine else None

    message = wait_for(manager_message, timeout=60, what="the stale_opp Slack message")
    rendered = json.dumps(message)
    assert "Vandelay imports" in rendered and "20 days" in rendered

    alerts = wait_for(
        lambda: stack.api("/v1/alerts", manager_id="mgr-e2e", rule="stale_opp")["items"],
        timeout=30,
        what="the alert in the API",
    )
    assert [(a["subject_id"], a["state"], a["rep_id"]) for a in alerts] == [
        ("opp-e2e", "firing", "rep-e2e")
    ]
    assert alerts[0]["numbers"]["days_since_touch"] == 20
    assert alerts[0]["next_step"]

    # A touch resolves the alert; the same Slack message is updated, not posted again.
    touch = make_event("email.sent", NOW, rep_id="rep-e2e", opportunity_id="opp-e2e")
    assert stack.post_events([touch]).status_code == 202
    wait_for(
        lambda: stack.api(f"/v1/alerts/{alerts[0]['fingerprint']}")["state"] == "resolved",
        timeout=30,
        what="resolution in the API",
    )
    updated = wait_for(
        lambda: (
            (m := manager_message()) is not None and m["ts"] == message["ts"] and m != message and m
        ),
        timeout=30,
        what="the Slack message updated in place",
    )
    assert "resolved" in json.dumps(updated).lower()
    assert len([m for m in stack.slack_messages() if m.get("user_email") == MANAGER_EMAIL]) == 1


def test_unsigned_and_malformed_requests_are_refused_and_produce_nothing(
    stack: RunningStack,
) -> None:
    marker = make_event("email.sent", NOW, rep_id="rep-refused", account_id="acc-x")
    unsigned = stack.post_events([marker], sign=False)
    assert unsigned.status_code == 401
    bad_signature = stack.post_events(b'[{"type": "email.sent"}]', sign=False)
    assert bad_signature.status_code == 401
    malformed = marker.model_dump(mode="json")
    malformed["payload"] = {"connected": "maybe"}
    malformed["type"] = "call.made"
    rejected = stack.post_events(orjson.dumps([malformed]))
    assert rejected.status_code == 422
    assert "connected" in rejected.text

    accepted = make_event("email.sent", NOW, rep_id="rep-accepted", account_id="acc-y")
    assert stack.post_events([accepted]).status_code == 202
    records = asyncio.run(
        read_topic(
            stack.description["kafka_bootstrap_servers"],
            topic_name(Topic.SALES_EVENTS),
            min_count=1,
        )
    )
    produced = {orjson.loads(r.value)["event_id"] for r in records}
    assert accepted.event_id in produced
    assert marker.event_id not in produced
    assert not any(orjson.loads(r.value)["rep_id"] == "rep-refused" for r in records)


def test_every_service_is_observable(stack: RunningStack) -> None:
    for name in ("ingest", "metrics", "alerts", "digest", "api"):
        base = stack.description["urls"][name]
        assert httpx.get(f"{base}/healthz").status_code == 200, name
        assert httpx.get(f"{base}/readyz").status_code == 200, name
        exposition = httpx.get(f"{base}/metrics")
        assert exposition.status_code == 200, name
        assert exposition.headers["content-type"].startswith("text/plain"), name
        assert f"salescoach_{name}_" in exposition.text, name


def _call(rep_id: str, delivery_id: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": f"e2e-{delivery_id}",
        "type": "call.made",
        "occurred_at": NOW.isoformat(),
        "source": {"vendor": "simulator", "delivery_id": delivery_id},
        "rep_id": rep_id,
        "account_id": "acc-e2e-crm",
        "opportunity_id": None,
        "contact_id": None,
        "payload": {"connected": True, "duration_seconds": 240},
    }


def test_crm_webhooks_work_with_the_demo_credentials_and_mapping(stack: RunningStack) -> None:
    """What `make run` writes to var/demo.env and var/ingest-mapping.json is enough to send
    each CRM's webhooks; a user the mapping does not know is parked, not lost."""
    org = Simulation(SCENARIOS["demo"]).org
    rep = next(person.rep_id for person in org.people if person.role == "AE")
    canonical = CanonicalJsonFormatter(secret=stack.credentials["INGEST_SECRET"])
    vendors = ("salesforce", "salesforce-cdc", "hubspot", "pipedrive")
    with httpx.Client(timeout=30) as client:
        sender = Sender(
            stack.url("ingest", ""), client=client, vendor_api_url=stack.url("hubspot_api", "")
        )
        for vendor in vendors:
            formatter = formatter_for(vendor, org, stack.credentials, canonical=canonical)
            for delivery in formatter.format([_call(rep, f"crm-{vendor}")]):
                sender.send(delivery, formatter)
        stranger = formatter_for("pipedrive", org, stack.credentials, canonical=canonical)
        for delivery in stranger.format([_call("rep-not-in-the-crm-mapping", "crm-stranger")]):
            sender.send(delivery, stranger)

    def crm_calls() -> list[dict[str, Any]] | None:
        records = asyncio.run(
            read_topic(stack.description["kafka_bootstrap_servers"], topic_name(Topic.SALES_EVENTS))
        )
        calls = [
            event
            for record in records
            if (event := orjson.loads(record.value))["rep_id"] == rep
            and event["type"] == "call.made"
            and event["source"]["vendor"] != "simulator"
        ]
        return calls if len(calls) == len(vendors) else None

    calls = wait_for(crm_calls, timeout=60, what="a call from each CRM route")
    assert sorted(call["source"]["vendor"] for call in calls) == [
        "hubspot",
        "pipedrive",
        "salesforce",
        "salesforce",
    ]
    assert {call["payload"]["connected"] for call in calls} == {True}
    parked = asyncio.run(
        read_topic(
            stack.description["kafka_bootstrap_servers"],
            topic_name(Topic.SALES_EVENTS_DLQ),
            min_count=1,
        )
    )
    [letter] = [orjson.loads(r.value) for r in parked if b'"stage":"ingest"' in r.value]
    assert (letter["vendor"], letter["reason"]) == ("pipedrive", "unknown_user")


def test_stopping_the_stack_leaves_nothing_running(stack: RunningStack) -> None:
    ports = stack.description["ports"]
    stack.process.stop(timeout=30)
    assert stack.process.process is not None and stack.process.process.returncode == 0
    still_open = {name: port for name, port in ports.items() if port_open(port)}
    assert still_open == {}
