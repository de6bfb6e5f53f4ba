"""GET /v1/opportunities/{opportunity_id} on real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.clock import FixedClock
from shared.settings import ClockMode
from tests.factories import T0, make_alert, make_opportunity, save
from tests.integration.api.conftest import AUTH


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
        "as_of": "2026-01-05T09:00:00+00:00",  # the app's (fixed) clock
        "days_since_touch": 2,  # 2 days 23 hours
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


async def test_an_abandoned_deal_keeps_ageing_under_the_live_clock(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    # Nothing has happened to the deal since its last touch, so its own updated_at is that
    # touch; the answer must still count the days up to now (the app's clock, T0).
    touched = T0 - timedelta(days=20)
    save(engine, make_opportunity(last_touch_at=touched, updated_at=touched))
    body = (await client.get("/v1/opportunities/opp-1")).json()
    assert (body["as_of"], body["days_since_touch"]) == (T0.isoformat(), 20)


async def test_under_the_replay_clock_days_run_to_the_newest_event_time(
    api_settings: ApiSettings, engine: Engine
) -> None:
    long_ago = datetime(2020, 3, 1, tzinfo=UTC)
    save(
        engine,
        make_opportunity(last_touch_at=long_ago, updated_at=long_ago),
        make_opportunity("opp-2", updated_at=long_ago + timedelta(days=9)),  # other activity
    )
    replay = api_settings.model_copy(update={"clock_mode": ClockMode.REPLAY})
    app = create_app(replay, engine=engine, clock=FixedClock(T0))  # the clock is not used
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=AUTH) as http:
        body = (await http.get("/v1/opportunities/opp-1")).json()
    assert body["days_since_touch"] == 9
    assert body["as_of"] == (long_ago + timedelta(days=9)).isoformat()


async def test_unknown_opportunity_is_404(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_opportunity())
    response = await client.get("/v1/opportunities/opp-404")
    assert response.status_code == 404
    assert response.json() == {"detail": "no opportunity 'opp-404'"}
