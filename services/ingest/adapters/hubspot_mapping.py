"""The HubSpot section of the mapping file."""

from __future__ import annotations

from services.ingest.mapping_base import VendorMapping


class HubSpotMapping(VendorMapping):
    """HubSpot: users, pipelines and activity types, plus this vendor's own fields."""
