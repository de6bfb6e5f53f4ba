"""API settings refuse unusable keys; key comparison is exact and never raises."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from services.api.deps import key_matches
from services.api.settings import ApiSettings


def test_defaults() -> None:
    settings = ApiSettings(_env_file=None, environment="dev")
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert "dev-secret" not in repr(settings)


def test_placeholder_key_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="api_key"):
        ApiSettings(environment="prod", api_key=SecretStr("dev-secret"))
    assert ApiSettings(environment="prod", api_key=SecretStr("a-real-key-1234"))


@pytest.mark.parametrize("key", ["", "   "])
def test_blank_key_refused_even_in_dev(key: str) -> None:
    with pytest.raises(ValidationError, match="API_KEY must not be blank"):
        ApiSettings(environment="dev", api_key=SecretStr(key))


def test_settings_are_frozen() -> None:
    settings = ApiSettings(api_key=SecretStr("k"))
    with pytest.raises(ValidationError):
        settings.api_port = 9000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("presented", "expected"),
    [
        ("s3cret-key", True),
        ("s3cret-kez", False),
        ("s3cret-key ", False),
        ("", False),
        (None, False),
        ("sécret", False),  # non-ASCII must not make compare_digest raise
    ],
)
def test_key_matches(presented: str | None, expected: bool) -> None:
    assert key_matches(presented, SecretStr("s3cret-key")) is expected
