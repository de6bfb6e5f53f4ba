"""Which reps, teams and weeks get which injected pattern, and the labels that say so."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from simulator.calendar import OrgCalendar, next_quarter_start, quarter_start
from simulator.config import ScenarioConfig
from simulator.labels import Label, Pattern, make_label
from simulator.org import Org
from simulator.plan import Disengagement, Ramp, RepPlan

# How long after a confounder ends its echo can still trip a rule (a deal untouched through a
# holiday crosses a staleness threshold days after the holiday).
ECHO = timedelta(days=9)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive
    factor: float

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass
class OrgPatterns:
    """Org- and team-wide effects on effort, by day."""

    team_dips: dict[str, list[Window]] = field(default_factory=dict)
    pushes: list[Window] = field(default_factory=list)  # AE effort around quarter ends
    labels: list[Label] = field(default_factory=list)


def _count(share: float, population: int) -> int:
    return max(1, round(share * population)) if share > 0 and population else 0


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _pick(rng: random.Random, pool: list[RepPlan], count: int) -> list[RepPlan]:
    chosen = rng.sample(pool, min(count, len(pool)))
    for plan in chosen:
        pool.remove(plan)
    return chosen


def assign(
    config: ScenarioConfig, plans: list[RepPlan], calendar: OrgCalendar, rng: random.Random
) -> tuple[list[Label], OrgPatterns]:
    """Decide every rep-level pattern (mutating `plans`) and the org-wide ones."""
    labels: list[Label] = []
    pool = list(plans)  # each rep carries at most one rep-level pattern, so labels stay clean
    weeks = config.weeks
    _new_hires(config, _pick(rng, pool, _count(config.patterns.new_hire_share, len(plans))), rng)
    for plan in plans:
        if plan.ramp is not None:
            labels.extend(_ramp_label(config, plan, calendar))
    for plan in _pick(rng, pool, _count(config.patterns.disengaging_share, len(plans))):
        labels.append(_disengage(config, plan, rng))
    for plan in _pick(
        rng, pool, _count(config.patterns.pto_share, len(plans)) if weeks >= 6 else 0
    ):
        labels.append(_pto(config, plan, calendar, rng))
    ae_pool = [p for p in pool if p.is_ae]
    ae_count = sum(p.is_ae for p in plans)
    for plan in _pick(rng, ae_pool, _count(config.patterns.heads_down_share, ae_count)):
        labels.append(_heads_down(config, plan, rng))
    for plan in _pick(rng, ae_pool, _count(config.patterns.happy_ears_share, ae_count)):
        plan.happy_ears = True
        labels.append(_whole_run(Pattern.HAPPY_EARS, plan, calendar))
    for pattern, bias, share in (
        (Pattern.GOAL_BEHIND, 0.8, config.patterns.goal_behind_share),
        (Pattern.GOAL_AHEAD, 1.2, config.patterns.goal_ahead_share),
    ):
        for plan in _pick(rng, ae_pool, _count(share, ae_count)):
            plan.win_bias = bias
            labels.append(_whole_run(pattern, plan, calendar))
    org_patterns = _org_wide(config, plans, calendar, rng)
    return labels + org_patterns.labels, org_patterns


def _new_hires(config: ScenarioConfig, chosen: list[RepPlan], rng: random.Random) -> None:
    kinds = ["normal"] * len(chosen)
    slow = round(len(chosen) * config.patterns.slow_ramper_share)
    fast = round(len(chosen) * config.patterns.fast_ramper_share)
    kinds[:slow] = ["slow"] * slow
    kinds[slow : slow + fast] = ["fast"] * fast
    for plan, kind in zip(chosen, kinds, strict=True):
        week = rng.randint(0, max(0, config.weeks // 2 - 1))
        hired = config.start + timedelta(weeks=week)
        plan.person = replace(plan.person, hire_date=hired)
        weeks = {"slow": 2.5, "fast": 0.5, "normal": 1.0}[kind] * config.ramp_weeks
        plan.ramp = Ramp(weeks=weeks)


def _ramp_label(config: ScenarioConfig, plan: RepPlan, calendar: OrgCalendar) -> list[Label]:
    assert plan.ramp is not None
    pattern = (
        Pattern.SLOW_RAMPER
        if plan.ramp.weeks > config.ramp_weeks
        else Pattern.FAST_RAMPER
        if plan.ramp.weeks < config.ramp_weeks
        else None
    )
    if pattern is None:
        return []
    hired = plan.person.hire_date
    end = min(hired + timedelta(weeks=26), calendar.end - timedelta(days=1))
    return [_rep_label(pattern, plan, hired + timedelta(weeks=4), end, ramp_weeks=plan.ramp.weeks)]


def _rep_label(pattern: Pattern, plan: RepPlan, start: date, end: date, **details: object) -> Label:
    return make_label(
        pattern,
        subject_type="rep",
        subject_id=plan.rep_id,
        rep_id=plan.rep_id,
        team=plan.person.team,
        start=start,
        end=end,
        **details,
    )


def _whole_run(pattern: Pattern, plan: RepPlan, calendar: OrgCalendar) -> Label:
    return _rep_label(pattern, plan, calendar.start, calendar.end - timedelta(days=1))


def _disengage(config: ScenarioConfig, plan: RepPlan, rng: random.Random) -> Label:
    first = max(2, round(config.weeks * 0.25))
    last = max(first, round(config.weeks * 0.55))
    decay_week = rng.randint(first, last)
    depart_week = min(config.weeks - 1, decay_week + rng.randint(5, 8))
    decay_from = config.start + timedelta(weeks=decay_week)
    departs_on = config.start + timedelta(weeks=depart_week, days=rng.randint(0, 4))
    floor = round(rng.uniform(0.25, 0.45), 2)
    plan.disengagement = Disengagement(decay_from, departs_on, floor)
    return _rep_label(
        Pattern.DISENGAGING,
        plan,
        decay_from,
        departs_on,
        decay_from_week=decay_week,
        departs_week=depart_week,
        departs_on=departs_on.isoformat(),
        effort_floor=floor,
    )


def _pto(config: ScenarioConfig, plan: RepPlan, calendar: OrgCalendar, rng: random.Random) -> Label:
    holiday = calendar.holiday_week_start
    while True:
        week = rng.randint(2, config.weeks - 3)
        start = config.start + timedelta(weeks=week)
        if holiday is None or abs((start - holiday).days) > 14:
            break
    end = start + timedelta(days=11)  # Monday to the Friday of the next week
    plan.pto = (start, end)
    return _rep_label(Pattern.PTO, plan, start, end + ECHO, days_off=10)


def _heads_down(config: ScenarioConfig, plan: RepPlan, rng: random.Random) -> Label:
    week = rng.randint(2, max(2, config.weeks - 5))
    start = config.start + timedelta(weeks=week)
    end = start + timedelta(weeks=3, days=-3)
    plan.heads_down = (start, end)
    return _rep_label(Pattern.HEADS_DOWN, plan, start, end + ECHO, weeks=3)


def _org_wide(
    config: ScenarioConfig, plans: list[RepPlan], calendar: OrgCalendar, rng: random.Random
) -> OrgPatterns:
    result = OrgPatterns()
    teams = sorted({p.person.team for p in plans})
    for team in rng.sample(teams, min(config.patterns.team_dips, len(teams))):
        week = rng.randint(round(config.weeks * 0.3), max(1, round(config.weeks * 0.7)))
        start = config.start + timedelta(weeks=week)
        window = Window(start, start + timedelta(weeks=3, days=-3), 0.65)
        result.team_dips.setdefault(team, []).append(window)
        result.labels.append(
            make_label(
                Pattern.TEAM_DIP,
                subject_type="team",
                subject_id=team,
                team=team,
                start=window.start,
                end=window.end,
                effort_factor=window.factor,
            )
        )
    if calendar.holiday_week_start is not None:
        monday = calendar.holiday_week_start
        result.labels.append(
            make_label(
                Pattern.HOLIDAY_WEEK,
                subject_type="org",
                subject_id="org",
                start=monday,
                end=monday + timedelta(days=4) + ECHO,
            )
        )
    if config.patterns.quarter_end_push:
        result.pushes, push_labels = _quarter_pushes(calendar)
        result.labels.extend(push_labels)
    return result


def _quarter_pushes(calendar: OrgCalendar) -> tuple[list[Window], list[Label]]:
    """AEs push in the last two weeks of a quarter and coast in the first week after."""
    windows: list[Window] = []
    labels: list[Label] = []
    boundary = next_quarter_start(calendar.start)
    while boundary < calendar.end:
        push_start = _monday(boundary - timedelta(days=14))
        coast_end = boundary + timedelta(days=6)
        windows.append(Window(push_start, boundary - timedelta(days=1), 1.2))
        windows.append(Window(boundary, coast_end, 0.85))
        if push_start >= calendar.start:
            labels.append(
                make_label(
                    Pattern.QUARTER_END_PUSH,
                    subject_type="org",
                    subject_id="org",
                    start=push_start,
                    end=coast_end,
                    quarter_start=quarter_start(boundary - timedelta(days=1)).isoformat(),
                )
            )
        boundary = next_quarter_start(boundary)
    return windows, labels


def org_with_hires(org: Org, plans: list[RepPlan]) -> Org:
    """The org with every rep's final person record (hire dates move for new hires)."""
    return replace(org, reps=tuple(p.person for p in plans))
