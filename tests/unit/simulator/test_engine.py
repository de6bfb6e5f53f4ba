"""The generator: deterministic, valid, ordered, streaming, and faithful to its configuration."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.events import SalesEvent
from simulator.engine import Simulation
from simulator.output import EVENTS_FILE, LABELS_FILE, read_events, write
from simulator.timeutil import local_week
from tests.unit.simulator.sim_support import PLAIN, SMALL, of_type, run


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    write(Simulation(SMALL), tmp_path / "a")
    write(Simulation(SMALL), tmp_path / "b")
    for name in (EVENTS_FILE, LABELS_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_another_seed_another_org(tmp_path: Path) -> None:
    write(Simulation(SMALL), tmp_path / "a")
    write(Simulation(SMALL.with_(seed=SMALL.seed + 1)), tmp_path / "b")
    assert (tmp_path / "a" / EVENTS_FILE).read_bytes() != (
        tmp_path / "b" / EVENTS_FILE
    ).read_bytes()


def test_every_event_is_a_valid_canonical_event_in_time_order() -> None:
    events, _ = run(SMALL)
    assert len(events) > 5_000
    parsed = [SalesEvent.model_validate(e) for e in events]
    times = [e.occurred_at for e in parsed]
    assert times == sorted(times)
    assert len({e.event_id for e in parsed}) == len(parsed)
    assert {e.type.value for e in parsed} >= {
        "rep.upserted", "goal.set", "email.sent", "email.replied", "call.made",
        "meeting.scheduled", "meeting.held", "opportunity.created",
        "opportunity.stage_changed", "opportunity.closed_won", "opportunity.closed_lost",
    }  # fmt: skip


def test_the_file_reads_back_as_the_stream(tmp_path: Path) -> None:
    write(Simulation(SMALL), tmp_path)
    streamed = list(Simulation(SMALL).events())
    assert list(read_events(tmp_path / EVENTS_FILE)) == streamed


def test_memory_stays_bounded_while_streaming() -> None:
    """The queue of pending events never holds much more than a couple of days of output."""
    simulation = Simulation(SMALL.with_(weeks=12))
    per_day: Counter[str] = Counter()
    largest_queue = 0
    for _, line in simulation.events():
        per_day[line[line.index(b'"occurred_at":"') + 15 :][:10].decode()] += 1
        largest_queue = max(largest_queue, len(simulation.world.heap))
    assert largest_queue <= 3 * max(per_day.values())


def test_reps_start_before_their_events_and_managers_exist() -> None:
    events, _ = run(SMALL)
    known: set[str] = set()
    for event in events:
        if event["type"] == "rep.upserted":
            known.add(event["rep_id"])
            manager = event["payload"]["manager_id"]
            assert manager is None or manager in known
        else:
            assert event["rep_id"] in known, event


def test_sdr_weekly_emails_match_the_configured_rate() -> None:
    """Over 26 weeks, an SDR's mean weekly emails is the configured daily rate x 5 (± 5 %)."""
    events, _ = run(PLAIN)
    sdrs = {e["rep_id"] for e in of_type(events, "rep.upserted") if e["payload"]["role"] == "SDR"}
    weekly: Counter[tuple[str, int]] = Counter()
    for event in of_type(events, "email.sent"):
        if event["rep_id"] in sdrs:
            weekly[(event["rep_id"], local_week(event, PLAIN.start))] += 1
    full_weeks = [w for w in range(PLAIN.weeks) if not _has_holiday(w)]
    per_rep = {rep: statistics.fmean(weekly[(rep, week)] for week in full_weeks) for rep in sdrs}
    expected = 5 * PLAIN.sdr.emails * math.exp(PLAIN.sdr.noise**2 / 2)
    overall = statistics.fmean(per_rep.values())
    assert overall == pytest.approx(expected, rel=0.05)
    for rep, mean in per_rep.items():
        assert mean == pytest.approx(expected, rel=0.1), rep


def _has_holiday(week: int) -> bool:
    from simulator.calendar import public_holidays

    monday = PLAIN.start + timedelta(weeks=week)
    return any(monday + timedelta(days=n) in public_holidays(monday.year) for n in range(5))


def test_stage_conversion_matches_the_configured_pipeline() -> None:
    """Of deals that left a stage, the share that moved on is the configured conversion."""
    events, _ = run(PLAIN)
    stages = PLAIN.pipeline.stages
    current: dict[str, int] = {}
    advanced: Counter[int] = Counter()
    left: Counter[int] = Counter()
    for event in events:
        opportunity, kind = event["opportunity_id"], event["type"]
        if kind == "opportunity.created":
            current[opportunity] = stages.index(event["payload"]["stage"])
        elif kind in ("opportunity.stage_changed", "opportunity.closed_won"):
            left[current[opportunity]] += 1
            advanced[current[opportunity]] += 1
            current[opportunity] += 1
        elif kind == "opportunity.closed_lost":
            left[current[opportunity]] += 1
    for index, expected in enumerate(PLAIN.pipeline.conversion):
        count = left[index]
        assert count >= 50, (stages[index], count)
        tolerance = 4 * math.sqrt(expected * (1 - expected) / count)
        assert advanced[index] / count == pytest.approx(expected, abs=tolerance), stages[index]


def test_activity_follows_the_working_week() -> None:
    """Outbound work happens on weekdays, in working hours of the rep's own time zone."""
    events, _ = run(SMALL)
    zones = {e["rep_id"]: e["payload"]["time_zone"] for e in of_type(events, "rep.upserted")}
    by_weekday: Counter[int] = Counter()
    from zoneinfo import ZoneInfo

    for event in of_type(events, "email.sent", "call.made"):
        local = datetime.fromisoformat(event["occurred_at"]).astimezone(
            ZoneInfo(zones[event["rep_id"]])
        )
        assert 8 <= local.hour < 18, event
        by_weekday[local.weekday()] += 1
    assert by_weekday[5] == by_weekday[6] == 0
    assert by_weekday[1] > by_weekday[4]  # Tuesdays are busier than Fridays


def test_directory_comes_first_and_goals_cover_every_rep() -> None:
    events, labels = run(SMALL)
    reps = {
        e["rep_id"] for e in of_type(events, "rep.upserted") if e["payload"]["role"] != "manager"
    }
    goal_reps = {e["rep_id"] for e in of_type(events, "goal.set")}
    assert goal_reps == reps
    first_day = datetime.combine(labels.scenario.start, datetime.min.time(), UTC)
    for event in of_type(events, "rep.upserted"):
        if event["payload"]["hire_date"] < labels.scenario.start.isoformat():
            assert datetime.fromisoformat(event["occurred_at"]) < first_day + timedelta(hours=12)


def test_owner_changes_only_hand_deals_to_existing_reps() -> None:
    events, _ = run(SMALL)
    departed = defaultdict(list)
    for event in events:
        if event["type"] == "rep.departed":
            departed[event["rep_id"]].append(event["occurred_at"])
        if event["type"] == "opportunity.owner_changed":
            assert event["payload"]["to_rep_id"] not in departed


def test_a_large_org_gets_distinct_names() -> None:
    """More people than first x last name pairs: the builder still finishes, names unique."""
    from simulator.config import SCENARIOS

    org = Simulation(SCENARIOS["enterprise"].with_(weeks=1)).org
    names = [person.name for person in org.people]
    assert len(org.reps) == 1000 and len(set(names)) == len(names)
