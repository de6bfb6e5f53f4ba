"""Settings of the ingest process, built once at the entry point from the environment."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr

from shared.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Where ingest listens, the webhook secret, and the limits it enforces on requests."""

    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8001, ge=1, le=65_535)
    # The dev placeholder lets `make run` work on a fresh machine; refused outside dev.
    ingest_secret: SecretStr = SecretStr("dev-secret")
    ingest_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    ingest_max_batch: int = Field(default=1000, ge=1)
    # One far-future event would push the downstream event-time watermark forward.
    ingest_max_future_skew_seconds: int = Field(default=300, ge=0)
    ingest_send_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def max_future_skew(self) -> timedelta:
        """How far ahead of the wall clock an event's occurred_at may be."""
        return timedelta(seconds=self.ingest_max_future_skew_seconds)
