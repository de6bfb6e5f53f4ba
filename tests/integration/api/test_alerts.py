"""GET /v1/alerts and /v1/alerts/{fingerprint} on real databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from shared.db.models import Alert
from tests.factories import T0, make_alert, make_transition, save
from tests.integration.api.conftest import rejected_params

Params = dict[str, str | list[str]]


def _seed_variety(engine: Engine) -> dict[str, Alert]:
    alerts = {
        "a": make_alert("stale_opportunity", "opp-1", updated_at=T0),
        "b": make_alert(
            "stale_opportunity", "opp-2", rep_id="rep-2", state="pending", updated_at=T0
        ),
        "c": make_alert(
            "activity_drop",
            "rep-1",
            subject_type="rep",
            state="resolved",
            resolved_at=T0 - timedelta(days=1),
            updated_at=T0 - timedelta(days=1),
        ),
        "d": make_alert(
            "kudos",
            "rep-3",
            subject_type="rep",
            rep_id="rep-3",
            manager_id="mgr-2",
            team="west",
            valence="positive",
            severity="info",
            updated_at=T0 + timedelta(hours=1),
        ),
        "e": make_alert(
            "goal_pacing",
            "rep-2",
            subject_type="rep",
            rep_id="rep-2",
            manager_id=None,
            team=None,
            updated_at=T0 - timedelta(days=3),
        ),
    }
    save(engine, alerts.values())
    return alerts


async def _fingerprints(client: httpx.AsyncClient, params: Params) -> list[str]:
    response = await client.get("/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    return [item["fingerprint"] for item in response.json()["items"]]


def _ordered(*alerts: Alert) -> list[str]:
    ranked = sorted(alerts, key=lambda a: a.fingerprint)
    ranked.sort(key=lambda a: a.updated_at, reverse=True)
    return [a.fingerprint for a in ranked]


async def test_every_column_is_served(client: httpx.AsyncClient, engine: Engine) -> None:
    numbers = {"days": 14, "rate": 0.25, "label": "q1", "missing": None}
    alert = make_alert(version=3, numbers=numbers)
    save(engine, alert)
    response = await client.get("/v1/alerts")
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "fingerprint": alert.fingerprint,
                "version": 3,
                "rule": "stale_opportunity",
                "subject_type": "opportunity",
                "subject_id": "opp-1",
                "subject_name": "Deal opp-1",
                "rep_id": "rep-1",
                "manager_id": "mgr-1",
                "team": "east",
                "state": "firing",
                "severity": "warning",
                "valence": "warning",
                "audience": "manager_only",
                "title": alert.title,
                "why": alert.why,
                "next_step": alert.next_step,
                "numbers": {"days": 14, "rate": 0.25, "label": "q1", "missing": None},
                "period": "",
                "started_at": "2026-01-05T09:00:00+00:00",
                "updated_at": "2026-01-05T09:00:00+00:00",
                "resolved_at": None,
            }
        ],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "dabce"),
        ({"manager_id": "mgr-1"}, "abc"),
        ({"manager_id": "nobody"}, ""),
        ({"rep_id": "rep-2"}, "be"),
        ({"state": "firing"}, "dae"),
        ({"state": ["pending", "resolved"]}, "bc"),
        ({"rule": ["kudos", "goal_pacing"]}, "de"),
        ({"rule": "stale_opportunity", "rep_id": "rep-1"}, "a"),
        ({"since": "2026-01-05T09:00:00+00:00"}, "dab"),
        ({"since": "2026-01-05T04:00:00-05:00"}, "dab"),  # same instant, other offset
        ({"since": "2026-01-05T09:00:00.000001Z"}, "d"),
        ({"since": "2026-01-04T00:00:00Z", "state": "resolved"}, "c"),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, engine: Engine, params: Params, expected: str
) -> None:
    alerts = _seed_variety(engine)
    wanted = _ordered(*(alerts[key] for key in expected))
    assert await _fingerprints(client, params) == wanted


async def test_pages_cover_everything_once_in_order(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    # Many alerts share an updated_at, so the fingerprint tie-break does real work.
    alerts = [
        make_alert("stale_opportunity", f"opp-{n}", updated_at=T0 - timedelta(hours=n % 4))
        for n in range(23)
    ]
    save(engine, alerts)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/alerts", params=params)).json()
        seen += [item["fingerprint"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert seen == _ordered(*alerts)


async def test_pages_respect_filters_and_exact_fit_has_no_empty_tail(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    mine = [make_alert("r", f"opp-{n}", updated_at=T0 + timedelta(minutes=n)) for n in range(4)]
    others = [make_alert("r", f"x-{n}", manager_id="mgr-2") for n in range(3)]
    save(engine, mine, others)
    first = (await client.get("/v1/alerts", params={"manager_id": "mgr-1", "limit": 2})).json()
    assert first["next_cursor"]
    second_params = {"manager_id": "mgr-1", "limit": 2, "cursor": first["next_cursor"]}
    second = (await client.get("/v1/alerts", params=second_params)).json()
    assert second["next_cursor"] is None
    got = [item["fingerprint"] for item in first["items"] + second["items"]]
    assert got == _ordered(*mine)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"state": "snoozed"}, "state"),
        ({"since": "2026-01-05T09:00:00"}, "since"),
        ({"since": "last tuesday"}, "since"),
        ({"since": "0.5"}, "since"),  # not taken as a Unix timestamp
        ({"since": "2026-01-05"}, "since"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"cursor": "definitely-not-a-cursor"}, "cursor"),
        ({"rep_id": "bad\x00id"}, "rep_id"),
        ({"rep_id": "x" * 129}, "rep_id"),
    ],
)
async def test_bad_params_are_422_naming_the_param(
    client: httpx.AsyncClient, params: dict[str, str | int], param: str
) -> None:
    response = await client.get("/v1/alerts", params=params)
    assert rejected_params(response) == [param]


async def test_limit_bounds_are_inclusive(client: httpx.AsyncClient) -> None:
    for limit in (1, 500):
        assert (await client.get("/v1/alerts", params={"limit": limit})).status_code == 200


async def test_one_alert_with_its_history(client: httpx.AsyncClient, engine: Engine) -> None:
    alert = make_alert(state="resolved", resolved_at=T0 + timedelta(days=2))
    other = make_alert("kudos", "rep-1", subject_type="rep")
    save(
        engine,
        alert,
        other,
        make_transition(alert.fingerprint, "resolved", from_state="firing", at=T0 + timedelta(2)),
        make_transition(alert.fingerprint, "pending", from_state=None, at=T0 - timedelta(1)),
        make_transition(alert.fingerprint, "firing", from_state="pending", at=T0),
        make_transition(other.fingerprint, "firing"),
    )
    response = await client.get(f"/v1/alerts/{alert.fingerprint}")
    assert response.status_code == 200
    body = response.json()
    assert body["fingerprint"] == alert.fingerprint
    assert body["resolved_at"] == "2026-01-07T09:00:00+00:00"
    assert body["transitions"] == [
        {"from_state": None, "to_state": "pending", "at": "2026-01-04T09:00:00+00:00"},
        {"from_state": "pending", "to_state": "firing", "at": "2026-01-05T09:00:00+00:00"},
        {"from_state": "firing", "to_state": "resolved", "at": "2026-01-07T09:00:00+00:00"},
    ]


async def test_an_alert_without_transitions_has_an_empty_history(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    alert = make_alert()
    save(engine, alert)
    body = (await client.get(f"/v1/alerts/{alert.fingerprint}")).json()
    assert body["transitions"] == []


async def test_unknown_alert_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/alerts/0123456789abcdef")
    assert response.status_code == 404
    assert response.json() == {"detail": "no alert '0123456789abcdef'"}
