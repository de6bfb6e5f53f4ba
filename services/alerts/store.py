"""Alert persistence: the alerts table (current version) and alert_transition (audit)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from shared.alerting import AlertMessage, AlertState
from shared.db.convert import opportunity_state, rep_profile
from shared.db.engine import session_scope
from shared.db.models import Alert, AlertTransition, OpportunitySnapshot, Rep
from shared.state import OpportunityState, RepProfile


def save(engine: Engine, messages: Sequence[AlertMessage]) -> None:
    """Upsert each alert and record every state change, in one transaction."""
    with session_scope(engine) as session:
        for message in messages:
            session.merge(_row(message))
            if message.state != message.previous_state:
                session.add(
                    AlertTransition(
                        fingerprint=message.fingerprint,
                        from_state=message.previous_state.value if message.previous_state else None,
                        to_state=message.state.value,
                        at=message.updated_at,
                    )
                )


def _row(message: AlertMessage) -> Alert:
    return Alert(
        fingerprint=message.fingerprint,
        version=message.version,
        rule=message.rule,
        subject_type=message.subject_type.value,
        subject_id=message.subject_id,
        subject_name=message.subject_name,
        rep_id=message.rep_id,
        manager_id=message.manager_id,
        team=message.team,
        state=message.state.value,
        severity=message.severity.value,
        valence=message.valence.value,
        audience=message.audience.value,
        title=message.title,
        why=message.why,
        next_step=message.next_step,
        numbers=dict(message.numbers),
        period=message.period,
        started_at=message.started_at,
        updated_at=message.updated_at,
        resolved_at=message.resolved_at,
    )


def load_active_alerts(engine: Engine) -> list[AlertMessage]:
    """Pending and firing alerts, to resume the lifecycle after a restart."""
    active = [AlertState.PENDING.value, AlertState.FIRING.value]
    with Session(engine) as session:
        rows = session.exec(select(Alert).where(col(Alert.state).in_(active))).all()
        names = {r.rep_id: r.name for r in session.exec(select(Rep)).all()}
    return [_message(row, names.get(row.rep_id, row.rep_id)) for row in rows]


def _message(row: Alert, rep_name: str) -> AlertMessage:
    return AlertMessage.model_validate({**row.model_dump(), "rep_name": rep_name})


def load_state(engine: Engine) -> tuple[list[OpportunityState], list[RepProfile]]:
    """Opportunity and rep state as the metrics service last persisted it."""
    with Session(engine) as session:
        opportunities = session.exec(select(OpportunitySnapshot)).all()
        reps = session.exec(select(Rep)).all()
        return [opportunity_state(o) for o in opportunities], [rep_profile(r) for r in reps]
