"""Settings of the alerts service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import CommonSettings


class AlertsSettings(CommonSettings):
    alerts_host: str = "127.0.0.1"
    alerts_port: int = 8003
    alerts_rules_file: Path | None = None
    # Live clock: re-evaluate everything this often (wall seconds); time alone makes deals stale.
    alerts_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    # Replay clock: re-evaluate everything whenever event time has advanced this much.
    alerts_replay_sweep_hours: float = Field(default=6.0, gt=0)
    # Once all rep.metrics partitions are silent this long (wall seconds), now = latest event time.
    alerts_partition_idle_seconds: float = Field(default=10.0, gt=0)
