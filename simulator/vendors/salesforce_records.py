"""Salesforce records as canonical events change them: the state both Salesforce formatters send.

Each canonical event becomes one `RecordChange` on one record (field name → Python value,
None meaning null), with the record's fields before and after it:

- `opportunity.*` → Opportunity (`006`, from opportunity_id): Name, StageName, Amount,
  CurrencyIsoCode, CloseDate, OwnerId, AccountId, IsClosed, IsWon, Probability,
  Loss_Reason__c (custom: the closed-lost reason), Created*/LastModified*.
  Closed won → StageName "Closed Won", IsClosed/IsWon true; closed lost → "Closed Lost".
- `email.sent`, `email.replied`, `call.made` → Task (`00T`, from event_id), Status "Completed",
  TaskSubtype Email|Call. Direction__c (custom, "Outbound"|"Inbound") tells a reply from a
  sent email; a reply's Subject is "Email: Re: <subject of the email it answers>".
  Calls carry CallType "Outbound", CallDurationInSeconds and CallDisposition.
- `meeting.*` → Event (`00U`, from meeting_id): the same record is created when scheduled
  and updated when held. Meeting_Status__c (custom, "Scheduled"|"Held") and Meeting_Kind__c
  (custom, "Initial"|"Follow-up") carry what standard Event fields cannot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.org import Org
from simulator.vendors import canonical as c
from simulator.vendors.base import CanonicalEvent
from simulator.vendors.ids import KEY_PREFIXES, salesforce_id

CLOSED_WON = "Closed Won"
CLOSED_LOST = "Closed Lost"
DIRECTION_FIELD = "Direction__c"
MEETING_STATUS_FIELD = "Meeting_Status__c"
MEETING_KIND_FIELD = "Meeting_Kind__c"
LOSS_REASON_FIELD = "Loss_Reason__c"
MEETING_KINDS = {"initial": "Initial", "follow_up": "Follow-up"}
CALL_DISPOSITIONS = {True: "Connected", False: "No Answer"}


@dataclass(frozen=True)
class RecordChange:
    """One canonical event applied to one Salesforce record."""

    sobject: str  # "Opportunity" | "Task" | "Event"
    record_id: str
    created: bool
    before: Mapping[str, Any]  # empty when created
    after: Mapping[str, Any]
    user_id: str  # who made the change (LastModifiedById, CDC commitUser)
    at: datetime
    event: CanonicalEvent


class SalesforceRecords:
    """Folds canonical events into the Opportunity, Task and Event records Salesforce holds."""

    def __init__(self, org: Org, *, stages: Sequence[str] = c.DEFAULT_STAGES) -> None:
        self.org = org
        self.stages = tuple(stages)
        self._opportunities: dict[str, dict[str, Any]] = {}
        self._meetings: dict[str, dict[str, Any]] = {}
        self._subjects = c.SubjectMemory()
        self.extra_stages: list[str] = []  # stage names seen in events but not configured
        # Vendor id → canonical id for every referenced record ingest may need to map back.
        self.emitted: dict[str, dict[str, str]] = {
            name: {} for name in ("User", "Account", "Contact", "Opportunity", "Event")
        }
        for person in org.people:
            self.ref("User", person.rep_id)
        for account in org.accounts:
            self.ref("Account", account.account_id)
            for contact_id in account.contact_ids:
                self.ref("Contact", contact_id)

    def ref(self, sobject: str, canonical_id: str) -> str:
        """The Salesforce id of a canonical record, remembered for the reverse mapping."""
        record_id = salesforce_id(KEY_PREFIXES[sobject], canonical_id)
        table = self.emitted.get(sobject)
        if table is not None:
            table[record_id] = canonical_id
        return record_id

    def probability(self, stage: str) -> Decimal | None:
        """Default probability of a stage: evenly spread over the open stages."""
        if stage == CLOSED_WON:
            return Decimal(100)
        if stage == CLOSED_LOST:
            return Decimal(0)
        if stage not in self.stages:
            return None
        return Decimal(round(100 * (self.stages.index(stage) + 1) / (len(self.stages) + 1)))

    def apply(self, event: CanonicalEvent) -> RecordChange:
        """The record change one canonical CRM event makes."""
        kind = str(event["type"])
        if kind.startswith("opportunity."):
            return self._opportunity(event)
        if kind.startswith("meeting."):
            return self._meeting(event)
        return self._task(event)

    # ---- opportunities ------------------------------------------------------------------

    def _opportunity(self, event: CanonicalEvent) -> RecordChange:
        opportunity_id = str(event["opportunity_id"])
        at, user = c.occurred_at(event), self.ref("User", str(event["rep_id"]))
        record_id = self.ref("Opportunity", opportunity_id)
        created = event["type"] == "opportunity.created"
        before = self._opportunities.get(opportunity_id)
        if before is None:
            # An update to a record created before the simulation began: start from what
            # the event itself tells.
            before = {"AccountId": self._account_ref(event), "OwnerId": user}
        after = {**before, **self._opportunity_update(event, at, user)}
        after.update(LastModifiedById=user, LastModifiedDate=at)
        self._opportunities[opportunity_id] = after
        return RecordChange(
            "Opportunity", record_id, created, {} if created else before, after, user, at, event
        )

    def _opportunity_update(self, event: CanonicalEvent, at: datetime, user: str) -> dict[str, Any]:
        kind, body = str(event["type"]), c.payload(event)
        if kind == "opportunity.created":
            return {
                **self._stage(str(body["stage"])),
                "AccountId": self._account_ref(event),
                "Amount": c.decimal_or_none(body.get("amount")),
                "CloseDate": c.date_or_none(body.get("close_date")),
                "CreatedById": user,
                "CreatedDate": at,
                "CurrencyIsoCode": body.get("currency") or "USD",
                "Name": body.get("name") or "",
                "OwnerId": user,
            }
        if kind == "opportunity.stage_changed":
            return self._stage(str(body["to_stage"]))
        if kind == "opportunity.amount_changed":
            return {
                "Amount": c.decimal_or_none(body.get("to_amount")),
                "CurrencyIsoCode": body.get("currency") or "USD",
            }
        if kind == "opportunity.close_date_changed":
            return {"CloseDate": c.date_or_none(body.get("to_date"))}
        if kind == "opportunity.owner_changed":
            return {"OwnerId": self.ref("User", str(body["to_rep_id"]))}
        if kind == "opportunity.closed_won":
            update = self._stage(CLOSED_WON)
            if body.get("amount") is not None:
                update["Amount"] = c.decimal_or_none(body["amount"])
            return update
        if kind == "opportunity.closed_lost":
            return {**self._stage(CLOSED_LOST), LOSS_REASON_FIELD: body.get("reason")}
        raise ValueError(f"not an opportunity event: {kind!r}")

    def _stage(self, stage: str) -> dict[str, Any]:
        closed = stage in (CLOSED_WON, CLOSED_LOST)
        if not closed and stage not in self.stages and stage not in self.extra_stages:
            self.extra_stages.append(stage)
        return {
            "IsClosed": closed,
            "IsWon": stage == CLOSED_WON,
            "Probability": self.probability(stage),
            "StageName": stage,
        }

    # ---- tasks --------------------------------------------------------------------------

    def _task(self, event: CanonicalEvent) -> RecordChange:
        at, user = c.occurred_at(event), self.ref("User", str(event["rep_id"]))
        kind, body = str(event["type"]), c.payload(event)
        fields: dict[str, Any] = {
            "AccountId": self._account_ref(event),
            "ActivityDate": at.date(),
            "CompletedDateTime": at,
            "CreatedById": user,
            "CreatedDate": at,
            "IsClosed": True,
            "LastModifiedById": user,
            "LastModifiedDate": at,
            "OwnerId": user,
            "Status": "Completed",
            "WhatId": self._what_ref(event),
            "WhoId": self._contact_ref(event),
        }
        if kind == "call.made":
            connected = bool(body.get("connected"))
            fields.update(
                CallDisposition=CALL_DISPOSITIONS[connected],
                CallDurationInSeconds=int(body.get("duration_seconds") or 0),
                CallType="Outbound",
                Subject="Call",
                TaskSubtype="Call",
                Type="Call",
            )
        else:
            fields.update(TaskSubtype="Email", Type="Email", **self._email_fields(event, body))
        record_id = self.ref("Task", str(event["event_id"]))
        return RecordChange("Task", record_id, True, {}, fields, user, at, event)

    def _email_fields(self, event: CanonicalEvent, body: Mapping[str, Any]) -> dict[str, Any]:
        if event["type"] == "email.sent":
            subject = str(body.get("subject") or c.NO_SUBJECT)
            self._subjects.remember(str(event["event_id"]), subject)
            return {DIRECTION_FIELD: "Outbound", "Subject": f"Email: {subject}"}
        reply = self._subjects.reply_subject(body.get("in_reply_to_event_id"))
        return {DIRECTION_FIELD: "Inbound", "Subject": f"Email: {reply}"}

    # ---- events (meetings) --------------------------------------------------------------

    def _meeting(self, event: CanonicalEvent) -> RecordChange:
        at, user = c.occurred_at(event), self.ref("User", str(event["rep_id"]))
        body = c.payload(event)
        meeting_id = str(body["meeting_id"])
        record_id = self.ref("Event", meeting_id)
        before = self._meetings.get(meeting_id)
        kind = str(body.get("kind") or "initial")
        if event["type"] == "meeting.scheduled":
            start = c.instant(str(body["starts_at"]))
            minutes = before["DurationInMinutes"] if before else c.DEFAULT_MEETING_MINUTES
            status = "Scheduled"
        else:
            # A held meeting keeps its booked start; one never booked in the CRM starts now.
            start = before["StartDateTime"] if before else at
            minutes = int(body.get("duration_minutes") or 0)
            status = "Held"
        after = dict(before) if before else self._new_meeting(event, at, user)
        after.update(self._meeting_times(start, minutes))
        after.update(
            {
                "LastModifiedById": user,
                "LastModifiedDate": at,
                MEETING_KIND_FIELD: MEETING_KINDS.get(kind, kind),
                MEETING_STATUS_FIELD: status,
                "Subject": c.meeting_subject(self.org, event, kind),
            }
        )
        if status == "Held":
            self._meetings.pop(meeting_id, None)  # nothing changes a held meeting again
        else:
            self._meetings[meeting_id] = after
        return RecordChange(
            "Event", record_id, before is None, before or {}, after, user, at, event
        )

    def _new_meeting(self, event: CanonicalEvent, at: datetime, user: str) -> dict[str, Any]:
        return {
            "AccountId": self._account_ref(event),
            "CreatedById": user,
            "CreatedDate": at,
            "EventSubtype": "Event",
            "IsAllDayEvent": False,
            "OwnerId": user,
            "Type": "Meeting",
            "WhatId": self._what_ref(event),
            "WhoId": self._contact_ref(event),
        }

    @staticmethod
    def _meeting_times(start: datetime, minutes: int) -> dict[str, Any]:
        return {
            "ActivityDate": start.date(),
            "ActivityDateTime": start,
            "DurationInMinutes": minutes,
            "EndDateTime": start + timedelta(minutes=minutes),
            "StartDateTime": start,
        }

    # ---- references ---------------------------------------------------------------------

    def _account_ref(self, event: CanonicalEvent) -> str | None:
        account_id = c.account_of(self.org, event)
        if account_id is None and event.get("opportunity_id"):
            known = self._opportunities.get(str(event["opportunity_id"]), {})
            return known.get("AccountId")
        return self.ref("Account", account_id) if account_id else None

    def _contact_ref(self, event: CanonicalEvent) -> str | None:
        contact_id = event.get("contact_id")
        return self.ref("Contact", str(contact_id)) if contact_id else None

    def _what_ref(self, event: CanonicalEvent) -> str | None:
        if event.get("opportunity_id"):
            return self.ref("Opportunity", str(event["opportunity_id"]))
        return self._account_ref(event)
