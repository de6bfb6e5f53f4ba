"""Formatters by name, built from the environment's credentials (the same names ingest reads)."""

from __future__ import annotations

from collections.abc import Mapping

from simulator.org import Org
from simulator.vendors.base import VendorFormatter
from simulator.vendors.generic import CanonicalJsonFormatter

FORMATS = ("canonical", "salesforce", "salesforce-cdc", "hubspot", "pipedrive")
DEFAULT_SALESFORCE_ORG_ID = "00D5e000000SiMuEAK"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ValueError(f"{name} is not set (make run writes it to var/demo.env)")
    return value


def formatter_for(
    name: str, org: Org, env: Mapping[str, str], *, canonical: CanonicalJsonFormatter
) -> VendorFormatter:
    """The formatter for `name`; directory events always go through `canonical`."""
    if name == "canonical":
        return canonical
    if name in ("salesforce", "salesforce-cdc"):
        from simulator.vendors.salesforce import SalesforceCdcFormatter, SalesforceOutboundFormatter

        user, password = env.get("SALESFORCE_USER", ""), env.get("SALESFORCE_PASSWORD", "")
        organization_id = env.get("SALESFORCE_ORG_ID") or DEFAULT_SALESFORCE_ORG_ID
        kind = SalesforceOutboundFormatter if name == "salesforce" else SalesforceCdcFormatter
        return kind(
            org,
            organization_id=organization_id,
            basic_auth=(user, password) if user and password else None,
        )
    if name == "hubspot":
        from simulator.vendors.hubspot import HubSpotFormatter

        return HubSpotFormatter(
            org,
            portal_id=int(env.get("HUBSPOT_PORTAL_ID") or 62515),
            app_id=int(env.get("HUBSPOT_APP_ID") or 1_160_452),
            client_secret=_required(env, "HUBSPOT_CLIENT_SECRET"),
        )
    if name == "pipedrive":
        from simulator.vendors.pipedrive import PipedriveFormatter

        return PipedriveFormatter(
            org,
            company_id=int(env.get("PIPEDRIVE_COMPANY_ID") or 7_654_321),
            http_user=_required(env, "PIPEDRIVE_USER"),
            http_password=_required(env, "PIPEDRIVE_PASSWORD"),
        )
    raise ValueError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
