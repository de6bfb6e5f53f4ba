"""The README is the user's manual: its first lines give the two commands, and every
setting any service reads is documented in its table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.alerts.settings import AlertsSettings
from services.api.settings import ApiSettings
from services.digest.settings import DigestSettings
from services.ingest.settings import IngestSettings
from services.metrics.settings import MetricsSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_first_lines_give_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:6])
    assert "make run" in head and "make test" in head


@pytest.mark.parametrize(
    "settings", [IngestSettings, MetricsSettings, AlertsSettings, DigestSettings, ApiSettings]
)
def test_every_setting_is_in_the_table(settings: type[BaseSettings]) -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", README))
    missing = {name.upper() for name in settings.model_fields} - documented
    assert missing == set()
