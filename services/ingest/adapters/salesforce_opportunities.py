"""Opportunity changes → canonical opportunity events (pure, shared by both channels).

A change is the record's fields after it, what was known before it (None: first sighting)
and which fields it changed. First sighting → `opportunity.created` (plus closed_won or
closed_lost when already closed). Afterwards:

- OwnerId → `owner_changed` (from_rep_id: the previous owner's rep when known and mapped);
- StageName → `stage_changed` into an open stage, `closed_won` / `closed_lost` into a
  won / lost one (the mapping's pipeline decides; an unknown stage parks);
- Amount → `amount_changed`, except when the same change closes the deal won: the amount
  then rides on `closed_won`;
- CloseDate → `close_date_changed`.

A field set to null yields nothing (the contract has no "no amount"). `from_*` values come
from the previous state, null when it is unknown. The rep is the opportunity's owner;
account_id is AccountId, contact_id ContactId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.ingest.adapters import salesforce_fields as f
from services.ingest.adapters.base import ParkReason, Unmappable, build_event, rep_for
from services.ingest.adapters.salesforce_mapping import DEFAULT_PIPELINE, SalesforceMapping
from services.ingest.mapping_base import PipelineMapping, StageOutcome
from shared.events import SalesEvent

TRACKED_FIELDS = frozenset({"StageName", "Amount", "CloseDate", "OwnerId", "CurrencyIsoCode"})


@dataclass(frozen=True)
class OpportunityChange:
    """One change to one opportunity, as far as it is known."""

    record_id: str
    after: f.Record  # the fields after the change (what is known of them)
    before: f.Record | None  # the fields before it; None on first sighting
    changed: frozenset[str]  # the fields the change set (or nulled)
    occurred_at: datetime  # when the change was made
    created_at: datetime  # when the record was created (for opportunity.created)
    delivery_id: str  # the change's identity; event ids derive from it and the event type
    user_fallback: str | None = None  # who made the change, when the owner is not known


def diff(after: f.Record, before: f.Record | None) -> frozenset[str]:
    """The tracked fields whose value differs between two full states (absent = null),
    compared as values: `60000.0` and `6.0E4` are the same amount."""
    if before is None:
        return frozenset()
    return frozenset(name for name in TRACKED_FIELDS if _value(after, name) != _value(before, name))


def _value(record: f.Record, name: str) -> object:
    if name == "Amount":
        return f.money(record, name)
    if name == "CloseDate":
        return f.day(record, name)
    return f.text(record, name)


def opportunity_events(change: OpportunityChange, mapping: SalesforceMapping) -> list[SalesEvent]:
    """The canonical events of one change; raises `Unmappable` for unknown users/stages."""
    after = change.after
    owner = f.text(after, "OwnerId") or change.user_fallback
    rep = rep_for(mapping.users, owner, vendor=f.VENDOR)
    pipeline = _pipeline(after, mapping)
    stage = f.text(after, "StageName")
    common: dict[str, Any] = {
        "vendor": f.VENDOR,
        "delivery_id": change.delivery_id,
        "occurred_at": change.occurred_at,
        "rep_id": rep,
        "account_id": f.account_of(after),
        "opportunity_id": change.record_id,
        "contact_id": f.reference(after, "ContactId", f.CONTACT),
    }
    if change.before is None:
        return _created(change, mapping, pipeline, stage, common)
    events: list[SalesEvent] = []
    if "OwnerId" in change.changed and f.text(after, "OwnerId"):
        previous_owner = f.text(change.before, "OwnerId")
        payload: dict[str, Any] = {
            "from_rep_id": mapping.users.get(previous_owner or ""),
            "to_rep_id": rep,
        }
        events.append(_event(common, "opportunity.owner_changed", payload))
    closes_won = False
    if "StageName" in change.changed and stage is not None:
        outcome = _outcome(pipeline, stage)
        closes_won = outcome is StageOutcome.WON
        events.append(_stage_event(change, mapping, pipeline, stage, outcome, common))
    amount = f.money(after, "Amount")
    if "Amount" in change.changed and amount is not None and not closes_won:
        payload = {
            "from_amount": f.money(change.before, "Amount"),
            "to_amount": amount,
            "currency": _currency(after, mapping),
        }
        events.append(_event(common, "opportunity.amount_changed", payload))
    close_date = f.day(after, "CloseDate")
    if "CloseDate" in change.changed and close_date is not None:
        payload = {"from_date": f.day(change.before, "CloseDate"), "to_date": close_date}
        events.append(_event(common, "opportunity.close_date_changed", payload))
    return events


def _created(
    change: OpportunityChange,
    mapping: SalesforceMapping,
    pipeline: Pipeline,
    stage: str | None,
    common: Mapping[str, Any],
) -> list[SalesEvent]:
    if stage is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "StageName is missing")
    outcome = _outcome(pipeline, stage)
    payload = {
        "name": f.text(change.after, "Name") or "",
        # A deal first seen closed has no canonical open stage: its own stage name stands.
        "stage": pipeline.spec.stages.get(stage, stage),
        "amount": f.money(change.after, "Amount") or Decimal(0),
        "currency": _currency(change.after, mapping),
        "close_date": f.day(change.after, "CloseDate"),
        "pipeline": pipeline.spec.name,
    }
    events = [_event({**common, "occurred_at": change.created_at}, "opportunity.created", payload)]
    if outcome is not StageOutcome.OPEN:
        events.append(_stage_event(change, mapping, pipeline, stage, outcome, common))
    return events


def _stage_event(
    change: OpportunityChange,
    mapping: SalesforceMapping,
    pipeline: Pipeline,
    stage: str,
    outcome: StageOutcome,
    common: Mapping[str, Any],
) -> SalesEvent:
    if outcome is StageOutcome.WON:
        return _event(common, "opportunity.closed_won", {"amount": f.money(change.after, "Amount")})
    if outcome is StageOutcome.LOST:
        reason = f.text(change.after, mapping.loss_reason_field)
        return _event(common, "opportunity.closed_lost", {"reason": reason})
    before = f.text(change.before, "StageName") if change.before is not None else None
    stages = pipeline.spec.stages
    payload = {"from_stage": stages.get(before or ""), "to_stage": stages[stage]}
    return _event(common, "opportunity.stage_changed", payload)


@dataclass(frozen=True)
class Pipeline:
    key: str  # its key in the mapping file
    spec: PipelineMapping


def _pipeline(record: f.Record, mapping: SalesforceMapping) -> Pipeline:
    key = DEFAULT_PIPELINE
    if mapping.pipeline_field is not None:
        key = f.text(record, mapping.pipeline_field) or DEFAULT_PIPELINE
    pipeline = mapping.pipelines.get(key)
    if pipeline is None:
        raise Unmappable(
            ParkReason.UNKNOWN_PIPELINE,
            f"pipeline {key!r} is not in the mapping (salesforce.pipelines)",
        )
    return Pipeline(key, pipeline)


def _outcome(pipeline: Pipeline, stage: str) -> StageOutcome:
    outcome = pipeline.spec.outcome(stage)
    if outcome is None:
        raise Unmappable(
            ParkReason.UNKNOWN_STAGE,
            f"stage {stage!r} is not in the mapping (salesforce.pipelines.{pipeline.key}.stages, "
            "or its won/lost)",
        )
    return outcome


def _currency(record: f.Record, mapping: SalesforceMapping) -> str:
    return f.text(record, "CurrencyIsoCode") or mapping.currency


def _event(common: Mapping[str, Any], event_type: str, payload: Mapping[str, Any]) -> SalesEvent:
    return build_event(event_type=event_type, payload=payload, **common)
