"""Reading alerts and their transitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from services.api.alerts.cursor import AlertCursor, encode_cursor
from services.api.alerts.schemas import AlertDetail, AlertOut, AlertPage, TransitionOut
from shared.alerting import AlertState
from shared.db.models import Alert, AlertTransition


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list; empty collections and None mean "any"."""

    manager_id: str | None = None
    rep_id: str | None = None
    states: Sequence[AlertState] = field(default_factory=tuple)
    rules: Sequence[str] = field(default_factory=tuple)
    since: datetime | None = None


def _filter_clauses(filters: AlertFilter) -> list[Any]:
    clauses: list[Any] = []
    if filters.manager_id is not None:
        clauses.append(col(Alert.manager_id) == filters.manager_id)
    if filters.rep_id is not None:
        clauses.append(col(Alert.rep_id) == filters.rep_id)
    if filters.states:
        clauses.append(col(Alert.state).in_([state.value for state in filters.states]))
    if filters.rules:
        clauses.append(col(Alert.rule).in_(list(filters.rules)))
    if filters.since is not None:
        clauses.append(col(Alert.updated_at) >= filters.since)
    return clauses


def _after(cursor: AlertCursor) -> Any:
    updated_at, fingerprint = col(Alert.updated_at), col(Alert.fingerprint)
    return or_(
        updated_at < cursor.updated_at,
        and_(updated_at == cursor.updated_at, fingerprint > cursor.fingerprint),
    )


def list_alerts(
    session: Session, *, filters: AlertFilter, limit: int, after: AlertCursor | None = None
) -> AlertPage:
    """One page of alerts matching `filters`, by updated_at desc then fingerprint asc."""
    statement = select(Alert).where(*_filter_clauses(filters))
    if after is not None:
        statement = statement.where(_after(after))
    statement = statement.order_by(col(Alert.updated_at).desc(), col(Alert.fingerprint).asc())
    rows = session.exec(statement.limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(AlertCursor(last.updated_at, last.fingerprint))
    return AlertPage(items=[AlertOut.model_validate(row) for row in page], next_cursor=next_cursor)


def get_alert(session: Session, *, fingerprint: str) -> AlertDetail | None:
    """The alert with this fingerprint and its transitions, oldest first; None if unknown."""
    alert = session.get(Alert, fingerprint)
    if alert is None:
        return None
    statement = (
        select(AlertTransition)
        .where(col(AlertTransition.fingerprint) == fingerprint)
        .order_by(col(AlertTransition.at).asc(), col(AlertTransition.id).asc())
    )
    transitions = [TransitionOut.model_validate(row) for row in session.exec(statement)]
    return AlertDetail(**AlertOut.model_validate(alert).model_dump(), transitions=transitions)


def alerts_about(session: Session, *, subject_type: str, subject_id: str) -> list[AlertOut]:
    """Every alert about one subject (any state), newest change first."""
    statement = (
        select(Alert)
        .where(col(Alert.subject_type) == subject_type, col(Alert.subject_id) == subject_id)
        .order_by(col(Alert.updated_at).desc(), col(Alert.fingerprint).asc())
    )
    return [AlertOut.model_validate(row) for row in session.exec(statement)]
