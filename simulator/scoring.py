"""Score the alerts a run produced against the simulator's ground truth (pure, no I/O).

Matching an alert to a label needs all of:

- **rule**: the alert's rule is in `label.rules`;
- **subject**: rep labels match alerts about that rep (rep subject) and about that rep's
  opportunities (so a rep's PTO explains their stale deals); opportunity labels match that
  opportunity; team labels match alerts whose `team` is the label's team or whose subject is
  that team; org labels match every alert;
- **window**: `started_at` (UTC) from `label.start` to the end of `label.end` plus `grace`
  (rules that judge a finished week or a persisting trend fire after the pattern's last day);
- **valence**: positive for kudos patterns (fast_ramper, goal_ahead), warning for the rest.

An alert that matches a signal label is a true positive; any other is a false positive,
attributed to the first matching confounder label if there is one.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from simulator.labels import POSITIVE_PATTERNS, RULES_BY_PATTERN, Label, LabelFile

DEFAULT_GRACE = timedelta(days=7)
LEAD_TIME_RULE = "attrition_risk"
# Design states that are user actions on a firing alert: they have fired by definition.
FIRED_STATES = frozenset({"firing", "acknowledged", "snoozed"})


@dataclass(frozen=True, slots=True)
class ObservedAlert:
    """One alert as the api lists it, reduced to what scoring needs."""

    rule: str
    subject_type: str
    subject_id: str
    rep_id: str
    team: str | None
    valence: str
    state: str
    started_at: datetime
    resolved_at: datetime | None = None
    fired: bool = True

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> ObservedAlert:
        """Build from one `AlertOut` (or `AlertDetail`) JSON object."""
        resolved_at = item.get("resolved_at")
        return cls(
            rule=item["rule"],
            subject_type=item["subject_type"],
            subject_id=item["subject_id"],
            rep_id=item["rep_id"],
            team=item.get("team"),
            valence=item["valence"],
            state=item["state"],
            started_at=_instant(item["started_at"]),
            resolved_at=_instant(resolved_at) if resolved_at is not None else None,
            fired=_ever_fired(item),
        )


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"alert timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def _ever_fired(item: Mapping[str, Any]) -> bool:
    """Pending never notified anyone; resolved may have been pending only.

    The list endpoint does not say which, so a resolved alert counts as fired unless its
    history (`transitions`, from `/v1/alerts/{fingerprint}`) shows it never was; with no
    `for` duration (stale_opp's default) every alert fires at once, so this is exact.
    """
    state = item["state"]
    if state in FIRED_STATES:
        return True
    if state != "resolved":
        return False
    transitions = item.get("transitions")
    if transitions is None:
        return True
    return any(t.get("to_state") in FIRED_STATES for t in transitions)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median, minimum and maximum of a set of durations (in the unit its field names)."""

    median: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True, slots=True)
class RuleScore:
    """How one rule did against the labels of one scenario."""

    rule: str
    implemented: bool
    alerts: int = 0
    true_positives: int = 0
    false_positives: int = 0
    confounded: dict[str, int] = field(default_factory=dict)  # false positives by pattern
    signals: int = 0
    detected: int = 0
    lead_time_weeks: Spread | None = None  # attrition_risk: departure minus first alert
    delay_days: Spread | None = None  # other rules: first alert minus label start

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.detected / self.signals if self.signals else None

    @property
    def confounded_total(self) -> int:
        return sum(self.confounded.values())


def expected_valence(label: Label) -> str:
    """The valence an alert needs to match this label."""
    return "positive" if label.pattern in POSITIVE_PATTERNS else "warning"


def subject_matches(label: Label, alert: ObservedAlert) -> bool:
    """Whether the alert is about the label's subject (see the module docstring)."""
    if label.subject_type == "org":
        return True
    if label.subject_type == "opportunity":
        return alert.subject_type == "opportunity" and alert.subject_id == label.subject_id
    if label.subject_type == "team":
        team = label.team or label.subject_id
        return alert.team == team or (alert.subject_type == "team" and alert.subject_id == team)
    rep = label.rep_id or label.subject_id
    if alert.subject_type == "rep":
        return alert.subject_id == rep
    # A team alert's rep_id says little about one rep, so only rep-owned subjects match.
    return alert.subject_type == "opportunity" and alert.rep_id == rep


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def in_window(label: Label, alert: ObservedAlert, grace: timedelta) -> bool:
    """Whether the alert started between the label's first day and its last day plus grace."""
    end = _day_start(label.end + timedelta(days=1)) + grace  # `end` is inclusive
    return _day_start(label.start) <= alert.started_at < end


def matches(label: Label, alert: ObservedAlert, grace: timedelta) -> bool:
    """Whether the label accounts for the alert: rule, valence, subject and window."""
    return (
        alert.rule in label.rules
        and alert.valence == expected_valence(label)
        and subject_matches(label, alert)
        and in_window(label, alert, grace)
    )


def rule_names(alerts: Iterable[ObservedAlert]) -> list[str]:
    """Every rule the labels name (catalog order), then any other rule seen in alerts."""
    named = list(dict.fromkeys(rule for rules in RULES_BY_PATTERN.values() for rule in rules))
    extra = sorted({alert.rule for alert in alerts} - set(named))
    return named + extra


def score(
    labels: LabelFile,
    alerts: Sequence[ObservedAlert],
    *,
    implemented_rules: Collection[str],
    grace: timedelta = DEFAULT_GRACE,
) -> list[RuleScore]:
    """One score per rule: precision over fired alerts, recall over signal labels, timing."""
    fired = [alert for alert in alerts if alert.fired]
    return [
        _score_rule(
            rule,
            [label for label in labels.labels if rule in label.rules],
            [alert for alert in fired if alert.rule == rule],
            implemented=rule in implemented_rules,
            grace=grace,
        )
        for rule in rule_names(fired)
    ]


def _score_rule(
    rule: str,
    labels: Sequence[Label],
    alerts: Sequence[ObservedAlert],
    *,
    implemented: bool,
    grace: timedelta,
) -> RuleScore:
    signals = [label for label in labels if label.kind == "signal"]
    confounders = [label for label in labels if label.kind == "confounder"]
    true_positives = 0
    confounded: dict[str, int] = {}
    for alert in alerts:
        if any(matches(label, alert, grace) for label in signals):
            true_positives += 1
            continue
        cause = next((label for label in confounders if matches(label, alert, grace)), None)
        if cause is not None:
            confounded[cause.pattern.value] = confounded.get(cause.pattern.value, 0) + 1
    first_alerts = _first_alerts(signals, alerts, grace)
    return RuleScore(
        rule=rule,
        implemented=implemented,
        alerts=len(alerts),
        true_positives=true_positives,
        false_positives=len(alerts) - true_positives,
        confounded=dict(sorted(confounded.items())),
        signals=len(signals),
        detected=len(first_alerts),
        lead_time_weeks=Spread.of(_lead_weeks(first_alerts)) if rule == LEAD_TIME_RULE else None,
        delay_days=Spread.of(_delay_days(first_alerts)) if rule != LEAD_TIME_RULE else None,
    )


def _first_alerts(
    signals: Sequence[Label], alerts: Sequence[ObservedAlert], grace: timedelta
) -> list[tuple[Label, datetime]]:
    """Each detected signal label with the start of its earliest matching alert."""
    found = []
    for label in signals:
        starts = [alert.started_at for alert in alerts if matches(label, alert, grace)]
        if starts:
            found.append((label, min(starts)))
    return found


def departure(label: Label) -> date:
    """When a disengaging rep leaves: `details["departs_on"]` if given, else the label's end."""
    departs_on = label.details.get("departs_on")
    if departs_on is None:
        return label.end
    return departs_on if isinstance(departs_on, date) else date.fromisoformat(str(departs_on))


def _lead_weeks(first_alerts: Sequence[tuple[Label, datetime]]) -> list[float]:
    # Calendar days: labels are dates, and a lead of "4 weeks" should not hinge on the hour.
    return [(departure(label) - first.date()).days / 7 for label, first in first_alerts]


def _delay_days(first_alerts: Sequence[tuple[Label, datetime]]) -> list[float]:
    return [float((first.date() - label.start).days) for label, first in first_alerts]


def _ratio(hits: int, total: int, *, empty: str) -> str:
    return f"{hits / total:.0%} ({hits}/{total})" if total else empty


def _timing(item: RuleScore) -> str:
    if item.lead_time_weeks is not None:
        lead = item.lead_time_weeks
        return f"lead {lead.median:.1f} wk (min {lead.minimum:.1f}, max {lead.maximum:.1f})"
    if item.delay_days is not None:
        return f"delay {item.delay_days.median:.1f} d (median)"
    return "-"


def _notes(item: RuleScore) -> str:
    notes = []
    if item.confounded:
        causes = ", ".join(f"{pattern} {count}" for pattern, count in item.confounded.items())
        notes.append(f"FP from confounders: {causes}")
    unexplained = item.false_positives - item.confounded_total
    if unexplained:
        notes.append(f"other FP {unexplained}")
    if not item.implemented and item.alerts:
        notes.append("alerts from a rule not listed as implemented")
    return "; ".join(notes)


def _row(item: RuleScore) -> list[str]:
    if not item.implemented and not item.alerts:
        return [item.rule, "no rule yet", "", "", "", f"{item.signals} signal labels"]
    return [
        item.rule,
        str(item.alerts),
        _ratio(item.true_positives, item.alerts, empty="no alerts"),
        _ratio(item.detected, item.signals, empty="no labels"),
        _timing(item),
        _notes(item),
    ]


HEADERS = ["rule", "alerts", "precision", "recall", "lead time / delay", "notes"]


def render_table(scores: Sequence[RuleScore], scenario_name: str) -> str:
    """A fixed-width text table, one row per rule, under a line naming the scenario."""
    rows = [HEADERS, *(_row(item) for item in scores)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([f"scenario: {scenario_name}", *(line.rstrip() for line in lines)]) + "\n"


def _spread_json(spread: Spread | None) -> dict[str, float] | None:
    if spread is None:
        return None
    return {"median": spread.median, "min": spread.minimum, "max": spread.maximum}


def to_json(scores: Sequence[RuleScore]) -> dict[str, Any]:
    """The scores as plain JSON-ready data, one object per rule."""
    return {
        "rules": [
            {
                "rule": item.rule,
                "implemented": item.implemented,
                "alerts": item.alerts,
                "true_positives": item.true_positives,
                "false_positives": item.false_positives,
                "confounded": dict(item.confounded),
                "signals": item.signals,
                "detected": item.detected,
                "precision": item.precision,
                "recall": item.recall,
                "lead_time_weeks": _spread_json(item.lead_time_weeks),
                "delay_days": _spread_json(item.delay_days),
            }
            for item in scores
        ]
    }
