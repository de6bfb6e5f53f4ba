"""replay-dlq's remapping of parked items, without a broker."""

from __future__ import annotations

from datetime import timedelta

from services.ingest.adapters.base import ParkReason
from services.ingest.deadletter import dead_letter
from services.ingest.mapping import MappingConfig
from services.ingest.replay import ReplaySummary, remap
from tests.unit.services.ingest.fake_adapter import FakeAdapter
from tests.unit.services.ingest.support import NOW


async def test_an_item_that_now_maps_into_the_future_is_parked_again_as_future_event() -> None:
    at = (NOW + timedelta(days=2)).isoformat()
    item = {"id": "1", "user": "8", "kind": "call", "at": at}
    letter = dead_letter("pipedrive", ParkReason.UNKNOWN_USER, "user 8", item, NOW)
    mapping = MappingConfig.model_validate({"pipedrive": {"users": {"8": "rep-8"}}})
    summary = ReplaySummary()
    batch = await remap(
        [letter],
        {"pipedrive": FakeAdapter()},
        mapping,
        now=NOW,
        max_future_skew=timedelta(minutes=5),
        summary=summary,
    )
    assert batch.events == []
    (again,) = batch.reparked
    # The user is known now: the reason it stays parked is the time, not the user.
    assert (again.reason, again.attempts) == (ParkReason.FUTURE_EVENT, 2)
    assert summary.still_parked == {"future_event": 1}
