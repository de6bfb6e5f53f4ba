"""The adapters of the webhook routes, built from the settings."""

from __future__ import annotations

from services.ingest.adapters import hubspot, pipedrive, salesforce_cdc, salesforce_outbound
from services.ingest.adapters.base import Adapter
from services.ingest.settings import IngestSettings


def build_adapters(settings: IngestSettings) -> list[Adapter]:
    """One adapter per vendor route, in route order."""
    built = (
        module.build(settings)
        for module in (salesforce_outbound, salesforce_cdc, hubspot, pipedrive)
    )
    return [adapter for adapter in built if adapter is not None]
