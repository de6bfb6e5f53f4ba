"""The Pipedrive section of the mapping file."""

from __future__ import annotations

from services.ingest.mapping_base import VendorMapping


class PipedriveMapping(VendorMapping):
    """Pipedrive: users, pipelines and activity types, plus this vendor's own fields."""
