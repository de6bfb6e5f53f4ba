"""The simulation's mutable state and the event emitter every step writes through."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from shared.events import derive_event_id
from simulator.config import ScenarioConfig
from simulator.labels import Label
from simulator.org import Account, Org
from simulator.patterns import OrgPatterns
from simulator.plan import RepPlan

WORKDAY_START = time(8, 0)
WORKDAY_SECONDS = 10 * 3600


@dataclass(slots=True)
class Deal:
    """One opportunity's simulated life; `stage` indexes the pipeline's open stages."""

    opportunity_id: str
    name: str
    owner: str
    account: Account
    amount: int
    stage: int
    close_date: date
    stage_due: date
    next_touch: date
    rng: random.Random
    status: str = "open"  # open | won | lost
    abandon_after: date | None = None  # injected: the owner stops working it from this day
    abandoned_on: date | None = None  # the owner's last touch before they stopped
    clean_up_on: date | None = None  # when the owner finally closes the abandoned deal lost
    last_touch: date | None = None
    meeting_on: date | None = None  # a booked meeting still to come
    meetings: int = 0
    big: bool = False
    label_index: int | None = None  # its abandoned_deal label, while it is abandoned


@dataclass(slots=True)
class Hold:
    """A booked meeting, to be held (or missed) on its day."""

    at: int  # epoch seconds
    meeting_id: str
    kind: str  # initial | follow_up
    account: Account
    contact_id: str
    deal: Deal | None
    booked_by: str


@dataclass
class World:
    config: ScenarioConfig
    org: Org
    plans: list[RepPlan]
    org_patterns: OrgPatterns
    holidays: frozenset[date]
    labels: list[Label]
    tag: str
    count: int = 0
    heap: list[tuple[int, int, bytes]] = field(default_factory=list)
    deals: dict[str, list[Deal]] = field(default_factory=lambda: defaultdict(list))
    agenda: dict[tuple[str, date], list[Hold]] = field(default_factory=lambda: defaultdict(list))
    plans_by_id: dict[str, RepPlan] = field(default_factory=dict)
    _opens: dict[tuple[str, date], int] = field(default_factory=dict)
    deal_count: int = 0
    meeting_count: int = 0
    open_accounts: set[str] = field(default_factory=set)  # accounts with an open deal
    rngs: dict[str, random.Random] = field(default_factory=dict)
    _off_sets: dict[str, frozenset[date]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.plans_by_id = {p.rep_id: p for p in self.plans}
        seed = self.config.seed
        self.rngs = {p.rep_id: random.Random(f"{seed}:{p.rep_id}") for p in self.plans}  # noqa: S311

    def emit(
        self,
        event_type: str,
        at: int,
        rep_id: str,
        payload: dict[str, Any],
        *,
        account_id: str | None = None,
        opportunity_id: str | None = None,
        contact_id: str | None = None,
    ) -> str:
        """Queue one canonical event; output is ordered by (event time, emission order)."""
        self.count += 1
        delivery_id = f"{self.tag}-{self.count}"
        event_id = derive_event_id("simulator", delivery_id, event_type)
        event = {
            "schema_version": 1,
            "event_id": event_id,
            "type": event_type,
            "occurred_at": datetime.fromtimestamp(at, UTC).isoformat(),
            "source": {"vendor": "simulator", "delivery_id": delivery_id},
            "rep_id": rep_id,
            "account_id": account_id,
            "opportunity_id": opportunity_id,
            "contact_id": contact_id,
            "payload": payload,
        }
        heapq.heappush(self.heap, (at, self.count, orjson.dumps(event)))
        return event_id

    def drain(self, before: int) -> list[tuple[int, bytes]]:
        """Every queued event earlier than `before`, in order."""
        out = []
        while self.heap and self.heap[0][0] < before:
            at, _, line = heapq.heappop(self.heap)
            out.append((at, line))
        return out

    def day_open(self, rep_id: str, day: date) -> int:
        """Epoch seconds of 08:00 on `day` in the rep's time zone."""
        key = (rep_id, day)
        cached = self._opens.get(key)
        if cached is None:
            zone = ZoneInfo(self.plans_by_id[rep_id].person.time_zone)
            cached = int(datetime.combine(day, WORKDAY_START, zone).timestamp())
            if len(self._opens) > 50_000:
                self._opens.clear()
            self._opens[key] = cached
        return cached

    def off(self, plan: RepPlan, day: date) -> bool:
        """Not a working day for this rep: weekend, holiday, PTO, not hired yet, or gone."""
        if day.weekday() >= 5 or day in self.holidays or day < plan.person.hire_date:
            return True
        if plan.pto is not None and plan.pto[0] <= day <= plan.pto[1]:
            return True
        return plan.departed

    def off_days(self, plan: RepPlan) -> frozenset[date]:
        """Non-working weekdays for this rep (for counting working days ahead)."""
        cached = self._off_sets.get(plan.rep_id)
        if cached is None:
            days = set(self.holidays)
            if plan.pto is not None:
                start, end = plan.pto
                days |= {start + timedelta(days=n) for n in range((end - start).days + 1)}
            cached = self._off_sets[plan.rep_id] = frozenset(days)
        return cached

    def prospect_account(self, rng: random.Random, accounts: list[Account]) -> Account | None:
        """An account with no open deal: work there must not count as touching a deal."""
        for _ in range(20):
            account = accounts[int(rng.random() * len(accounts))]
            if account.account_id not in self.open_accounts:
                return account
        return None
