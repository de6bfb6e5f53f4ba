"""The ingest mapping file for a simulated org: each CRM's users, stages and activity types.

`python -m simulator mapping --scenario demo --out var/ingest-mapping.json` writes what ingest's
`INGEST_MAPPING_FILE` expects (see services/ingest/mapping.py), one section per CRM, from each
vendor formatter's `ingest_mapping()`. Vendor ids are derived from canonical ids, so the file
holds for every start date and live day of the same scenario and seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.org import Org
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for

SECTIONS = {"salesforce": "salesforce", "hubspot": "hubspot", "pipedrive": "pipedrive"}
# The mapping holds no secret, but building a formatter asks for its credentials.
_PLACEHOLDERS = {
    "HUBSPOT_CLIENT_SECRET": "unused",
    "PIPEDRIVE_USER": "unused",
    "PIPEDRIVE_PASSWORD": "unused",
}


def ingest_mapping(org: Org, env: Mapping[str, str]) -> dict[str, Any]:
    """The mapping document for `org`, with the vendor account ids of `env`."""
    canonical = CanonicalJsonFormatter(secret="unused")  # noqa: S106 - never signs here
    settings = {**_PLACEHOLDERS, **{k: v for k, v in env.items() if v}}
    document: dict[str, Any] = {}
    for section, format_name in SECTIONS.items():
        formatter = formatter_for(format_name, org, settings, canonical=canonical)
        document[section] = formatter.ingest_mapping()  # type: ignore[attr-defined]
    return document
