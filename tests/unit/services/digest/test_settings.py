"""Digest settings: defaults, normalisation, and refusals."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.digest.settings import DigestSettings
from shared.settings import Environment


def settings(**overrides: object) -> DigestSettings:
    return DigestSettings(**({"slack_bot_token": SecretStr("xoxb-test")} | overrides))


def test_defaults() -> None:
    built = settings()
    assert (built.digest_host, built.digest_port, built.digest_hour) == ("127.0.0.1", 8004, 7)
    assert built.slack_base_url == "https://slack.com/api/"
    assert (built.smtp_port, built.smtp_starttls) == (8025, False)
    assert built.sender_domain == "salescoach.local"


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("SLACK_BASE_URL", "http://127.0.0.1:8090/api")
    monkeypatch.setenv("DIGEST_HOUR", "8")
    built = DigestSettings()
    assert built.slack_bot_token.get_secret_value() == "xoxb-from-env"
    assert built.slack_base_url == "http://127.0.0.1:8090/api/"
    assert built.digest_hour == 8
    assert "xoxb-from-env" not in repr(built)


def test_settings_are_immutable() -> None:
    with pytest.raises(ValidationError):
        settings().digest_hour = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides",
    [
        {"slack_bot_token": SecretStr(" ")},
        {"api_key": SecretStr("")},
        {"digest_hour": 24},
        {"digest_from": "no address here"},
        {"smtp_username": "mailer"},
        {"environment": Environment.PROD},  # API_KEY is the dev placeholder
    ],
)
def test_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**overrides)


def test_prod_with_real_secrets_is_accepted() -> None:
    built = settings(environment=Environment.PROD, api_key=SecretStr("a-long-random-key"))
    assert built.environment is Environment.PROD
