"""The CRM API client against the local fake in-process: reads, batches, retries, the budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import SecretStr

from deploy.local.hubspot_api import create_app as create_crm_app
from services.ingest.adapters.base import Unavailable
from services.ingest.adapters.hubspot import HubSpotAdapter
from services.ingest.adapters.hubspot_api import SPECS, HubSpotApi, RetryPolicy, retry_after
from tests.unit.services.ingest.adapters.hubspot_fixtures import (
    TOKEN,
    FakeTime,
    deal,
    deal_change,
    engagement,
    harness,
    hubspot_settings,
    record,
)


def _metric(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(f"salescoach_ingest_{name}", {"vendor": "hubspot", **labels})
    return value or 0.0


@dataclass
class Crm:
    app: FastAPI
    client: httpx.AsyncClient

    async def load(self, *records: dict[str, Any]) -> None:
        assert (await self.client.post("/_records", json=list(records))).status_code == 200

    async def fault(self, **spec: Any) -> None:
        assert (await self.client.post("/_faults", json=spec)).status_code == 200

    async def calls(self) -> list[tuple[str, str]]:
        return [(c["method"], c["path"]) for c in (await self.client.get("/_calls")).json()]

    def api(self, time: FakeTime, **policy: Any) -> HubSpotApi:
        options = {"attempts": 3, "timeout": 3.0} | policy
        return HubSpotApi(
            "http://hubspot.test",
            SecretStr(TOKEN),
            RetryPolicy(**options),
            transport=httpx.ASGITransport(app=self.app),
            sleep=time.sleep,
            clock=time.clock,
            draw=lambda: 0.5,
        )


@pytest.fixture
async def crm() -> AsyncIterator[Crm]:
    app = create_crm_app(token=TOKEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubspot.test") as client:
        yield Crm(app, client)


def _call(n: int, owner: str = "101") -> dict[str, Any]:
    links = {"deals": [f"7{n}"], "companies": ["9001"], "contacts": [f"5{n}", "5000"]}
    return record("calls", n, links=links, hubspot_owner_id=owner, hs_call_duration=str(n * 1000))


# ---- reads ------------------------------------------------------------------------------


async def test_a_few_records_are_read_one_call_each_with_their_associations(crm: Crm) -> None:
    await crm.load(_call(1), _call(2), deal(70))
    api = crm.api(FakeTime())
    found = await api.read({"calls": ["1", "2", "1"], "deals": ["70"], "emails": []})
    assert await crm.calls() == [
        ("GET", "/crm/v3/objects/calls/1"),
        ("GET", "/crm/v3/objects/calls/2"),
        ("GET", "/crm/v3/objects/deals/70"),
    ]
    call = found[("calls", "1")]
    assert call is not None
    assert call["associations"] == {
        "deals": ["71"],
        "companies": ["9001"],
        "contacts": ["51", "5000"],
    }
    assert call["properties"]["hs_call_duration"] == "1000"
    assert set(call["properties"]) >= set(SPECS["calls"].properties)
    assert found[("deals", "70")]["associations"] == {"companies": ["9001"], "contacts": []}  # type: ignore[index]
    await api.stop()


async def test_many_records_of_a_type_are_batch_read_with_the_same_result(crm: Crm) -> None:
    calls = [_call(n) for n in range(1, 8)]
    await crm.load(*calls)
    ids = [str(n) for n in range(1, 8)] + ["404"]
    batched = await crm.api(FakeTime()).read({"calls": ids})
    made = await crm.calls()
    assert made == [
        ("POST", "/crm/v3/objects/calls/batch/read"),
        ("POST", "/crm/v4/associations/calls/deals/batch/read"),
        ("POST", "/crm/v4/associations/calls/companies/batch/read"),
        ("POST", "/crm/v4/associations/calls/contacts/batch/read"),
    ]
    assert batched[("calls", "404")] is None
    one_by_one = await crm.api(FakeTime()).read({"calls": ["3"]})
    mine, theirs = batched[("calls", "3")], one_by_one[("calls", "3")]
    assert mine is not None and theirs is not None
    assert mine["associations"] == theirs["associations"]
    assert {k: v for k, v in mine["properties"].items() if k in SPECS["calls"].properties} == {
        k: v for k, v in theirs["properties"].items() if k in SPECS["calls"].properties
    }


def test_batching_only_when_it_saves_calls() -> None:
    assert not SPECS["calls"].batch_saves_calls(4)  # 1 + 3 association reads
    assert SPECS["calls"].batch_saves_calls(5)
    assert SPECS["deals"].batch_saves_calls(4) and not SPECS["deals"].batch_saves_calls(3)


async def test_a_missing_record_is_none_not_a_failure(crm: Crm) -> None:
    before = _metric("hydration_calls_total", outcome="not_found")
    assert await crm.api(FakeTime()).read({"meetings": ["12"]}) == {("meetings", "12"): None}
    assert _metric("hydration_calls_total", outcome="not_found") == before + 1


# ---- retries ----------------------------------------------------------------------------


async def test_a_429_is_retried_after_its_retry_after(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=429, retry_after=2)
    time, throttled = FakeTime(), _metric("hydration_calls_total", outcome="throttled")
    found = await crm.api(time).read({"calls": ["1"]})
    assert found[("calls", "1")] is not None
    assert time.sleeps == [2.0]
    assert _metric("hydration_calls_total", outcome="throttled") == throttled + 1


async def test_a_retry_after_beyond_the_budget_gives_up_at_once(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=429, retry_after=30, policy="DAILY")
    time, failures = FakeTime(), _metric("hydration_failures_total")
    with pytest.raises(Unavailable, match="429.*30.0s more would not fit the 4s budget"):
        await crm.api(time).read({"calls": ["1"]})
    assert time.sleeps == [] and len(await crm.calls()) == 1
    assert _metric("hydration_failures_total") == failures + 1


async def test_5xx_is_retried_with_backoff_then_succeeds(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=502, times=2)
    time = FakeTime()
    assert (await crm.api(time).read({"calls": ["1"]}))[("calls", "1")] is not None
    assert time.sleeps == [0.25, 0.5]  # 0.2 · 2^n · (1 + 0.5 · 0.5)
    assert len(await crm.calls()) == 3


async def test_5xx_every_attempt_is_unavailable(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=503, times=10)
    time = FakeTime()
    with pytest.raises(Unavailable, match="failed after 3 attempt"):
        await crm.api(time).read({"calls": ["1"]})
    assert len(time.sleeps) == 2 and len(await crm.calls()) == 3


async def test_a_slow_answer_times_out_and_is_retried(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=200, delay_seconds=5)
    errors = _metric("hydration_calls_total", outcome="error")
    found = await crm.api(FakeTime(), timeout=0.05).read({"calls": ["1"]})
    assert found[("calls", "1")] is not None
    assert _metric("hydration_calls_total", outcome="error") == errors + 1


async def test_the_budget_bounds_the_backoff(crm: Crm) -> None:
    await crm.load(_call(1))
    await crm.fault(status=500, times=5)
    time = FakeTime()
    with pytest.raises(Unavailable, match="would not fit the 1s budget"):
        await crm.api(time, budget_seconds=1.0, base_delay=0.8).read({"calls": ["1"]})
    assert time.sleeps == [] and len(await crm.calls()) == 1


async def test_other_4xx_are_not_retried(crm: Crm) -> None:
    api = HubSpotApi(
        "http://hubspot.test",
        SecretStr("pat-wrong"),
        RetryPolicy(),
        transport=httpx.ASGITransport(app=create_crm_app(token=TOKEN)),
    )
    with pytest.raises(Unavailable, match="answered HTTP 401; not retried") as raised:
        await api.read({"deals": ["1"]})
    assert "pat-wrong" not in str(raised.value)


async def test_connection_errors_are_retried_and_the_token_never_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        raise httpx.ConnectError("connection refused", request=request)

    time = FakeTime()
    api = HubSpotApi(
        "http://hubspot.test",
        SecretStr(TOKEN),
        RetryPolicy(attempts=4),
        transport=httpx.MockTransport(refuse),
        sleep=time.sleep,
        clock=time.clock,
    )
    with pytest.raises(Unavailable, match="ConnectError") as raised:
        await api.read({"emails": ["3"]})
    assert len(time.sleeps) == 3
    assert TOKEN not in str(raised.value) and TOKEN not in capsys.readouterr().out


async def test_an_answer_that_cannot_be_decoded_is_retried_not_raised() -> None:
    def corrupt(request: httpx.Request) -> httpx.Response:
        del request
        headers = {"content-encoding": "gzip", "content-type": "application/json"}
        return httpx.Response(200, headers=headers, content=b"not gzip at all")

    time = FakeTime()
    api = HubSpotApi(
        "http://hubspot.test",
        SecretStr(TOKEN),
        RetryPolicy(attempts=2),
        transport=httpx.MockTransport(corrupt),
        sleep=time.sleep,
        clock=time.clock,
    )
    with pytest.raises(Unavailable, match="DecodingError"):  # 503, not an uncaught 500
        await api.read({"emails": ["3"]})
    assert len(time.sleeps) == 1


async def test_without_a_token_nothing_is_called(crm: Crm) -> None:
    api = HubSpotApi("http://hubspot.test", None, RetryPolicy())
    assert not api.configured
    assert await api.read({"calls": []}) == {}
    with pytest.raises(Unavailable, match="HUBSPOT_ACCESS_TOKEN"):
        await api.read({"calls": ["1"]})
    await api.start()  # opens nothing without a token
    await api.stop()


def test_retry_after_reads_seconds_only() -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after(answer("3")) == 3.0
    assert retry_after(answer("Wed, 21 Oct 2015 07:28:00 GMT")) is None
    assert retry_after(answer("-1")) is None
    assert retry_after(httpx.Response(429)) is None


# ---- through the webhook route ----------------------------------------------------------


async def test_an_api_down_for_good_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as hub:
        await hub.load(deal(5))
        await hub.fault(status=503, times=100)
        response = await hub.post([deal_change(5, "amount", "9"), engagement("0-49", 6)])
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "hubspot records could not be loaded, retry later" in response.json()["detail"]
        assert hub.sink.events == [] and hub.sink.dead_letters == []


async def test_a_throttled_api_is_waited_for_within_the_request(tmp_path: Path) -> None:
    async with harness(tmp_path) as hub:
        await hub.load(deal(5))
        await hub.fault(status=429, retry_after=1)
        response = await hub.post([deal_change(5, "amount", "9")])
        assert response.status_code == 200 and response.json()["accepted"] == 1
        assert hub.time.sleeps == [1.0]


async def test_the_adapter_opens_and_closes_its_client_with_the_app(tmp_path: Path) -> None:
    async with harness(tmp_path) as hub:
        assert hub.adapter.api._client is not None
    assert hub.adapter.api._client is None


def test_the_adapter_takes_its_policy_from_the_settings(tmp_path: Path) -> None:
    settings = hubspot_settings(tmp_path, hubspot_api_attempts=5, hubspot_api_timeout_seconds=1.5)
    api = HubSpotAdapter(settings).api
    assert (api.policy.attempts, api.policy.timeout, api.policy.budget_seconds) == (5, 1.5, 4.0)
    assert api.base_url == "http://hubspot.test" and api.configured
