"""Sending the event stream to ingest over real HTTP: batching, pacing, perturbation, retries.

This is a driver at the transport edge, so it may read the wall clock: signatures need the real
time, and pacing maps event time onto it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson

from shared.clock import Clock, WallClock
from simulator.vendors.base import Delivery, VendorFormatter
from simulator.vendors.generic import CanonicalJsonFormatter, batch_delivery

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
Stream = Iterable[tuple[int, bytes]]
Item = tuple[Delivery, VendorFormatter]


class DeliveryRefused(RuntimeError):
    """Ingest answered a delivery with a status that retrying will not change."""


@dataclass(frozen=True)
class Perturbation:
    """How a real CRM misbehaves: deliveries sent twice, and deliveries overtaken by later ones."""

    duplicates: float = 0.0
    out_of_order: float = 0.0
    seed: int = 0


def batches(
    stream: Stream,
    *,
    formatter: VendorFormatter,
    canonical: CanonicalJsonFormatter,
    window_seconds: int = 3600,
    live_window_seconds: int = 30,
    max_batch: int = 500,
    wall_clock: Callable[[], float] = time.time,
) -> Iterator[tuple[int, Item]]:
    """(event time, delivery) in event-time order: one window of event time per batch at most,
    a short one once event time is in the wall clock's future (live events go out promptly)."""
    lines: list[bytes] = []
    window_start = 0
    last_at = 0
    for at, line in stream:
        window = window_seconds if at <= wall_clock() else live_window_seconds
        if lines and (at - window_start >= window or len(lines) >= max_batch):
            yield from _format(lines, last_at, formatter, canonical)
            lines = []
        if not lines:
            window_start = at
        lines.append(line)
        last_at = at
    if lines:
        yield from _format(lines, last_at, formatter, canonical)


def _format(
    lines: list[bytes], last_at: int, formatter: VendorFormatter, canonical: CanonicalJsonFormatter
) -> Iterator[tuple[int, Item]]:
    newest = datetime.fromtimestamp(last_at, UTC)
    if isinstance(formatter, CanonicalJsonFormatter):
        yield last_at, (batch_delivery(lines, newest), canonical)
        return
    events = [orjson.loads(line) for line in lines]
    directory = [line for line, e in zip(lines, events, strict=True) if not formatter.accepts(e)]
    if directory:
        yield last_at, (batch_delivery(directory, newest), canonical)
    crm = [e for e in events if formatter.accepts(e)]
    for delivery in formatter.format(crm) if crm else ():
        yield last_at, (delivery, formatter)


def perturb(items: Iterable[tuple[int, Item]], how: Perturbation) -> Iterator[tuple[int, Item]]:
    """Deterministically duplicate some deliveries and hold some back behind later ones."""
    if not how.duplicates and not how.out_of_order:
        yield from items
        return
    rng = random.Random(f"perturb:{how.seed}")  # noqa: S311 - simulation, not security
    held: list[tuple[int, tuple[int, Item]]] = []  # (items still to overtake it, item)
    for item in items:
        due = [waiting for remaining, waiting in held if remaining <= 1]
        held = [(remaining - 1, waiting) for remaining, waiting in held if remaining > 1]
        if rng.random() < how.out_of_order:
            held.append((rng.randint(1, 3), item))
        else:
            yield item
            if rng.random() < how.duplicates:
                held.append((1, item))  # the CRM's retry lands after the next delivery
        yield from due
    for _, waiting in held:
        yield waiting


class Pacer:
    """Holds each delivery until its wall time: history at `days_per_second` (0 = no wait),
    and anything later than the wall clock until the wall clock reaches it (live)."""

    def __init__(
        self,
        *,
        days_per_second: float = 0.0,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.days_per_second = days_per_second
        self._wall_clock, self._sleep = wall_clock, sleep
        self._origin: tuple[float, int] | None = None  # (wall start, first event time)

    def wait_for(self, at: int) -> None:
        now = self._wall_clock()
        if self._origin is None:
            self._origin = (now, at)
        due = 0.0
        if self.days_per_second > 0:
            wall_start, first = self._origin
            due = wall_start + (at - first) / (86_400 * self.days_per_second)
        due = max(due, at) if at > now else due
        if due > now:
            self._sleep(due - now)


@dataclass
class SendStats:
    deliveries: int = 0
    retries: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


class Sender:
    """Posts deliveries with their signatures; retries what ingest says to retry."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client,
        vendor_api_url: str | None = None,
        max_attempts: int = 12,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock or WallClock()  # signatures carry the real time of sending
        self.vendor_api_url = vendor_api_url.rstrip("/") if vendor_api_url else None
        self.client = client
        self.max_attempts = max_attempts
        self.stats = SendStats()

    def send(self, delivery: Delivery, formatter: VendorFormatter) -> None:
        if delivery.records:
            self._load_records(delivery.records)
        url = self.base_url + delivery.path
        for attempt in range(self.max_attempts):
            headers = {"Content-Type": delivery.content_type}
            headers |= formatter.sign(delivery, url=url, now=self.clock.now())
            try:
                response = self.client.post(url, content=delivery.body, headers=headers)
            except httpx.TransportError:
                response = None
            if response is not None and response.is_success:
                self.stats.deliveries += 1
                self.stats.by_path[delivery.path] = self.stats.by_path.get(delivery.path, 0) + 1
                return
            if response is not None and response.status_code not in RETRYABLE:
                raise DeliveryRefused(
                    f"{delivery.path} answered {response.status_code}: {response.text[:300]}"
                )
            self.stats.retries += 1
            time.sleep(_backoff(attempt, response))
        raise DeliveryRefused(f"{delivery.path} stayed unavailable after {self.max_attempts} tries")

    def _load_records(self, records: tuple[Mapping[str, object], ...]) -> None:
        """Put engagement records where the vendor's API serves them, before the webhook."""
        if self.vendor_api_url is None:
            raise DeliveryRefused(
                "this format needs --vendor-api-url (the CRM API to hydrate from)"
            )
        response = self.client.post(self.vendor_api_url + "/_records", json=list(records))
        response.raise_for_status()


def _backoff(attempt: int, response: httpx.Response | None) -> float:
    retry_after = str(response.headers.get("Retry-After", "")) if response else ""
    if retry_after and retry_after.isdigit():
        return min(float(retry_after), 30.0)
    return min(0.2 * 2.0**attempt, 5.0)


def deliver(items: Iterable[tuple[int, Item]], sender: Sender, pacer: Pacer) -> SendStats:
    """Pace and send every delivery, in the order given."""
    for at, (delivery, formatter) in items:
        pacer.wait_for(at)
        sender.send(delivery, formatter)
    return sender.stats
