"""Round trip: the simulator's canonical events, as Salesforce sends them, come back the same.

A small simulated org's CRM events go through the simulator's Outbound Message and CDC
formatters, every delivery is posted to the app, and each canonical fact must come back:
same type, rep, time (Salesforce keeps milliseconds; the simulator whole seconds), records
(translated back from Salesforce ids with the formatter's `mapping()`), and key payload
fields. Nothing is parked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.ingest.adapters.base import Adapter
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_cdc import SalesforceCdcAdapter
from services.ingest.adapters.salesforce_outbound import SalesforceOutboundAdapter
from services.ingest.adapters.salesforce_store import InMemorySnapshotStore
from services.ingest.producer import InMemoryEventSink
from shared.events import SalesEvent
from simulator.config import ScenarioConfig
from simulator.engine import Simulation
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.unit.services.ingest.adapters.salesforce_support import ORG, client_of, settings_for

SMALL = ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4)
ENV = {"SALESFORCE_ORG_ID": ORG, "SALESFORCE_USER": "sf", "SALESFORCE_PASSWORD": "sim-pass-1"}
Fact = tuple[Any, ...]


def _fact(kind: str, at: str, rep: str, opportunity: Any, payload: Mapping[str, Any]) -> Fact:
    """What must survive the trip, per type (ids already canonical)."""
    keys = {
        "opportunity.created": ("stage", "amount", "close_date", "name"),
        "opportunity.stage_changed": ("to_stage",),
        "opportunity.amount_changed": ("to_amount",),
        "opportunity.close_date_changed": ("to_date",),
        "opportunity.owner_changed": ("from_rep_id", "to_rep_id"),
        "opportunity.closed_won": ("amount",),
        "opportunity.closed_lost": ("reason",),
        "email.sent": ("subject",),
        "email.replied": (),
        "call.made": ("connected", "duration_seconds"),
        "meeting.scheduled": ("meeting_id", "starts_at", "kind"),
        "meeting.held": ("meeting_id", "kind", "duration_minutes"),
    }[kind]
    values = []
    for key in keys:
        value = payload.get(key)
        if key in ("amount", "to_amount") and value is not None:
            value = Decimal(str(value))
        if key == "starts_at":
            value = datetime.fromisoformat(str(value)).astimezone(UTC)
        values.append(value)
    moment = datetime.fromisoformat(at).astimezone(UTC)
    return (kind, moment, rep, opportunity, *values)


def _simulated(event: Mapping[str, Any]) -> Fact:
    payload = dict(event["payload"])
    if event["type"] == "email.sent" and not payload.get("subject"):
        payload["subject"] = "(no subject)"
    return _fact(
        event["type"], event["occurred_at"], event["rep_id"], event.get("opportunity_id"), payload
    )


def _ingested(event: SalesEvent, records: Mapping[str, Mapping[str, str]]) -> Fact:
    payload = event.payload.model_dump(mode="json")
    if "meeting_id" in payload:
        payload["meeting_id"] = records["Event"][payload["meeting_id"]]
    opportunity = records["Opportunity"].get(event.opportunity_id or "")
    return _fact(
        event.type.value, event.occurred_at.isoformat(), event.rep_id, opportunity, payload
    )


def _adapter(name: str, settings: Any) -> Adapter:
    access = SalesforceAccess.from_settings(settings)
    kind = SalesforceOutboundAdapter if name == "salesforce" else SalesforceCdcAdapter
    return kind(access, InMemorySnapshotStore())


@pytest.mark.parametrize("name", ["salesforce", "salesforce-cdc"])
@pytest.mark.parametrize("config", [SMALL, SMALL.with_(weeks=4)], ids=["1-week", "4-weeks"])
async def test_every_simulated_crm_event_comes_back(
    tmp_path: Path, name: str, config: ScenarioConfig
) -> None:
    simulation = Simulation(config)
    formatter = formatter_for(
        name, simulation.org, ENV, canonical=CanonicalJsonFormatter(secret="unused")
    )
    canonical = [orjson.loads(line) for _, line in simulation.events()]
    crm = [event for event in canonical if formatter.accepts(event)]
    deliveries = formatter.format(crm)
    mapping = {"salesforce": formatter.ingest_mapping()}  # type: ignore[attr-defined]
    settings = settings_for(
        tmp_path,
        mapping,
        salesforce_user="sf",
        salesforce_password="sim-pass-1",
        ingest_max_future_skew_seconds=10**9,
    )
    sink = InMemoryEventSink()
    async with client_of(_adapter(name, settings), sink, settings) as client:
        for delivery in deliveries:
            headers = formatter.sign(
                delivery, url="http://ingest" + delivery.path, now=datetime.now(UTC)
            )
            headers["Content-Type"] = delivery.content_type
            response = await client.post(delivery.path, content=delivery.body, headers=headers)
            assert response.status_code == 200, response.text
    assert sink.dead_letters == [], sink.dead_letters[:3]
    records = formatter.mapping()["records"]  # type: ignore[attr-defined]
    expected = Counter(_simulated(event) for event in crm)
    received = Counter(_ingested(event, records) for event in sink.events)
    assert expected == received
    # Records come back as Salesforce ids the formatter's tables translate to the canonical ones.
    by_id = {e.event_id: e for e in sink.events}
    assert len(by_id) == len(sink.events)
    for event in sink.events:
        if event.account_id is not None:
            assert event.account_id in records["Account"]
        if event.contact_id is not None:
            assert event.contact_id in records["Contact"]
