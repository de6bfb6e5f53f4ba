"""Typed reads of canonical event dicts (the SalesEvent wire JSON), shared by the formatters."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shared.events import EventType
from simulator.config import Pipeline
from simulator.org import Org
from simulator.vendors.base import DIRECTORY_TYPES, CanonicalEvent

DEFAULT_STAGES = Pipeline().stages
DEFAULT_PIPELINE = Pipeline().name
NO_SUBJECT = "(no subject)"
DEFAULT_MEETING_MINUTES = 30  # a booking's length until the meeting is held
# Meeting subjects start with these, then ": <account name>"; the kind is read back from them.
MEETING_SUBJECTS = {"initial": "Intro meeting", "follow_up": "Follow-up meeting"}
# Everything but the directory (people, time off, goals), which an HR system sends, not a CRM.
CRM_TYPES = frozenset(t.value for t in EventType) - DIRECTORY_TYPES


def is_crm_event(event: CanonicalEvent) -> bool:
    """Whether a CRM records this event (directory events come from HR, not the CRM)."""
    return event.get("type") in CRM_TYPES


class SubjectMemory:
    """Subjects of sent emails by event id, so a reply can quote the email it answers."""

    def __init__(self, limit: int = 100_000) -> None:
        # Bounded: a long run sends millions of emails and replies come within days.
        self._subjects: OrderedDict[str, str] = OrderedDict()
        self._limit = limit

    def remember(self, event_id: str, subject: str) -> None:
        self._subjects[event_id] = subject
        if len(self._subjects) > self._limit:
            self._subjects.popitem(last=False)

    def reply_subject(self, in_reply_to: Any) -> str:
        """A reply's subject: Re: and the original's, or a generic one when that is unknown."""
        return "Re: " + self._subjects.get(str(in_reply_to), NO_SUBJECT)


def require_crm(events: Any) -> None:
    """Refuse a batch holding events no CRM would send: the caller should have filtered them."""
    for event in events:
        if not is_crm_event(event):
            raise ValueError(f"not a CRM event: {event.get('type')!r}")


def instant(value: str) -> datetime:
    """An ISO timestamp as an aware UTC datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return moment.astimezone(UTC)


def occurred_at(event: CanonicalEvent) -> datetime:
    return instant(str(event["occurred_at"]))


def payload(event: CanonicalEvent) -> dict[str, Any]:
    body = event.get("payload") or {}
    return dict(body)


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def date_or_none(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def account_of(org: Org, event: CanonicalEvent) -> str | None:
    """The event's account, else the account the contact belongs to."""
    account_id = event.get("account_id")
    if account_id:
        return str(account_id)
    contact_id = event.get("contact_id")
    if contact_id:
        return contact_accounts(org).get(str(contact_id))
    return None


def contact_accounts(org: Org) -> dict[str, str]:
    """Contact id → account id, computed once per org."""
    cached: dict[str, str] | None = org.__dict__.get("_vendor_contact_accounts")
    if cached is None:
        cached = {c: a.account_id for a in org.accounts for c in a.contact_ids}
        # Org is frozen; this cache is derived data, like Org's own lookup caches.
        object.__setattr__(org, "_vendor_contact_accounts", cached)
    return cached


def meeting_subject(org: Org, event: CanonicalEvent, kind: str) -> str:
    """A meeting title as a rep writes it, e.g. Intro meeting: Initech."""
    subject = MEETING_SUBJECTS.get(kind, "Meeting")
    account_id = account_of(org, event)
    try:
        return f"{subject}: {org.account(account_id).name}" if account_id else subject
    except KeyError:
        return subject
