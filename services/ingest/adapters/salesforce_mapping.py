"""The Salesforce (Outbound Messages and CDC) section of the mapping file."""

from __future__ import annotations

from services.ingest.mapping_base import VendorMapping


class SalesforceMapping(VendorMapping):
    """Salesforce (Outbound Messages and CDC): the shared fields plus this vendor's own."""
