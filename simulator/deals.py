"""Opportunities: created from meetings, worked on a cadence, moved through the pipeline."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from simulator.calendar import add_working_days
from simulator.labels import Pattern, make_label
from simulator.org import Account
from simulator.plan import RepPlan
from simulator.sampling import chance, noise
from simulator.world import Deal, Hold, World

PRODUCTS = ("Platform", "Analytics add-on", "Expansion", "Pilot", "Multi-year renewal")
LOST_REASONS = ("Price", "No decision", "Chose a competitor", "Timing", "No budget")
# Chance that a touch is a meeting, by stage index; happy-ears reps meet far more.
MEETING_SHARE = (0.12, 0.16, 0.2, 0.24)
HAPPY_EARS_MEETINGS = 2.5
HAPPY_EARS_CONVERSION = 0.55  # at Proposal and later
DISENGAGED_DROP = 0.3  # weekly chance a disengaging rep drops a deal, per unit of lost quality


def _money(amount: int) -> str:
    return f"{amount}.00"


def create_deal(
    world: World,
    plan: RepPlan,
    account: Account,
    day: date,
    at: int,
    *,
    big: bool = False,
    stage: int = 0,
) -> Deal:
    """A new opportunity at `stage` (a big, already-qualified one starts at the second)."""
    world.deal_count += 1
    opportunity_id = f"opp-{world.deal_count:06d}"
    rng = random.Random(f"{world.config.seed}:{opportunity_id}")  # noqa: S311
    terms = world.config.segments[account.segment]
    amount = int(terms.amount_median * noise(rng, terms.amount_spread) * (3 if big else 1))
    amount = max(1000, int(round(amount, -2)))
    cycle = max(14.0, terms.cycle_days * noise(rng, 0.3))
    stage = max(stage, 1) if big else stage
    deal = Deal(
        opportunity_id=opportunity_id,
        name=f"{account.name} {rng.choice(PRODUCTS)}",
        owner=plan.rep_id,
        account=account,
        amount=amount,
        stage=stage,
        close_date=day + timedelta(days=round(cycle)),
        stage_due=day + timedelta(days=_stage_days(world, deal_cycle=cycle, rng=rng)),
        next_touch=add_working_days(day, 1, world.off_days(plan)),
        rng=rng,
        big=big,
        last_touch=day,
    )
    if not big and chance(rng, world.config.patterns.abandoned_deal_share):
        deal.abandon_after = day + timedelta(days=rng.randint(5, max(6, round(cycle * 0.6))))
    world.deals[plan.rep_id].append(deal)
    world.open_accounts.add(account.account_id)
    stages = world.config.pipeline.stages
    world.emit(
        "opportunity.created",
        at,
        plan.rep_id,
        {
            "name": deal.name,
            "stage": stages[stage],
            "amount": _money(amount),
            "currency": "USD",
            "close_date": deal.close_date.isoformat(),
            "pipeline": world.config.pipeline.name,
        },
        account_id=account.account_id,
        opportunity_id=opportunity_id,
        contact_id=account.contact_ids[0],
    )
    return deal


def _stage_days(world: World, *, deal_cycle: float, rng: random.Random) -> int:
    per_stage = deal_cycle / len(world.config.pipeline.stages)
    return max(3, round(per_stage * noise(rng, 0.35)))


def work_deals(world: World, plan: RepPlan, day: date, quality: float) -> None:
    """One working day on the rep's open deals: progress, touches, hygiene, abandonment."""
    deals = world.deals[plan.rep_id]
    heads_down = plan.heads_down is not None and plan.heads_down[0] <= day <= plan.heads_down[1]
    for deal in list(deals):
        if deal.status != "open":
            deals.remove(deal)
            continue
        if deal.abandoned_on is not None:
            _maybe_clean_up(world, deal, day)
            continue
        if _maybe_abandon(world, plan, deal, day, quality):
            continue
        if day >= deal.stage_due:
            _resolve_stage(world, plan, deal, day)
            if deal.status != "open":
                continue
        if deal.close_date < day:
            _push_close_date(world, deal, day)
        if deal.meeting_on is None and day >= deal.next_touch:
            _touch(world, plan, deal, day, quality, focus=heads_down and deal.big)


def _at(world: World, deal: Deal, day: date) -> int:
    return world.day_open(deal.owner, day) + deal.rng.randrange(600, 9 * 3600)


def _maybe_abandon(world: World, plan: RepPlan, deal: Deal, day: date, quality: float) -> bool:
    """The owner quietly stops working the deal (injected, or a disengaging rep dropping it)."""
    injected = deal.abandon_after is not None and day >= deal.abandon_after
    dropped = False
    disengaging = plan.disengagement
    if not injected and disengaging is not None and day >= disengaging.decay_from:
        dropped = day.weekday() == 0 and chance(deal.rng, DISENGAGED_DROP * (1 - quality))
    if not (injected or dropped) or deal.meeting_on is not None:
        return False
    deal.abandoned_on = deal.last_touch or day
    deal.abandon_after = None
    deal.clean_up_on = day + timedelta(days=deal.rng.randint(45, 80))
    cause = "injected" if injected else "disengaging"
    world.labels.append(
        make_label(
            Pattern.ABANDONED_DEAL,
            subject_type="opportunity",
            subject_id=deal.opportunity_id,
            rep_id=deal.owner,
            team=plan.person.team,
            start=deal.abandoned_on,
            end=world.config.start + timedelta(weeks=world.config.weeks, days=-1),
            stage=world.config.pipeline.stages[deal.stage],
            cause=cause,
        )
    )
    deal.label_index = len(world.labels) - 1
    return True


def end_abandonment(world: World, deal: Deal, day: date) -> None:
    """The deal is worked again (or closed): its abandonment label ends the day before."""
    if deal.label_index is not None:
        label = world.labels[deal.label_index]
        world.labels[deal.label_index] = label.model_copy(
            update={"end": max(label.start, day - timedelta(days=1))}
        )
    deal.abandoned_on = None
    deal.label_index = None


def _maybe_clean_up(world: World, deal: Deal, day: date) -> None:
    """Weeks later the owner finally closes the dead deal as lost."""
    if deal.clean_up_on is not None and day >= deal.clean_up_on:
        end_abandonment(world, deal, day + timedelta(days=1))
        _close(world, deal, day, won=False, reason="No response")


def _resolve_stage(world: World, plan: RepPlan, deal: Deal, day: date) -> None:
    pipeline = world.config.pipeline
    probability = min(0.97, pipeline.conversion[deal.stage] * plan.win_bias)
    if plan.happy_ears and deal.stage >= 2:
        probability *= HAPPY_EARS_CONVERSION
    if deal.big:
        probability = max(probability, 0.8)
    if not chance(deal.rng, probability):
        _close(world, deal, day, won=False, reason=deal.rng.choice(LOST_REASONS))
        return
    if deal.stage == len(pipeline.stages) - 1:
        _close(world, deal, day, won=True)
        return
    from_stage, deal.stage = pipeline.stages[deal.stage], deal.stage + 1
    at = _at(world, deal, day)
    _advancing_call(world, plan, deal, day, at - 600)
    payload = {"from_stage": from_stage, "to_stage": pipeline.stages[deal.stage]}
    world.emit(
        "opportunity.stage_changed",
        at,
        deal.owner,
        payload,
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
    )
    cycle = (deal.close_date - day).days + 7
    deal.stage_due = day + timedelta(days=_stage_days(world, deal_cycle=cycle, rng=deal.rng))
    if pipeline.stages[deal.stage] == "Proposal" and chance(deal.rng, 0.3):
        _change_amount(world, deal, at + 60)


def _advancing_call(world: World, plan: RepPlan, deal: Deal, day: date, at: int) -> None:
    """A deal moves forward because of a conversation: the call that advanced it is logged."""
    duration = deal.rng.randint(900, 2700)
    world.emit(
        "call.made",
        at,
        deal.owner,
        {"connected": True, "duration_seconds": duration},
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
        contact_id=deal.account.contact_ids[0],
    )
    deal.last_touch = day
    gap = world.config.touch_gap_days[world.config.pipeline.stages[deal.stage]]
    deal.next_touch = add_working_days(day, deal.rng.randint(1, gap), world.off_days(plan))


def _change_amount(world: World, deal: Deal, at: int) -> None:
    before = deal.amount
    deal.amount = max(1000, int(round(before * deal.rng.uniform(0.75, 1.25), -2)))
    world.emit(
        "opportunity.amount_changed",
        at,
        deal.owner,
        {"from_amount": _money(before), "to_amount": _money(deal.amount), "currency": "USD"},
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
    )


def _close(world: World, deal: Deal, day: date, *, won: bool, reason: str = "") -> None:
    deal.status = "won" if won else "lost"
    world.open_accounts.discard(deal.account.account_id)
    if won:
        event_type, payload = "opportunity.closed_won", {"amount": _money(deal.amount)}
    else:
        event_type, payload = "opportunity.closed_lost", {"reason": reason}
    world.emit(
        event_type,
        _at(world, deal, day),
        deal.owner,
        payload,
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
    )


def _push_close_date(world: World, deal: Deal, day: date) -> None:
    before, deal.close_date = deal.close_date, day + timedelta(days=deal.rng.randint(14, 45))
    world.emit(
        "opportunity.close_date_changed",
        _at(world, deal, day),
        deal.owner,
        {"from_date": before.isoformat(), "to_date": deal.close_date.isoformat()},
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
    )


def _touch(
    world: World, plan: RepPlan, deal: Deal, day: date, quality: float, *, focus: bool
) -> None:
    """An email, call or meeting booking on the deal; the next touch within the stage's gap."""
    rng = deal.rng
    share = MEETING_SHARE[min(deal.stage, len(MEETING_SHARE) - 1)]
    share *= HAPPY_EARS_MEETINGS if plan.happy_ears else 1.0
    contact = deal.account.contact_ids[rng.randrange(len(deal.account.contact_ids))]
    at = _at(world, deal, day)
    off = world.off_days(plan)
    if chance(rng, min(0.9, share * (3 if focus else 1))):
        # Booking is not a touch; the booked meeting keeps the deal covered until it is held.
        book_deal_meeting(world, deal, day, add_working_days(day, rng.randint(1, 3), off), at)
        return
    deal.last_touch = day
    ids = {"account_id": deal.account.account_id, "opportunity_id": deal.opportunity_id}
    if chance(rng, 0.6):
        subject = f"Re: {deal.name}"
        email_id = world.emit(
            "email.sent", at, deal.owner, {"subject": subject}, contact_id=contact, **ids
        )
        if chance(rng, plan.rates.reply_rate * 2 * quality):
            reply = {"in_reply_to_event_id": email_id}
            world.emit(
                "email.replied",
                at + rng.randint(1800, 86_400),
                deal.owner,
                reply,
                contact_id=contact,
                **ids,
            )
    else:
        connected = chance(rng, min(0.9, plan.rates.connect_rate * 2 * quality))
        call = {
            "connected": connected,
            "duration_seconds": rng.randint(120, 1800) if connected else 0,
        }
        world.emit("call.made", at, deal.owner, call, contact_id=contact, **ids)
    gap = 1 if focus else world.config.touch_gap_days[world.config.pipeline.stages[deal.stage]]
    # Lower quality of effort stretches the time between touches, up to the stage's maximum.
    spread = rng.randint(0, gap - 1) / max(quality, 0.34)
    deal.next_touch = add_working_days(day, min(gap, 1 + int(spread)), off)


def book_deal_meeting(world: World, deal: Deal, day: date, meeting_day: date, at: int) -> None:
    """A follow-up meeting on the deal; a booked future meeting keeps the deal 'worked'."""
    world.meeting_count += 1
    meeting_id = f"mtg-{world.meeting_count:07d}"
    starts = world.day_open(deal.owner, meeting_day) + 3600 * deal.rng.randint(1, 8)
    contact = deal.account.contact_ids[0]
    deal.meeting_on = meeting_day
    world.agenda[(deal.owner, meeting_day)].append(
        Hold(starts, meeting_id, "follow_up", deal.account, contact, deal, deal.owner)
    )
    world.emit(
        "meeting.scheduled",
        max(at, world.day_open(deal.owner, day)),
        deal.owner,
        {"meeting_id": meeting_id, "starts_at": _iso(starts), "kind": "follow_up"},
        account_id=deal.account.account_id,
        opportunity_id=deal.opportunity_id,
        contact_id=contact,
    )


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
