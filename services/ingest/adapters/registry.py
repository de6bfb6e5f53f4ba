"""The adapters of the webhook routes, built from the settings."""

from __future__ import annotations

from services.ingest.adapters.base import Adapter
from services.ingest.settings import IngestSettings


def build_adapters(settings: IngestSettings) -> list[Adapter]:
    """One adapter per vendor route, in route order."""
    del settings  # each vendor's adapter is added here as it lands
    adapters: list[Adapter] = []
    return adapters
