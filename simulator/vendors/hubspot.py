"""HubSpot: canonical events as Webhooks API v3 deliveries, and the CRM records behind them.

One POST to `/v1/webhooks/hubspot` holds a JSON array of fewer than 100 events, compact, in the
field order real deliveries use. Every event carries `eventId`, `subscriptionId`, `portalId`,
`appId`, `occurredAt` (epoch ms), `subscriptionType`, `attemptNumber` 0, `objectId`,
`changeSource` "CRM_UI" and `sourceId` "userId:<owner id>".

- Deals (legacy format, `deal.*`): opportunity.created is `deal.creation` (changeFlag CREATED)
  followed by one `deal.propertyChange` per initial property (dealname, dealstage, amount,
  closedate when set, hubspot_owner_id). Later changes are single property changes: stage,
  amount, closedate, hubspot_owner_id; closed_won / closed_lost are dealstage changes to
  `closedwon` / `closedlost`. propertyValue is always a string: amount a plain decimal
  ("12000", "950.5"), closedate epoch ms at midnight UTC, owner a HubSpot owner id.
- Engagements (generic format, ids only): email.sent and email.replied are `object.creation`
  with objectTypeId 0-49, call.made 0-48, meeting.scheduled 0-47. meeting.held is an
  `object.propertyChange` of that same meeting (its id comes from the canonical meeting_id)
  setting hs_meeting_outcome to COMPLETED, with isSensitive false.

`Delivery.records` lists what the CRM objects API must serve (deploy/local/hubspot_api.py):
`{"object_type": "deals"|"emails"|"calls"|"meetings", "id": "<numeric>", "properties":
{name: str | None}, "associations": {"deals"|"companies"|"contacts": [ids]}, "updatedAt": ISO,
"createdAt": ISO (creations only)}`. A later record for the same object updates it (properties
merged, associations added), as a PATCH would: a deal change sends only what changed plus what
the event needs hydrated (closed_won's amount, closed_lost's reason); a held meeting is whole.

`ingest_mapping()` is the `hubspot` section of ingest's mapping file for this portal.
`mapping()` keys: `vendor`, `portal_id`, `app_id`, `webhook_path`; `owners` (owner id ->
rep_id, the whole org); `stages` (stage id -> {stage, order, is_closed, is_won}), `won_stage_ids`,
`lost_stage_ids`; `object_types` (objectTypeId -> {kind, object_type}); `call_dispositions`
(GUID -> {label, connected}); `meeting_types` (hs_activity_type -> canonical kind);
`subscriptions` (subscriptionId -> what it watches); `ids` (object type -> emitted HubSpot id ->
canonical id: opportunity, account, contact and meeting ids; the canonical event_id for emails
and calls).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from shared.events import OPPORTUNITY_TYPES
from shared.hubspot_signature import signature_v1, signature_v3
from simulator.org import Org
from simulator.vendors.base import DIRECTORY_TYPES, CanonicalEvent, Delivery
from simulator.vendors.canonical import DEFAULT_STAGES
from simulator.vendors.hubspot_wire import (
    CALL_DISPOSITIONS,
    CONNECTED,
    ID_SPACES,
    LOST_STAGE_ID,
    MEETING_TYPES,
    NO_ANSWER,
    OBJECT_TYPES,
    USER_AGENT,
    WON_STAGE_ID,
    IdRegistry,
    StageIds,
    digest_int,
    epoch_ms,
    iso,
    meeting_properties,
    midnight,
    moment,
    number_text,
)

WEBHOOK_PATH = "/v1/webhooks/hubspot"
MAX_EVENTS_PER_REQUEST = 99  # HubSpot: a request holds "under 100" notifications
SCHEDULED_MEETING = timedelta(minutes=30)  # a booking carries no length; HubSpot's default
_DEAL_PROPERTIES = ("dealname", "dealstage", "amount", "closedate", "hubspot_owner_id")
_DEAL_CHANGES = frozenset(t.value for t in OPPORTUNITY_TYPES) - {"opportunity.created"}
_Subscription = tuple[str, str | None, str | None]  # (subscriptionType, objectTypeId, property)
# Subscriptions an app would set up, in creation order: their ids are consecutive.
_SUBSCRIPTIONS: tuple[_Subscription, ...] = (
    ("deal.creation", None, None),
    *(("deal.propertyChange", None, name) for name in _DEAL_PROPERTIES),
    ("object.creation", "0-49", None),
    ("object.creation", "0-48", None),
    ("object.creation", "0-47", None),
    ("object.propertyChange", "0-47", "hs_meeting_outcome"),
)


@dataclass
class _Group:
    """The HubSpot events and records of one canonical event."""

    occurred_at: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)


class HubSpotFormatter:
    """Renders canonical CRM events as one HubSpot portal's app would receive them."""

    vendor = "hubspot"

    def __init__(
        self,
        org: Org,
        *,
        portal_id: int,
        app_id: int,
        client_secret: str,
        stages: Sequence[str] = DEFAULT_STAGES,
        batch_window: timedelta = timedelta(seconds=5),
    ) -> None:
        self.portal_id, self.app_id = portal_id, app_id
        self.batch_window = batch_window
        self.stages = StageIds(tuple(stages), portal_id)
        self._secret = client_secret
        salt = f"hubspot:{portal_id}"
        self._ids = {space: IdRegistry(space, f"{salt}:{space}") for space in ID_SPACES}
        # The directory exists before any activity: its ids follow org order.
        for person in sorted(org.people, key=lambda p: p.index):
            self._ids["owners"].id_for(person.rep_id)
        for account in sorted(org.accounts, key=lambda a: a.index):
            self._ids["companies"].id_for(account.account_id)
            for contact_id in account.contact_ids:
                self._ids["contacts"].id_for(contact_id)
        first = 100_000 + digest_int(f"subscriptions:{app_id}") % 4_000_000
        self._subscriptions = {spec: first + n for n, spec in enumerate(_SUBSCRIPTIONS)}
        self._handlers: dict[str, Callable[[CanonicalEvent, _Group], None]] = {
            "opportunity.created": self._deal_created,
            **dict.fromkeys(_DEAL_CHANGES, self._deal_changed),
            "email.sent": self._email,
            "email.replied": self._email,
            "call.made": self._call,
            "meeting.scheduled": self._meeting_scheduled,
            "meeting.held": self._meeting_held,
        }

    def accepts(self, event: CanonicalEvent) -> bool:
        """Deal and engagement events; never directory events, which no CRM sends."""
        kind = str(event.get("type"))
        return kind not in DIRECTORY_TYPES and kind in self._handlers

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        """Deliveries batching the events that happen within `batch_window` of each other."""
        groups = [self._translate(event) for event in events]
        return [self._delivery(batch) for batch in self._batches(groups)]

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:
        """The headers HubSpot sends: v3 signature and timestamp, plus the legacy v1 signature."""
        timestamp = epoch_ms(moment(now))
        v3 = signature_v3(self._secret, "POST", url, delivery.body, timestamp)
        return {
            "User-Agent": USER_AGENT,
            "X-HubSpot-Timeout-Millis": "10000",
            # Webhooks-API requests label their X-HubSpot-Signature as v1 (HubSpot docs).
            "X-HubSpot-Signature": signature_v1(self._secret, delivery.body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": v3,
            "X-HubSpot-Request-Timestamp": str(timestamp),
        }

    def mapping(self) -> dict[str, Any]:
        """What an ingest adapter (or a scorer) needs to read these deliveries back."""
        return {
            "vendor": self.vendor,
            "portal_id": self.portal_id,
            "app_id": self.app_id,
            "webhook_path": WEBHOOK_PATH,
            "owners": {owner: rep for rep, owner in self._ids["owners"].by_key.items()},
            **self.stages.table(),
            "object_types": {
                type_id: {"kind": kind, "object_type": name}
                for name, (type_id, kind) in OBJECT_TYPES.items()
            },
            "call_dispositions": {
                guid: {"label": label, "connected": connected}
                for guid, (label, connected) in CALL_DISPOSITIONS.items()
            },
            "meeting_types": {label: kind for kind, label in MEETING_TYPES.items()},
            "subscriptions": {
                str(sid): {"subscriptionType": kind, "objectTypeId": type_id, "propertyName": prop}
                for (kind, type_id, prop), sid in self._subscriptions.items()
            },
            "ids": self._id_mapping(),
        }

    def ingest_mapping(self) -> dict[str, Any]:
        """This portal's section of ingest's mapping file (`hubspot`, see
        services/ingest/adapters/hubspot_mapping.py): every owner of the org, the deals'
        pipeline (our open stages in HubSpot's order, `decisionmakerboughtin` read as
        Negotiation), the engagement objects, call outcomes and meeting types."""
        stages: dict[str, str] = {}
        for name in self.stages.stages:
            if name == "Negotiation":  # HubSpot's bought-in stage comes before contract sent
                stages["decisionmakerboughtin"] = name
            stages[self.stages.id_of(name)] = name
        pipeline = {
            "name": "default",
            "stages": stages,
            "won": [WON_STAGE_ID],
            "lost": [LOST_STAGE_ID],
        }
        return {
            "users": {owner: rep for rep, owner in self._ids["owners"].by_key.items()},
            # Deals carry their canonical pipeline name as HubSpot's pipeline id: "default".
            "pipelines": {"default": pipeline},
            "activity_types": {
                type_id: kind
                for name, (type_id, kind) in OBJECT_TYPES.items()
                if name in ("emails", "calls", "meetings")
            },
            "call_dispositions": {
                guid: {"label": label, "connected": connected}
                for guid, (label, connected) in CALL_DISPOSITIONS.items()
            },
            "meeting_types": {label: kind for kind, label in MEETING_TYPES.items()},
            "currency": "USD",
        }

    def owner_id(self, rep_id: Any) -> str:
        """The HubSpot owner id of a rep (or manager)."""
        return self._ids["owners"].id_for(str(rep_id))

    def _id_mapping(self) -> dict[str, dict[str, str]]:
        ids = {
            space: {hs_id: key for key, hs_id in self._ids[space].by_key.items()}
            for space in ("deals", "companies", "contacts")
        }
        ids |= {name: {} for name in ("emails", "calls", "meetings")}
        for key, hs_id in self._ids["engagements"].by_key.items():
            object_type, canonical = key.split(":", 1)
            ids[object_type][hs_id] = canonical
        return ids

    # ---- events ----------------------------------------------------------------------------

    def _translate(self, event: CanonicalEvent) -> _Group:
        if not self.accepts(event):
            raise ValueError(f"HubSpot does not send {event.get('type')!r} events")
        group = _Group(occurred_at=moment(event["occurred_at"]))
        self._handlers[str(event["type"])](event, group)
        return group

    def _emit(
        self,
        event: CanonicalEvent,
        group: _Group,
        subscription: _Subscription,
        object_id: str,
        extra: dict[str, Any],
    ) -> None:
        """Append one HubSpot event; its eventId derives from the canonical one and position."""
        kind, type_id, _ = subscription
        position = len(group.events)
        body: dict[str, Any] = {
            "eventId": digest_int(f"{event['event_id']}\x1f{position}") % 4_294_967_295 + 1,
            "subscriptionId": self._subscriptions[subscription],
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": epoch_ms(group.occurred_at),
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(object_id),
        }
        if type_id is not None:
            body["objectTypeId"] = type_id
        body |= extra
        body["changeSource"] = "CRM_UI"
        body["sourceId"] = f"userId:{self.owner_id(event['rep_id'])}"
        if kind == "object.propertyChange":
            body["isSensitive"] = False
        group.events.append(body)

    def _deal_id(self, event: CanonicalEvent) -> str:
        if not event.get("opportunity_id"):
            raise ValueError(f"{event['type']} event {event['event_id']} has no opportunity_id")
        return self._ids["deals"].id_for(str(event["opportunity_id"]))

    def _associations(self, event: CanonicalEvent, *, deal: bool) -> dict[str, list[str]]:
        associations: dict[str, list[str]] = {}
        if deal and event.get("opportunity_id"):
            associations["deals"] = [self._deal_id(event)]
        if event.get("account_id"):
            associations["companies"] = [self._ids["companies"].id_for(str(event["account_id"]))]
        if event.get("contact_id"):
            associations["contacts"] = [self._ids["contacts"].id_for(str(event["contact_id"]))]
        return associations

    def _record(
        self, object_type: str, object_id: str, group: _Group, properties: dict[str, Any]
    ) -> dict[str, Any]:
        """Append the record an event's hydration needs; return it for the creation extras."""
        record = {"object_type": object_type, "id": object_id, "properties": properties}
        group.records.append(record | {"updatedAt": iso(group.occurred_at)})
        return group.records[-1]

    def _deal_created(self, event: CanonicalEvent, group: _Group) -> None:
        payload, deal = event["payload"], self._deal_id(event)
        close = midnight(payload["close_date"]) if payload.get("close_date") else None
        values = {
            "dealname": str(payload.get("name") or ""),
            "dealstage": self.stages.id_of(str(payload["stage"])),
            "amount": number_text(payload["amount"]),
            "closedate": str(epoch_ms(close)) if close else None,
            "hubspot_owner_id": self.owner_id(event["rep_id"]),
        }
        self._emit(event, group, ("deal.creation", None, None), deal, {"changeFlag": "CREATED"})
        for name, value in values.items():
            if value is not None:  # HubSpot only reports properties that were set
                change = {"propertyName": name, "propertyValue": value}
                self._emit(event, group, ("deal.propertyChange", None, name), deal, change)
        properties = values | {
            "closedate": iso(close) if close else None,
            "pipeline": str(payload.get("pipeline") or "default"),
            "deal_currency_code": str(payload.get("currency") or "USD"),
        }
        record = self._record("deals", deal, group, properties)
        record["createdAt"] = record["updatedAt"]
        record["associations"] = self._associations(event, deal=False)

    def _deal_changed(self, event: CanonicalEvent, group: _Group) -> None:
        name, value, properties = self._deal_change(str(event["type"]), event["payload"])
        deal = self._deal_id(event)
        change = {"propertyName": name, "propertyValue": value}
        self._emit(event, group, ("deal.propertyChange", None, name), deal, change)
        self._record("deals", deal, group, properties)

    def _deal_change(self, kind: str, payload: Any) -> tuple[str, str, dict[str, Any]]:
        """(propertyName, propertyValue, record properties) of one deal change."""
        if kind == "opportunity.amount_changed":
            amount, currency = number_text(payload["to_amount"]), payload.get("currency") or "USD"
            return "amount", amount, {"amount": amount, "deal_currency_code": str(currency)}
        if kind == "opportunity.close_date_changed":
            day = midnight(payload["to_date"])
            return "closedate", str(epoch_ms(day)), {"closedate": iso(day)}
        if kind == "opportunity.owner_changed":
            owner = self.owner_id(payload["to_rep_id"])
            return "hubspot_owner_id", owner, {"hubspot_owner_id": owner}
        if kind == "opportunity.closed_won":
            stage, extra = WON_STAGE_ID, {}
            if payload.get("amount") is not None:  # so ingest can hydrate closed_won's amount
                extra = {"amount": number_text(payload["amount"])}
        elif kind == "opportunity.closed_lost":
            stage, extra = LOST_STAGE_ID, {"closed_lost_reason": payload.get("reason")}
        else:
            stage, extra = self.stages.id_of(str(payload["to_stage"])), {}
        return "dealstage", stage, {"dealstage": stage, **extra}

    def _engagement_created(
        self, event: CanonicalEvent, group: _Group, object_type: str, key: str, **props: Any
    ) -> None:
        object_id = self._ids["engagements"].id_for(f"{object_type}:{key}")
        subscription = ("object.creation", OBJECT_TYPES[object_type][0], None)
        self._emit(event, group, subscription, object_id, {"changeFlag": "CREATED"})
        defaults = {
            "hs_timestamp": iso(group.occurred_at),
            "hubspot_owner_id": self.owner_id(event["rep_id"]),
        }
        record = self._record(object_type, object_id, group, defaults | props)
        record["createdAt"] = record["updatedAt"]
        record["associations"] = self._associations(event, deal=True)

    def _email(self, event: CanonicalEvent, group: _Group) -> None:
        reply = event["type"] == "email.replied"
        self._engagement_created(
            event,
            group,
            "emails",
            str(event["event_id"]),
            hs_email_direction="INCOMING_EMAIL" if reply else "EMAIL",
            hs_email_status="SENT",
            hs_email_subject=None if reply else event["payload"].get("subject"),
        )

    def _call(self, event: CanonicalEvent, group: _Group) -> None:
        payload = event["payload"]
        connected = bool(payload["connected"])
        self._engagement_created(
            event,
            group,
            "calls",
            str(event["event_id"]),
            hs_call_direction="OUTBOUND",
            hs_call_duration=str(int(payload.get("duration_seconds") or 0) * 1000),
            hs_call_disposition=CONNECTED if connected else NO_ANSWER,
            hs_call_status="COMPLETED" if connected else "NO_ANSWER",
        )

    def _meeting_scheduled(self, event: CanonicalEvent, group: _Group) -> None:
        payload = event["payload"]
        starts = moment(payload["starts_at"])
        props = meeting_properties(
            payload.get("kind"), starts, starts + SCHEDULED_MEETING, "SCHEDULED"
        )
        props["hs_timestamp"] = iso(starts)  # a meeting's timestamp is its start, not its booking
        self._engagement_created(event, group, "meetings", str(payload["meeting_id"]), **props)

    def _meeting_held(self, event: CanonicalEvent, group: _Group) -> None:
        payload, held = event["payload"], group.occurred_at
        meeting = self._ids["engagements"].id_for(f"meetings:{payload['meeting_id']}")
        change = {"propertyName": "hs_meeting_outcome", "propertyValue": "COMPLETED"}
        subscription = ("object.propertyChange", OBJECT_TYPES["meetings"][0], "hs_meeting_outcome")
        self._emit(event, group, subscription, meeting, change)
        ends = held + timedelta(minutes=int(payload.get("duration_minutes") or 0))
        props = meeting_properties(payload.get("kind"), held, ends, "COMPLETED")
        # Whole, not just the outcome, so the record stands even if its booking was never sent.
        props |= {"hs_timestamp": iso(held), "hubspot_owner_id": self.owner_id(event["rep_id"])}
        record = self._record("meetings", meeting, group, props)
        record["associations"] = self._associations(event, deal=True)

    # ---- batching --------------------------------------------------------------------------

    def _batches(self, groups: list[_Group]) -> Iterator[list[_Group]]:
        """Consecutive groups, never split, within the window and the size limit."""
        batch: list[_Group] = []
        size = 0
        for group in groups:
            too_late = batch and group.occurred_at - batch[0].occurred_at > self.batch_window
            if batch and (too_late or size + len(group.events) > MAX_EVENTS_PER_REQUEST):
                yield batch
                batch, size = [], 0
            batch.append(group)
            size += len(group.events)
        if batch:
            yield batch

    def _delivery(self, batch: list[_Group]) -> Delivery:
        events = [event for group in batch for event in group.events]
        return Delivery(
            path=WEBHOOK_PATH,
            body=orjson.dumps(events),
            content_type="application/json",
            identity=",".join(str(event["eventId"]) for event in events),
            occurred_at=max(group.occurred_at for group in batch),
            records=tuple(record for group in batch for record in group.records),
        )
