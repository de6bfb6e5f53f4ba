"""`make eval`: each scenario through a fresh stack, alerts read from the API, scored on truth.

For every scenario: start the whole stack on embedded defaults (replay clock, SQLite, free
ports), send the scenario's events through ingest as fast as it takes them, wait until every
service has caught up, fetch every alert from `/v1/alerts`, and score it against the labels.
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from simulator.alerts_client import fetch_alerts
from simulator.config import SCENARIOS, ScenarioConfig
from simulator.delivery import Pacer, Sender, batches, deliver
from simulator.engine import Simulation
from simulator.labels import LabelFile
from simulator.rules import implemented_rules
from simulator.scoring import ObservedAlert, RuleScore, render_table, score, to_json
from simulator.vendors.generic import CanonicalJsonFormatter

SUITE = ("standard", "clean")


@dataclass(frozen=True)
class StackHandle:
    urls: dict[str, str]
    credentials: dict[str, str]


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    events: int
    send_seconds: float
    settle_seconds: float
    alerts: int
    scores: list[RuleScore]


def metric_total(url: str, name: str, client: httpx.Client) -> float:
    """Sum of every sample of one metric family (counter or gauge) on a `/metrics` page."""
    text = client.get(url, timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == name:
            total += sum(s.value for s in family.samples if s.name in (name, f"{name}_total"))
    return total


def _progress(stack: StackHandle, client: httpx.Client) -> tuple[float, ...]:
    """Where each stage is: produced, processed, changes consumed, the rules' event time."""
    return (
        metric_total(
            stack.urls["ingest"] + "/metrics", "salescoach_ingest_events_produced", client
        ),
        metric_total(stack.urls["metrics"] + "/metrics", "salescoach_metrics_events", client),
        metric_total(stack.urls["alerts"] + "/metrics", "salescoach_alerts_metric_changes", client),
        metric_total(
            stack.urls["alerts"] + "/metrics",
            "salescoach_alerts_watermark_timestamp_seconds",
            client,
        ),
    )


def wait_until_idle(
    stack: StackHandle,
    client: httpx.Client,
    *,
    timeout: float = 1800.0,
    quiet_for: float = 15.0,
    poll: float = 1.0,
) -> float:
    """Poll until metrics has processed everything ingest produced and nothing has moved for
    `quiet_for` seconds: longer than the alerts' partition idle time, so the rules' clock has
    reached the end of the replay."""
    started = time.monotonic()
    last: tuple[float, ...] = ()
    unchanged_since = started
    while time.monotonic() - started < timeout:
        progress = _progress(stack, client)
        now = time.monotonic()
        if progress != last:
            last, unchanged_since = progress, now
        elif progress[1] >= progress[0] and now - unchanged_since >= quiet_for:
            return now - started
        time.sleep(poll)
    raise TimeoutError(f"the stack did not settle within {timeout:.0f}s: {last}")


def run_scenario(config: ScenarioConfig, stack: StackHandle) -> ScenarioResult:
    """Send one scenario through a running stack and score what it raised."""
    simulation = Simulation(config)
    canonical = CanonicalJsonFormatter(secret=stack.credentials["INGEST_SECRET"])
    counted = _Counter(simulation.events())
    started = time.monotonic()
    with httpx.Client(timeout=60) as client:
        sender = Sender(stack.urls["ingest"], client=client)
        deliver(batches(counted, formatter=canonical, canonical=canonical), sender, Pacer())
        sent = time.monotonic() - started
        settled = wait_until_idle(stack, client)
    labels = simulation.labels()
    raw = fetch_alerts(stack.urls["api"], stack.credentials["API_KEY"])
    scores = score_alerts(labels, raw)
    return ScenarioResult(config.name, counted.count, sent, settled, len(raw), scores)


def score_alerts(labels: LabelFile, raw: list[dict[str, Any]]) -> list[RuleScore]:
    alerts = [ObservedAlert.from_api(item) for item in raw]
    return score(labels, alerts, implemented_rules=implemented_rules())


class _Counter:
    """Counts the events of a stream as it passes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.count = 0

    def __iter__(self) -> Any:
        for item in self._stream:
            self.count += 1
            yield item


def _with_fresh_stack(
    var_dir: Path, work: Callable[[StackHandle], ScenarioResult]
) -> ScenarioResult:
    from deploy.local.stack import DEFAULT_PORTS, Stack, StackConfig, load_or_create_credentials
    from shared.embedded_broker import free_port

    var_dir.mkdir(parents=True, exist_ok=True)
    config = StackConfig(
        var_dir=var_dir,
        ports={name: free_port() for name in DEFAULT_PORTS},
        clock_mode="replay",
        database_url=f"sqlite:///{var_dir / 'eval.db'}",
        demo=False,
        credentials=load_or_create_credentials(var_dir / "demo.env"),
    )
    stack = Stack(config)
    try:
        stack.start()
        urls = {name: config.url(name) for name in config.ports if name not in ("broker", "smtp")}
        return work(StackHandle(urls, config.credentials))
    finally:
        stack.stop()


def _running_stack(stack_file: Path) -> StackHandle:
    description = json.loads(stack_file.read_text())
    credentials = dict(
        line.split("=", 1)
        for line in Path(description["credentials_file"]).read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return StackHandle(description["urls"], credentials)


def main(args: argparse.Namespace) -> int:
    names = args.scenario or list(SUITE)
    results = []
    for name in names:
        config = SCENARIOS[name]
        changes = {"reps": args.reps, "weeks": args.weeks}
        config = config.with_(**{k: v for k, v in changes.items() if v is not None})
        print(f"{name}: {config.reps} reps x {config.weeks} weeks ...", flush=True)
        if args.stack_file is not None:
            result = run_scenario(config, _running_stack(args.stack_file))
        else:
            with tempfile.TemporaryDirectory(prefix=f"eval-{name}-") as tmp:
                work = functools.partial(run_scenario, config)
                result = _with_fresh_stack(Path(tmp) / "var", work)
        print(
            f"{result.events:,} events sent in {result.send_seconds:.0f} s, settled in "
            f"{result.settle_seconds:.0f} s, {result.alerts} alerts",
            flush=True,
        )
        print(render_table(result.scores, name), flush=True)
        results.append(result)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {r.name: {"events": r.events, **to_json(r.scores)} for r in results}, indent=2
            )
        )
    return 0
