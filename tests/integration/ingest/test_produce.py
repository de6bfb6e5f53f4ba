"""The real app and producer against the real broker: what is accepted lands once, by rep."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx

from services.ingest.settings import IngestSettings
from shared.events import SalesEvent
from tests.integration.ingest.topic import end_offsets, read_all
from tests.unit.services.ingest.support import call_event, encode, signed

URL = "/v1/events"
REPS = ("rep-a", "rep-b", "rep-c", "rep-d", "rep-e")


def _now() -> datetime:
    return datetime.now(UTC)


def _batch(prefix: str, size: int) -> list[dict[str, object]]:
    start = _now() - timedelta(hours=1)
    return [
        call_event(f"{prefix}-{i}", rep_id=REPS[i % len(REPS)], at=start + timedelta(seconds=i))
        for i in range(size)
    ]


async def _post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(URL, content=body, headers=headers)


async def test_a_signed_batch_lands_once_per_event_keyed_and_partitioned_by_rep(
    ingest: httpx.AsyncClient, topics: IngestSettings
) -> None:
    first, second = _batch("one", 12), _batch("two", 8)
    first.append(first[0])  # a retried delivery inside the batch is produced once
    posted: dict[str, object] = {}  # event id -> rep id, in the order posted
    for batch in (first, second):
        body = encode(batch)
        response = await _post(ingest, body, signed(body, at=_now()))
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(batch)
        for event, event_id in zip(batch, response.json()["event_ids"], strict=True):
            posted.setdefault(event_id, event["rep_id"])

    records = await read_all(topics)

    events = [SalesEvent.from_json(record.value) for record in records]
    assert sorted(event.event_id for event in events) == sorted(posted)  # each exactly once
    assert all(
        record.key == event.rep_id.encode() for record, event in zip(records, events, strict=True)
    )
    partitions_of_rep: defaultdict[str, set[int]] = defaultdict(set)
    for record, event in zip(records, events, strict=True):
        partitions_of_rep[event.rep_id].add(record.partition)
    assert set(partitions_of_rep) == set(REPS)
    assert all(len(partitions) == 1 for partitions in partitions_of_rep.values())
    for rep in REPS:  # one partition per rep, so the topic keeps each rep's posting order
        landed = [event.event_id for event in events if event.rep_id == rep]
        assert landed == [event_id for event_id, owner in posted.items() if owner == rep]


async def test_refused_requests_produce_nothing(
    ingest: httpx.AsyncClient, topics: IngestSettings
) -> None:
    valid = encode(_batch("valid", 3))
    invalid_event = {**call_event("bad", at=_now()), "payload": {}}
    refusals = [
        (valid, {"Content-Type": "application/json"}, 401),
        (valid, signed(valid, at=_now(), secret="not-the-secret"), 401),
        (valid, signed(valid, at=_now() - timedelta(minutes=10)), 401),
        (valid, signed(valid, at=_now(), content_type="text/plain"), 415),
        (b"[{", signed(b"[{", at=_now()), 400),
        (encode([*_batch("mixed", 2), invalid_event]), None, 422),
        (encode(call_event("future", at=_now() + timedelta(hours=1))), None, 422),
    ]
    for body, headers, status in refusals:
        response = await _post(ingest, body, headers or signed(body, at=_now()))
        assert response.status_code == status, response.text

    assert set((await end_offsets(topics)).values()) == {0}

    # The same reader sees an accepted request, so the zero above is not a blind spot.
    assert (await _post(ingest, valid, signed(valid, at=_now()))).status_code == 202
    assert len(await read_all(topics)) == 3


async def test_ready_when_the_broker_answers(ingest: httpx.AsyncClient) -> None:
    response = await ingest.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"producer": True}
