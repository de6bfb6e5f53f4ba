"""Salesforce deliveries: Outbound Messages (SOAP) and Change Data Capture through a relay.

Record fields are those of `salesforce_records` (see its docstring for every field choice).

Outbound Messages (`SalesforceOutboundFormatter`, POST /v1/webhooks/salesforce, text/xml):
one SOAP 1.1 `notifications` message per object type (one outbound message definition per
object), 1–100 `Notification`s, each with a `04l…` notification Id and the record as it stands
*after* its event. Fields appear as in real messages: `sf:Id` first, then alphabetically; null
fields are left out; booleans `true|false`; Amount/Probability as Java doubles ("45000.0",
"1.5E7"); dates `2026-04-30`; datetimes `2026-03-02T14:03:00.000Z`. Identity: the notification
ids joined with ",". Auth: no signature; optional HTTP Basic, and `SOAPAction: ""`.

CDC (`SalesforceCdcFormatter`, POST /v1/webhooks/salesforce-cdc, application/cloudevents+json):
one CloudEvents 1.0 envelope per change; `data` is the CometD change event
`{schema, payload: {ChangeEventHeader, …changed non-null fields}, event: {replayId}}`. CREATE
sends every non-null field (changedFields empty); UPDATE sends the changed ones, listed in
changedFields, with fields set to null listed in nulledFields. Amount is a JSON number.

`mapping()` keys (both formatters): vendor, organization_id, pipeline (always "default":
Salesforce has no pipelines here), key_prefixes (prefix → sObject), users (User Id → rep_id),
stages (StageName → {canonical_stage (null for closed stages), order, is_closed, is_won}),
tasks (TaskSubtype → email|call, direction field/values → email.sent|email.replied,
call dispositions → connected), events (status and kind fields and values), loss_reason_field,
records (sObject → {Salesforce Id → canonical id} for User, Account, Contact, Opportunity and
Event (meeting_id) records emitted or known from the org). `ingest_mapping()` gives the
`salesforce` section of ingest's mapping file (the adapters in services/ingest/adapters).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any

import orjson

from simulator.org import Org
from simulator.vendors import canonical as c
from simulator.vendors import salesforce_records as r
from simulator.vendors.base import CanonicalEvent, Delivery
from simulator.vendors.ids import (
    KEY_PREFIXES,
    OBJECT_BY_PREFIX,
    derived_token,
    derived_uuid,
    salesforce_id,
)

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    " <soapenv:Body>\n"
)
_ENVELOPE_CLOSE = " </soapenv:Body>\n</soapenv:Envelope>\n"
ACK_BODY = (
    _ENVELOPE_OPEN
    + f'  <notificationsResponse xmlns="{OUTBOUND_NS}">\n'
    + "   <Ack>true</Ack>\n"
    + "  </notificationsResponse>\n"
    + _ENVELOPE_CLOSE
).encode()
MAX_NOTIFICATIONS = 100
CDC_CHANGE_ORIGIN = "com/salesforce/api/rest/62.0;client=SfdcInternalAPI/"
_COMMIT_NUMBER_BASE = 10_969_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def java_double(value: Decimal) -> str:
    """A number as Java's Double.toString writes it, which is how Salesforce sends doubles."""
    number = float(value)
    if number == 0:
        return "0.0"
    shortest = Decimal(repr(abs(number)))
    sign = "-" if number < 0 else ""
    if 1e-3 <= abs(number) < 1e7:
        text = f"{shortest:f}"
        return sign + (text if "." in text else text + ".0")
    digits = shortest.as_tuple().digits
    exponent = shortest.adjusted()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{sign}{mantissa[0]}.{mantissa[1:] or '0'}E{exponent}"


def sf_datetime(moment: datetime) -> str:
    """A datetime as Salesforce writes it: UTC, milliseconds, `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return java_double(value)
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    # Characters XML 1.0 cannot carry at all are dropped rather than escaped.
    text = "".join(ch for ch in str(value) if ch >= " " or ch in "\t\n\r")
    return escape(text, quote=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _basic_auth(credentials: tuple[str, str] | None) -> dict[str, str]:
    if credentials is None:
        return {}
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class _SalesforceFormatter:
    """What both Salesforce formatters share: the records, the mapping and the auth."""

    vendor = "salesforce"

    def __init__(
        self,
        org: Org,
        *,
        organization_id: str,
        stages: Sequence[str] = c.DEFAULT_STAGES,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        if len(organization_id) != 18 or not organization_id.startswith("00D"):
            raise ValueError(f"not an 18-char organization id: {organization_id!r}")
        self.organization_id = organization_id
        self.records = r.SalesforceRecords(org, stages=stages)
        self._basic_auth = basic_auth

    def accepts(self, event: CanonicalEvent) -> bool:
        return c.is_crm_event(event)

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:
        """HTTP Basic when configured: Salesforce signs nothing, so no header depends on these."""
        del delivery, url, now
        return _basic_auth(self._basic_auth)

    def mapping(self) -> dict[str, Any]:
        """What an ingest adapter needs to map this vendor's ids and values back (see module)."""
        records = self.records
        stages: dict[str, Any] = {
            name: {"canonical_stage": name, "order": i, "is_closed": False, "is_won": False}
            for i, name in enumerate((*records.stages, *records.extra_stages))
        }
        closed = {"canonical_stage": None, "order": len(stages), "is_closed": True}
        for name in (r.CLOSED_WON, r.CLOSED_LOST):
            stages[name] = {**closed, "is_won": name == r.CLOSED_WON}
        return {
            "vendor": self.vendor,
            "organization_id": self.organization_id,
            "pipeline": c.DEFAULT_PIPELINE,
            "key_prefixes": dict(OBJECT_BY_PREFIX),
            "users": dict(records.emitted["User"]),
            "stages": stages,
            "tasks": {
                "subtype_field": "TaskSubtype",
                "subtypes": {"Email": "email", "Call": "call"},
                "direction_field": r.DIRECTION_FIELD,
                "directions": {"Outbound": "email.sent", "Inbound": "email.replied"},
                "call_dispositions": {v: k for k, v in r.CALL_DISPOSITIONS.items()},
            },
            "events": {
                "status_field": r.MEETING_STATUS_FIELD,
                "statuses": {"Scheduled": "meeting.scheduled", "Held": "meeting.held"},
                "kind_field": r.MEETING_KIND_FIELD,
                "kinds": {v: k for k, v in r.MEETING_KINDS.items()},
            },
            "loss_reason_field": r.LOSS_REASON_FIELD,
            "records": {name: dict(ids) for name, ids in records.emitted.items()},
        }

    def ingest_mapping(self) -> dict[str, Any]:
        """This org's `salesforce` section of ingest's mapping file (INGEST_MAPPING_FILE).

        Users for the whole org, the one pipeline with its stages in order (each to itself;
        Closed Won/Lost close it), the activity types, and the custom fields and picklist
        values `salesforce_records` uses (the adapter's defaults, spelled out).
        """
        records = self.records
        open_stages = [*records.stages, *records.extra_stages]
        return {
            "users": dict(records.emitted["User"]),
            "pipelines": {
                c.DEFAULT_PIPELINE: {
                    "name": c.DEFAULT_PIPELINE,
                    "stages": {stage: stage for stage in open_stages},
                    "won": [r.CLOSED_WON],
                    "lost": [r.CLOSED_LOST],
                }
            },
            "activity_types": {"Email": "email", "Call": "call", "Event": "meeting"},
            "direction_field": r.DIRECTION_FIELD,
            "email_directions": {"Outbound": "email.sent", "Inbound": "email.replied"},
            "call_dispositions": {v: k for k, v in r.CALL_DISPOSITIONS.items()},
            "meeting_status_field": r.MEETING_STATUS_FIELD,
            "meeting_statuses": {"Scheduled": "meeting.scheduled", "Held": "meeting.held"},
            "meeting_kind_field": r.MEETING_KIND_FIELD,
            "meeting_kinds": {v: k for k, v in r.MEETING_KINDS.items()},
            "loss_reason_field": r.LOSS_REASON_FIELD,
        }


class SalesforceOutboundFormatter(_SalesforceFormatter):
    """Canonical events as Salesforce Outbound Messages (workflow SOAP notifications)."""

    path = "/v1/webhooks/salesforce"
    content_type = "text/xml; charset=utf-8"

    def __init__(
        self,
        org: Org,
        *,
        organization_id: str,
        stages: Sequence[str] = c.DEFAULT_STAGES,
        basic_auth: tuple[str, str] | None = None,
        instance_url: str = "https://salescoach-sim.my.salesforce.com",
        api_version: str = "62.0",
        max_batch: int = MAX_NOTIFICATIONS,
        batch_window: timedelta = timedelta(seconds=60),
    ) -> None:
        super().__init__(org, organization_id=organization_id, stages=stages, basic_auth=basic_auth)
        if not 1 <= max_batch <= MAX_NOTIFICATIONS:
            raise ValueError(f"max_batch must be 1..{MAX_NOTIFICATIONS}")
        self.max_batch, self.batch_window = max_batch, batch_window
        base, org15 = instance_url.rstrip("/"), organization_id[:15]
        self._urls = (
            f"{base}/services/Soap/c/{api_version}/{org15}",
            f"{base}/services/Soap/u/{api_version}/{org15}",
        )

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:
        """Optional HTTP Basic plus the empty SOAPAction every outbound message carries."""
        return {**super().sign(delivery, url=url, now=now), "SOAPAction": '""'}

    def ack_body(self) -> bytes:
        """The body ingest answers with (HTTP 200) so Salesforce dequeues the message."""
        return ACK_BODY

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        """One message per object type for changes within the batch window, ≤ 100 each."""
        c.require_crm(events)
        open_batches: dict[str, list[r.RecordChange]] = {}
        closed: list[list[r.RecordChange]] = []
        for event in events:
            change = self.records.apply(event)
            batch = open_batches.get(change.sobject)
            if batch and (
                len(batch) >= self.max_batch or change.at - batch[0].at > self.batch_window
            ):
                closed.append(batch)
                batch = None
            if batch is None:
                batch = open_batches[change.sobject] = []
            batch.append(change)
        closed.extend(open_batches.values())
        # By when Salesforce would send each message (after its newest change); the sort is
        # stable, so ties keep the order the batches closed in.
        closed.sort(key=lambda batch: batch[-1].at)
        return [self._delivery(batch) for batch in closed]

    def _delivery(self, batch: list[r.RecordChange]) -> Delivery:
        sobject = batch[0].sobject
        ids = [salesforce_id(KEY_PREFIXES["Notification"], ch.event["event_id"]) for ch in batch]
        action = f"{self.organization_id}:{sobject}"  # one message definition per object
        action_id = salesforce_id(KEY_PREFIXES["OutboundMessage"], action)
        lines = [
            _ENVELOPE_OPEN,
            f'  <notifications xmlns="{OUTBOUND_NS}">\n',
            f"   <OrganizationId>{self.organization_id}</OrganizationId>\n",
            f"   <ActionId>{action_id}</ActionId>\n",
            '   <SessionId xsi:nil="true"/>\n',
            f"   <EnterpriseUrl>{escape(self._urls[0])}</EnterpriseUrl>\n",
            f"   <PartnerUrl>{escape(self._urls[1])}</PartnerUrl>\n",
        ]
        for notification_id, change in zip(ids, batch, strict=True):
            lines.append(self._notification(notification_id, change))
        lines += ["  </notifications>\n", _ENVELOPE_CLOSE]
        return Delivery(
            path=self.path,
            body="".join(lines).encode(),
            content_type=self.content_type,
            identity=",".join(ids),
            occurred_at=batch[-1].at,
        )

    @staticmethod
    def _notification(notification_id: str, change: r.RecordChange) -> str:
        fields = "".join(
            f"     <sf:{name}>{_xml_text(value)}</sf:{name}>\n"
            for name, value in sorted(change.after.items())
            if value is not None
        )
        return (
            "   <Notification>\n"
            f"    <Id>{notification_id}</Id>\n"
            f'    <sObject xsi:type="sf:{change.sobject}" xmlns:sf="{SOBJECT_NS}">\n'
            f"     <sf:Id>{change.record_id}</sf:Id>\n"
            f"{fields}"
            "    </sObject>\n"
            "   </Notification>\n"
        )


class SalesforceCdcFormatter(_SalesforceFormatter):
    """Canonical events as Change Data Capture events, relayed as CloudEvents over HTTP."""

    vendor = "salesforce-cdc"
    path = "/v1/webhooks/salesforce-cdc"
    content_type = "application/cloudevents+json"

    def __init__(
        self,
        org: Org,
        *,
        organization_id: str,
        stages: Sequence[str] = c.DEFAULT_STAGES,
        basic_auth: tuple[str, str] | None = None,
        replay_start: int = 1,
    ) -> None:
        super().__init__(org, organization_id=organization_id, stages=stages, basic_auth=basic_auth)
        self._replay_id = replay_start - 1

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        """One CloudEvent per record change, in commit order."""
        c.require_crm(events)
        return [self._delivery(self.records.apply(event)) for event in events]

    def _delivery(self, change: r.RecordChange) -> Delivery:
        self._replay_id += 1
        channel = f"{change.sobject}ChangeEvent"
        envelope = {
            "specversion": "1.0",
            "id": derived_uuid("cdc", self.organization_id, str(change.event["event_id"])),
            "source": f"urn:salesforce:{self.organization_id}/data/{channel}",
            "type": f"com.salesforce.cdc.{channel}",
            "subject": change.record_id,
            "time": sf_datetime(change.at),
            "datacontenttype": "application/json",
            "data": {
                "schema": derived_token(22, "schema", channel),
                "payload": self._payload(change),
                "event": {"replayId": self._replay_id},
            },
        }
        return Delivery(
            path=self.path,
            body=orjson.dumps(envelope),
            content_type=self.content_type,
            identity=str(envelope["id"]),
            occurred_at=change.at,
        )

    def _payload(self, change: r.RecordChange) -> dict[str, Any]:
        if change.created:
            changed: list[str] = []
            nulled: list[str] = []
            fields = {k: v for k, v in change.after.items() if v is not None}
        else:
            keys = sorted(set(change.before) | set(change.after))
            changed = [k for k in keys if change.before.get(k) != change.after.get(k)]
            nulled = [k for k in changed if change.after.get(k) is None]
            fields = {k: change.after[k] for k in changed if change.after.get(k) is not None}
        header = {
            "entityName": change.sobject,
            "recordIds": [change.record_id],
            "changeType": "CREATE" if change.created else "UPDATE",
            "changeOrigin": CDC_CHANGE_ORIGIN,
            "transactionKey": derived_uuid("cdc-tx", str(change.event["event_id"])),
            "sequenceNumber": 1,
            "commitTimestamp": (change.at - _EPOCH) // timedelta(milliseconds=1),
            "commitNumber": _COMMIT_NUMBER_BASE + self._replay_id,
            "commitUser": change.user_id,
            "nulledFields": nulled,
            "diffFields": [],
            "changedFields": changed,
        }
        body = {k: _json_value(v) for k, v in sorted(fields.items())}
        return {"ChangeEventHeader": header, **body}
