"""Settings of the digest service, built once at the entry point from the environment."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.settings import CommonSettings


class DigestSettings(CommonSettings):
    """Where the digest service listens, how it reaches Slack and SMTP, when digests go out.

    Environment: DIGEST_HOST, DIGEST_PORT, SLACK_BOT_TOKEN, SLACK_BASE_URL, SMTP_HOST, ...
    (field names upper-cased), plus the common KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, ...
    Outside ENVIRONMENT=dev a placeholder secret (such as the dev API key) is refused.
    """

    digest_host: str = "127.0.0.1"
    digest_port: int = Field(default=8004, ge=1, le=65535)
    slack_bot_token: SecretStr
    slack_base_url: str = "https://slack.com/api/"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    digest_from: str = "Salescoach <digest@salescoach.local>"
    digest_hour: int = Field(default=7, ge=0, le=23)
    digest_interval_seconds: float = Field(default=30.0, gt=0)
    api_key: SecretStr = SecretStr("dev-secret")
    public_base_url: str = "http://127.0.0.1:8000"
    # Where managers' mail clients reach this service for one-click unsubscribe (RFC 8058).
    digest_public_url: str = "http://127.0.0.1:8004"
    delivery_retry_initial_seconds: float = Field(default=0.5, gt=0)
    delivery_retry_max_seconds: float = Field(default=30.0, gt=0)

    @field_validator("slack_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names with urljoin, which drops a last segment without "/".
        return value if value.endswith("/") else value + "/"

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("api_key", "slack_bot_token")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        # A blank API key would let a blank X-API-Key header through, in any environment.
        if not value.get_secret_value().strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("digest_from")
    @classmethod
    def _sender_has_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1]:
            raise ValueError("DIGEST_FROM needs an email address, e.g. 'Name <a@b.example>'")
        return value

    @model_validator(mode="after")
    def _smtp_credentials_paired(self) -> Self:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        return self

    @property
    def sender_domain(self) -> str:
        """The domain of DIGEST_FROM, used in Message-IDs."""
        return parseaddr(self.digest_from)[1].rsplit("@", 1)[1]
