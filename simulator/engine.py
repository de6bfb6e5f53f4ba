"""The day loop: every rep's day in org order, events out in event-time order, streaming."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulator.activity import book_before_time_off, effort_and_quality, hold_meetings, prospect
from simulator.calendar import month_start, quarter_start
from simulator.config import ScenarioConfig
from simulator.deals import create_deal, end_abandonment, work_deals
from simulator.labels import LabelFile, Scenario
from simulator.org import Org, Person
from simulator.patterns import assign, org_with_hires
from simulator.plan import RepPlan, build_org, org_calendar
from simulator.world import World

# Events of local day d+1 anywhere on Earth start no earlier than this long before d+1 UTC.
MAX_UTC_OFFSET = 14 * 3600
DIRECTORY_LEAD = 9 * 3600  # directory and goal updates land at 23:00 local the day before


class Simulation:
    """One scenario's org, plans and event stream; labels are complete once it is drained."""

    def __init__(self, config: ScenarioConfig) -> None:
        self.config = config
        rng = random.Random(f"{config.seed}:org")  # noqa: S311 - simulation, not security
        org, plans = build_org(config, rng)
        self.calendar = org_calendar(config)
        labels, org_patterns = assign(config, plans, self.calendar, rng)
        self.org: Org = org_with_hires(org, plans)
        self.world = World(
            config=config,
            org=self.org,
            plans=plans,
            org_patterns=org_patterns,
            holidays=self.calendar.holidays(),
            labels=labels,
            tag=f"sim-{config.seed}-{config.start:%Y%m%d}",
        )
        self.quota = _quotas(config, plans)

    def events(self, *, extra_days: int = 0) -> Iterator[tuple[int, bytes]]:
        """(epoch seconds, one JSON line) for every event, in event-time order; `extra_days`
        carries the same org on past the scenario's end (live mode)."""
        world = self.world
        last = self.calendar.end + timedelta(days=extra_days)
        day = self.calendar.start
        while day < last:
            self._directory(day)
            for plan in world.plans:
                _rep_day(world, plan, day)
            day += timedelta(days=1)
            cutoff = int(datetime.combine(day, time(), UTC).timestamp())
            yield from world.drain(cutoff - MAX_UTC_OFFSET)
        yield from world.drain(2**62)

    def labels(self) -> LabelFile:
        """Ground truth (complete only after `events()` has been drained)."""
        config = self.config
        scenario = Scenario(
            name=config.name,
            seed=config.seed,
            reps=config.reps,
            weeks=config.weeks,
            start=config.start,
            end=self.calendar.end - timedelta(days=1),
            stages=config.pipeline.stages,
        )
        order = sorted(
            range(len(self.world.labels)),
            key=lambda i: (self.world.labels[i].start, self.world.labels[i].pattern, i),
        )
        return LabelFile(scenario=scenario, labels=tuple(self.world.labels[i] for i in order))

    def _directory(self, day: date) -> None:
        """HR-system facts: people, time off and goals, published the evening before."""
        world = self.world
        first_day = day == self.calendar.start
        if first_day:
            for manager in self.org.managers:
                _upsert(world, manager, day)
        for plan in world.plans:
            person = plan.person
            if person.hire_date == day or (first_day and person.hire_date < day):
                _upsert(world, person, day)
                self._announce_holidays(person, day)
                if first_day and plan.is_ae:
                    _open_pipeline(world, plan, day)
            if plan.pto is not None and day == max(
                self.calendar.start, plan.pto[0] - timedelta(14)
            ):
                _pto(world, person, day, *plan.pto)
            if person.hire_date <= day and not plan.departed:
                self._goals(plan, day, new_hire=person.hire_date == day > self.calendar.start)

    def _announce_holidays(self, person: Person, day: date) -> None:
        """The org's holidays still ahead, as time off in the rep's calendar."""
        ranges: list[tuple[date, date]] = []
        for holiday in sorted(h for h in self.world.holidays if h >= day):
            if ranges and (holiday - ranges[-1][1]).days <= 3:
                ranges[-1] = (ranges[-1][0], holiday)
            else:
                ranges.append((holiday, holiday))
        for start, end in ranges:
            _pto(self.world, person, day, start, end)

    def _goals(self, plan: RepPlan, day: date, *, new_hire: bool) -> None:
        if plan.is_ae:
            metric, period, start = "bookings", "quarter", quarter_start(day)
        else:
            metric, period, start = "meetings_scheduled", "month", month_start(day)
        if day != start and day != self.calendar.start and not new_hire:
            return
        target = self.quota[plan.person.role] * (0.5 if plan.ramp is not None else 1.0)
        payload = {
            "metric": metric,
            "period": period,
            "period_start": start.isoformat(),
            "target": f"{target:.2f}",
        }
        at = self.world.day_open(plan.rep_id, day) - DIRECTORY_LEAD
        self.world.emit("goal.set", at, plan.rep_id, payload)


def _upsert(world: World, person: Person, day: date) -> None:
    zone_open = _open(person, day)
    payload = {
        "name": person.name,
        "email": person.email,
        "role": person.role,
        "manager_id": person.manager_id,
        "team": person.team,
        "hire_date": person.hire_date.isoformat(),
        "time_zone": person.time_zone,
    }
    world.emit("rep.upserted", zone_open - DIRECTORY_LEAD, person.rep_id, payload)


def _open(person: Person, day: date) -> int:
    return int(datetime.combine(day, time(8), ZoneInfo(person.time_zone)).timestamp())


def _pto(world: World, person: Person, day: date, start: date, end: date) -> None:
    payload = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    world.emit("pto.set", _open(person, day) - DIRECTORY_LEAD, person.rep_id, payload)


def _rep_day(world: World, plan: RepPlan, day: date) -> None:
    """One rep's day: departure, meetings due, prospecting, deals."""
    disengagement = plan.disengagement
    if disengagement is not None and not plan.departed and day >= disengagement.departs_on:
        _depart(world, plan, day)
    effort, quality = effort_and_quality(world, plan, day)
    hold_meetings(world, plan, day, quality)
    if world.off(plan, day):
        return
    if plan.heads_down is not None and day == plan.heads_down[0]:
        _start_big_deal(world, plan, day)
    prospect(world, plan, day, effort, quality)
    work_deals(world, plan, day, quality)
    book_before_time_off(world, plan, day)


def _start_big_deal(world: World, plan: RepPlan, day: date) -> None:
    account = world.prospect_account(world.rngs[plan.rep_id], plan.accounts)
    if account is not None:
        create_deal(world, plan, account, day, world.day_open(plan.rep_id, day) + 1800, big=True)


def _open_pipeline(world: World, plan: RepPlan, day: date) -> None:
    """The deals an established AE already has when the simulation starts, at every stage."""
    rng = world.rngs[plan.rep_id]
    stages = len(world.config.pipeline.stages)
    for _ in range(world.config.open_deals_per_ae):
        account = world.prospect_account(rng, plan.accounts)
        if account is not None:
            at = world.day_open(plan.rep_id, day) - 3600
            create_deal(world, plan, account, day, at, stage=rng.randrange(stages))


def _depart(world: World, plan: RepPlan, day: date) -> None:
    """The rep leaves; their open deals go to the teammate AE with the fewest."""
    plan.departed = True
    at = world.day_open(plan.rep_id, day)
    world.emit("rep.departed", at, plan.rep_id, {"last_day": (day - timedelta(1)).isoformat()})
    heirs = [
        world.plans_by_id[ae]
        for ae in plan.team_ae_ids
        if ae != plan.rep_id and not world.plans_by_id[ae].departed
    ]
    if not heirs:
        return
    for deal in [d for d in world.deals[plan.rep_id] if d.status == "open"]:
        heir = min(heirs, key=lambda h: (len(world.deals[h.rep_id]), h.rep_id))
        end_abandonment(world, deal, day)
        deal.owner, deal.next_touch, deal.meeting_on = heir.rep_id, day + timedelta(1), None
        world.deals[heir.rep_id].append(deal)
        world.emit(
            "opportunity.owner_changed",
            at + 600,
            heir.rep_id,
            {"from_rep_id": plan.rep_id, "to_rep_id": heir.rep_id},
            account_id=deal.account.account_id,
            opportunity_id=deal.opportunity_id,
        )
    world.deals[plan.rep_id].clear()


def _quotas(config: ScenarioConfig, plans: list[RepPlan]) -> dict[str, float]:
    """Targets an average rep meets: AE bookings per quarter, SDR meetings booked per month."""
    aes = sum(p.is_ae for p in plans) or 1
    sdrs = len(plans) - sum(p.is_ae for p in plans)
    meetings_per_ae_day = config.ae.meetings_booked + config.sdr.meetings_booked * sdrs / aes
    opportunities = meetings_per_ae_day * (1 - 0.1) * config.meeting_to_opportunity * 62
    mean_amount = sum(
        terms.share * terms.amount_median * (1 + terms.amount_spread**2 / 2)
        for terms in config.segments.values()
    )
    bookings = opportunities * config.pipeline.win_rate() * mean_amount
    return {
        "AE": float(max(10_000, round(bookings, -3))),
        "SDR": float(round(config.sdr.meetings_booked * 21)),
    }
