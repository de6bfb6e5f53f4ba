"""The parts every vendor's mapping section shares: users, pipelines, activity types."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ActivityKind = Literal["email", "call", "meeting"]


class StageOutcome(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class PipelineMapping(BaseModel):
    """One vendor pipeline: its open stages in order, and the stages that close a deal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="default", min_length=1, description="The canonical pipeline.")
    stages: dict[str, str] = Field(
        default_factory=dict, description="Vendor stage id → canonical stage, in funnel order."
    )
    won: list[str] = Field(default_factory=list, description="Vendor stage ids meaning won.")
    lost: list[str] = Field(default_factory=list, description="Vendor stage ids meaning lost.")

    def outcome(self, stage_id: str) -> StageOutcome | None:
        """Open, won or lost for a stage this pipeline knows; None for an unknown stage."""
        if stage_id in self.won:
            return StageOutcome.WON
        if stage_id in self.lost:
            return StageOutcome.LOST
        return StageOutcome.OPEN if stage_id in self.stages else None


class VendorMapping(BaseModel):
    """What every vendor section holds; adapters subclass it with their own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: dict[str, str] = Field(
        default_factory=dict, description="Vendor user/owner id → canonical rep id."
    )
    pipelines: dict[str, PipelineMapping] = Field(
        default_factory=dict, description="Vendor pipeline id → its stages."
    )
    activity_types: dict[str, ActivityKind] = Field(
        default_factory=dict, description="Vendor activity type → email, call or meeting."
    )
