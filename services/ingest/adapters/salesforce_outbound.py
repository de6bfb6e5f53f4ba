"""The `salesforce` route: Salesforce Outbound Messages (workflow SOAP notifications).

Request: POST text/xml, a SOAP `notifications` message of 1–100 Notifications (see
`salesforce_soap`). Auth: `salesforce_auth` (organisation allow-list, optional Basic). Answer:
the SOAP Ack (200) once every notification is stored, parked or ignored; a SOAP Fault with
the refusal's status otherwise (401/400/413/415/422, 503 + Retry-After).

Objects: Opportunity (`salesforce_opportunities`), Task and Event (`salesforce_activities`);
any other sObject is ignored as not tracked: an outbound message definition on another object
is an admin's choice, and nothing about it would map after a replay either.

Opportunity notifications carry the record's state at send time, not what changed: `enrich`
attaches the last state seen of the record (store key: organisation + record id), applying
earlier notifications of the same request first, and `commit` saves the new states, each
only if newer. `map` diffs the two: older than what was seen → ignored as stale; the same
version → ignored as a duplicate; first sighting → opportunity.created. An item keeps the
`previous` state it was enriched with, so a parked one replays to the same events.

Delivery ids (event id = uuid5 of vendor, delivery id, type):

- Opportunity: `<org15>:<record id>:<version>`, the version being the record's modification
  stamp (SystemModstamp, else LastModifiedDate), so the same state re-sent under the same or
  a new notification Id maps to the same ids;
- Task: `<org15>:<record id>` (one task, one activity, however often it is re-sent or edited);
- Event: `<org15>:<record id>:<start version>` when booked (a move is a new booking),
  `<org15>:<record id>` when held.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response

from services.ingest.adapters import salesforce_fields as f
from services.ingest.adapters import salesforce_soap as soap
from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    Mapped,
    ParkReason,
    Receipt,
    Unmappable,
    WebhookRequest,
    require_media_type,
)
from services.ingest.adapters.salesforce_activities import (
    ActivityChange,
    meeting_result,
    task_result,
)
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_base import SalesforceAdapterBase
from services.ingest.adapters.salesforce_opportunities import (
    OpportunityChange,
    diff,
    opportunity_events,
)
from services.ingest.adapters.salesforce_store import (
    PREVIOUS,
    Snapshot,
    SnapshotKey,
    SqlSnapshotStore,
    snapshot_key,
)
from services.ingest.intake import Refused
from services.ingest.mapping import MappingConfig
from services.ingest.settings import IngestSettings

CHANNEL = "outbound"

OPENAPI: dict[str, Any] = {
    "summary": "Receive Salesforce Outbound Messages",
    "description": "A SOAP 1.1 `notifications` message from an Outbound Message definition "
    "on Opportunity, Task or Event. Accepted from the organisations in SALESFORCE_ORG_ID, "
    "with HTTP Basic when SALESFORCE_USER is set. Answers the SOAP Ack once every "
    "notification is stored, parked or ignored; refusals are SOAP Faults.",
    "request": {
        "requestBody": {
            "required": True,
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
    },
    "ok": "The notifications are stored, parked or ignored: the SOAP Ack.",
    "ok_schema": {"type": "string"},
    "media_type": "text/xml",
}


class SalesforceOutboundAdapter(SalesforceAdapterBase):
    """Salesforce Outbound Messages → canonical events."""

    vendor = "salesforce"
    openapi = OPENAPI

    def authenticate(self, request: WebhookRequest) -> None:
        self.access.check(request, _organizations)

    def parse(self, request: WebhookRequest) -> list[Item]:
        require_media_type(request.content_type, soap.ACCEPTED_MEDIA_TYPES)
        return soap.parse_notifications(request.body)

    def stateful(self, item: Item) -> bool:
        return _tracked_state(item)

    def key(self, item: Item) -> SnapshotKey:
        return _key(item)

    def snapshot(self, item: Item) -> Snapshot | None:
        return _snapshot(item)

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        sobject = item.get("sobject")
        record = item.get("record")
        organization_id = item.get("organization_id")
        if not isinstance(record, dict) or not isinstance(organization_id, str):
            raise Unmappable(ParkReason.MISSING_FIELD, "the notification's record is missing")
        record_id = str(f.text(record, "Id") or "")
        if not record_id:
            raise Unmappable(ParkReason.MISSING_FIELD, "the record's Id is missing")
        if sobject == "Opportunity":
            return _opportunity(item, record, organization_id[:15], record_id, mapping)
        if sobject in ("Task", "Event"):
            at = f.modified_at(record) or f.moment(record, "CreatedDate")
            if at is None:
                raise Unmappable(ParkReason.MISSING_FIELD, "LastModifiedDate is missing")
            changed_by = f.text(record, "LastModifiedById")
            change = ActivityChange(
                organization_id[:15], record_id, record, at, changed_by=changed_by
            )
            if sobject == "Task":
                return task_result(change, mapping.salesforce)
            return meeting_result(change, mapping.salesforce)
        return Ignored(IgnoreReason.NOT_TRACKED, f"{sobject} records are not tracked")

    async def commit(self, items: Sequence[Item]) -> None:
        snapshots = [
            snapshot for item in items if _tracked_state(item) and (snapshot := _snapshot(item))
        ]
        await self.store.save(snapshots)

    def acknowledge(self, receipt: Receipt) -> Response:
        del receipt
        return soap.ack()

    def refusal(self, refused: Refused) -> Response:
        return soap.fault(refused)


def _organizations(request: WebhookRequest) -> list[str]:
    return [soap.organization_of(soap.read_envelope(request.body))]


def _tracked_state(item: Item) -> bool:
    """Whether the item is a record state diffed against the previous one."""
    return item.get("sobject") == "Opportunity" and isinstance(item.get("record"), dict)


def _key(item: Item) -> SnapshotKey:
    return snapshot_key(CHANNEL, str(item["organization_id"]), str(item["record"].get("Id")))


def _snapshot(item: Item) -> Snapshot | None:
    """The item's record as a snapshot, or None when it has no usable modification stamp."""
    record = item["record"]
    try:
        stamp = f.stamp_of(record)
    except Unmappable:
        return None
    if stamp is None or not record.get("Id"):
        return None
    try:
        version = f.version(stamp)
    except Unmappable:
        return None
    return Snapshot(
        CHANNEL, str(item["organization_id"]), str(record["Id"]), version, stamp, dict(record)
    )


def _opportunity(
    item: Item, record: f.Record, organization_id: str, record_id: str, mapping: MappingConfig
) -> ItemResult:
    stamp = f.stamp_of(record)
    at = f.modified_at(record)
    if stamp is None or at is None:
        raise Unmappable(
            ParkReason.MISSING_FIELD, "LastModifiedDate (or SystemModstamp) is missing"
        )
    version = f.version(stamp)
    previous = item.get(PREVIOUS)
    before: f.Record | None = None
    if isinstance(previous, dict):
        seen = str(previous.get("version", ""))
        if version < seen:
            return Ignored(IgnoreReason.STALE, f"{record_id} is older than the state already seen")
        if version == seen:
            return Ignored(IgnoreReason.DUPLICATE, f"{record_id} at this version was already seen")
        fields = previous.get("fields")
        before = fields if isinstance(fields, dict) else {}
    change = OpportunityChange(
        record_id=record_id,
        after=record,
        before=before,
        changed=diff(record, before),
        occurred_at=at,
        created_at=f.moment(record, "CreatedDate") or at,
        delivery_id=f"{organization_id}:{record_id}:{version}",
    )
    return Mapped(tuple(opportunity_events(change, mapping.salesforce)))


def build(settings: IngestSettings) -> SalesforceOutboundAdapter:
    """The adapter for this process's settings (401 naming SALESFORCE_ORG_ID when unset)."""
    return SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), SqlSnapshotStore(settings.database_url)
    )
