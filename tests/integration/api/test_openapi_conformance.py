"""Schemathesis against the app's own OpenAPI: no 5xx, every response matches its schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis import checks
from sqlalchemy.engine import Engine

from services.api.app import create_app
from services.api.deps import get_engine
from services.api.settings import ApiSettings
from shared.db.engine import make_engine
from tests.factories import (
    D0,
    T0,
    make_alert,
    make_bucket,
    make_opportunity,
    make_rep,
    make_transition,
    save,
)
from tests.integration.api.conftest import API_KEY, AUTH


def seed_org(engine: Engine) -> None:
    """A little of everything, so generated requests also hit the 200 paths."""
    alerts = [
        make_alert("stale_opportunity", "opp-1", numbers={"days": 12, "ratio": 0.5, "x": None}),
        make_alert(
            "kudos",
            "rep-1",
            subject_type="rep",
            valence="positive",
            state="resolved",
            resolved_at=T0 + timedelta(days=1),
            updated_at=T0 + timedelta(days=1),
        ),
        make_alert(
            "goal_pacing",
            "rep-2",
            subject_type="rep",
            rep_id="rep-2",
            manager_id=None,
            team=None,
            state="pending",
            period="2026-W02",
        ),
    ]
    save(
        engine,
        make_rep(),
        make_rep("rep-2", manager_id=None, team=None, hire_date=None, time_zone="Bogus/Zone"),
        (
            make_bucket(
                day=D0 - timedelta(days=n),
                emails_sent=n,
                calls_made=n % 3,
                bookings_amount=Decimal("1234.56"),
            )
            for n in range(0, 40, 3)
        ),
        make_bucket("rep-9", day=date(2026, 1, 1)),
        make_opportunity(),
        make_opportunity(
            "opp-2", last_touch_at=None, last_touch_type=None, is_closed=True, is_won=True
        ),
        alerts,
        make_transition(alerts[0].fingerprint),
        make_transition(alerts[1].fingerprint, "resolved", from_state="firing"),
    )


# One app for the module, so schemathesis can load its schema at collection time (the lazy
# `schemathesis.pytest.from_fixture` loader breaks on pytest 9). Its own engine is an empty
# in-memory database that is never meant to be queried: each test points the app at its
# seeded backend through `app.dependency_overrides`, the seam deps.py provides.
APP = create_app(ApiSettings(api_key=SecretStr(API_KEY)), engine=make_engine("sqlite://"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def seeded_app(engine: Engine) -> Iterator[FastAPI]:
    """APP reading a database that holds `seed_org`."""
    seed_org(engine)
    APP.dependency_overrides[get_engine] = lambda: engine
    yield APP
    APP.dependency_overrides.clear()


@schema.parametrize()
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any], seeded_app: FastAPI) -> None:
    # Every default check but two. positive_data_acceptance: the rules the API enforces
    # beyond the schema (an opaque cursor, start <= end, at most 366 days) cannot be said in
    # OpenAPI, so schema-valid requests may rightly get a 422 naming the parameter.
    # negative_data_rejection: query values are text on the wire, so its "invalid" example
    # for a string parameter (say `rule=3.8e+61`) is a valid string the API must accept;
    # it failed only when hypothesis happened to draw one. The 422s for truly bad values are
    # asserted one by one in test_alerts.py and test_reps.py.
    case.call_and_validate(
        headers=AUTH,
        excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection],
    )
