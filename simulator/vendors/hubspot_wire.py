"""HubSpot's vocabulary and encodings: stage ids, call outcomes, ids, values (signatures live in
shared/hubspot_signature.py, where ingest verifies them too).

Pure functions and constants shared by the HubSpot formatter and its tests; the values are
HubSpot's own (default pipeline stage ids, default call-outcome GUIDs, objectTypeIds).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

USER_AGENT = (
    "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client)"
    " - WebhooksExecutorDaemon-executor"
)
# Our open stages on HubSpot's default pipeline. decisionmakerboughtin (between presentation
# and contract) is read as Negotiation but never emitted.
STAGE_IDS = {
    "Discovery": "appointmentscheduled",
    "Qualification": "qualifiedtobuy",
    "Proposal": "presentationscheduled",
    "Negotiation": "contractsent",
}
WON_STAGE_ID, LOST_STAGE_ID = "closedwon", "closedlost"
# HubSpot's default call outcomes (GET /calling/v1/dispositions): the same GUIDs in every portal.
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
CALL_DISPOSITIONS = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": ("Busy", False),
    CONNECTED: ("Connected", True),
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": ("Left live message", False),
    "b2cf5968-551e-4856-9783-52b3da59a7d0": ("Left voicemail", False),
    NO_ANSWER: ("No answer", False),
    "17b47fee-58de-441e-a44c-c6300d46f273": ("Wrong number", False),
}
# hs_activity_type options are portal-defined; these two are ours.
MEETING_TYPES = {"initial": "Initial meeting", "follow_up": "Follow-up meeting"}
# object type (the CRM API path segment) -> (objectTypeId, kind)
OBJECT_TYPES = {
    "contacts": ("0-1", "contact"),
    "companies": ("0-2", "company"),
    "deals": ("0-3", "deal"),
    "meetings": ("0-47", "meeting"),
    "calls": ("0-48", "call"),
    "emails": ("0-49", "email"),
}
# (first id, gap) per id space: ids are handed out in first-seen order with a hashed jitter
# below the gap, so they grow like real ones, look unrelated, and can never collide.
ID_SPACES = {
    "owners": (41_000_000, 1_000),
    "companies": (9_100_000_000, 10_000),
    "contacts": (51_000_000_000, 1_000),
    "deals": (21_000_000_000, 1_000),
    "engagements": (61_000_000_000, 100),  # emails, calls and meetings share one sequence
}
_STAGE_NAMESPACE = uuid.UUID("0b8e3f62-3c1d-4d5e-9a7b-6f2c1e0d9a41")


def digest_int(text: str) -> int:
    """A stable 64-bit number for a string (never `hash()`, which is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def moment(value: Any) -> datetime:
    """An event time (ISO text or datetime, with an offset) in UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: event times carry an offset")
    return parsed.astimezone(UTC)


def epoch_ms(when: datetime) -> int:
    """Milliseconds since the epoch, HubSpot's `occurredAt` and timestamp unit."""
    return int(when.timestamp() * 1000)


def iso(when: datetime) -> str:
    """A datetime as the CRM API returns it: UTC, milliseconds, `Z`."""
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def midnight(value: Any) -> datetime:
    """A calendar date as HubSpot stores a date in a datetime property: midnight UTC."""
    return datetime.combine(date.fromisoformat(str(value)), time(), tzinfo=UTC)


def number_text(value: Any) -> str:
    """A decimal as HubSpot writes a number property: no exponent, no trailing zeros."""
    return format(Decimal(str(value)).normalize(), "f")


class IdRegistry:
    """Numeric ids of one space, handed out in first-seen order and stable per key."""

    def __init__(self, space: str, salt: str) -> None:
        self.first, self.gap = ID_SPACES[space]
        self.salt = salt
        self.by_key: dict[str, str] = {}

    def id_for(self, key: str) -> str:
        """The id of `key`, assigning the next one on first sight."""
        found = self.by_key.get(key)
        if found is None:
            jitter = digest_int(f"{self.salt}\x1f{key}") % self.gap
            found = str(self.first + (len(self.by_key) + 1) * self.gap + jitter)
            self.by_key[key] = found
        return found


class StageIds:
    """Dealstage ids of one pipeline's stages, and the table an adapter reads them back with."""

    def __init__(self, stages: tuple[str, ...], portal_id: int) -> None:
        self.stages = stages
        self.portal_id = portal_id

    def id_of(self, stage: str) -> str:
        """The dealstage id of a canonical stage name (closed stages by their usual names)."""
        folded = stage.strip().lower().replace("_", " ")
        if folded in {"closed won", "closedwon", "won"}:
            return WON_STAGE_ID
        if folded in {"closed lost", "closedlost", "lost"}:
            return LOST_STAGE_ID
        if stage not in self.stages:
            raise ValueError(f"stage {stage!r} is not in the pipeline {self.stages}")
        # Other names get GUID ids, as stages of custom pipelines do.
        guid = uuid.uuid5(_STAGE_NAMESPACE, f"{self.portal_id}:{stage}")
        return STAGE_IDS.get(stage) or str(guid)

    def table(self) -> dict[str, Any]:
        """Stage id -> {stage, order, is_closed, is_won}, plus the won and lost stage ids."""
        stages: dict[str, Any] = {
            self.id_of(name): {"stage": name, "order": n, "is_closed": False, "is_won": False}
            for n, name in enumerate(self.stages)
        }
        if "Negotiation" in self.stages:
            stages["decisionmakerboughtin"] = stages[self.id_of("Negotiation")]
        closed = len(self.stages)
        won = {"stage": "Closed Won", "order": closed, "is_closed": True, "is_won": True}
        lost = {"stage": "Closed Lost", "order": closed + 1, "is_closed": True, "is_won": False}
        stages |= {WON_STAGE_ID: won, LOST_STAGE_ID: lost}
        return {
            "stages": stages,
            "won_stage_ids": [WON_STAGE_ID],
            "lost_stage_ids": [LOST_STAGE_ID],
        }


def meeting_properties(kind: Any, starts: datetime, ends: datetime, outcome: str) -> dict[str, Any]:
    """A meeting record's own properties (owner and associations aside)."""
    label = MEETING_TYPES.get(str(kind or "initial"), MEETING_TYPES["initial"])
    return {
        "hs_meeting_title": label,
        "hs_activity_type": label,
        "hs_meeting_start_time": iso(starts),
        "hs_meeting_end_time": iso(ends),
        "hs_meeting_outcome": outcome,
    }
