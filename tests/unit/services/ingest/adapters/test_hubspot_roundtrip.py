"""Round trip: a simulated org's CRM events, formatted as HubSpot deliveries, posted through the
app (records loaded into the CRM fake first, as the simulator's sender does), come back as the
same canonical facts, with the mapping section the simulator writes for ingest."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from shared.events import SalesEvent
from simulator.config import ScenarioConfig
from simulator.engine import Simulation
from simulator.org import Org
from simulator.vendors.base import Delivery
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.hubspot import HubSpotFormatter
from simulator.vendors.registry import formatter_for
from tests.unit.services.ingest.adapters.hubspot_fixtures import CLIENT_SECRET, PATH, URL, harness
from tests.unit.simulator.vendor_fixtures import build_org, story

Fact = tuple[Any, ...]
# The payload fields HubSpot carries for each type (from_* values: HubSpot sends none;
# a reply's in_reply_to_event_id: no thread link is read).
KEY_FIELDS = {
    "opportunity.created": ("name", "stage", "amount", "currency", "close_date", "pipeline"),
    "opportunity.stage_changed": ("to_stage",),
    "opportunity.amount_changed": ("to_amount", "currency"),
    "opportunity.close_date_changed": ("to_date",),
    "opportunity.owner_changed": ("to_rep_id",),
    "opportunity.closed_won": ("amount",),
    "opportunity.closed_lost": ("reason",),
    "email.sent": ("subject",),
    "email.replied": (),
    "call.made": ("connected", "duration_seconds"),
    "meeting.scheduled": ("meeting_id", "starts_at", "kind"),
    "meeting.held": ("meeting_id", "kind", "duration_minutes"),
}


def _normal(field: str, value: Any) -> Any:
    """A payload value compared as text (amounts as decimals, times to the millisecond)."""
    if value is None:
        return None
    if field in ("amount", "to_amount"):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if field == "starts_at":
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)
    return str(value)


def fact(event: dict[str, Any]) -> Fact:
    """What must survive the trip: type, rep, time (ms), links, key payload fields."""
    at = datetime.fromisoformat(str(event["occurred_at"])).astimezone(UTC)
    payload = event["payload"]
    # A HubSpot deal keeps its contact on every event; the simulator names it on creation only.
    later_deal_event = event["type"].startswith("opportunity.") and event["type"] != (
        "opportunity.created"
    )
    return (
        event["type"],
        event["rep_id"],
        at.replace(microsecond=at.microsecond // 1000 * 1000),
        event.get("opportunity_id"),
        event.get("account_id"),
        None if later_deal_event else event.get("contact_id"),
        *(_normal(f, payload.get(f)) for f in KEY_FIELDS[event["type"]]),
    )


def canonical_facts(produced: list[SalesEvent], ids: dict[str, dict[str, str]]) -> list[Fact]:
    """The produced events with HubSpot ids translated back to the simulator's."""
    facts = []
    for event in produced:
        document = event.model_dump(mode="json")
        document["opportunity_id"] = ids["deals"].get(document["opportunity_id"] or "")
        document["account_id"] = ids["companies"].get(document["account_id"] or "")
        document["contact_id"] = ids["contacts"].get(document["contact_id"] or "")
        if "meeting_id" in document["payload"]:
            document["payload"]["meeting_id"] = ids["meetings"][document["payload"]["meeting_id"]]
        facts.append(fact(document))
    return facts


def _initial_values(deliveries: list[Delivery]) -> int:
    """How many deal property changes report a creation's initial values (ignored by ingest)."""
    events = [e for d in deliveries for e in orjson.loads(d.body)]
    created = {
        (e["objectId"], e["occurredAt"]) for e in events if e["subscriptionType"] == "deal.creation"
    }
    return sum(
        e["subscriptionType"] == "deal.propertyChange"
        and (e["objectId"], e["occurredAt"]) in created
        for e in events
    )


async def round_trip(
    org: Org, canonical: list[dict[str, Any]], tmp_path: Path
) -> tuple[list[Fact], list[Fact]]:
    """(expected facts, produced facts) of the HubSpot events among `canonical`."""
    env = {"HUBSPOT_CLIENT_SECRET": CLIENT_SECRET}
    hubspot = formatter_for("hubspot", org, env, canonical=CanonicalJsonFormatter(secret="unused"))
    assert isinstance(hubspot, HubSpotFormatter)
    carried = [event for event in canonical if hubspot.accepts(event)]
    deliveries = hubspot.format(carried)
    now = max(d.occurred_at for d in deliveries) + timedelta(minutes=1)
    ignored = 0
    async with harness(tmp_path, mapping={"hubspot": hubspot.ingest_mapping()}, now=now) as hub:
        for delivery in deliveries:
            await hub.load(*delivery.records)  # what the sender does before posting
            headers = {"Content-Type": delivery.content_type}
            headers |= hubspot.sign(delivery, url=URL, now=now)
            response = await hub.client.post(PATH, content=delivery.body, headers=headers)
            assert response.status_code == 200, response.text
            ignored += response.json()["ignored"]
        assert hub.sink.dead_letters == []
        assert ignored == _initial_values(deliveries)
        produced = canonical_facts(hub.sink.events, hubspot.mapping()["ids"])
    return [fact(e) for e in carried], produced


async def test_a_simulated_week_comes_back_as_the_same_facts(tmp_path: Path) -> None:
    simulation = Simulation(ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4))
    events = [orjson.loads(line) for _, line in simulation.events()]
    expected, produced = await round_trip(simulation.org, events, tmp_path)
    assert Counter(produced) == Counter(expected)
    kinds = {f[0] for f in expected}
    assert {"opportunity.created", "email.sent", "call.made", "meeting.scheduled"} <= kinds


async def test_every_crm_event_type_comes_back(tmp_path: Path) -> None:
    events = story()
    for event in events:  # the engine's owner change is the new owner's (simulator/engine.py)
        if event["type"] == "opportunity.owner_changed":
            event["rep_id"] = event["payload"]["to_rep_id"]
    expected, produced = await round_trip(build_org(), events, tmp_path)
    assert Counter(produced) == Counter(expected)
    assert {f[0] for f in expected} == set(KEY_FIELDS)
