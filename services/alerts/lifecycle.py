"""Alert lifecycle, ported from Alertmanager's semantics: pending -> firing -> resolved.

`advance` is pure: given the alert as it stands (or None), a rule's fresh evaluation and
`now`, it returns the alert's next version when anything changed, else None.
"""

from __future__ import annotations

from datetime import datetime

from services.alerts.rules.base import Evaluation
from shared.alerting import AlertMessage, AlertState, fingerprint
from shared.state import RepProfile

ACTIVE = frozenset({AlertState.PENDING, AlertState.FIRING})
_CONTENT = (
    "severity",
    "title",
    "why",
    "next_step",
    "numbers",
    "manager_id",
    "rep_name",
    "team",
    "subject_name",
    "rep_id",
)


def fingerprint_of(evaluation: Evaluation) -> str:
    return fingerprint(
        evaluation.rule, evaluation.subject_type.value, evaluation.subject_id, evaluation.period
    )


def advance(
    current: AlertMessage | None,
    evaluation: Evaluation,
    rep: RepProfile | None,
    now: datetime,
) -> AlertMessage | None:
    """The alert's next version, or None when neither its state nor its content changed."""
    if not evaluation.holds:
        return resolve(current, now) if current and current.state in ACTIVE else None
    proposed = _render(evaluation, rep, now)
    if current is None or current.state is AlertState.RESOLVED:
        state = AlertState.FIRING if not evaluation.pending_for else AlertState.PENDING
        return proposed.model_copy(
            update={
                "state": state,
                "previous_state": current.state if current else None,
                "version": current.version + 1 if current else 1,
            }
        )
    state = current.state
    if state is AlertState.PENDING and now - current.started_at >= evaluation.pending_for:
        state = AlertState.FIRING
    content_changed = any(getattr(proposed, f) != getattr(current, f) for f in _CONTENT)
    if state is current.state and not content_changed:
        return None
    return proposed.model_copy(
        update={
            "state": state,
            "previous_state": current.state,
            "started_at": current.started_at,
            "version": current.version + 1,
        }
    )


def resolve(current: AlertMessage, now: datetime) -> AlertMessage:
    """Resolve an active alert whose subject no longer meets the condition."""
    return current.model_copy(
        update={
            "state": AlertState.RESOLVED,
            "previous_state": current.state,
            "resolved_at": now,
            "updated_at": now,
            "version": current.version + 1,
        }
    )


def _render(evaluation: Evaluation, rep: RepProfile | None, now: datetime) -> AlertMessage:
    return AlertMessage(
        fingerprint=fingerprint_of(evaluation),
        rule=evaluation.rule,
        subject_type=evaluation.subject_type,
        subject_id=evaluation.subject_id,
        subject_name=evaluation.subject_name,
        rep_id=evaluation.rep_id,
        rep_name=rep.name if rep else evaluation.rep_id,
        manager_id=rep.manager_id if rep else None,
        team=rep.team if rep else None,
        state=AlertState.FIRING,
        severity=evaluation.severity,
        valence=evaluation.valence,
        audience=evaluation.audience,
        title=evaluation.title,
        why=evaluation.why,
        next_step=evaluation.next_step,
        numbers=evaluation.numbers,
        period=evaluation.period,
        started_at=now,
        updated_at=now,
    )
