"""stale_opp: an open opportunity with no email/call/meeting for N days and no future meeting.

The alert's period is the day the deal was last worked, so each stale episode is its own
alert: a touch resolves it, and going quiet again later is a new alert, not a re-open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from services.alerts.rules.base import Evaluation, Reason
from services.alerts.rules.config import StaleOppConfig
from shared.alerting import Severity, SubjectType
from shared.state import OpportunityState, RepProfile

RULE = "stale_opp"
EARLY_STAGES = frozenset({"Prospecting", "Qualification", "Discovery"})


def evaluate(
    opportunity: OpportunityState,
    rep: RepProfile | None,
    config: StaleOppConfig,
    now: datetime,
) -> Evaluation | None:
    """The verdict on one opportunity at `now`; None when nothing is known to measure from."""
    # A deal cannot have been idle since before it existed: work logged on the account
    # earlier (or arriving late from another partition) does not age a new deal.
    known = [t for t in (opportunity.last_touch_at, opportunity.created_at) if t is not None]
    if not known:
        return None
    reference = max(known)
    threshold = config.threshold_days(
        stage=opportunity.stage,
        team=rep.team if rep else None,
        role=rep.role.value if rep else None,
    )
    idle_days = max((now - reference).days, 0)
    next_meeting = opportunity.next_meeting_after(now)
    name = opportunity.name or opportunity.opportunity_id
    verdict = Evaluation(
        rule=RULE,
        subject_type=SubjectType.OPPORTUNITY,
        subject_id=opportunity.opportunity_id,
        subject_name=name,
        rep_id=opportunity.rep_id,
        period=f"idle-since:{reference.date().isoformat()}",
        holds=False,
        reason=Reason.TOUCHED_RECENTLY,
    )
    if opportunity.is_closed:
        return replace(verdict, reason=Reason.CLOSED)
    if next_meeting is not None:
        return replace(verdict, reason=Reason.MEETING_BOOKED)
    if idle_days < threshold:
        return verdict
    critical = idle_days >= threshold * config.critical_multiple
    return replace(
        verdict,
        holds=True,
        reason=Reason.NO_RECENT_TOUCH,
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        title=f"Stale deal: {name}"[:150],
        why=_why(opportunity, idle_days, threshold),
        next_step=_next_step(opportunity, rep, now),
        numbers=_numbers(opportunity, idle_days, threshold, now),
        pending_for=timedelta(hours=config.for_hours),
    )


def _why(opportunity: OpportunityState, idle_days: int, threshold: int) -> str:
    what = "touched" if opportunity.last_touch_at else "worked since it was created"
    return (
        f"{opportunity.name or opportunity.opportunity_id} ({opportunity.stage or 'no stage'}, "
        f"{_money(opportunity)}) has not been {what} for {idle_days} days "
        f"(threshold {threshold} days for this stage) and has no meeting booked."
    )


def _next_step(opportunity: OpportunityState, rep: RepProfile | None, now: datetime) -> str:
    who = rep.name.split()[0] if rep and rep.name else "the owner"
    past_due = opportunity.close_date is not None and opportunity.close_date < now.date()
    if opportunity.stage in EARLY_STAGES:
        step = (
            f"Ask {who} to re-engage the buyer this week with a specific reason to meet, "
            "or disqualify the deal so the pipeline stays honest."
        )
    else:
        step = (
            f"This late-stage deal is at risk: ask {who} to get a meeting with the "
            "decision maker on the calendar in the next few days, and review the deal "
            "together in your next 1:1."
        )
    if past_due:
        step += " Its close date has passed; have it moved to a date the buyer agreed to."
    return step


def _numbers(
    opportunity: OpportunityState, idle_days: int, threshold: int, now: datetime
) -> dict[str, float | int | str | None]:
    in_stage = opportunity.stage_changed_at
    return {
        "days_since_touch": idle_days,
        "threshold_days": threshold,
        "stage": opportunity.stage,
        "days_in_stage": (now - in_stage).days if in_stage else None,
        "amount": float(opportunity.amount),
        "currency": opportunity.currency,
        "last_touch_at": opportunity.last_touch_at.isoformat()
        if opportunity.last_touch_at
        else None,
        "last_touch_type": opportunity.last_touch_type,
        "close_date": opportunity.close_date.isoformat() if opportunity.close_date else None,
        "reason": Reason.NO_RECENT_TOUCH.value,
    }


def _money(opportunity: OpportunityState) -> str:
    symbol = "$" if opportunity.currency == "USD" else f"{opportunity.currency} "
    return f"{symbol}{opportunity.amount:,.0f}"
