"""Scenario configuration: org size, rates, the stage pipeline and which patterns to inject.

Every number here is a default a scenario may override; named scenarios live in `SCENARIOS`.
Rates are per working day at full effort, before seasonality, patterns and noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from simulator.org import Segment


@dataclass(frozen=True)
class RoleRates:
    """Daily activity of one role at full effort."""

    emails: float
    calls: float
    connect_rate: float
    reply_rate: float  # replies per outbound email
    meetings_booked: float  # initial meetings booked per day (SDR: for an AE; AE: own)
    noise: float = 0.18  # day-to-day multiplicative noise (sd of a log-normal)


@dataclass(frozen=True)
class SegmentTerms:
    """Deal size and cycle by segment."""

    share: float  # of accounts
    amount_median: float
    amount_spread: float  # sd of log(amount)
    cycle_days: float  # created → closed, median


@dataclass(frozen=True)
class Pipeline:
    """Open stages in order; `conversion[i]` is P(reaching stage i+1 | in stage i), the last
    entry being P(won | in the last open stage)."""

    stages: tuple[str, ...] = ("Discovery", "Qualification", "Proposal", "Negotiation")
    conversion: tuple[float, ...] = (0.6, 0.65, 0.6, 0.7)
    name: str = "default"

    def win_rate(self) -> float:
        rate = 1.0
        for step in self.conversion:
            rate *= step
        return rate


@dataclass(frozen=True)
class Patterns:
    """How many of each injected pattern (shares are of eligible reps; counts are absolute)."""

    disengaging_share: float = 0.06
    new_hire_share: float = 0.15  # hired during the first half of the simulation
    slow_ramper_share: float = 0.34  # of new hires
    fast_ramper_share: float = 0.33  # of new hires
    abandoned_deal_share: float = 0.08  # of opportunities: the owner stops touching them
    happy_ears_share: float = 0.08  # of AEs
    goal_behind_share: float = 0.1  # of AEs
    goal_ahead_share: float = 0.1  # of AEs
    team_dips: int = 1
    pto_share: float = 0.12  # reps taking two weeks off
    holiday_week: bool = True
    heads_down_share: float = 0.05  # of AEs
    quarter_end_push: bool = True


@dataclass(frozen=True)
class ScenarioConfig:
    name: str = "standard"
    seed: int = 7
    reps: int = 50
    weeks: int = 26
    start: date = date(2026, 1, 5)  # a Monday
    team_size: int = 8
    sdr_share: float = 0.4
    accounts_per_ae: int = 40
    open_deals_per_ae: int = 8  # pipeline an established AE already has on day one
    effort_spread: float = 0.1  # sd of reps' base effort around 1
    ramp_weeks: int = 12  # a normal new hire reaches full effort after this many weeks
    sdr: RoleRates = RoleRates(
        emails=40, calls=30, connect_rate=0.12, reply_rate=0.06, meetings_booked=0.6
    )
    ae: RoleRates = RoleRates(
        emails=12, calls=6, connect_rate=0.25, reply_rate=0.12, meetings_booked=0.25
    )
    meeting_to_opportunity: float = 0.45
    segments: dict[Segment, SegmentTerms] = field(
        default_factory=lambda: {
            Segment.SMB: SegmentTerms(0.5, 12_000, 0.4, 30),
            Segment.MID_MARKET: SegmentTerms(0.35, 45_000, 0.45, 60),
            Segment.ENTERPRISE: SegmentTerms(0.15, 150_000, 0.5, 110),
        }
    )
    pipeline: Pipeline = Pipeline()
    # Working days between touches on a deal that is being worked, by stage (max); later
    # stages get more attention. Bounded so a worked deal never crosses a staleness threshold.
    touch_gap_days: dict[str, int] = field(
        default_factory=lambda: {
            "Discovery": 5,
            "Qualification": 5,
            "Proposal": 4,
            "Negotiation": 3,
        }
    )
    patterns: Patterns = Patterns()

    def with_(self, **changes: object) -> ScenarioConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


SCENARIOS: dict[str, ScenarioConfig] = {
    # The org `make run` shows: small, everything injected at least once, fast to replay.
    "demo": ScenarioConfig(
        name="demo",
        reps=12,
        weeks=6,
        team_size=6,
        patterns=Patterns(
            disengaging_share=0.1,
            new_hire_share=0.0,
            abandoned_deal_share=0.1,
            pto_share=0.1,
            holiday_week=False,
            heads_down_share=0.0,
            quarter_end_push=False,
        ),
    ),
    # The yardstick: a mid-size org over two quarters.
    "standard": ScenarioConfig(name="standard", reps=50, weeks=26),
    # The same org with no confounders: what the rules could do without them.
    "clean": ScenarioConfig(
        name="clean",
        reps=50,
        weeks=26,
        patterns=Patterns(
            pto_share=0.0, holiday_week=False, heads_down_share=0.0, quarter_end_push=False
        ),
    ),
    # A year of a big org, for scale and benchmarks.
    "enterprise": ScenarioConfig(name="enterprise", reps=1000, weeks=52),
}
