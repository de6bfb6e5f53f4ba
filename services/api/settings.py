"""Settings of the api service, built once at the entry point from the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from shared.settings import CommonSettings


class ApiSettings(CommonSettings):
    """Where the gateway listens and the key its callers present.

    Environment: API_HOST, API_PORT, API_KEY, plus the common DATABASE_URL, LOG_LEVEL, ...
    Outside ENVIRONMENT=dev a placeholder API_KEY (such as the dev default) is refused.
    """

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr = SecretStr("dev-secret")

    @field_validator("api_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr) -> SecretStr:
        # A blank key would let a blank X-API-Key header through, in any environment.
        if not value.get_secret_value().strip():
            raise ValueError("API_KEY must not be blank")
        return value
