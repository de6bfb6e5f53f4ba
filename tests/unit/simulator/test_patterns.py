"""Injected patterns show up in the events the way their labels say, and only there."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from simulator.labels import Label, LabelFile, Pattern
from tests.unit.simulator.sim_support import RICH, of_type, on_day, run

OUTBOUND = ("email.sent", "call.made")


def labels_of(labels: LabelFile, pattern: Pattern) -> list[Label]:
    found = [label for label in labels.labels if label.pattern is pattern]
    assert found, f"no {pattern} label in the scenario"
    return found


def weekly_outbound(events: tuple[dict[str, Any], ...]) -> dict[str, Counter[date]]:
    """Per rep, outbound emails and calls by the Monday of their week."""
    weeks: dict[str, Counter[date]] = defaultdict(Counter)
    for event in of_type(events, *OUTBOUND):
        day = on_day(event)
        weeks[event["rep_id"]][day - timedelta(days=day.weekday())] += 1
    return weeks


def test_every_pattern_is_injected_and_labelled() -> None:
    _, labels = run(RICH)
    assert {label.pattern for label in labels.labels} == set(Pattern)
    for label in labels.labels:
        assert label.start <= label.end
        assert label.rules


def test_a_disengaging_rep_works_less_then_leaves() -> None:
    events, labels = run(RICH)
    weeks = weekly_outbound(events)
    departures = {e["rep_id"]: on_day(e) for e in of_type(events, "rep.departed")}
    for label in labels_of(labels, Pattern.DISENGAGING):
        rep = label.subject_id
        before = [n for week, n in weeks[rep].items() if week < label.start - timedelta(days=7)]
        last_two = [n for week, n in weeks[rep].items() if 0 < (label.end - week).days <= 14]
        assert statistics.fmean(last_two) < 0.7 * statistics.fmean(before), rep
        assert departures[rep] == label.end
        after = [e for e in of_type(events, *OUTBOUND) if e["rep_id"] == rep]
        assert max(on_day(e) for e in after) <= label.end  # UTC date of their last local day


def test_an_abandoned_deal_is_not_touched_while_it_is_abandoned() -> None:
    events, labels = run(RICH)
    accounts = {
        e["opportunity_id"]: e["account_id"] for e in of_type(events, "opportunity.created")
    }
    touches: dict[str, list[date]] = defaultdict(list)
    for event in of_type(events, "email.sent", "call.made", "meeting.held"):
        touches[event["account_id"]].append(on_day(event))
    for label in labels_of(labels, Pattern.ABANDONED_DEAL):
        account = accounts[label.subject_id]
        quiet = [d for d in touches[account] if label.start < d <= label.end]
        assert not quiet, (label.subject_id, label.start, label.end, quiet)
        assert label.start in touches[account] or label.details.get("stage") is not None


def test_nobody_works_in_the_holiday_week_or_on_pto() -> None:
    events, labels = run(RICH)
    holiday = labels_of(labels, Pattern.HOLIDAY_WEEK)[0]
    holiday_days = {holiday.start + timedelta(days=n) for n in range(5)}
    pto = {label.subject_id: label for label in labels_of(labels, Pattern.PTO)}
    for event in of_type(events, *OUTBOUND, "meeting.held"):
        day = on_day(event)
        assert day not in holiday_days, event
        label = pto.get(event["rep_id"])
        if label is not None:
            assert not label.start <= day <= label.start + timedelta(days=11), event
    announced = {(e["rep_id"], e["payload"]["start_date"]) for e in of_type(events, "pto.set")}
    for rep, label in pto.items():
        assert (rep, label.start.isoformat()) in announced


def test_deals_are_covered_by_a_meeting_booked_for_the_return_from_pto() -> None:
    events, labels = run(RICH)
    for label in labels_of(labels, Pattern.PTO):
        back = label.start + timedelta(days=14)  # the Monday after two weeks off
        booked = [
            e
            for e in of_type(events, "meeting.scheduled")
            if e["rep_id"] == label.subject_id
            and e["opportunity_id"]
            and on_day(e) < label.start
            and e["payload"]["starts_at"][:10] >= back.isoformat()
        ]
        open_deals = _open_deals_of(events, label.subject_id, label.start)
        assert {e["opportunity_id"] for e in booked} >= open_deals - _abandoned(labels)


def _open_deals_of(events: tuple[dict[str, Any], ...], rep: str, day: date) -> set[str]:
    owner: dict[str, str] = {}
    closed: set[str] = set()
    for event in events:
        if on_day(event) >= day:
            break
        if event["type"] == "opportunity.created":
            owner[event["opportunity_id"]] = event["rep_id"]
        elif event["type"] == "opportunity.owner_changed":
            owner[event["opportunity_id"]] = event["payload"]["to_rep_id"]
        elif event["type"] in ("opportunity.closed_won", "opportunity.closed_lost"):
            closed.add(event["opportunity_id"])
    return {opp for opp, who in owner.items() if who == rep and opp not in closed}


def _abandoned(labels: LabelFile) -> set[str]:
    return {label.subject_id for label in labels.labels if label.pattern is Pattern.ABANDONED_DEAL}


def test_slow_rampers_ramp_slower_than_fast_rampers() -> None:
    """Outbound in the first eight weeks after hire, relative to the role's full daily rate."""
    events, labels = run(RICH)
    weeks = weekly_outbound(events)
    roles = {e["rep_id"]: e["payload"]["role"] for e in of_type(events, "rep.upserted")}
    full_rate = {"SDR": RICH.sdr.emails + RICH.sdr.calls, "AE": RICH.ae.emails + RICH.ae.calls}

    def first_eight_weeks(label: Label) -> float:
        hired = label.start - timedelta(weeks=4)
        rep = label.subject_id
        done = sum(n for week, n in weeks[rep].items() if week < hired + timedelta(weeks=8))
        return done / full_rate[roles[rep]]

    slow = [first_eight_weeks(label) for label in labels_of(labels, Pattern.SLOW_RAMPER)]
    fast = [first_eight_weeks(label) for label in labels_of(labels, Pattern.FAST_RAMPER)]
    assert max(slow) < min(fast)


def test_a_team_dip_lowers_the_whole_teams_output() -> None:
    events, labels = run(RICH)
    label = labels_of(labels, Pattern.TEAM_DIP)[0]
    team = {
        e["rep_id"]
        for e in of_type(events, "rep.upserted")
        if e["payload"]["team"] == label.subject_id
    }
    during = before = 0
    for event in of_type(events, *OUTBOUND):
        if event["rep_id"] in team:
            day = on_day(event)
            during += label.start <= day <= label.end
            before += label.start - timedelta(days=21) <= day < label.start
    assert during < 0.8 * before


def test_happy_ears_reps_lose_deals_they_had_many_meetings_on() -> None:
    events, labels = run(RICH)
    happy = {label.subject_id for label in labels_of(labels, Pattern.HAPPY_EARS)}
    meetings: Counter[str] = Counter(e["opportunity_id"] for e in of_type(events, "meeting.held"))
    shares: dict[bool, list[bool]] = defaultdict(list)
    for event in of_type(events, "opportunity.closed_lost"):
        shares[event["rep_id"] in happy].append(meetings[event["opportunity_id"]] >= 2)
    assert statistics.fmean(shares[True]) > 2 * statistics.fmean(shares[False])


def test_reps_ahead_of_goal_book_more_than_reps_behind() -> None:
    events, labels = run(RICH)
    booked: Counter[str] = Counter()
    for event in of_type(events, "opportunity.closed_won"):
        booked[event["rep_id"]] += float(event["payload"]["amount"])
    ahead = statistics.fmean(
        booked[label.subject_id] for label in labels_of(labels, Pattern.GOAL_AHEAD)
    )
    behind = statistics.fmean(
        booked[label.subject_id] for label in labels_of(labels, Pattern.GOAL_BEHIND)
    )
    assert ahead > 2 * behind
