"""Rule configuration: a versioned TOML file with per-team and per-role overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")


class StaleOppOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_days: int | None = Field(default=None, ge=1, le=365)
    stage_days: dict[str, int] = Field(default_factory=dict)


class StaleOppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_days: int = Field(default=14, ge=1, le=365)
    stage_days: dict[str, int] = Field(default_factory=dict)
    critical_multiple: float = Field(default=2.0, ge=1.0)
    for_hours: float = Field(default=0, ge=0)
    teams: dict[str, StaleOppOverride] = Field(default_factory=dict)
    roles: dict[str, StaleOppOverride] = Field(default_factory=dict)

    def threshold_days(self, *, stage: str, team: str | None, role: str | None) -> int:
        """Days without a touch before an opportunity in `stage` is stale (team beats role)."""
        for override in (self.teams.get(team or ""), self.roles.get(role or "")):
            if override is None:
                continue
            if stage in override.stage_days:
                return override.stage_days[stage]
            if override.default_days is not None:
                return override.default_days
        return self.stage_days.get(stage, self.default_days)


class RulesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    stale_opp: StaleOppConfig = StaleOppConfig()


def load_rules(path: Path | None = None) -> RulesConfig:
    """Read the rules file (the shipped defaults when `path` is None)."""
    with open(path or DEFAULTS_FILE, "rb") as handle:
        return RulesConfig.model_validate(tomllib.load(handle))
