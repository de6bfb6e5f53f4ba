"""The `salesforce-cdc` route: Salesforce Change Data Capture through a CloudEvents relay.

Request: see `salesforce_cloudevents` (structured, batched or binary CloudEvents; `data` the
CometD change event). Auth: `salesforce_auth`, with the organisation taken from each
CloudEvent's `source` (`urn:salesforce:<org id>/…`). Answer: the JSON receipt.

changeType:

- CREATE: the whole record → opportunity.created (+ closed_won/closed_lost), the email or call
  of a completed Task, the booking (or holding) of an Event;
- UPDATE: only the changed fields (changedFields, nulledFields set to null) → the opportunity
  events of those fields, a Task's completion, an Event's booking, move or holding; edits of
  anything else are ignored (not tracked);
- DELETE, UNDELETE: ignored (no canonical event: a deletion unmakes nothing that happened);
- GAP_CREATE/UPDATE/DELETE/UNDELETE, GAP_OVERFLOW: Salesforce could not say what changed
  (no field data): parked (missing_field) so the loss is visible; the record needs a re-sync.

Other entities (Account, Contact, Lead…) are ignored as not tracked.

An UPDATE lacks the fields it did not change, and Salesforce sends no previous values. So the
adapter keeps the last state of each tracked record (the snapshot store, channel "cdc"):
`enrich` attaches it, `map` fills what the change lacks from it (a held meeting's kind, the
opportunity's owner, a completed task's subtype) and takes `from_*` values from it when it is
older than the change (null otherwise); `commit` saves the merged state if newer (version:
commitTimestamp, commitNumber, sequenceNumber). Completed tasks are not kept: no later change
of one yields an event. The rep is the record's OwnerId, else the change's commitUser.

Delivery ids: `<org15>:<transactionKey>:<sequenceNumber>:<record id>`, Salesforce's own
identity of the change, never the relay's CloudEvents id (a relay may re-wrap a redelivery
under a new one). Event time: commitTimestamp (a task's CompletedDateTime when present).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from services.ingest.adapters import salesforce_cloudevents as ce
from services.ingest.adapters import salesforce_fields as f
from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    Mapped,
    ParkReason,
    Unmappable,
    WebhookRequest,
)
from services.ingest.adapters.salesforce_activities import (
    ActivityChange,
    meeting_result,
    task_done,
    task_result,
)
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_base import SalesforceAdapterBase
from services.ingest.adapters.salesforce_opportunities import (
    OpportunityChange,
    opportunity_events,
)
from services.ingest.adapters.salesforce_store import (
    PREVIOUS,
    Snapshot,
    SnapshotKey,
    SqlSnapshotStore,
    snapshot_key,
)
from services.ingest.mapping import MappingConfig
from services.ingest.settings import IngestSettings

CHANNEL = "cdc"
TRACKED = frozenset({"Opportunity", "Task", "Event"})
_STATEFUL = frozenset({"CREATE", "UPDATE"})
# A Salesforce record id: 15 or 18 letters and digits (what the snapshot store may be asked).
_RECORD_ID = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")

_ENVELOPE_SCHEMA: dict[str, Any] = {"type": "object", "required": ["specversion", "source"]}
OPENAPI: dict[str, Any] = {
    "summary": "Receive Salesforce Change Data Capture events (CloudEvents relay)",
    "description": "CloudEvents 1.0 whose data is a CometD change event of Opportunity, Task "
    "or Event; `source` names the organisation (urn:salesforce:<org id>/…), which must be in "
    "SALESFORCE_ORG_ID; HTTP Basic when SALESFORCE_USER is set.",
    "request": {
        "requestBody": {
            "required": True,
            "content": {
                ce.STRUCTURED: {"schema": _ENVELOPE_SCHEMA},
                ce.BATCH: {"schema": {"type": "array", "items": _ENVELOPE_SCHEMA}},
                ce.JSON: {"schema": _ENVELOPE_SCHEMA},
            },
        },
    },
    "ok": "Every change is stored, parked or ignored.",
    "ok_schema": {
        "type": "object",
        "required": ["accepted", "parked", "ignored", "event_ids"],
        "properties": {
            "accepted": {"type": "integer", "description": "Events produced."},
            "parked": {"type": "integer", "description": "Changes on the dead-letter topic."},
            "ignored": {"type": "integer", "description": "Changes not tracked."},
            "event_ids": {"type": "array", "items": {"type": "string"}},
        },
    },
}


@dataclass(frozen=True)
class _Change:
    """One item's change, read defensively (items may come back from the dead-letter topic)."""

    entity: str
    change_type: str
    header: dict[str, Any]
    fields: dict[str, Any]  # what the change set; nulled fields as None

    @classmethod
    def of(cls, item: Item) -> _Change:
        envelope = item.get("cloudevent")
        data = envelope.get("data") if isinstance(envelope, dict) else None
        payload = data.get("payload") if isinstance(data, dict) else None
        header = payload.get("ChangeEventHeader") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or not isinstance(header, dict):
            raise Unmappable(ParkReason.MISSING_FIELD, "data.payload.ChangeEventHeader is missing")
        fields = {name: value for name, value in payload.items() if name != "ChangeEventHeader"}
        for name in _names(header.get("nulledFields")):
            fields[name] = None
        return cls(
            str(header.get("entityName") or ""), str(header.get("changeType") or ""), header, fields
        )

    @property
    def changed(self) -> frozenset[str]:
        """The fields the change carries (set, or nulled). A name in changedFields without
        a value is not trusted: CometD sends every changed non-null field."""
        return frozenset(self.fields) - {"LastModifiedDate", "LastModifiedById", "SystemModstamp"}

    def version(self) -> str:
        at = self.committed_at()
        commit_number = self.header.get("commitNumber")
        sequence = self.header.get("sequenceNumber")
        return f.version(
            at,
            commit_number if _whole(commit_number) else 0,
            sequence if _whole(sequence) else 0,
        )

    def committed_at(self) -> datetime:
        value = self.header.get("commitTimestamp")
        if not _whole(value):
            raise Unmappable(
                ParkReason.MISSING_FIELD, "ChangeEventHeader.commitTimestamp is missing"
            )
        try:
            return f.from_epoch_ms(value)
        except (ValueError, OverflowError) as exc:
            raise Unmappable(ParkReason.INVALID_VALUE, "commitTimestamp is out of range") from exc


class SalesforceCdcAdapter(SalesforceAdapterBase):
    """Salesforce CDC change events (through a CloudEvents relay) → canonical events."""

    vendor = "salesforce-cdc"
    openapi = OPENAPI

    def authenticate(self, request: WebhookRequest) -> None:
        self.access.check(request, ce.organizations)

    def parse(self, request: WebhookRequest) -> list[Item]:
        return ce.parse_changes(request)

    def stateful(self, item: Item) -> bool:
        return _stateful(item)

    def key(self, item: Item) -> SnapshotKey:
        return _key(item)

    def snapshot(self, item: Item) -> Snapshot | None:
        return _snapshot(item)

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        change = _Change.of(item)
        if change.entity not in TRACKED:
            return Ignored(IgnoreReason.NOT_TRACKED, f"{change.entity} changes are not tracked")
        if change.change_type in ("DELETE", "UNDELETE"):
            return Ignored(IgnoreReason.NOT_TRACKED, f"{change.change_type} is not tracked")
        record_id = item.get("record_id")
        if change.change_type.startswith("GAP_"):
            raise Unmappable(
                ParkReason.MISSING_FIELD,
                f"{change.change_type} of {change.entity} {record_id or ''}: Salesforce sent "
                "no field data; re-sync the record",
            )
        if change.change_type not in _STATEFUL:
            raise Unmappable(ParkReason.INVALID_VALUE, f"changeType {change.change_type!r}")
        if not isinstance(record_id, str) or not record_id or "*" in record_id:
            raise Unmappable(ParkReason.MISSING_FIELD, "the change names no record id")
        if _RECORD_ID.fullmatch(record_id) is None:
            raise Unmappable(
                ParkReason.INVALID_VALUE, f"record id {record_id[:40]!r} is not a Salesforce id"
            )
        organization_id = str(item.get("organization_id") or "")[:15]
        transaction = change.header.get("transactionKey")
        sequence = change.header.get("sequenceNumber")
        if not transaction or not _whole(sequence):
            raise Unmappable(
                ParkReason.MISSING_FIELD, "ChangeEventHeader.transactionKey/sequenceNumber missing"
            )
        delivery_id = f"{organization_id}:{transaction}:{sequence}:{record_id}"
        after, before = _states(item, change)
        created = change.change_type == "CREATE"
        commit_user = change.header.get("commitUser")
        user = commit_user if isinstance(commit_user, str) else None
        at = change.committed_at()
        if change.entity == "Opportunity":
            opportunity = OpportunityChange(
                record_id=record_id,
                after=after,
                before=None if created else before,
                changed=change.changed,
                occurred_at=at,
                created_at=at,
                delivery_id=delivery_id,
                user_fallback=user,
            )
            return Mapped(tuple(opportunity_events(opportunity, mapping.salesforce)))
        activity = ActivityChange(
            organization_id,
            record_id,
            after,
            at,
            changed=None if created else change.changed,
            delivery_id=delivery_id,
            changed_by=user,
        )
        if change.entity == "Task":
            return task_result(activity, mapping.salesforce)
        return meeting_result(activity, mapping.salesforce)

    async def commit(self, items: Sequence[Item]) -> None:
        snapshots = [
            snapshot
            for item in items
            if _stateful(item) and (snapshot := _snapshot(item)) and _worth_keeping(snapshot)
        ]
        await self.store.save(snapshots)


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _stateful(item: Item) -> bool:
    """Whether the item is a CREATE/UPDATE of one tracked record (has a state to keep)."""
    try:
        change = _Change.of(item)
    except Unmappable:
        return False
    record_id = item.get("record_id")
    return (
        change.entity in TRACKED
        and change.change_type in _STATEFUL
        and isinstance(record_id, str)
        and _RECORD_ID.fullmatch(record_id) is not None
    )


def _key(item: Item) -> SnapshotKey:
    return snapshot_key(CHANNEL, str(item.get("organization_id")), str(item["record_id"]))


def _previous(item: Item) -> tuple[str, dict[str, Any]] | None:
    previous = item.get(PREVIOUS)
    if not isinstance(previous, dict) or not isinstance(previous.get("fields"), dict):
        return None
    return str(previous.get("version", "")), previous["fields"]


def _states(item: Item, change: _Change) -> tuple[dict[str, Any], dict[str, Any]]:
    """(after, before): the record as the change left it, filled from the last known state,
    and the state before it when the known one is older than the change (else unknown)."""
    previous = _previous(item)
    if previous is None:
        return dict(change.fields), {}
    seen, fields = previous
    after = {**fields, **change.fields}
    return after, (dict(fields) if seen < change.version() else {})


def _snapshot(item: Item) -> Snapshot | None:
    """The record's state after the item's change, or None when the change has no version."""
    try:
        change = _Change.of(item)
        version = change.version()
        at = change.committed_at()
    except Unmappable:
        return None
    previous = _previous(item)
    fields = {**previous[1], **change.fields} if previous else dict(change.fields)
    return Snapshot(
        CHANNEL, str(item.get("organization_id")), str(item["record_id"]), version, at, fields
    )


def _worth_keeping(snapshot: Snapshot) -> bool:
    """Completed tasks are never needed again; every other tracked record is."""
    if not snapshot.record_id.startswith("00T"):
        return True
    try:
        return not task_done(snapshot.fields)
    except Unmappable:
        return True


def build(settings: IngestSettings) -> SalesforceCdcAdapter:
    """The adapter for this process's settings (401 naming SALESFORCE_ORG_ID when unset)."""
    return SalesforceCdcAdapter(
        SalesforceAccess.from_settings(settings), SqlSnapshotStore(settings.database_url)
    )
