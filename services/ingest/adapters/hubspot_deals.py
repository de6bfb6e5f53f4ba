"""HubSpot deal events (`deal.*`, or `object.*` with objectTypeId 0-3) as opportunity events.

Pure: every value comes from the event and the deal `enrich` hydrated (owner, pipeline, amount,
currency, associations), never from a clock.

- `creation` → opportunity.created from the hydrated deal; a deal created straight into a won
  or lost stage is followed by closed_won / closed_lost.
- `propertyChange`: `dealstage` → stage_changed, or closed_won / closed_lost when the deal's
  pipeline lists the stage as won / lost; `amount` → amount_changed; `closedate` →
  close_date_changed; `hubspot_owner_id` → owner_changed (the new owner's event). The value is
  the event's own (HubSpot sends no previous value, so `from_*` stay unset); the owner, the
  pipeline and the currency are the deal's when hydrated, seconds after the change.
- HubSpot follows a creation with one propertyChange per property set on it, at the deal's
  creation time: those are part of opportunity.created and are ignored. Other properties and
  actions (deletion, merge, restore, associationChange) are not tracked.

Values: an unset amount is 0 (a deal with no value yet) and amounts are rounded to cents, the
contract's precision; an unset currency is the mapping's `currency`; an unset close date is
none; a cleared owner or close date is not an event (the contract needs the new value).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    Mapped,
    ParkReason,
    Unmappable,
    build_event,
    rep_for,
    require,
)
from services.ingest.adapters.hubspot_api import Record
from services.ingest.adapters.hubspot_events import (
    TRACKED_DEAL_PROPERTIES,
    delivery_id,
    first_link,
    hydrated,
    object_id,
    occurred_at,
    parse_day,
    parse_instant,
    prop,
    subject,
)
from services.ingest.adapters.hubspot_mapping import DEFAULT_PIPELINE_ID, HubSpotMapping
from services.ingest.mapping_base import PipelineMapping, StageOutcome
from shared.events import SalesEvent

VENDOR = "hubspot"
CLOSED_STAGE_NAMES = {StageOutcome.WON: "Closed Won", StageOutcome.LOST: "Closed Lost"}
_CENT = Decimal("0.01")


def map_deal(item: Item, mapping: HubSpotMapping) -> ItemResult:
    """The opportunity events of one deal event."""
    _, action = subject(item)
    if action == "creation":
        return Mapped(_created(item, hydrated(item), mapping))
    if action != "propertyChange":
        return Ignored(IgnoreReason.NOT_TRACKED, f"deal {action or 'event'} is not tracked")
    name = str(item.get("propertyName") or "")
    if name not in TRACKED_DEAL_PROPERTIES:
        return Ignored(IgnoreReason.NOT_TRACKED, f"deal property {name!r} is not tracked")
    record = hydrated(item)
    if _part_of_creation(item, record):
        return Ignored(IgnoreReason.NOT_TRACKED, f"initial {name} of a new deal (its creation)")
    value = item.get("propertyValue")
    text = None if value is None or value == "" else str(value)
    if name == "dealstage":
        return Mapped(_stage_changed(item, record, mapping, require(text, "propertyValue")))
    if name == "amount":
        payload = {"to_amount": _amount(text), "currency": _currency(record, mapping)}
        return Mapped((_event(item, record, mapping, "opportunity.amount_changed", payload),))
    if text is None:
        return Ignored(IgnoreReason.NOT_TRACKED, f"{name} was cleared")
    if name == "closedate":
        payload = {"to_date": parse_day(text, "closedate")}
        return Mapped((_event(item, record, mapping, "opportunity.close_date_changed", payload),))
    new_rep = rep_for(mapping.users, text, vendor=VENDOR)
    payload = {"to_rep_id": new_rep}
    return Mapped((_event(item, record, mapping, "opportunity.owner_changed", payload, new_rep),))


def _created(item: Item, record: Record, mapping: HubSpotMapping) -> tuple[SalesEvent, ...]:
    pipeline_id, pipeline = _pipeline(record, mapping)
    stage_id = require(prop(record, "dealstage"), "the deal's dealstage")
    outcome = _outcome(pipeline_id, pipeline, stage_id)
    payload = {
        "name": (prop(record, "dealname") or "")[:500],
        "stage": pipeline.stages.get(stage_id) or CLOSED_STAGE_NAMES[outcome],
        "amount": _amount(prop(record, "amount")),
        "currency": _currency(record, mapping),
        "close_date": parse_day(prop(record, "closedate"), "closedate"),
        "pipeline": pipeline.name,
    }
    events = [_event(item, record, mapping, "opportunity.created", payload)]
    if outcome is not StageOutcome.OPEN:
        events.append(_closed(item, record, mapping, outcome))
    return tuple(events)


def _stage_changed(
    item: Item, record: Record, mapping: HubSpotMapping, stage_id: str
) -> tuple[SalesEvent, ...]:
    pipeline_id, pipeline = _pipeline(record, mapping)
    outcome = _outcome(pipeline_id, pipeline, stage_id)
    if outcome is not StageOutcome.OPEN:
        return (_closed(item, record, mapping, outcome),)
    payload = {"to_stage": pipeline.stages[stage_id]}
    return (_event(item, record, mapping, "opportunity.stage_changed", payload),)


def _closed(
    item: Item, record: Record, mapping: HubSpotMapping, outcome: StageOutcome
) -> SalesEvent:
    payload: dict[str, Any]
    if outcome is StageOutcome.WON:
        amount = prop(record, "amount")
        payload = {"amount": _amount(amount) if amount is not None else None}
        return _event(item, record, mapping, "opportunity.closed_won", payload)
    reason = prop(record, "closed_lost_reason")
    payload = {"reason": reason[:500] if reason else None}
    return _event(item, record, mapping, "opportunity.closed_lost", payload)


def _event(
    item: Item,
    record: Record,
    mapping: HubSpotMapping,
    event_type: str,
    payload: dict[str, Any],
    rep_id: str | None = None,
) -> SalesEvent:
    owner = prop(record, "hubspot_owner_id")
    return build_event(
        vendor=VENDOR,
        delivery_id=delivery_id(item),
        event_type=event_type,
        occurred_at=occurred_at(item),
        rep_id=rep_id or rep_for(mapping.users, owner, vendor=VENDOR),
        payload=payload,
        opportunity_id=object_id(item),
        account_id=first_link(record, "companies"),
        contact_id=first_link(record, "contacts"),
    )


def _pipeline(record: Record, mapping: HubSpotMapping) -> tuple[str, PipelineMapping]:
    pipeline_id = prop(record, "pipeline") or DEFAULT_PIPELINE_ID
    pipeline = mapping.pipelines.get(pipeline_id)
    if pipeline is None:
        raise Unmappable(
            ParkReason.UNKNOWN_PIPELINE,
            f"pipeline {pipeline_id!r} is not in the mapping (hubspot.pipelines)",
        )
    return pipeline_id, pipeline


def _outcome(pipeline_id: str, pipeline: PipelineMapping, stage_id: str) -> StageOutcome:
    outcome = pipeline.outcome(stage_id)
    if outcome is None:
        raise Unmappable(
            ParkReason.UNKNOWN_STAGE,
            f"stage {stage_id!r} of pipeline {pipeline_id!r} is not in the mapping "
            f"(hubspot.pipelines.{pipeline_id}.stages, or its won/lost)",
        )
    return outcome


def _part_of_creation(item: Item, record: Record) -> bool:
    """Whether a property change is one of those HubSpot sends for a deal's initial values."""
    created = record.get("createdAt") or prop(record, "createdate")
    created_at = parse_instant(str(created), "createdAt") if created else None
    return created_at is not None and occurred_at(item) <= _to_ms(created_at)


def _to_ms(moment: datetime) -> datetime:
    """`moment` to the millisecond, the precision of occurredAt."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _amount(text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        amount = Decimal(text).quantize(_CENT, ROUND_HALF_UP)  # infinities, huge values raise
    except (InvalidOperation, ValueError) as exc:
        raise Unmappable(ParkReason.INVALID_VALUE, f"amount {text[:50]!r} is not a number") from exc
    if amount.is_nan():
        raise Unmappable(ParkReason.INVALID_VALUE, f"amount {text[:50]!r} is not a number")
    return amount


def _currency(record: Record, mapping: HubSpotMapping) -> str:
    return prop(record, "deal_currency_code") or mapping.currency
