"""Hypothesis strategies for request bodies: arbitrary JSON, and JSON shaped like events."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from hypothesis import strategies as st

from shared.events import EventType, Vendor
from tests.unit.services.ingest.support import NOW

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)

json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
"""Any JSON document."""

_times = st.datetimes(
    min_value=(NOW - timedelta(days=3650)).replace(tzinfo=None),
    max_value=(NOW + timedelta(days=30)).replace(tzinfo=None),
    timezones=st.just(UTC),
).map(lambda at: at.isoformat())

_payload_fields = st.sampled_from(
    ["connected", "duration_seconds", "subject", "meeting_id", "starts_at", "kind", "stage",
     "amount", "to_stage", "to_date", "to_rep_id", "name", "email", "role", "time_zone",
     "start_date", "end_date", "metric", "period", "period_start", "target", "type"]
)  # fmt: skip


def _maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any JSON at all."""
    return st.one_of(plausible, plausible, json_values)


event_like: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"type": _maybe(st.sampled_from([t.value for t in EventType]))},
    optional={
        "event_id": _maybe(st.text(max_size=130)),
        "occurred_at": _maybe(_times),
        "source": _maybe(
            st.fixed_dictionaries(
                {
                    "vendor": _maybe(st.sampled_from([v.value for v in Vendor])),
                    "delivery_id": _maybe(st.text(max_size=10)),
                }
            )  # fmt: skip
        ),
        "rep_id": _maybe(st.text(min_size=1, max_size=10)),
        "opportunity_id": _maybe(st.text(max_size=10) | st.none()),
        "payload": _maybe(st.dictionaries(_payload_fields, _maybe(_scalars | _times), max_size=6)),
        "schema_version": _maybe(st.just(1)),
    },
)
"""Dicts with the envelope's keys, each value plausible or not, so validation goes deep."""

_PAYLOADS: dict[str, dict[str, Any]] = {
    "call.made": {"connected": True, "duration_seconds": 30},
    "email.sent": {"subject": "hi"},
    "meeting.held": {"meeting_id": "m-1", "kind": "follow_up"},
    "opportunity.stage_changed": {"from_stage": "a", "to_stage": "b"},
    "rep.upserted": {"name": "Ann", "email": "ann@example.com", "role": "AE"},
    "pto.set": {"start_date": "2026-11-01", "end_date": "2026-11-03"},
}


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event of a few types, sometimes with one field swapped for any JSON."""
    event_type = draw(st.sampled_from(sorted(_PAYLOADS)))
    event: dict[str, Any] = {
        "type": event_type,
        "occurred_at": draw(_times),
        "source": {"vendor": "canonical", "delivery_id": draw(st.text(min_size=1, max_size=8))},
        "rep_id": draw(st.sampled_from(["rep-1", "rep-2", "rep-3"])),
        "opportunity_id": "opp-1",
        "payload": dict(_PAYLOADS[event_type]),
    }
    if draw(st.booleans()):
        target = draw(st.sampled_from([event, event["payload"]]))
        target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return event


bodies: st.SearchStrategy[Any] = st.one_of(
    json_values,
    event_like,
    valid_events(),
    st.lists(st.one_of(event_like, valid_events(), json_values), max_size=4),
    st.lists(valid_events(), min_size=1, max_size=4),
)
"""What a signed sender might post: anything, an event-ish object, or a batch of them."""
