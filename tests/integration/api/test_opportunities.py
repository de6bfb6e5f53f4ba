"""GET /v1/opportunities/{opportunity_id} on real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from tests.factories import T0, make_alert, make_opportunity, save


async def test_snapshot_with_days_since_touch_and_its_alerts(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    stale = make_alert("stale_opportunity", "opp-1", updated_at=T0)
    past_due = make_alert("past_due", "opp-1", state="resolved", updated_at=T0 + timedelta(1))
    save(
        engine,
        make_opportunity(
            last_touch_at=datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
            last_touch_type="call",
            next_meeting_at=datetime(2026, 1, 8, 15, 0, tzinfo=UTC),
            upcoming_meetings={"mtg-7": "2026-01-08T15:00:00+00:00"},
        ),
        make_opportunity("opp-2"),
        stale,
        past_due,
        make_alert("stale_opportunity", "opp-2"),  # another opportunity
        make_alert("activity_drop", "opp-1", subject_type="rep"),  # same id, not an opp
    )
    response = await client.get("/v1/opportunities/opp-1")
    assert response.status_code == 200, response.text
    body = response.json()
    alerts = body.pop("alerts")
    assert body == {
        "opportunity_id": "opp-1",
        "rep_id": "rep-1",
        "account_id": "acct-1",
        "name": "Deal opp-1",
        "stage": "discovery",
        "amount": "10000.00",
        "currency": "USD",
        "close_date": "2026-03-31",
        "is_closed": False,
        "is_won": False,
        "created_at": "2025-12-01T00:00:00+00:00",
        "stage_changed_at": "2025-12-15T00:00:00+00:00",
        "last_touch_at": "2026-01-02T10:00:00+00:00",
        "last_touch_type": "call",
        "next_meeting_at": "2026-01-08T15:00:00+00:00",
        "upcoming_meetings": {"mtg-7": "2026-01-08T15:00:00+00:00"},
        "updated_at": "2026-01-05T09:00:00+00:00",
        "days_since_touch": 2,  # 2 days 23 hours of event time
    }
    assert [alert["fingerprint"] for alert in alerts] == [past_due.fingerprint, stale.fingerprint]
    assert alerts[0]["state"] == "resolved"


async def test_never_touched_has_null_days_and_no_alerts(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    save(engine, make_opportunity(last_touch_at=None, last_touch_type=None))
    body = (await client.get("/v1/opportunities/opp-1")).json()
    assert body["days_since_touch"] is None
    assert body["alerts"] == []


async def test_days_since_touch_uses_the_snapshot_time_not_the_wall_clock(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    long_ago = datetime(2020, 3, 1, tzinfo=UTC)
    save(engine, make_opportunity(last_touch_at=long_ago, updated_at=long_ago + timedelta(9)))
    body = (await client.get("/v1/opportunities/opp-1")).json()
    assert body["days_since_touch"] == 9


async def test_unknown_opportunity_is_404(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_opportunity())
    response = await client.get("/v1/opportunities/opp-404")
    assert response.status_code == 404
    assert response.json() == {"detail": "no opportunity 'opp-404'"}
