"""The metrics core's per-event cost against a baseline doing the least any consumer must:
parse the JSON and update a dict per rep. Both run on the same serialized events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from benchmarks.timing import median_seconds
from services.metrics.core.reducer import MetricsCore, Stores
from shared.events import SalesEvent

EVENTS = 20_000


def sample_events(count: int = EVENTS) -> list[bytes]:
    """A realistic mix: emails, calls, opportunity touches, across 50 reps and 30 days."""
    start = datetime(2026, 9, 1, 13, tzinfo=UTC)
    raws = []
    for n in range(count):
        rep, at = f"rep-{n % 50}", start + timedelta(minutes=2 * n)
        kind = ("email.sent", "call.made", "email.sent", "meeting.held")[n % 4]
        payload: dict[str, object] = {}
        if kind == "call.made":
            payload = {"connected": n % 3 == 0, "duration_seconds": 60}
        if kind == "meeting.held":
            payload = {"meeting_id": f"m{n}", "kind": "initial"}
        raws.append(
            SalesEvent.model_validate(
                {
                    "type": kind,
                    "occurred_at": at.isoformat(),
                    "rep_id": rep,
                    "source": {"vendor": "canonical", "delivery_id": f"b{n}"},
                    "opportunity_id": f"opp-{n % 400}",
                    "account_id": f"acc-{n % 400}",
                    "payload": payload,
                }
            ).to_json()
        )
    return raws


def baseline(raws: list[bytes]) -> None:
    counts: dict[str, int] = {}
    for raw in raws:
        event = orjson.loads(raw)
        counts[event["rep_id"]] = counts.get(event["rep_id"], 0) + 1


def core(raws: list[bytes]) -> None:
    metrics = MetricsCore(Stores())
    for raw in raws:
        metrics.process(SalesEvent.from_json(raw))


def report() -> str:
    raws = sample_events()
    base = median_seconds(lambda: baseline(raws))
    full = median_seconds(lambda: core(raws), repeat=3)
    return (
        f"metrics core, {len(raws):,} events (median of runs):\n"
        f"  baseline (json + dict update)  {len(raws) / base:>12,.0f} events/s\n"
        f"  MetricsCore.process            {len(raws) / full:>12,.0f} events/s\n"
        f"  ratio core/baseline            {base / full:>12.3f}\n"
        "  (faust adds its own per-event cost on top; see shared design stream-notes)"
    )
