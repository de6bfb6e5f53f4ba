"""Properties of the Pipedrive adapter: no body or header makes it fail, ids survive retries,
duplicates and key order."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.ingest.adapters.base import Mapped, ParkReason, Unmappable
from services.ingest.adapters.pipedrive_fields import envelope_problem
from services.ingest.app import create_app
from services.ingest.mapping import MappingConfig
from services.ingest.producer import InMemoryEventSink
from shared.clock import FixedClock
from simulator.config import ScenarioConfig
from simulator.engine import Simulation
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.pipedrive import PipedriveFormatter
from simulator.vendors.registry import formatter_for
from tests.unit.services.ingest.adapters.pipedrive_support import (
    ADAPTER,
    MAPPING,
    OWNER,
    PASSWORD,
    URL,
    USER,
    basic,
    settings,
)
from tests.unit.services.ingest.strategies import json_values
from tests.unit.services.ingest.support import NOW, serve

fuzz = hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ---- envelopes, plausible field by field, sometimes any JSON ---------------------------------


_ANY = object()


def _often(strategy: st.SearchStrategy[Any], *others: st.SearchStrategy[Any]) -> Any:
    """`strategy` five times in six, else one of `others`."""
    return st.sampled_from([0] * 5 + list(range(1, len(others) + 1))).flatmap(
        lambda n: ([strategy, *others])[n]
    )


def _or_any(*values: Any) -> st.SearchStrategy[Any]:
    """Mostly one of `values`, now and then any JSON at all."""
    return st.sampled_from([*values] * 5 + [_ANY]).flatmap(
        lambda v: json_values if v is _ANY else st.just(v)
    )


_ids = st.one_of(st.integers(1, 40), st.integers(-3, 2**63 - 1), st.text(max_size=6), st.none())
_users = _or_any(OWNER, OWNER, 12415299, str(OWNER), 5, None)
_times = st.one_of(
    _or_any("2026-10-05T13:18:55Z", "2026-10-05 13:18:55", "", None, 1_700_000_000,
            "0001-01-01T00:00:00+01:00"),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
)  # fmt: skip
_clock = _or_any("15:00", "", "00:30", "23:59", "24:00", "1:2:3", None)
_timed = st.one_of(
    _clock,
    st.fixed_dictionaries(
        {"timezone_id": _or_any(None, "Europe/Berlin", "Pacific/Kiritimati", "Mars/X", ""),
         "value": _clock}
    ),
)  # fmt: skip
_dates = _or_any("2026-10-31", "9999-12-31", "0001-01-01", None, "", "x")
_deal_fields = {
    "id": _ids,
    "owner_id": _users,
    "pipeline_id": _or_any(1, 1, 2, 3, "1", None, 77),
    "stage_id": _or_any(1, 2, 3, 4, 7, 8, 10, None, 66),
    "status": _or_any("open", "won", "lost", "deleted"),
    "value": st.one_of(st.integers(0, 10**6), st.integers(), st.floats(), st.text(max_size=5)),
    "currency": _or_any("EUR", "USD", "", None, "EURO"),
    "expected_close_date": _dates,
    "add_time": _times,
    "update_time": _times,
}
_deal_extra = {
    "user_id": _users,
    "won_time": _times,
    "lost_time": _times,
    "close_time": _times,
    "stage_change_time": _times,
    "lost_reason": st.one_of(st.text(max_size=600), json_values),
    "title": st.one_of(st.text(max_size=600), json_values),
    "org_id": st.one_of(_ids, st.fixed_dictionaries({"value": _ids})),
    "person_id": _ids,
}
_activity_fields = {
    "id": _ids,
    "type": _or_any("email", "call", "meeting", "meeting", "task", "webinar", None),
    "done": _or_any(True, False, 1, 0, None),
    "due_date": _dates,
    "due_time": _timed,
    "duration": _timed,
    "subject": _or_any("[Inbound] Re: x", "Outbound call (connected)", "Follow-up meeting", ""),
    "owner_id": _users,
    "add_time": _times,
    "update_time": _times,
}
_activity_extra = {
    "update_user_id": _users,
    "user_id": _users,
    "deal_id": _ids,
    "org_id": _ids,
    "person_id": _ids,
}


def _envelopes(entity: str, fields: dict[str, Any], extra: dict[str, Any]) -> Any:
    record = st.fixed_dictionaries(fields, optional=extra)
    changed = st.fixed_dictionaries({}, optional={**fields, **extra})  # only what changed
    return st.fixed_dictionaries(
        {
            "meta": st.fixed_dictionaries(
                {"action": _or_any("create", "change", "change", "delete", "merge"),
                 "entity": _or_any(entity), "company_id": _or_any("8087566", "8087566", "1")},
                optional={"timestamp": _times, "version": _or_any("2.0"), "entity_id": _ids},
            ),
            "data": _often(record, st.none(), json_values),
            "previous": _often(changed, st.none(), json_values),
        }
    )  # fmt: skip


envelopes = st.one_of(
    _envelopes("deal", _deal_fields, _deal_extra),
    _envelopes("activity", _activity_fields, _activity_extra),
    _envelopes("user", {"id": _ids, "active_flag": _or_any(True, False)}, {}),
)
"""Webhooks v2 envelopes, each field mostly plausible, so mapping goes deep."""


def _wire(document: Any) -> bytes:
    return json.dumps(document).encode()


@fuzz
@given(document=st.one_of(envelopes, envelopes, envelopes, json_values))
def test_mapping_never_raises_anything_but_unmappable(document: Any) -> None:
    try:
        item = orjson.loads(_wire(document))  # as it comes off the wire
    except orjson.JSONDecodeError:  # past 64-bit integers: a 400, never mapped
        event("not JSON to orjson")
        return
    if envelope_problem(item) is not None:
        event("refused by parse")
        return
    try:
        result = ADAPTER.map(item, MAPPING)
    except Unmappable as exc:
        event(f"parked: {exc.reason.value}")
        assert exc.reason is not ParkReason.ADAPTER_ERROR
        return
    event(type(result).__name__)
    if isinstance(result, Mapped):
        assert len({e.event_id for e in result.events}) == len(result.events)


# ---- the route, with any body and headers ----------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path, sink: InMemoryEventSink) -> AsyncIterator[httpx.AsyncClient]:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(MAPPING.model_dump(mode="json")))
    app = create_app(settings(ingest_mapping_file=path), sink=sink, clock=FixedClock(NOW))
    async with serve(app) as test_client:
        yield test_client


_header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_bodies = _often(envelopes.map(_wire), json_values.map(_wire), st.binary(max_size=200))
_content_types = _often(
    st.sampled_from(["application/json", "application/json; charset=utf-8"]),
    _header_text,
    st.just("application/json; charset=latin-1"),
)
_authorizations = _often(
    st.just(basic()), st.just(basic(password="nope")), _header_text, st.just("Basic " + "A" * 30)
)


@fuzz
@given(body=_bodies, content_type=_content_types, authorization=_authorizations)
async def test_no_body_or_header_gives_a_5xx(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    body: bytes,
    content_type: str,
    authorization: str,
) -> None:
    letters = len(sink.dead_letters)
    headers = {"Content-Type": content_type, "Authorization": authorization}
    response = await client.post(URL, content=body, headers=headers)
    event(f"status {response.status_code}")
    assert response.status_code in {200, 400, 401, 415, 422}, response.text
    assert PASSWORD not in response.text
    if response.status_code == 200:
        receipt = response.json()
        # One change per request: parked, ignored, or mapped to its events (none when
        # nothing tracked changed; two for a deal created already won).
        dispositions = receipt["parked"] + receipt["ignored"]
        assert dispositions <= 1 and (dispositions == 0 or receipt["accepted"] == 0)
        assert len(receipt["event_ids"]) == receipt["accepted"]
        reasons = {letter.reason for letter in sink.dead_letters[letters:]}
        assert ParkReason.ADAPTER_ERROR not in reasons


# ---- ids under retries, duplicates and key order -------------------------------------------


def _simulated() -> tuple[MappingConfig, list[bytes]]:
    """A small simulation's mapping, and its deliveries: every change of a deal or meeting,
    and a sample of the many emails and calls logged."""
    simulation = Simulation(ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4))
    env = {"PIPEDRIVE_USER": USER, "PIPEDRIVE_PASSWORD": PASSWORD}
    canonical = CanonicalJsonFormatter(secret="unused")
    formatter = formatter_for("pipedrive", simulation.org, env, canonical=canonical)
    assert isinstance(formatter, PipedriveFormatter)
    events = (orjson.loads(line) for _, line in simulation.events())
    bodies = [d.body for d in formatter.format([e for e in events if formatter.accepts(e)])]
    mapping = MappingConfig.model_validate({"pipedrive": formatter.ingest_mapping()})
    return mapping, [b for b in bodies if b'"action":"change"' in b] + bodies[::7]


SIMULATED_MAPPING, DELIVERIES = _simulated()


def _ids_of(body: dict[str, Any]) -> list[str]:
    result = ADAPTER.map(orjson.loads(orjson.dumps(body)), SIMULATED_MAPPING)
    assert isinstance(result, Mapped), result
    return [e.event_id for e in result.events]


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON with every object's keys in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    raw=st.sampled_from(DELIVERIES),
    attempt=st.integers(min_value=1, max_value=4),
    new_id=st.uuids().map(str),
    rng=st.randoms(use_true_random=False),
)
def test_retries_duplicates_and_key_order_keep_the_ids(
    raw: bytes, attempt: int, new_id: str, rng: random.Random
) -> None:
    original = orjson.loads(raw)
    first = _ids_of(original)
    assert first and first == _ids_of(original)  # the same delivery twice
    again = _shuffled(original, rng)
    again["meta"].update(attempt=attempt, id=new_id, correlation_id=new_id)
    assert _ids_of(again) == first
    result = ADAPTER.map(again, SIMULATED_MAPPING)
    assert result == ADAPTER.map(orjson.loads(raw), SIMULATED_MAPPING)  # the same events


@fuzz
@given(
    raw=st.sampled_from(DELIVERIES),
    where=st.sampled_from(["meta", "data", "previous"]),
    pick=st.randoms(use_true_random=False),
    value=json_values,
)
def test_a_real_delivery_with_any_field_changed_maps_or_parks(
    raw: bytes, where: str, pick: random.Random, value: Any
) -> None:
    document = orjson.loads(raw)
    part = document[where] if isinstance(document[where], dict) else document["data"]
    part[pick.choice(sorted(part))] = value
    try:
        item = orjson.loads(_wire(document))
    except orjson.JSONDecodeError:
        return
    if envelope_problem(item) is not None:
        event("refused by parse")
        return
    try:
        result = ADAPTER.map(item, SIMULATED_MAPPING)
    except Unmappable as exc:
        event(f"parked: {exc.reason.value}")
        return
    event(type(result).__name__)
