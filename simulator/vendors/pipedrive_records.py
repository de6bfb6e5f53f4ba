"""Pipedrive records as canonical events change them: deals and activities, as webhook `data`.

Ids: users are `USER_ID_BASE + Person.index` (`MANAGER_USER_ID_BASE` for managers; a hash
for anyone outside the org, or for everyone if those collide); deals,
organizations, persons and meeting activities come from `ids.pipedrive_id` of the
opportunity, account, contact and meeting ids; logged emails and calls from their event id.
Stage ids number the configured pipelines' stages from 1 in order (`DEFAULT_STAGE_IDS` for the
default pipeline); a stage first met in an event gets the next id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from simulator.org import Org, Person
from simulator.vendors import canonical as c
from simulator.vendors.base import CanonicalEvent
from simulator.vendors.ids import pipedrive_hash_id, pipedrive_id

USER_ID_BASE = 12_400_000  # rep user id = base + Person.index; Pipedrive's are this large
MANAGER_USER_ID_BASE = 12_300_000
DEFAULT_STAGE_IDS = {i + 1: name for i, name in enumerate(c.DEFAULT_STAGES)}
INBOUND_SUBJECT_PREFIX = "[Inbound] "
CALL_SUBJECTS = {True: "Outbound call (connected)", False: "Outbound call (no answer)"}
ENTITIES = ("user", "organization", "person", "deal", "activity")


def ts(moment: datetime) -> str:
    """Record timestamps: UTC to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _small_user_id(person: Person) -> int:
    base = MANAGER_USER_ID_BASE if person.role == "manager" else USER_ID_BASE
    return base + person.index


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _value(amount: Decimal | None) -> int | float | None:
    """Deal value as Pipedrive writes it: a JSON number, integral when it has no cents."""
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _timed(value: str | None) -> dict[str, Any]:
    """due_time/duration as a change delivery carries them (plain strings or null on create)."""
    return {"timezone_id": None, "value": value or ""}


class PipedriveRecords:
    """Folds canonical events into Pipedrive deals and activities; remembers the ids it gave."""

    def __init__(self, org: Org, pipelines: Mapping[str, Sequence[str]] | None = None) -> None:
        self.org = org
        self.emitted: dict[str, dict[str, str]] = {name: {} for name in ENTITIES}
        # Managers and reps are indexed separately (team number, rep number), hence two bases;
        # should that still collide, every user falls back to a hashed id.
        small = [_small_user_id(person) for person in org.people]
        self._index_ids = len(set(small)) == len(small)
        self.pipelines: dict[str, int] = {}
        self.stages: dict[tuple[int, str], int] = {}
        for name, stages in (pipelines or {c.DEFAULT_PIPELINE: c.DEFAULT_STAGES}).items():
            for stage in stages:
                self.stage_id(name, stage)
        self._deals: dict[str, dict[str, Any]] = {}
        self._meetings: dict[str, dict[str, Any]] = {}
        self._subjects = c.SubjectMemory()
        for person in org.people:
            self.emitted["user"][str(self.user(person.rep_id))] = person.rep_id
        for account in org.accounts:
            self.ref("organization", account.account_id)
            for contact_id in account.contact_ids:
                self.ref("person", contact_id)

    # ---- ids ------------------------------------------------------------------------------

    def user(self, rep_id: str) -> int:
        try:
            person = self.org.person(rep_id)
        except KeyError:
            person = None
        if person is not None and self._index_ids:
            return _small_user_id(person)
        user_id = pipedrive_hash_id("user", rep_id)  # never collides with base + index
        self.emitted["user"][str(user_id)] = rep_id
        return user_id

    def ref(self, entity: str, canonical_id: Any) -> int | None:
        if not canonical_id:
            return None
        vendor_id = pipedrive_id(entity, str(canonical_id))
        self.emitted[entity][str(vendor_id)] = str(canonical_id)
        return vendor_id

    def stage_id(self, pipeline: str, stage: str) -> int:
        pipeline_id = self.pipelines.setdefault(pipeline, len(self.pipelines) + 1)
        return self.stages.setdefault((pipeline_id, stage), len(self.stages) + 1)

    # ---- deals ----------------------------------------------------------------------------

    def deal(self, event: CanonicalEvent) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        opportunity_id = str(event["opportunity_id"])
        deal_id = self.ref("deal", opportunity_id)
        before = self._deals.get(opportunity_id)
        created = event["type"] == "opportunity.created"
        base = before if before is not None else self._new_deal(event, deal_id)
        after = {**base, **self._deal_update(event, base)}
        self._deals[opportunity_id] = after
        return None if created else base, after

    def _new_deal(self, event: CanonicalEvent, deal_id: int | None) -> dict[str, Any]:
        at, user = c.occurred_at(event), self.user(str(event["rep_id"]))
        return {
            "add_time": ts(at),
            "channel": None,
            "channel_id": None,
            "close_time": None,
            "creator_user_id": user,
            "currency": "USD",
            "custom_fields": {},
            "expected_close_date": None,
            "first_won_time": None,
            "id": deal_id,
            "label_ids": [],
            "lost_reason": None,
            "lost_time": None,
            "org_id": self.ref("organization", c.account_of(self.org, event)),
            "origin": "ManuallyCreated",
            "origin_id": None,
            "owner_id": user,
            "person_id": self.ref("person", event.get("contact_id")),
            "pipeline_id": self.pipelines.get(c.DEFAULT_PIPELINE),
            "probability": None,
            "stage_change_time": None,
            "stage_id": None,
            "status": "open",
            "title": "",
            "update_time": None,
            "value": None,
            "visible_to": "3",
            "won_time": None,
        }

    def _deal_update(self, event: CanonicalEvent, deal: Mapping[str, Any]) -> dict[str, Any]:
        kind, body, now = str(event["type"]), c.payload(event), ts(c.occurred_at(event))
        if kind == "opportunity.created":
            pipeline = str(body.get("pipeline") or c.DEFAULT_PIPELINE)
            stage_id = self.stage_id(pipeline, str(body["stage"]))
            return {
                "currency": body.get("currency") or "USD",
                "expected_close_date": body.get("close_date"),
                "pipeline_id": self.pipelines[pipeline],
                "stage_id": stage_id,
                "title": body.get("name") or "",
                "value": _value(c.decimal_or_none(body.get("amount"))),
            }
        update: dict[str, Any] = {"update_time": now}
        if kind == "opportunity.stage_changed":
            pipeline = self._pipeline_name(deal.get("pipeline_id"))
            update.update(
                stage_id=self.stage_id(pipeline, str(body["to_stage"])), stage_change_time=now
            )
        elif kind == "opportunity.amount_changed":
            update.update(value=_value(c.decimal_or_none(body.get("to_amount"))))
            update.update(currency=body.get("currency") or deal.get("currency"))
        elif kind == "opportunity.close_date_changed":
            update.update(expected_close_date=body.get("to_date"))
        elif kind == "opportunity.owner_changed":
            update.update(owner_id=self.user(str(body["to_rep_id"])))
        elif kind == "opportunity.closed_won":
            update.update(status="won", won_time=now, close_time=now)
            update.update(first_won_time=deal.get("first_won_time") or now)
            if body.get("amount") is not None:
                update.update(value=_value(c.decimal_or_none(body["amount"])))
        elif kind == "opportunity.closed_lost":
            update.update(status="lost", lost_time=now, close_time=now)
            update.update(lost_reason=body.get("reason"))
        return update

    def _pipeline_name(self, pipeline_id: Any) -> str:
        for name, known in self.pipelines.items():
            if known == pipeline_id:
                return name
        return c.DEFAULT_PIPELINE

    # ---- activities -----------------------------------------------------------------------

    def _activity(
        self, event: CanonicalEvent, activity_id: int | None, **fields: Any
    ) -> dict[str, Any]:
        at = c.occurred_at(event)
        activity: dict[str, Any] = {
            "active_flag": True,
            "add_time": ts(at),
            "busy_flag": None,
            "custom_fields": {},
            "deal_id": self.ref("deal", event.get("opportunity_id")),
            "done": True,
            "due_date": at.date().isoformat(),
            "due_time": _hhmm(at.hour * 60 + at.minute),
            "duration": None,
            "id": activity_id,
            "lead_id": None,
            "location": None,
            "org_id": self.ref("organization", c.account_of(self.org, event)),
            "owner_id": self.user(str(event["rep_id"])),
            "person_id": self.ref("person", event.get("contact_id")),
            "public_description": "",
            "subject": "",
            "type": "email",
            "update_time": ts(at),
            "update_user_id": None,
        }
        activity.update(fields)
        return activity

    def logged_activity(self, event: CanonicalEvent) -> dict[str, Any]:
        """An email sent, a reply received or a call made: logged once, already done."""
        kind, body = str(event["type"]), c.payload(event)
        activity_id = pipedrive_id("activity", str(event["event_id"]))
        if kind == "call.made":
            connected = bool(body.get("connected"))
            minutes = math.ceil(int(body.get("duration_seconds") or 0) / 60)
            duration = _hhmm(minutes) if connected else None
            return self._activity(
                event, activity_id, type="call", subject=CALL_SUBJECTS[connected], duration=duration
            )
        if kind == "email.sent":
            subject = str(body.get("subject") or c.NO_SUBJECT)
            self._subjects.remember(str(event["event_id"]), subject)
        else:
            reply = self._subjects.reply_subject(body.get("in_reply_to_event_id"))
            subject = INBOUND_SUBJECT_PREFIX + reply
        return self._activity(event, activity_id, type="email", subject=subject)

    def meeting(self, event: CanonicalEvent) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """A meeting activity: created when booked, changed to done when held."""
        body = c.payload(event)
        meeting_id = str(body["meeting_id"])
        known = self._meetings.get(meeting_id)
        if event["type"] == "meeting.scheduled":
            start = c.instant(str(body["starts_at"]))
            minutes = known["minutes"] if known else c.DEFAULT_MEETING_MINUTES
        else:
            # A held meeting keeps its booked slot; one never booked in the CRM starts now.
            start = known["start"] if known else c.occurred_at(event)
            minutes = int(body.get("duration_minutes") or 0)
        state = {"start": start, "minutes": minutes}
        fields = {
            "done": event["type"] == "meeting.held",
            "due_date": start.date().isoformat(),
            "due_time": _hhmm(start.hour * 60 + start.minute),
            "duration": _hhmm(minutes),
            "subject": c.meeting_subject(self.org, event, str(body.get("kind") or "initial")),
            "type": "meeting",
        }
        if known is None:
            activity_id = self.ref("activity", meeting_id)
            after = self._activity(event, activity_id, **fields)
        else:
            at = c.occurred_at(event)
            user = self.user(str(event["rep_id"]))
            after = {**known["data"], **fields, "update_time": ts(at), "update_user_id": user}
        if fields["done"]:
            self._meetings.pop(meeting_id, None)  # nothing changes a held meeting again
        else:
            self._meetings[meeting_id] = {**state, "data": after}
        if known is None:
            return None, after
        return _objectified(known["data"]), _objectified(after)


def _objectified(activity: Mapping[str, Any]) -> dict[str, Any]:
    """An activity as a change delivery carries it: due_time and duration as objects."""
    return {
        **activity,
        "due_time": _timed(activity["due_time"]),
        "duration": _timed(activity["duration"]),
    }
