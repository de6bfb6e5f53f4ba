"""Delivery: batching by event time, perturbation, pacing, signing and retries."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from simulator.delivery import (
    DeliveryRefused,
    Item,
    Pacer,
    Perturbation,
    Sender,
    batches,
    deliver,
    perturb,
)
from simulator.engine import Simulation
from simulator.vendors.base import Delivery
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.pipedrive import PipedriveFormatter
from tests.unit.simulator.sim_support import SMALL

SECRET = "whsec-unit-test-7c1d"
CANONICAL = CanonicalJsonFormatter(secret=SECRET)
EPOCH = 1_767_600_000  # 2026-01-05


def lines(count: int, *, step: int = 60) -> list[tuple[int, bytes]]:
    """Tiny stand-in events: only `occurred_at` and an id matter to the batcher."""
    out = []
    for n in range(count):
        at = EPOCH + n * step
        moment = datetime.fromtimestamp(at, UTC).isoformat()
        out.append((at, orjson.dumps({"event_id": f"e{n}", "occurred_at": moment})))
    return out


def items(count: int) -> list[tuple[int, Item]]:
    return list(batches(lines(count, step=4000), formatter=CANONICAL, canonical=CANONICAL))


def test_a_batch_never_spans_more_than_its_window_or_size() -> None:
    stream = lines(1000, step=30)  # 30 s apart: 120 per hour
    result = list(
        batches(
            stream, formatter=CANONICAL, canonical=CANONICAL, max_batch=100, wall_clock=lambda: 2e9
        )
    )
    sizes = [len(orjson.loads(d.body)) for _, (d, _) in result]
    assert sum(sizes) == 1000 and max(sizes) == 100
    for _, (delivery, _) in result:
        times = [datetime.fromisoformat(e["occurred_at"]) for e in orjson.loads(delivery.body)]
        assert (max(times) - min(times)).total_seconds() < 3600


def test_live_events_go_out_in_small_windows() -> None:
    stream = lines(120, step=5)  # ten minutes of events, all in the wall clock's future
    result = list(batches(stream, formatter=CANONICAL, canonical=CANONICAL, wall_clock=lambda: 0))
    assert len(result) >= 20


def test_vendor_formats_send_directory_events_to_the_canonical_endpoint() -> None:
    simulation = Simulation(SMALL.with_(weeks=1))
    formatter = PipedriveFormatter(
        simulation.org, company_id=1, http_user="user", http_password="password-1"
    )
    paths = Counter(
        delivery.path
        for _, (delivery, _) in batches(
            simulation.events(), formatter=formatter, canonical=CANONICAL
        )
    )
    assert paths["/v1/events"] > 0 and paths["/v1/webhooks/pipedrive"] > paths["/v1/events"]


@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_duplicates_arrive_at_about_the_configured_rate(rate: float) -> None:
    original = items(2000)
    sent = list(perturb(original, Perturbation(duplicates=rate, seed=1)))
    extra = len(sent) - len(original)
    assert extra == pytest.approx(rate * len(original), rel=0.2)
    assert {id(i[1][0]) for i in sent} == {id(i[1][0]) for i in original}


def test_out_of_order_delivery_keeps_everything_and_reorders_some() -> None:
    original = items(2000)
    sent = list(perturb(original, Perturbation(out_of_order=0.1, seed=2)))
    assert sorted(at for at, _ in sent) == sorted(at for at, _ in original)
    late, newest = 0, 0
    for at, _ in sent:
        late += at < newest  # overtaken by something sent before it
        newest = max(newest, at)
    assert late == pytest.approx(0.1 * len(original), rel=0.25)


def test_perturbation_is_deterministic_and_off_by_default() -> None:
    original = items(300)
    how = Perturbation(duplicates=0.1, out_of_order=0.1, seed=3)
    assert [at for at, _ in perturb(original, how)] == [at for at, _ in perturb(original, how)]
    assert list(perturb(original, Perturbation())) == original


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_replays_history_at_its_pace_and_live_events_at_wall_time() -> None:
    fake = FakeTime(now=EPOCH + 30 * 86_400)
    pacer = Pacer(days_per_second=2.0, wall_clock=fake.clock, sleep=fake.sleep)
    pacer.wait_for(EPOCH)
    pacer.wait_for(EPOCH + 86_400)  # one day of event time = half a second
    assert fake.slept == [pytest.approx(0.5)]
    live_at = int(fake.now) + 10
    Pacer(wall_clock=fake.clock, sleep=fake.sleep).wait_for(live_at)
    assert fake.now == pytest.approx(live_at)


def delivery() -> Delivery:
    (_, (first, _)), *_ = items(1)
    return first


def test_the_sender_signs_and_retries_what_ingest_asks_to_retry() -> None:
    answers = iter([503, 429, 202])
    seen: list[httpx.Request] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers), headers={"Retry-After": "0"})

    with httpx.Client(transport=httpx.MockTransport(ingest)) as client:
        sender = Sender("http://ingest.test", client=client)
        stats = deliver([(0, (delivery(), CANONICAL))], sender, Pacer())
    assert (stats.deliveries, stats.retries) == (1, 2)
    request = seen[-1]
    assert request.url.path == "/v1/events"
    headers = request.headers
    refusal = verify(
        SECRET,
        headers[TIMESTAMP_HEADER],
        headers[SIGNATURE_HEADER],
        request.content,
        datetime.now(UTC),
    )
    assert refusal is None


def test_a_refusal_is_reported_with_its_status_and_never_retried() -> None:
    calls = 0

    def ingest(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(422, json={"detail": "payload.stage is required"})

    with httpx.Client(transport=httpx.MockTransport(ingest)) as client:
        with pytest.raises(DeliveryRefused, match="422.*payload.stage"):
            Sender("http://ingest.test", client=client).send(delivery(), CANONICAL)
    assert calls == 1


def test_hydration_records_go_to_the_vendor_api_first() -> None:
    order: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        order.append(f"{request.url.host}{request.url.path}")
        return httpx.Response(200 if request.url.host == "crm.test" else 204)

    with_records = Delivery(
        path="/v1/webhooks/hubspot",
        body=b"[]",
        content_type="application/json",
        identity="1",
        occurred_at=datetime.fromtimestamp(EPOCH, UTC),
        records=({"object_type": "calls", "id": "1", "properties": {}},),
    )
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        Sender("http://ingest.test", client=client, vendor_api_url="http://crm.test").send(
            with_records, CANONICAL
        )
    assert order == ["crm.test/_records", "ingest.test/v1/webhooks/hubspot"]
