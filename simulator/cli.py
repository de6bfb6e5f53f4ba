"""The simulator's command line: generate files, replay to ingest, run live, evaluate."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import httpx
import orjson

from shared.clock import WallClock
from simulator.config import SCENARIOS, ScenarioConfig
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
from simulator.output import EVENTS_FILE, read_events, write
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import FORMATS, formatter_for


def _scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="standard", choices=sorted(SCENARIOS))
    parser.add_argument("--seed", type=int, help="random seed (same seed, same bytes)")
    parser.add_argument("--reps", type=int, help="number of SDRs and AEs")
    parser.add_argument("--weeks", type=int, help="weeks of history")
    parser.add_argument("--start", type=date.fromisoformat, help="first day (a Monday is best)")


def scenario_from(args: argparse.Namespace) -> ScenarioConfig:
    config = SCENARIOS[args.scenario]
    changes = {k: getattr(args, k) for k in ("seed", "reps", "weeks", "start")}
    return config.with_(**{k: v for k, v in changes.items() if v is not None})


def _delivery_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ingest-url", default="http://127.0.0.1:8001")
    parser.add_argument("--format", default="canonical", choices=FORMATS)
    parser.add_argument(
        "--vendor-api-url", help="the CRM API ingest hydrates from (HubSpot engagements)"
    )
    parser.add_argument("--duplicates", type=float, default=0.0, help="share sent twice")
    parser.add_argument("--out-of-order", type=float, default=0.0, help="share sent late")
    parser.add_argument(
        "--days-per-second", type=float, default=0.0, help="replay pace (0 = as fast as possible)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write events.jsonl and labels.json")
    _scenario_args(generate)
    generate.add_argument("--out", type=Path, required=True, help="output directory")
    replay = commands.add_parser("replay", help="send a scenario (or a file) to a running ingest")
    _scenario_args(replay)
    replay.add_argument("--from", dest="source", type=Path, help="a directory from `generate`")
    _delivery_args(replay)
    run = commands.add_parser(
        "run", help="history that ends now, replayed fast, then live at a realistic pace"
    )
    _scenario_args(run)
    run.set_defaults(scenario="demo", days_per_second=3.0)
    _delivery_args(run)
    run.add_argument("--labels-out", type=Path, help="write the history's labels here")
    run.add_argument("--no-live", action="store_true", help="stop after the history")
    run.add_argument("--live-days", type=int, default=365, help="how long to keep going live")
    evaluate = commands.add_parser("eval", help="score the alert rules on the scenario suite")
    evaluate.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    evaluate.add_argument("--stack-file", type=Path, help="use this running stack (stack.json)")
    evaluate.add_argument("--json", type=Path, help="also write the scores here")
    evaluate.add_argument("--reps", type=int)
    evaluate.add_argument("--weeks", type=int)
    mapping = commands.add_parser(
        "mapping", help="write the ingest mapping file (users, stages) of a scenario's org"
    )
    _scenario_args(mapping)
    mapping.set_defaults(scenario="demo")
    mapping.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    commands.add_parser("scenarios", help="list the named scenarios")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command in ("replay", "run"):
            return _send(args)
        if args.command == "mapping":
            return _mapping(args)
        if args.command == "eval":
            from simulator.evaluate import main as evaluate

            return evaluate(args)
        for name, config in sorted(SCENARIOS.items()):
            print(f"{name:12} {config.reps:5} reps  {config.weeks:3} weeks  from {config.start}")
        return 0
    except (DeliveryRefused, ValueError, KeyError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    config = scenario_from(args)
    report = write(Simulation(config), args.out)
    print(
        f"{config.name}: {report.events:,} events and {report.labels} labels in "
        f"{report.seconds:.1f} s ({report.events_per_second:,.0f} events/s) -> {args.out}"
    )
    return 0


def _mapping(args: argparse.Namespace) -> int:
    from simulator.ingest_mapping import ingest_mapping

    config = scenario_from(args)
    document = ingest_mapping(Simulation(config).org, os.environ)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    users = {section: len(body.get("users", {})) for section, body in document.items()}
    print(f"{config.name}: mapping for {users} users -> {args.out}")
    return 0


def _send(args: argparse.Namespace) -> int:
    config = scenario_from(args)
    if args.command == "run":
        # History that ends today: start on the Monday `weeks` weeks back.
        today = WallClock().now().date()
        config = config.with_(start=today - timedelta(days=today.weekday(), weeks=config.weeks))
    simulation = Simulation(config)
    stream: Iterable[tuple[int, bytes]]
    if args.command == "replay" and args.source:
        stream = read_events(args.source / EVENTS_FILE)
    else:
        extra = 0 if args.command == "replay" or args.no_live else args.live_days
        stream = simulation.events(extra_days=extra)
    secret = os.environ.get("INGEST_SECRET", "")
    if not secret:
        raise ValueError("INGEST_SECRET is not set (make run writes it to var/demo.env)")
    canonical = CanonicalJsonFormatter(secret=secret)
    formatter = formatter_for(args.format, simulation.org, os.environ, canonical=canonical)
    items = perturb(
        batches(stream, formatter=formatter, canonical=canonical),
        Perturbation(args.duplicates, args.out_of_order, config.seed),
    )
    with httpx.Client(timeout=30) as client:
        sender = Sender(args.ingest_url, client=client, vendor_api_url=args.vendor_api_url)
        pacer = Pacer(days_per_second=args.days_per_second)
        if args.command == "run":
            return _run_live(simulation, items, sender, pacer, args.labels_out)
        stats = deliver(items, sender, pacer)
    print(f"sent {stats.deliveries:,} deliveries ({stats.retries} retries): {stats.by_path}")
    return 0


def _run_live(
    simulation: Simulation,
    items: Iterable[tuple[int, Item]],
    sender: Sender,
    pacer: Pacer,
    labels_out: Path | None,
) -> int:
    """Send as the clock allows; once event time passes the wall clock, say so (and label)."""
    live, wall = False, WallClock()
    for at, (delivery, formatter) in items:
        if not live and at > wall.now().timestamp():
            live = True
            if labels_out is not None:
                labels_out.parent.mkdir(parents=True, exist_ok=True)
                simulation.labels().write(labels_out)
            print(
                f"history replayed ({sender.stats.deliveries} deliveries); going live", flush=True
            )
        pacer.wait_for(at)
        sender.send(delivery, formatter)
    return 0
