"""File output: `events.jsonl` (one canonical event per line) and `labels.json`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from simulator.engine import Simulation

EVENTS_FILE = "events.jsonl"
LABELS_FILE = "labels.json"


@dataclass(frozen=True)
class GenerateReport:
    events: int
    labels: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def write(simulation: Simulation, out: Path) -> GenerateReport:
    """Stream every event to `out/events.jsonl`, then the ground truth to `out/labels.json`."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    count = 0
    with (out / EVENTS_FILE).open("wb", buffering=1 << 20) as sink:
        for _, line in simulation.events():
            sink.write(line)
            sink.write(b"\n")
            count += 1
    labels = simulation.labels()
    labels.write(out / LABELS_FILE)
    return GenerateReport(count, len(labels.labels), time.perf_counter() - started)


def read_events(path: Path) -> Iterator[tuple[int, bytes]]:
    """(epoch seconds, line) from an events file, as `Simulation.events()` yields them."""
    with path.open("rb") as source:
        for raw in source:
            line = raw.rstrip(b"\n")
            if line:
                occurred_at = orjson.loads(line)["occurred_at"]
                yield int(datetime.fromisoformat(occurred_at).timestamp()), line
