"""The digest send log: one row per (manager, digest date), written before sending.

Claiming the row first means two senders (the scheduler and the admin route, or two
replicas) cannot both send, and a send that ends ambiguously (a timeout after DATA) keeps
its row, so the retry that follows does not mail the manager twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from shared.db.engine import session_scope
from shared.db.models import DigestLog


def claim(
    engine: Engine,
    *,
    manager_id: str,
    digest_date: date,
    message_id: str,
    alert_count: int,
    at: datetime,
) -> bool:
    """Record the digest as sent; False when a row for (manager, date) already exists."""
    row = DigestLog(
        manager_id=manager_id,
        digest_date=digest_date,
        message_id=message_id,
        alert_count=alert_count,
        sent_at=at,
    )
    try:
        with session_scope(engine) as session:
            session.add(row)
    except IntegrityError:
        return False
    return True


def release(engine: Engine, *, manager_id: str, digest_date: date) -> None:
    """Drop a claim whose send certainly did not happen, so a later attempt may send."""
    with session_scope(engine) as session:
        row = session.get(DigestLog, (manager_id, digest_date))
        if row is not None:
            session.delete(row)


def sent(engine: Engine, *, manager_id: str, digest_date: date) -> DigestLog | None:
    """The log row of a manager's digest for a date, if it was sent."""
    with session_scope(engine) as session:
        return session.get(DigestLog, (manager_id, digest_date))


def sent_among(engine: Engine, wanted: Iterable[tuple[str, date]]) -> set[tuple[str, date]]:
    """Which of these (manager, date) pairs already have a digest."""
    pairs = set(wanted)
    if not pairs:
        return set()
    managers = {manager_id for manager_id, _ in pairs}
    dates = {day for _, day in pairs}
    with session_scope(engine) as session:
        rows = session.exec(
            select(col(DigestLog.manager_id), col(DigestLog.digest_date))
            .where(col(DigestLog.manager_id).in_(managers))
            .where(col(DigestLog.digest_date).in_(dates))
        )
        return {(manager_id, day) for manager_id, day in rows} & pairs
