"""The alert engine: metric state in, alert changes out. In-memory and pure of I/O; the
runner feeds it changes from rep.metrics and persists/produces what it returns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from services.alerts.lifecycle import ACTIVE, advance, fingerprint_of, resolve
from services.alerts.rules import stale_opp
from services.alerts.rules.config import RulesConfig
from shared.alerting import AlertMessage
from shared.state import (
    DayBucketChanged,
    OpportunityChanged,
    OpportunityState,
    RepChanged,
    RepProfile,
)

Change = RepChanged | OpportunityChanged | DayBucketChanged


class AlertEngine:
    """Holds the latest opportunity/rep state and the active alerts; evaluates rules."""

    def __init__(self, rules: RulesConfig) -> None:
        self.rules = rules
        self.opportunities: dict[str, OpportunityState] = {}
        self.reps: dict[str, RepProfile] = {}
        self.active: dict[str, AlertMessage] = {}
        self._by_subject: dict[tuple[str, str], set[str]] = defaultdict(set)

    def load(
        self,
        *,
        opportunities: Iterable[OpportunityState],
        reps: Iterable[RepProfile],
        alerts: Iterable[AlertMessage],
    ) -> None:
        """Seed state at start-up (from the DB) before consuming changes."""
        self.opportunities.update({o.opportunity_id: o for o in opportunities})
        self.reps.update({r.rep_id: r for r in reps})
        for alert in alerts:
            self._remember(alert)

    def apply(self, change: Change, now: datetime) -> list[AlertMessage]:
        """Take one metric change into state and re-evaluate what it affects."""
        if isinstance(change, OpportunityChanged):
            self.opportunities[change.state.opportunity_id] = change.state
            return self.evaluate_opportunity(change.state.opportunity_id, now)
        if isinstance(change, RepChanged):
            self.reps[change.rep_id] = change.profile
            affected = [
                o.opportunity_id
                for o in self.opportunities.values()
                if o.rep_id == change.rep_id and (o.is_open or self._has_active(o))
            ]
            return [m for opp_id in affected for m in self.evaluate_opportunity(opp_id, now)]
        return []

    def sweep(
        self, now: datetime, *, now_for_rep: Callable[[str], datetime] | None = None
    ) -> list[AlertMessage]:
        """Re-evaluate every open opportunity (time passing alone makes deals stale), each at
        `now_for_rep(owner)` when given (its own partition's progress under replay)."""
        candidates = [o for o in self.opportunities.values() if o.is_open or self._has_active(o)]
        return [
            message
            for o in candidates
            for message in self.evaluate_opportunity(
                o.opportunity_id, now_for_rep(o.rep_id) if now_for_rep else now
            )
        ]

    def evaluate_opportunity(self, opportunity_id: str, now: datetime) -> list[AlertMessage]:
        opportunity = self.opportunities[opportunity_id]
        rep = self.reps.get(opportunity.rep_id)
        evaluation = stale_opp.evaluate(opportunity, rep, self.rules.stale_opp, now)
        if evaluation is None:
            return []
        current_fp = fingerprint_of(evaluation)
        changes = [
            resolve(self.active[fp], now)
            for fp in sorted(self._by_subject[(stale_opp.RULE, opportunity_id)] - {current_fp})
        ]
        updated = advance(self.active.get(current_fp), evaluation, rep, now)
        if updated is not None:
            changes.append(updated)
        for message in changes:
            self._remember(message)
        return changes

    def _has_active(self, opportunity: OpportunityState) -> bool:
        return bool(self._by_subject.get((stale_opp.RULE, opportunity.opportunity_id)))

    def _remember(self, message: AlertMessage) -> None:
        subject = (message.rule, message.subject_id)
        if message.state in ACTIVE:
            self.active[message.fingerprint] = message
            self._by_subject[subject].add(message.fingerprint)
            return
        self.active.pop(message.fingerprint, None)
        self._by_subject[subject].discard(message.fingerprint)
        if not self._by_subject[subject]:
            del self._by_subject[subject]
