"""A tiny hand-built org and canonical events of every CRM type, for the vendor formatter tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from simulator.org import Account, Org, Person, Segment, Team

# Copies of ../shared/crm-samples (real vendor payloads; each .src.txt names its source).
SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "crm_samples"
_NS = uuid.UUID("0b7c1e4e-2f59-4a43-9d4e-6c1b1f6f0a11")
T0 = datetime(2026, 3, 2, 14, 3, tzinfo=UTC)


def _person(rep_id: str, role: str, index: int, manager_id: str | None) -> Person:
    return Person(
        rep_id=rep_id,
        name=f"Person {index}",
        email=f"{rep_id}@example.com",
        role=role,
        team="East",
        time_zone="America/New_York",
        manager_id=manager_id,
        hire_date=date(2024, 1, 8),
        index=index,
    )


def build_org() -> Org:
    """One team: a manager, an AE and an SDR; two accounts with contacts."""
    manager = _person("mgr-0001", "manager", 0, None)
    reps = (_person("rep-0001", "AE", 1, "mgr-0001"), _person("rep-0002", "SDR", 2, "mgr-0001"))
    accounts = (
        Account("acc-00012", "Initech", Segment.MID_MARKET, "rep-0001", ("con-000045",), 0),
        Account("acc-00013", "Globex", Segment.SMB, "rep-0001", ("con-000046", "con-000047"), 1),
    )
    return Org(teams=(Team("East", manager, "America/New_York"),), reps=reps, accounts=accounts)


def event(
    kind: str,
    at: datetime,
    payload: dict[str, Any],
    *,
    rep: str = "rep-0001",
    account: str | None = "acc-00012",
    opportunity: str | None = None,
    contact: str | None = "con-000045",
    key: str = "",
) -> dict[str, Any]:
    """A canonical event dict as the simulator writes it (the SalesEvent wire JSON)."""
    event_id = str(uuid.uuid5(_NS, f"{kind}|{at.isoformat()}|{key}"))
    return {
        "schema_version": 1,
        "event_id": event_id,
        "type": kind,
        "occurred_at": at.isoformat(),
        "source": {"vendor": "simulator", "delivery_id": f"sim-{event_id[:8]}"},
        "rep_id": rep,
        "account_id": account,
        "opportunity_id": opportunity,
        "contact_id": contact,
        "payload": payload,
    }


def story() -> list[dict[str, Any]]:
    """Every CRM event type once or more, in event-time order, on two opportunities."""
    opp, opp2 = "opp-000123", "opp-000124"
    t = T0
    sent = event("email.sent", t + timedelta(minutes=7), {"subject": "Pricing follow-up"})
    created = {
        "name": "Initech platform rollout",
        "stage": "Discovery",
        "amount": "12000.00",
        "currency": "USD",
        "close_date": "2026-04-30",
        "pipeline": "default",
    }
    return [
        event("opportunity.created", t, created, opportunity=opp),
        sent,
        event(
            "email.replied",
            t + timedelta(minutes=57),
            {"in_reply_to_event_id": sent["event_id"]},
            opportunity=opp,
        ),
        event(
            "call.made",
            t + timedelta(hours=1),
            {"connected": True, "duration_seconds": 301},
            opportunity=opp,
        ),
        event(
            "call.made",
            t + timedelta(hours=1, minutes=20),
            {"connected": False, "duration_seconds": 0},
            account="acc-00013",
            contact="con-000046",
            rep="rep-0002",
        ),
        event(
            "meeting.scheduled",
            t + timedelta(hours=2),
            {
                "meeting_id": "mtg-000001",
                "starts_at": "2026-03-04T16:00:00+00:00",
                "kind": "initial",
            },
            opportunity=opp,
        ),
        event(
            "opportunity.stage_changed",
            t + timedelta(days=1),
            {"from_stage": "Discovery", "to_stage": "Qualification"},
            opportunity=opp,
        ),
        event(
            "opportunity.amount_changed",
            t + timedelta(days=1, hours=1),
            {"from_amount": "12000.00", "to_amount": "15000.50", "currency": "USD"},
            opportunity=opp,
        ),
        event(
            "opportunity.close_date_changed",
            t + timedelta(days=1, hours=2),
            {"from_date": "2026-04-30", "to_date": "2026-05-15"},
            opportunity=opp,
        ),
        event(
            "meeting.held",
            datetime(2026, 3, 4, 16, 45, tzinfo=UTC),
            {"meeting_id": "mtg-000001", "kind": "initial", "duration_minutes": 45},
            opportunity=opp,
        ),
        event(
            "meeting.held",
            datetime(2026, 3, 5, 10, 30, tzinfo=UTC),
            {"meeting_id": "mtg-000002", "kind": "follow_up", "duration_minutes": 30},
            opportunity=opp,
        ),
        event(
            "opportunity.owner_changed",
            t + timedelta(days=4),
            {"from_rep_id": "rep-0001", "to_rep_id": "rep-0002"},
            opportunity=opp,
        ),
        event(
            "opportunity.closed_won",
            t + timedelta(days=5),
            {"amount": "15000.50"},
            opportunity=opp,
            rep="rep-0002",
        ),
        event(
            "opportunity.created",
            t + timedelta(days=5, hours=1),
            {**created, "name": "Globex pilot", "amount": "12000000.00", "close_date": None},
            opportunity=opp2,
            account="acc-00013",
            contact=None,
        ),
        event(
            "opportunity.closed_lost",
            t + timedelta(days=6),
            {"reason": "Budget"},
            opportunity=opp2,
            account="acc-00013",
            contact=None,
        ),
    ]


def directory_event() -> dict[str, Any]:
    return event(
        "rep.upserted",
        T0,
        {"name": "Dana", "email": "dana@example.com", "role": "AE"},
        account=None,
        contact=None,
    )


def emails(count: int, *, start: datetime = T0, gap: timedelta = timedelta(0)) -> list[Any]:
    """`count` sent emails, `gap` apart."""
    return [
        event("email.sent", start + i * gap, {"subject": f"Note {i}"}, key=str(i))
        for i in range(count)
    ]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
