"""GET /v1/reps/{rep_id} and /v1/reps/{rep_id}/metrics on real databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.factories import T0, make_bucket, make_rep, save
from tests.integration.api.conftest import rejected_params

PROFILE = {
    "rep_id": "rep-1",
    "name": "Rep rep-1",
    "email": "rep-1@example.com",
    "role": "ae",
    "manager_id": "mgr-1",
    "team": "east",
    "hire_date": "2025-01-06",
    "time_zone": "America/New_York",
    "active": True,
    "departed_on": None,
    "updated_at": "2026-01-05T09:00:00+00:00",
}
ZERO_COUNTS = {
    "emails_sent": 0,
    "emails_replied": 0,
    "calls_made": 0,
    "calls_connected": 0,
    "meetings_scheduled": 0,
    "meetings_held_initial": 0,
    "meetings_held_follow_up": 0,
    "opps_created": 0,
    "pipeline_created_amount": "0.00",
    "opps_advanced": 0,
    "opps_won": 0,
    "opps_lost": 0,
    "bookings_amount": "0.00",
    "accounts_touched": 0,
}


async def test_profile(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_rep(), make_rep("rep-2"))
    response = await client.get("/v1/reps/rep-1")
    assert response.status_code == 200
    assert response.json() == PROFILE


async def test_unknown_rep_profile_is_404(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_bucket("ghost"))  # buckets alone make no directory entry
    response = await client.get("/v1/reps/ghost")
    assert response.status_code == 404
    assert response.json() == {"detail": "no rep 'ghost'"}


async def test_metrics_fill_gaps_and_sum_the_range(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    save(
        engine,
        make_rep(),
        make_bucket(
            day=date(2026, 1, 2),
            emails_sent=10,
            emails_replied=2,
            calls_made=8,
            calls_connected=2,
            meetings_held_initial=2,
            meetings_held_follow_up=1,
            pipeline_created_amount=Decimal("1500.50"),
            accounts_touched=4,
        ),
        make_bucket(
            day=date(2026, 1, 4),
            emails_sent=6,
            emails_replied=1,
            calls_made=2,
            meetings_held_initial=1,
            meetings_held_follow_up=2,
            opps_won=1,
            bookings_amount=Decimal("9999.99"),
        ),
        make_bucket(day=date(2025, 12, 31), emails_sent=100),  # before the range
        make_bucket("rep-2", day=date(2026, 1, 3), emails_sent=100),  # someone else
    )
    params = {"start": "2026-01-01", "end": "2026-01-05"}
    response = await client.get("/v1/reps/rep-1/metrics", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rep"] == PROFILE
    assert (body["rep_id"], body["start"], body["end"]) == ("rep-1", "2026-01-01", "2026-01-05")
    assert [day["day"] for day in body["days"]] == [f"2026-01-0{n}" for n in range(1, 6)]
    assert [day["emails_sent"] for day in body["days"]] == [0, 10, 0, 6, 0]
    assert body["days"][0] == {"rep_id": "rep-1", "day": "2026-01-01", "updated_at": None} | (
        ZERO_COUNTS
    )
    assert body["days"][1]["updated_at"] == "2026-01-05T09:00:00+00:00"
    assert body["days"][1]["pipeline_created_amount"] == "1500.50"
    assert body["totals"] == ZERO_COUNTS | {
        "emails_sent": 16,
        "emails_replied": 3,
        "calls_made": 10,
        "calls_connected": 2,
        "meetings_held_initial": 3,
        "meetings_held_follow_up": 3,
        "pipeline_created_amount": "1500.50",
        "opps_won": 1,
        "bookings_amount": "9999.99",
        "accounts_touched": 4,
    }
    assert body["rates"] == {
        "call_connect_rate": 0.2,
        "email_engagement_rate": 0.1875,
        "follow_up_ratio": 1.0,
    }


async def test_default_range_is_28_days_to_the_latest_bucket(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    latest = date(2026, 2, 10)
    save(
        engine, make_rep(), make_bucket(day=latest, calls_made=3), make_bucket(day=date(2025, 1, 1))
    )
    body = (await client.get("/v1/reps/rep-1/metrics")).json()
    assert (body["start"], body["end"]) == ("2026-01-14", "2026-02-10")
    assert len(body["days"]) == 28
    assert body["totals"]["calls_made"] == 3
    assert body["rates"]["call_connect_rate"] == 0.0


async def test_start_alone_runs_to_the_latest_bucket(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    save(engine, make_bucket(day=date(2026, 1, 10)))
    body = (await client.get("/v1/reps/rep-1/metrics", params={"start": "2026-01-08"})).json()
    assert (body["start"], body["end"], len(body["days"])) == ("2026-01-08", "2026-01-10", 3)


async def test_buckets_without_a_profile_are_served(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    save(engine, make_bucket("new-hire", day=date(2026, 1, 5), emails_sent=1))
    body = (await client.get("/v1/reps/new-hire/metrics")).json()
    assert body["rep"] is None
    assert body["end"] == "2026-01-05"
    assert body["totals"]["emails_sent"] == 1


async def test_profile_without_buckets_is_all_zeros_ending_on_its_local_day(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    # 03:00 UTC is still the previous evening in New York.
    save(engine, make_rep(updated_at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC)))
    body = (await client.get("/v1/reps/rep-1/metrics")).json()
    assert body["end"] == "2026-01-04"
    assert len(body["days"]) == 28
    assert body["totals"] == ZERO_COUNTS
    assert body["rates"] == {
        "call_connect_rate": None,
        "email_engagement_rate": None,
        "follow_up_ratio": None,
    }


async def test_a_full_366_day_range_is_allowed(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_rep())
    params = {"start": "2025-01-01", "end": "2026-01-01"}
    body = (await client.get("/v1/reps/rep-1/metrics", params=params)).json()
    assert len(body["days"]) == 366


async def test_unknown_rep_metrics_are_404(client: httpx.AsyncClient, engine: Engine) -> None:
    save(engine, make_rep(), make_bucket())
    response = await client.get("/v1/reps/nobody/metrics", params={"start": "2026-01-01"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no rep 'nobody'"}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"start": "2026-01-06", "end": "2026-01-05"}, "start"),
        ({"start": str(T0.date() + timedelta(days=1))}, "start"),  # after the default end
        ({"start": "2025-01-01", "end": "2026-01-02"}, "end"),  # 367 days
        ({"start": "05/01/2026"}, "start"),
        ({"start": "1767225600"}, "start"),  # not taken as a Unix timestamp
        ({"start": "2026-W02-1"}, "start"),
        ({"end": "2026-02-30"}, "end"),
    ],
)
async def test_bad_ranges_are_422_naming_the_param(
    client: httpx.AsyncClient, engine: Engine, params: dict[str, str], param: str
) -> None:
    save(engine, make_rep(), make_bucket())
    response = await client.get("/v1/reps/rep-1/metrics", params=params)
    assert rejected_params(response) == [param]
