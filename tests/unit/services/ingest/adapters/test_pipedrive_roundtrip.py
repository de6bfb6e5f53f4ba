"""Round trip: the simulator's canonical CRM events, formatted as Pipedrive deliveries, come
back from ingest as the same facts (type, rep, time to the second, records, key payload)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from services.ingest.adapters.base import Mapped
from services.ingest.app import create_app
from services.ingest.mapping import MappingConfig
from services.ingest.producer import InMemoryEventSink
from shared.clock import FixedClock
from shared.events import SalesEvent
from simulator.config import ScenarioConfig
from simulator.engine import Simulation
from simulator.vendors import canonical as c
from simulator.vendors.base import CanonicalEvent, Delivery
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.pipedrive import PipedriveFormatter
from simulator.vendors.registry import formatter_for
from tests.unit.services.ingest.adapters.pipedrive_support import ADAPTER, PASSWORD, USER, settings
from tests.unit.services.ingest.support import NOW, serve

SCENARIOS = {
    "small": ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4),
    # Longer, so deals move through stages, change and close.
    "longer": ScenarioConfig(name="t", seed=5, reps=6, weeks=4, team_size=6),
}
ENV = {"PIPEDRIVE_USER": USER, "PIPEDRIVE_PASSWORD": PASSWORD}
Fact = tuple[Any, ...]


@cache
def _run(
    scenario: str,
) -> tuple[PipedriveFormatter, list[tuple[CanonicalEvent, Delivery]]]:
    """The CRM events of a simulation, each with the delivery the formatter made of it."""
    simulation = Simulation(SCENARIOS[scenario])
    canonical = CanonicalJsonFormatter(secret="unused")
    formatter = formatter_for("pipedrive", simulation.org, ENV, canonical=canonical)
    assert isinstance(formatter, PipedriveFormatter)
    events = [orjson.loads(line) for _, line in simulation.events()]
    crm = [event for event in events if formatter.accepts(event)]
    return formatter, list(zip(crm, formatter.format(crm), strict=True))


def _second(moment: datetime | str) -> str:
    at = c.instant(moment) if isinstance(moment, str) else moment
    return at.replace(microsecond=0).isoformat()


def _expected_payload(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The canonical payload as Pipedrive can carry it."""
    if kind == "call.made":
        seconds = int(body.get("duration_seconds") or 0)
        return {
            **body,
            "duration_seconds": math.ceil(seconds / 60) * 60 if body["connected"] else 0,
        }
    if kind == "email.sent":
        return {"subject": body.get("subject") or c.NO_SUBJECT}
    if kind == "email.replied":
        return {}  # Pipedrive has no thread: which email was answered is unknown
    if kind == "meeting.scheduled":
        starts = c.instant(body["starts_at"]).replace(second=0, microsecond=0)
        return {**body, "starts_at": starts.isoformat()}
    return body


def _normalised(payload: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in ("amount", "from_amount", "to_amount") and value is not None:
            value = Decimal(str(value)).quantize(Decimal("0.01"))
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif value is not None and key in ("close_date", "from_date", "to_date"):
            value = str(value)
        out[key] = value
    return out


def expected_fact(event: CanonicalEvent, formatter: PipedriveFormatter) -> Fact:
    kind = str(event["type"])
    payload = _normalised(_expected_payload(kind, c.payload(event)))
    return (
        kind,
        event["rep_id"],
        _second(str(event["occurred_at"])),
        event.get("opportunity_id"),
        c.account_of(formatter.org, event),
        event.get("contact_id"),
        payload,
    )


def mapped_fact(event: SalesEvent, records: dict[str, dict[str, str]], keys: set[str]) -> Fact:
    """An ingested event with Pipedrive's ids translated back to the simulator's."""
    payload = event.payload.model_dump(exclude={"type"})
    if "meeting_id" in payload:
        payload["meeting_id"] = records["activity"][payload["meeting_id"]]
    return (
        event.type.value,
        event.rep_id,
        _second(event.occurred_at),
        records["deal"].get(event.opportunity_id or ""),
        records["organization"].get(event.account_id or ""),
        records["person"].get(event.contact_id or ""),
        _normalised({key: value for key, value in payload.items() if key in keys}),
    )


Produced = Iterator[tuple[CanonicalEvent, list[SalesEvent]]]


def _check(pairs: Produced, formatter: PipedriveFormatter) -> Counter[str]:
    records = formatter.mapping()["records"]
    seen: Counter[str] = Counter()
    deals: dict[str, tuple[Any, Any]] = {}  # a deal keeps the account and contact it began with
    for canonical_event, produced in pairs:
        expected = expected_fact(canonical_event, formatter)
        kind, opportunity = expected[0], expected[3]
        if kind == "opportunity.created":
            deals[opportunity] = expected[4:6]
        elif kind.startswith("opportunity.") and opportunity in deals:
            expected = (*expected[:4], *deals[opportunity], expected[6])
        assert len(produced) == 1, (canonical_event, produced)
        assert mapped_fact(produced[0], records, set(expected[-1])) == expected
        seen[expected[0]] += 1
    return seen


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    formatter, _ = _run("small")
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps({"pipedrive": formatter.ingest_mapping()}))
    return path


async def test_every_delivery_of_a_small_simulation_comes_back_through_the_route(
    mapping_file: Path,
) -> None:
    formatter, pairs = _run("small")
    sink = InMemoryEventSink()
    # The simulation runs in January 2026: the app's clock is later, nothing is in the future.
    app = create_app(settings(ingest_mapping_file=mapping_file), sink=sink, clock=FixedClock(NOW))
    produced: list[list[SalesEvent]] = []
    async with serve(app) as client:
        for _, delivery in pairs:
            response = await _post(client, formatter, delivery)
            assert response.status_code == 200, response.text
            ids = response.json()["event_ids"]
            produced.append([event for event in sink.events if event.event_id in ids])
    assert sink.dead_letters == []
    seen = _check(zip((event for event, _ in pairs), produced, strict=True), formatter)
    assert {"opportunity.created", "opportunity.owner_changed", "meeting.held"} <= set(seen)


async def _post(
    client: httpx.AsyncClient, formatter: PipedriveFormatter, delivery: Delivery
) -> httpx.Response:
    url = f"http://ingest{delivery.path}"
    headers = {"Content-Type": delivery.content_type}
    headers.update(formatter.sign(delivery, url=url, now=NOW))
    return await client.post(delivery.path, content=delivery.body, headers=headers)


def test_a_longer_simulation_maps_back_event_for_event() -> None:
    formatter, pairs = _run("longer")
    mapping = MappingConfig.model_validate({"pipedrive": formatter.ingest_mapping()})
    produced = []
    for _, delivery in pairs:
        result = ADAPTER.map(orjson.loads(delivery.body), mapping)
        assert isinstance(result, Mapped), result
        produced.append(list(result.events))
    seen = _check(zip((event for event, _ in pairs), produced, strict=True), formatter)
    small = _check(_small_direct(), _run("small")[0])
    assert set(seen) | set(small) == set(c.CRM_TYPES)


def _small_direct() -> Iterator[tuple[CanonicalEvent, list[SalesEvent]]]:
    formatter, pairs = _run("small")
    mapping = MappingConfig.model_validate({"pipedrive": formatter.ingest_mapping()})
    for event, delivery in pairs:
        result = ADAPTER.map(orjson.loads(delivery.body), mapping)
        assert isinstance(result, Mapped), result
        yield event, list(result.events)
