"""Pipedrive deals as canonical opportunity events (pure).

- create → `opportunity.created` (stage through `pipedrive.pipelines[pipeline_id].stages`),
  then `opportunity.closed_won`/`closed_lost` when the deal is created closed.
- change → one event per tracked field in `previous` (which holds only the changed fields,
  with their old values), in this order: owner_id (v1: user_id) → `owner_changed`; value or
  currency → `amount_changed` (folded into `closed_won`'s amount when the same change wins the
  deal); expected_close_date → `close_date_changed` (not when cleared); stage_id or
  pipeline_id → `stage_changed` from the previous stage; status won|lost →
  `closed_won`/`closed_lost` with lost_reason. A stage listed in a pipeline's won/lost closes
  the deal the same way. A deal reopened or edited elsewhere is ignored.
- delete → ignored: the product has no event for a deleted deal (a deal leaves the funnel by
  being won or lost, which Pipedrive sends as a change of status first).

The rep is the deal's owner after the change. Times: add_time (created), stage_change_time,
won_time/lost_time (then close_time), else update_time, else meta.timestamp.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    ItemResult,
    Mapped,
    ParkReason,
    Unmappable,
    build_event,
    rep_for,
)
from services.ingest.adapters.pipedrive_fields import Envelope, amount, day, ref, text
from services.ingest.adapters.pipedrive_mapping import PipedriveMapping
from services.ingest.mapping_base import PipelineMapping, StageOutcome
from shared.events import SalesEvent

VENDOR = "pipedrive"
_CLOSED = {StageOutcome.WON: "won", StageOutcome.LOST: "lost"}
_TIMES = {
    "won": ("won_time", "close_time", "update_time"),
    "lost": ("lost_time", "close_time", "update_time"),
}


def map_deal(envelope: Envelope, mapping: PipedriveMapping) -> ItemResult:
    """The events of one deal create, change or delete."""
    if envelope.action == "delete":
        return Ignored(IgnoreReason.NOT_TRACKED, "deal deleted: no canonical event for it")
    deal = _Deal(envelope, mapping)
    events = deal.created() if envelope.action == "create" else deal.changes()
    if not events:
        fields = ", ".join(sorted(envelope.previous)) or "none"
        return Ignored(IgnoreReason.NOT_TRACKED, f"deal change of untracked fields: {fields}")
    return Mapped(tuple(events))


def _stage(
    mapping: PipedriveMapping, pipeline_id: Any, stage_id: Any
) -> tuple[PipelineMapping, str, StageOutcome]:
    """A stage's pipeline, id and outcome; parks an unknown pipeline or stage."""
    stage = ref(stage_id)
    if stage is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "deal: data.stage_id is missing")
    pipeline_key = ref(pipeline_id)
    if pipeline_key is None:  # stage ids are unique across a company's pipelines
        owners = [key for key, known in mapping.pipelines.items() if known.outcome(stage)]
        pipeline_key = owners[0] if owners else "(none)"
    pipeline = mapping.pipelines.get(pipeline_key)
    if pipeline is None:
        raise Unmappable(
            ParkReason.UNKNOWN_PIPELINE,
            f"pipeline {pipeline_key} is not in the mapping (pipedrive.pipelines)",
        )
    outcome = pipeline.outcome(stage)
    if outcome is None:
        raise Unmappable(
            ParkReason.UNKNOWN_STAGE,
            f"stage {stage} of pipeline {pipeline_key} is not in the mapping "
            f"(pipedrive.pipelines.{pipeline_key}.stages)",
        )
    return pipeline, stage, outcome


def _stage_name(pipeline: PipelineMapping, stage: str) -> str:
    name = pipeline.stages.get(stage)
    if name is None:
        raise Unmappable(
            ParkReason.UNKNOWN_STAGE,
            f"stage {stage} closes deals but has no canonical name (add it to stages)",
        )
    return name


class _Deal:
    """One deal delivery being mapped."""

    def __init__(self, envelope: Envelope, mapping: PipedriveMapping) -> None:
        self.envelope, self.mapping, self.data = envelope, mapping, envelope.data

    def created(self) -> list[SalesEvent]:
        data = self.data
        pipeline, stage, outcome = self.stage_now()
        payload = {
            "name": text(data.get("title"))[:500],
            "stage": _stage_name(pipeline, stage),
            "amount": amount(data.get("value"), "data.value"),
            "close_date": day(data.get("expected_close_date"), "data.expected_close_date"),
            "pipeline": pipeline.name,
        }
        if text(data.get("currency")):
            payload["currency"] = text(data.get("currency"))
        at = self.envelope.time_of("add_time")
        events = [self.event("opportunity.created", payload, at)]
        closing = self._status() or _CLOSED.get(outcome)
        return events + self.closed(closing)

    def changes(self) -> list[SalesEvent]:
        envelope = self.envelope
        stage_event, stage_closing = self.stage_change()
        closing = self._status() if envelope.changed("status") else None
        closing = closing or stage_closing
        events = self.owner_change()
        if envelope.changed("value", "currency") and closing != "won":
            events += self.amount_change()
        if envelope.changed("expected_close_date"):
            events += self.close_date_change()
        return events + stage_event + self.closed(closing)

    def owner_change(self) -> list[SalesEvent]:
        envelope = self.envelope
        field = next((f for f in ("owner_id", "user_id") if envelope.changed(f)), None)
        if field is None:
            return []
        to_rep = self.rep()
        before = ref(envelope.previous[field])
        from_rep = rep_for(self.mapping.users, before, vendor=VENDOR) if before else None
        if from_rep == to_rep:
            return []
        payload = {"from_rep_id": from_rep, "to_rep_id": to_rep}
        return [self.event("opportunity.owner_changed", payload, self._at("update_time"))]

    def amount_change(self) -> list[SalesEvent]:
        before = self.envelope.before("value")
        payload: dict[str, Any] = {
            "from_amount": None if before is None else amount(before, "previous.value"),
            "to_amount": amount(self.data.get("value"), "data.value"),
        }
        if text(self.data.get("currency")):
            payload["currency"] = text(self.data.get("currency"))
        return [self.event("opportunity.amount_changed", payload, self._at("update_time"))]

    def close_date_change(self) -> list[SalesEvent]:
        to_date = day(self.data.get("expected_close_date"), "data.expected_close_date")
        if to_date is None:
            return []  # cleared: the canonical event needs a date
        before = self.envelope.before("expected_close_date")
        payload = {"from_date": day(before, "previous.expected_close_date"), "to_date": to_date}
        return [self.event("opportunity.close_date_changed", payload, self._at("update_time"))]

    def stage_change(self) -> tuple[list[SalesEvent], str | None]:
        """The stage_changed event, or the won/lost a closing stage means."""
        envelope = self.envelope
        if not envelope.changed("stage_id", "pipeline_id"):
            return [], None
        pipeline, stage, outcome = self.stage_now()
        if outcome in _CLOSED:
            return [], _CLOSED[outcome]
        from_stage = None
        if envelope.before("stage_id") is not None:
            was, stage_before, _ = self.stage_then()
            from_stage = was.stages.get(stage_before)
        payload = {"from_stage": from_stage, "to_stage": _stage_name(pipeline, stage)}
        at = self._at("stage_change_time", "update_time")
        return [self.event("opportunity.stage_changed", payload, at)], None

    def stage_now(self) -> tuple[PipelineMapping, str, StageOutcome]:
        return _stage(self.mapping, self.data.get("pipeline_id"), self.data.get("stage_id"))

    def stage_then(self) -> tuple[PipelineMapping, str, StageOutcome]:
        before = self.envelope.before
        return _stage(self.mapping, before("pipeline_id"), before("stage_id"))

    def closed(self, closing: str | None) -> list[SalesEvent]:
        if closing == "won":
            value = self.data.get("value")
            payload = {"amount": None if value is None else amount(value, "data.value")}
            return [self.event("opportunity.closed_won", payload, self._at(*_TIMES["won"]))]
        if closing == "lost":
            reason = text(self.data.get("lost_reason"))[:500] or None
            return [
                self.event("opportunity.closed_lost", {"reason": reason}, self._at(*_TIMES["lost"]))
            ]
        return []

    def _status(self) -> str | None:
        status = text(self.data.get("status"))
        return status if status in ("won", "lost") else None

    def _at(self, *fields: str) -> datetime:
        if self.envelope.action == "create":
            fields = (*fields, "add_time")
        return self.envelope.time_of(*fields)

    def rep(self) -> str:
        data = self.data
        owner = data.get("owner_id") if data.get("owner_id") is not None else data.get("user_id")
        return rep_for(self.mapping.users, ref(owner), vendor=VENDOR)

    def event(self, event_type: str, payload: dict[str, Any], at: datetime) -> SalesEvent:
        data = self.data
        return build_event(
            vendor=VENDOR,
            delivery_id=self.envelope.delivery_id(),
            event_type=event_type,
            occurred_at=at,
            rep_id=self.rep(),
            payload=payload,
            account_id=ref(data.get("org_id")),
            opportunity_id=self.envelope.record_id(),
            contact_id=ref(data.get("person_id")),
        )
