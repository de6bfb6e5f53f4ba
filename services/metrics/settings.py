"""Settings of the metrics service."""

from __future__ import annotations

from pydantic import Field

from services.metrics.core.reducer import DEFAULT_STAGE_ORDER
from shared.settings import CommonSettings


class MetricsSettings(CommonSettings):
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8002
    metrics_app_id: str = "salescoach-metrics"
    metrics_retention_days: int = Field(default=400, ge=1)
    metrics_flush_interval_seconds: float = Field(default=0.5, gt=0)
    pipeline_stages: tuple[str, ...] = DEFAULT_STAGE_ORDER
