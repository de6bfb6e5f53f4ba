"""Ground truth: what the simulator injected, about whom, from when (`labels.json`).

Format (version 1), documented in the README::

    {"format": "salescoach-simulator-labels", "version": 1,
     "scenario": {"name": "standard", "seed": 7, "reps": 50, "weeks": 26,
                  "start": "2026-01-05", "end": "2026-07-05", "stages": [...]},
     "labels": [
       {"pattern": "disengaging", "kind": "signal", "subject_type": "rep",
        "subject_id": "rep-0007", "rep_id": "rep-0007", "team": "East",
        "start": "2026-03-02", "end": "2026-04-13",
        "rules": ["attrition_risk", "activity_pacing"],
        "details": {"decay_from_week": 8, "departs_week": 14, "effort_floor": 0.3}},
       ...]}

`kind` is `signal` (an alert from one of `rules` on this subject between `start` and `end` is
right) or `confounder` (something a naive rule trips on: an alert from one of `rules` on this
subject in the window is a false alarm). Dates are ISO calendar dates; `end` is inclusive.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

LABELS_FORMAT: Literal["salescoach-simulator-labels"] = "salescoach-simulator-labels"


class Pattern(StrEnum):
    # signals: something a manager should hear about
    DISENGAGING = "disengaging"
    SLOW_RAMPER = "slow_ramper"
    FAST_RAMPER = "fast_ramper"
    ABANDONED_DEAL = "abandoned_deal"
    HAPPY_EARS = "happy_ears"
    GOAL_BEHIND = "goal_behind"
    GOAL_AHEAD = "goal_ahead"
    TEAM_DIP = "team_dip"
    # confounders: things that look like a signal to a naive rule, but are not
    PTO = "pto"
    HOLIDAY_WEEK = "holiday_week"
    HEADS_DOWN = "heads_down"
    QUARTER_END_PUSH = "quarter_end_push"


SIGNALS = frozenset(
    {
        Pattern.DISENGAGING,
        Pattern.SLOW_RAMPER,
        Pattern.FAST_RAMPER,
        Pattern.ABANDONED_DEAL,
        Pattern.HAPPY_EARS,
        Pattern.GOAL_BEHIND,
        Pattern.GOAL_AHEAD,
        Pattern.TEAM_DIP,
    }
)

# Which alert rules each pattern should (signal) or should not (confounder) set off.
RULES_BY_PATTERN: dict[Pattern, tuple[str, ...]] = {
    Pattern.DISENGAGING: ("attrition_risk",),
    Pattern.SLOW_RAMPER: ("ramp_gap",),
    Pattern.FAST_RAMPER: ("ramp_gap",),
    Pattern.ABANDONED_DEAL: ("stale_opp",),
    Pattern.HAPPY_EARS: ("happy_ears",),
    Pattern.GOAL_BEHIND: ("goal_pacing",),
    Pattern.GOAL_AHEAD: ("goal_pacing",),
    Pattern.TEAM_DIP: ("team_lagging",),
    Pattern.PTO: ("stale_opp", "activity_pacing", "attrition_risk"),
    Pattern.HOLIDAY_WEEK: ("stale_opp", "activity_pacing", "attrition_risk", "team_lagging"),
    Pattern.HEADS_DOWN: ("attrition_risk",),
    Pattern.QUARTER_END_PUSH: ("attrition_risk",),
}

# Valence the alert should have when it matches a signal (kudos vs warning).
POSITIVE_PATTERNS = frozenset({Pattern.FAST_RAMPER, Pattern.GOAL_AHEAD})

SubjectType = Literal["rep", "opportunity", "team", "org"]


class Label(BaseModel):
    """One injected pattern: who, what, from which date to which (inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: Pattern
    kind: Literal["signal", "confounder"]
    subject_type: SubjectType
    subject_id: str
    rep_id: str | None = None
    team: str | None = None
    start: date
    end: date
    rules: tuple[str, ...]
    details: dict[str, Any] = Field(default_factory=dict)


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    seed: int
    reps: int
    weeks: int
    start: date
    end: date
    stages: tuple[str, ...]


class LabelFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["salescoach-simulator-labels"] = LABELS_FORMAT
    version: Literal[1] = 1
    scenario: Scenario
    labels: tuple[Label, ...]

    def write(self, path: Path) -> None:
        """Write deterministically: same content, same bytes."""
        body = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        path.write_bytes(body + b"\n")

    @classmethod
    def read(cls, path: Path) -> LabelFile:
        return cls.model_validate(orjson.loads(path.read_bytes()))


def make_label(
    pattern: Pattern,
    *,
    subject_type: SubjectType,
    subject_id: str,
    start: date,
    end: date,
    rep_id: str | None = None,
    team: str | None = None,
    **details: Any,
) -> Label:
    """A label with its kind and rules filled in from the pattern."""
    return Label(
        pattern=pattern,
        kind="signal" if pattern in SIGNALS else "confounder",
        subject_type=subject_type,
        subject_id=subject_id,
        rep_id=rep_id,
        team=team,
        start=start,
        end=end,
        rules=RULES_BY_PATTERN[pattern],
        details=details,
    )
