"""IngestSettings: defaults, environment names, and the placeholder-secret guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingest.settings import IngestSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INGEST_HOST", "INGEST_PORT", "INGEST_MAX_BATCH", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = IngestSettings()
    assert (settings.ingest_host, settings.ingest_port) == ("127.0.0.1", 8001)
    assert settings.ingest_max_body_bytes == 1024 * 1024
    assert settings.ingest_max_batch == 1000
    assert settings.max_future_skew.total_seconds() == 300


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_PORT", "9101")
    monkeypatch.setenv("INGEST_SECRET", "from-env-0123")
    monkeypatch.setenv("INGEST_MAX_FUTURE_SKEW_SECONDS", "60")
    settings = IngestSettings()
    assert settings.ingest_port == 9101
    assert settings.ingest_secret.get_secret_value() == "from-env-0123"
    assert "from-env-0123" not in repr(settings)
    assert settings.max_future_skew.total_seconds() == 60


def test_the_placeholder_secret_is_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INGEST_SECRET", raising=False)
    with pytest.raises(ValidationError, match="ingest_secret"):
        IngestSettings(environment="prod")


def test_settings_are_frozen() -> None:
    settings = IngestSettings()
    with pytest.raises(ValidationError):
        settings.ingest_port = 1  # type: ignore[misc]
