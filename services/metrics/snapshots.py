"""Persist metric state to the DB: the latest value per key, flushed in batches."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from shared.db.convert import opportunity_row, rep_row
from shared.db.engine import session_scope
from shared.db.models import OpportunitySnapshot, Rep, RepDayBucket
from shared.state import (
    ACTIVITY_COUNTERS,
    DayBucket,
    DayBucketChanged,
    OpportunityChanged,
    RepChanged,
)

Change = RepChanged | OpportunityChanged | DayBucketChanged
Row = Rep | OpportunitySnapshot | RepDayBucket


def bucket_row(bucket: DayBucket) -> RepDayBucket:
    counts = {name: bucket.count(name) for name in ACTIVITY_COUNTERS}
    return RepDayBucket(
        rep_id=bucket.rep_id,
        day=bucket.day,
        **counts,
        pipeline_created_amount=bucket.pipeline_created_amount,
        bookings_amount=bucket.bookings_amount,
        accounts_touched=len(bucket.account_ids),
        updated_at=bucket.updated_at,
    )


def row_for(change: Change) -> Row:
    """The DB row a change maps to."""
    if isinstance(change, RepChanged):
        return rep_row(change.profile)
    if isinstance(change, OpportunityChanged):
        return opportunity_row(change.state)
    return bucket_row(change.bucket)


class SnapshotWriter:
    """Coalesces changes per key and writes the latest of each in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: dict[str, Row] = {}

    def add(self, change: Change) -> None:
        row = row_for(change)
        self._pending[_key_of(row)] = row

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take(self) -> list[Row]:
        """Hand over the pending rows (the caller writes them, possibly in a thread)."""
        rows, self._pending = list(self._pending.values()), {}
        return rows

    def write(self, rows: list[Row]) -> None:
        """Upsert rows; safe to repeat (the latest state wins)."""
        if not rows:
            return
        with session_scope(self.engine) as session:
            for row in rows:
                session.merge(row)

    def restore(self, rows: list[Row]) -> None:
        """Put rows back after a failed write, unless newer ones arrived meanwhile."""
        for row in rows:
            self._pending.setdefault(_key_of(row), row)


def _key_of(row: Row) -> str:
    """What identifies a row among pending writes (its primary key)."""
    if isinstance(row, Rep):
        return f"rep:{row.rep_id}"
    if isinstance(row, OpportunitySnapshot):
        return f"opp:{row.opportunity_id}"
    return f"day:{row.rep_id}|{row.day}"
