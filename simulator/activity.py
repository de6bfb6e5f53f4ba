"""A rep's working day outside their deals: prospecting, booking and holding meetings."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from simulator.calendar import WEEKDAY_FACTOR, add_working_days
from simulator.deals import book_deal_meeting, create_deal
from simulator.plan import RepPlan
from simulator.sampling import chance, noise, poisson
from simulator.world import WORKDAY_SECONDS, Hold, World

NO_SHOW = 0.1
HEADS_DOWN_PROSPECTING = 0.3  # share of normal prospecting while heads-down on a big deal


def effort_and_quality(world: World, plan: RepPlan, day: date) -> tuple[float, float]:
    """How hard the rep works today (volume) and how well (replies, connects, cadence)."""
    effort, quality = plan.base_effort, 1.0
    if plan.ramp is not None:
        weeks = (day - plan.person.hire_date).days / 7
        floor = plan.ramp.floor
        effort *= min(1.0, floor + (1 - floor) * weeks / plan.ramp.weeks)
    decay = plan.disengagement
    if decay is not None and day >= decay.decay_from:
        span = max(1, (decay.departs_on - decay.decay_from).days)
        fraction = min(1.0, (day - decay.decay_from).days / span)
        quality = 1 - (1 - decay.effort_floor) * fraction
        effort *= quality
    for window in world.org_patterns.team_dips.get(plan.person.team, ()):
        if window.covers(day):
            effort *= window.factor
    if plan.is_ae:
        for window in world.org_patterns.pushes:
            if window.covers(day):
                effort *= window.factor
    week = (day - world.config.start).days // 7
    weekday = WEEKDAY_FACTOR[day.weekday()] if day.weekday() < 5 else 0.0
    effort *= weekday * (1 + 0.05 * math.sin(2 * math.pi * week / 13))
    return effort, quality


def prospect(world: World, plan: RepPlan, day: date, effort: float, quality: float) -> None:
    """Outbound emails and calls into accounts with no open deal, and meetings booked."""
    rng = world.rngs[plan.rep_id]
    rates = plan.rates
    volume = effort * noise(rng, rates.noise)
    if plan.heads_down is not None and plan.heads_down[0] <= day <= plan.heads_down[1]:
        volume *= HEADS_DOWN_PROSPECTING
    books = _prospecting_books(world, plan)
    if not books:
        return
    opens = world.day_open(plan.rep_id, day)
    for _ in range(poisson(rng, rates.emails * volume)):
        _email(world, plan, books, opens + int(rng.random() * WORKDAY_SECONDS), quality)
    for _ in range(poisson(rng, rates.calls * volume)):
        _call(world, plan, books, opens + int(rng.random() * WORKDAY_SECONDS), quality)
    for _ in range(poisson(rng, rates.meetings_booked * volume * quality)):
        _book_initial(world, plan, day, opens + rng.randrange(WORKDAY_SECONDS))


def _prospecting_books(world: World, plan: RepPlan) -> list[str]:
    """Whose accounts the rep prospects into: their own (AE) or their team's AEs' (SDR)."""
    if plan.is_ae:
        return [plan.rep_id]
    return [ae for ae in plan.team_ae_ids if not world.plans_by_id[ae].departed]


def _contact(world: World, plan: RepPlan, account_contacts: tuple[str, ...], quality: float) -> str:
    rng = world.rngs[plan.rep_id]
    # Lower quality of effort: fewer contacts per account (always the first one).
    if quality < 0.9 and chance(rng, 1 - quality):
        return account_contacts[0]
    return account_contacts[int(rng.random() * len(account_contacts))]


def _email(world: World, plan: RepPlan, books: list[str], at: int, quality: float) -> None:
    rng = world.rngs[plan.rep_id]
    owner = world.plans_by_id[books[int(rng.random() * len(books))]]
    account = world.prospect_account(rng, owner.accounts)
    if account is None:
        return
    contact = _contact(world, plan, account.contact_ids, quality)
    subject = "Quick question" if plan.person.role == "SDR" else f"Idea for {account.name}"
    ids = {"account_id": account.account_id, "contact_id": contact}
    email_id = world.emit("email.sent", at, plan.rep_id, {"subject": subject}, **ids)
    if chance(rng, plan.rates.reply_rate * quality):
        reply_at = at + rng.randint(1800, 2 * 86_400)
        payload = {"in_reply_to_event_id": email_id}
        world.emit("email.replied", reply_at, plan.rep_id, payload, **ids)


def _call(world: World, plan: RepPlan, books: list[str], at: int, quality: float) -> None:
    rng = world.rngs[plan.rep_id]
    owner = world.plans_by_id[books[int(rng.random() * len(books))]]
    account = world.prospect_account(rng, owner.accounts)
    if account is None:
        return
    connected = chance(rng, plan.rates.connect_rate * quality)
    payload = {"connected": connected, "duration_seconds": rng.randint(60, 900) if connected else 0}
    contact = _contact(world, plan, account.contact_ids, quality)
    world.emit(
        "call.made", at, plan.rep_id, payload, account_id=account.account_id, contact_id=contact
    )


def _book_initial(world: World, plan: RepPlan, day: date, at: int) -> None:
    """An initial meeting for an AE (the SDR's team AE, or the AE themself) a few days out."""
    rng = world.rngs[plan.rep_id]
    books = _prospecting_books(world, plan)
    host = world.plans_by_id[books[rng.randrange(len(books))]]
    account = world.prospect_account(rng, host.accounts)
    if account is None:
        return
    meeting_day = add_working_days(day, rng.randint(2, 7), world.off_days(host))
    starts = world.day_open(host.rep_id, meeting_day) + 1800 * rng.randint(2, 16)
    world.meeting_count += 1
    meeting_id = f"mtg-{world.meeting_count:07d}"
    contact = account.contact_ids[rng.randrange(len(account.contact_ids))]
    hold = Hold(starts, meeting_id, "initial", account, contact, None, plan.rep_id)
    world.agenda[(host.rep_id, meeting_day)].append(hold)
    world.emit(
        "meeting.scheduled",
        at,
        plan.rep_id,
        {
            "meeting_id": meeting_id,
            "starts_at": datetime.fromtimestamp(starts, UTC).isoformat(),
            "kind": "initial",
        },
        account_id=account.account_id,
        contact_id=contact,
    )


def hold_meetings(world: World, plan: RepPlan, day: date, quality: float) -> None:
    """Meetings booked for today: held (maybe opening a deal), or missed if the host is out."""
    for hold in world.agenda.pop((plan.rep_id, day), ()):
        deal = hold.deal
        rng = world.rngs[plan.rep_id]
        if deal is not None:
            deal.meeting_on = None
            if deal.status != "open" or deal.owner != plan.rep_id:
                continue
        # Prospects sometimes don't show; buyers in a live deal do (or reschedule in advance).
        if world.off(plan, day) or (deal is None and chance(rng, NO_SHOW)):
            if deal is not None:
                deal.next_touch = day  # the host is out: touch again at the next chance
            continue
        _held(world, plan, day, hold, quality)


def _held(world: World, plan: RepPlan, day: date, hold: Hold, quality: float) -> None:
    rng = world.rngs[plan.rep_id]
    deal = hold.deal
    world.emit(
        "meeting.held",
        hold.at,
        plan.rep_id,
        {
            "meeting_id": hold.meeting_id,
            "kind": hold.kind,
            "duration_minutes": rng.choice((30, 45, 60)),
        },
        account_id=hold.account.account_id,
        opportunity_id=deal.opportunity_id if deal is not None else None,
        contact_id=hold.contact_id,
    )
    if deal is not None:
        deal.meetings += 1
        deal.last_touch = day
        gap = world.config.touch_gap_days[world.config.pipeline.stages[deal.stage]]
        deal.next_touch = add_working_days(day, rng.randint(1, gap), world.off_days(plan))
    elif hold.account.account_id not in world.open_accounts and chance(
        rng, world.config.meeting_to_opportunity * quality
    ):
        create_deal(world, plan, hold.account, day, hold.at + 3600)


def book_before_time_off(world: World, plan: RepPlan, day: date) -> None:
    """Before three or more working days off, book a meeting on each open deal for the return."""
    off = world.off_days(plan)
    back = add_working_days(day, 1, off)
    weekdays_off = sum(1 for n in range(1, (back - day).days) if (day + timedelta(n)).weekday() < 5)
    if weekdays_off < 3:
        return
    for deal in world.deals[plan.rep_id]:
        if deal.status == "open" and deal.abandoned_on is None and deal.meeting_on is None:
            book_deal_meeting(world, deal, day, back, world.day_open(plan.rep_id, day) + 9 * 3600)
