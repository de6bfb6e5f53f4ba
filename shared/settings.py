"""Settings common to every service; each service subclasses with its own fields.

One immutable object per process, built at the entry point from the environment and passed
down. Secrets are `SecretStr`; outside `ENVIRONMENT=dev` a placeholder secret is refused.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev-secret", "xxx"})


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class ClockMode(StrEnum):
    LIVE = "live"
    REPLAY = "replay"


class CommonSettings(BaseSettings):
    """What every service needs: where the broker and DB are, how to log, which clock."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_file=None)

    environment: Environment = Environment.DEV
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_session_timeout_ms: int = Field(default=6000, ge=1000)
    topic_prefix: str = ""
    topic_partitions: int = Field(default=4, ge=1, le=256)
    database_url: str = "sqlite:///var/salescoach.db"
    clock_mode: ClockMode = ClockMode.LIVE
    log_level: str = "INFO"
    log_json: bool = False
    var_dir: Path = Path("var")

    def secrets(self) -> dict[str, SecretStr]:
        """Every SecretStr field of this settings object, by field name."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        }

    @model_validator(mode="after")
    def _no_placeholder_secrets_outside_dev(self) -> Self:
        if self.environment is Environment.DEV:
            return self
        weak = [
            name
            for name, value in self.secrets().items()
            if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if weak:
            raise ValueError(f"placeholder secret(s) not allowed outside dev: {', '.join(weak)}")
        return self
