"""Reads of other services' tables: people (rep, written by metrics) and alerts (alerts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from services.digest.email_digest import DigestItem
from services.digest.notifiers.base import Recipient
from shared.alerting import AlertState, SubjectType
from shared.db.engine import session_scope
from shared.db.models import Alert, DigestUnsubscribe, OpportunitySnapshot, Rep
from shared.events import Role


@dataclass(frozen=True)
class Manager:
    """A person who receives a digest, with the time zone their morning is in."""

    recipient: Recipient
    time_zone: str

    @property
    def manager_id(self) -> str:
        return self.recipient.person_id


def recipient(engine: Engine, person_id: str) -> Recipient | None:
    """The person with this id, or None when the directory does not know them (yet)."""
    with session_scope(engine) as session:
        rep = session.get(Rep, person_id)
        return None if rep is None else Recipient(rep.rep_id, rep.name, rep.email)


def manager(engine: Engine, manager_id: str) -> Manager | None:
    """One person as a digest recipient, or None when unknown."""
    with session_scope(engine) as session:
        rep = session.get(Rep, manager_id)
        return None if rep is None else _manager(rep)


def managers(engine: Engine) -> list[Manager]:
    """Active people who manage someone, or whose role is manager, and still want digests."""
    with session_scope(engine) as session:
        has_reports = select(Rep.manager_id).where(col(Rep.manager_id).is_not(None)).distinct()
        opted_out = select(DigestUnsubscribe.manager_id)
        query = (
            select(Rep)
            .where(col(Rep.active).is_(True))
            .where(or_(col(Rep.role) == Role.MANAGER.value, col(Rep.rep_id).in_(has_reports)))
            .where(col(Rep.rep_id).not_in(opted_out))
            .order_by(col(Rep.rep_id))
        )
        return [_manager(rep) for rep in session.exec(query)]


def firing_alerts(engine: Engine, manager_id: str) -> list[DigestItem]:
    """The alerts currently firing for a manager's reps, with rep and opportunity names."""
    with session_scope(engine) as session:
        alerts = list(
            session.exec(
                select(Alert)
                .where(col(Alert.manager_id) == manager_id)
                .where(col(Alert.state) == AlertState.FIRING.value)
            )
        )
        reps = _names(session.exec(select(Rep).where(col(Rep.rep_id).in_(_ids(alerts, "rep")))))
        opportunities = {
            opp.opportunity_id: opp.name
            for opp in session.exec(
                select(OpportunitySnapshot).where(
                    col(OpportunitySnapshot.opportunity_id).in_(_ids(alerts, "opportunity"))
                )
            )
        }
    return [_item(alert, reps, opportunities) for alert in alerts]


def _manager(rep: Rep) -> Manager:
    return Manager(Recipient(rep.rep_id, rep.name, rep.email), rep.time_zone or "UTC")


def _ids(alerts: list[Alert], kind: str) -> set[str]:
    if kind == "rep":
        return {alert.rep_id for alert in alerts}
    return {a.subject_id for a in alerts if a.subject_type == SubjectType.OPPORTUNITY.value}


def _names(reps: Iterable[Rep]) -> dict[str, str]:
    return {rep.rep_id: rep.name for rep in reps}


def _item(alert: Alert, reps: dict[str, str], opportunities: dict[str, str]) -> DigestItem:
    subject = ""
    if alert.subject_type == SubjectType.OPPORTUNITY.value:
        subject = opportunities.get(alert.subject_id, alert.subject_id)
    elif alert.subject_type == SubjectType.TEAM.value:
        subject = alert.subject_id
    return DigestItem(
        fingerprint=alert.fingerprint,
        title=alert.title,
        why=alert.why,
        next_step=alert.next_step,
        severity=alert.severity,
        valence=alert.valence,
        rep_id=alert.rep_id,
        rep_name=reps.get(alert.rep_id, ""),
        started_at=alert.started_at,
        subject=subject,
        period=alert.period,
        numbers=dict(alert.numbers),
    )


def unsubscribe(engine: Engine, manager_id: str, at: datetime) -> None:
    """Record a manager's opt-out of the morning digest (idempotent: the first time stays)."""
    with session_scope(engine) as session:
        if session.get(DigestUnsubscribe, manager_id) is None:
            session.add(DigestUnsubscribe(manager_id=manager_id, unsubscribed_at=at))
