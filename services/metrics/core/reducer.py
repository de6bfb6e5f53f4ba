"""Fold SalesEvents into metric state; the one core every driver (faust, replay, tests) uses.

State lives in five key-value stores (plain dicts in tests, faust tables in the worker) that
hold JSON-ready dicts. Processing is idempotent: an event id already counted in a rep's day
is not counted again, and opportunity fields are last-writer-wins by event time.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.metrics.core.activity import (
    add_to_bucket,
    counts_in_bucket,
    empty_bucket,
)
from services.metrics.core.opportunities import (
    apply_meeting_scheduled,
    apply_opportunity_event,
    apply_touch,
    mark_meeting_held,
    new_state,
)
from services.metrics.core.reps import apply_rep_event
from shared.events import OPPORTUNITY_TYPES, TOUCH_TYPES, EventType, SalesEvent
from shared.state import (
    DayBucket,
    DayBucketChanged,
    OpportunityChanged,
    OpportunityState,
    RepChanged,
    RepProfile,
)
from shared.timezones import local_day
from shared.watermark import LowWatermark

Store = MutableMapping[str, Any]
Change = RepChanged | OpportunityChanged | DayBucketChanged

DEFAULT_STAGE_ORDER = ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation")
REP_TYPES = frozenset({EventType.REP_UPSERTED, EventType.REP_DEPARTED})


@dataclass
class Stores:
    """Where the core keeps its state; any mutable mapping of str -> JSON-ready dict."""

    reps: Store = field(default_factory=dict)
    opportunities: Store = field(default_factory=dict)
    account_opportunities: Store = field(default_factory=dict)
    buckets: Store = field(default_factory=dict)
    counted: Store = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one event did: the changes to emit, or why it was parked on the DLQ."""

    changes: tuple[Change, ...] = ()
    dead_letter_reason: str | None = None
    duplicate: bool = False


class MetricsCore:
    """The reducer. `watermark` is the latest event time seen; a change about a rep is stamped
    with the progress of the input partition that rep's events arrive on (the replay clock,
    see shared/watermark.py)."""

    def __init__(
        self,
        stores: Stores,
        *,
        retention_days: int = 400,
        stage_order: tuple[str, ...] = DEFAULT_STAGE_ORDER,
        idle_after_seconds: float = 10.0,
    ) -> None:
        self.stores = stores
        self.retention = timedelta(days=retention_days)
        self.stage_order = stage_order
        self.watermark: datetime | None = None
        self.partitions = LowWatermark(idle_after=idle_after_seconds)
        self._low: datetime | None = None
        self._partition = 0
        self._rep_partitions: dict[str, int] = {}  # where each rep's own events arrive

    def process(self, event: SalesEvent, *, partition: int = 0, arrived: float = 0.0) -> Outcome:
        """Fold one event into state and return what changed.

        `partition` and `arrived` (the driver's monotonic time) feed the partition marks the
        changes are stamped with; a single-partition caller can leave them out.
        """
        if self.watermark is not None and event.occurred_at < self.watermark - self.retention:
            return Outcome(dead_letter_reason="older than the retention horizon")
        if self.watermark is None or event.occurred_at > self.watermark:
            self.watermark = event.occurred_at
        self.partitions.observe(partition, event.occurred_at, arrived=arrived)
        self._low = self.partitions.low(now=arrived)
        self._partition = partition
        self._rep_partitions[event.rep_id] = partition
        if event.type in REP_TYPES:
            return Outcome(changes=(self._apply_rep(event),))
        if counts_in_bucket(event) and self._already_counted(event):
            return Outcome(duplicate=True)
        changes: list[Change] = list(self._apply_opportunities(event))
        if counts_in_bucket(event):
            changes.append(self._apply_bucket(event))
        return Outcome(changes=tuple(changes))

    # -- reps --------------------------------------------------------------------------

    def rep(self, rep_id: str) -> RepProfile | None:
        raw = self.stores.reps.get(rep_id)
        return RepProfile.model_validate(raw) if raw is not None else None

    def _apply_rep(self, event: SalesEvent) -> RepChanged:
        profile = apply_rep_event(self.rep(event.rep_id), event)
        self.stores.reps[event.rep_id] = profile.model_dump(mode="json")
        return RepChanged(rep_id=event.rep_id, watermark=self._now(event.rep_id), profile=profile)

    # -- opportunities -----------------------------------------------------------------

    def opportunity(self, opportunity_id: str) -> OpportunityState | None:
        raw = self.stores.opportunities.get(opportunity_id)
        return OpportunityState.model_validate(raw) if raw is not None else None

    def _apply_opportunities(self, event: SalesEvent) -> list[OpportunityChanged]:
        targets = self._opportunities_touched_by(event)
        changes = []
        for opportunity_id in targets:
            before = self.opportunity(opportunity_id) or new_state(event, opportunity_id)
            after = self._fold(before, event)
            if after != before or opportunity_id not in self.stores.opportunities:
                self._save_opportunity(after)
                changes.append(
                    OpportunityChanged(
                        rep_id=after.rep_id, watermark=self._now(after.rep_id), state=after
                    )
                )
        return changes

    def _opportunities_touched_by(self, event: SalesEvent) -> list[str]:
        if event.opportunity_id:
            relevant = event.type in OPPORTUNITY_TYPES or event.type in TOUCH_TYPES
            relevant = relevant or event.type is EventType.MEETING_SCHEDULED
            return [event.opportunity_id] if relevant else []
        if event.account_id and event.type in TOUCH_TYPES:
            # Work logged on the account counts for each of its open opportunities.
            # Work logged on the account before a deal existed is not work on that deal.
            linked = self.stores.account_opportunities.get(event.account_id, [])
            return [
                o
                for o in linked
                if (state := self.opportunity(o))
                and state.is_open
                and (state.created_at is None or state.created_at <= event.occurred_at)
            ]
        return []

    def _fold(self, state: OpportunityState, event: SalesEvent) -> OpportunityState:
        if event.type in OPPORTUNITY_TYPES:
            return apply_opportunity_event(state, event)
        if event.type is EventType.MEETING_SCHEDULED:
            return apply_meeting_scheduled(state, event)
        if event.type is EventType.MEETING_HELD:
            state = mark_meeting_held(state, event)
        return apply_touch(state, event)

    def _save_opportunity(self, state: OpportunityState) -> None:
        self.stores.opportunities[state.opportunity_id] = state.model_dump(mode="json")
        if not state.account_id:
            return
        index = list(self.stores.account_opportunities.get(state.account_id, []))
        listed = state.opportunity_id in index
        if state.is_open and not listed:
            self.stores.account_opportunities[state.account_id] = [*index, state.opportunity_id]
        elif state.is_closed and listed:
            index.remove(state.opportunity_id)
            self.stores.account_opportunities[state.account_id] = index

    # -- daily buckets -----------------------------------------------------------------

    def bucket(self, rep_id: str, day_iso: str) -> DayBucket | None:
        raw = self.stores.buckets.get(f"{rep_id}|{day_iso}")
        return DayBucket.model_validate(raw) if raw is not None else None

    def _bucket_key(self, event: SalesEvent) -> str:
        profile = self.rep(event.rep_id)
        day = local_day(event.occurred_at, profile.time_zone if profile else "UTC")
        return f"{event.rep_id}|{day.isoformat()}"

    def _already_counted(self, event: SalesEvent) -> bool:
        return event.event_id in self.stores.counted.get(self._bucket_key(event), ())

    def _apply_bucket(self, event: SalesEvent) -> DayBucketChanged:
        key = self._bucket_key(event)
        raw = self.stores.buckets.get(key)
        day = key.split("|", 1)[1]
        bucket = (
            DayBucket.model_validate(raw)
            if raw is not None
            else empty_bucket(event.rep_id, datetime.fromisoformat(day).date(), event.occurred_at)
        )
        opportunity = self.opportunity(event.opportunity_id) if event.opportunity_id else None
        bucket = add_to_bucket(bucket, event, stage_order=self.stage_order, opportunity=opportunity)
        self.stores.buckets[key] = bucket.model_dump(mode="json")
        self.stores.counted[key] = [*self.stores.counted.get(key, ()), event.event_id]
        return DayBucketChanged(
            rep_id=event.rep_id, watermark=self._now(event.rep_id), bucket=bucket
        )

    @property
    def low_watermark(self) -> datetime | None:
        """The event time every input partition has reached."""
        return self._low

    def _now(self, rep_id: str) -> datetime:
        """What a change about `rep_id` is stamped with: the progress of the partition that
        rep's own events arrive on (work on an account can change another rep's deal)."""
        mark = self.partitions.mark(self._rep_partitions.get(rep_id, self._partition))
        assert mark is not None
        return mark
