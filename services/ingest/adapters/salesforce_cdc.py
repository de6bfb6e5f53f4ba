"""The salesforce-cdc webhook adapter (not written yet: no route until build returns one)."""

from __future__ import annotations

from services.ingest.adapters.base import Adapter
from services.ingest.settings import IngestSettings


def build(settings: IngestSettings) -> Adapter | None:
    """The adapter for this process's settings."""
    del settings
    return None
