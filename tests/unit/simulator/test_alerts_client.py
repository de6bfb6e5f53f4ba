"""Reading every alert from the api: cursors followed, key sent, key never in errors."""

from __future__ import annotations

import httpx
import pytest

from simulator.alerts_client import AlertsApiError, fetch_alerts

API_KEY = "sk-test-do-not-leak"
BASE_URL = "http://api.test/"


def serve_two_pages(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("X-API-Key") != API_KEY:
            return httpx.Response(401, json={"detail": "missing or invalid API key"})
        if request.url.params.get("cursor") is None:
            return httpx.Response(200, json={"items": [{"fingerprint": "a"}], "next_cursor": "c1"})
        assert request.url.params["cursor"] == "c1"
        return httpx.Response(200, json={"items": [{"fingerprint": "b"}], "next_cursor": None})

    return httpx.MockTransport(handler)


def test_follows_cursors_with_the_key() -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(transport=serve_two_pages(seen)) as client:
        alerts = fetch_alerts(BASE_URL, API_KEY, client=client)
    assert [item["fingerprint"] for item in alerts] == ["a", "b"]
    assert [request.url.path for request in seen] == ["/v1/alerts", "/v1/alerts"]
    assert [request.url.params.get("cursor") for request in seen] == [None, "c1"]
    assert {request.url.params["limit"] for request in seen} == {"500"}
    assert {request.headers["X-API-Key"] for request in seen} == {API_KEY}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, '{"detail": "missing or invalid API key"}'),
        (500, f"internal error while handling key {API_KEY}\n" + "x" * 1000),
    ],
)
def test_error_names_status_and_body_but_not_the_key(status: int, body: str) -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, text=body))
    with httpx.Client(transport=transport) as client, pytest.raises(AlertsApiError) as caught:
        fetch_alerts(BASE_URL, API_KEY, client=client)
    message = str(caught.value)
    assert f"answered {status}" in message
    assert body[:20] in message
    assert API_KEY not in message
    assert len(message) < 400


def test_a_repeated_cursor_stops_instead_of_looping() -> None:
    page = {"items": [], "next_cursor": "same"}
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=page))
    with httpx.Client(transport=transport) as client, pytest.raises(AlertsApiError, match="twice"):
        fetch_alerts(BASE_URL, API_KEY, client=client)


def test_not_a_page_is_an_error() -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=[1, 2]))
    with httpx.Client(transport=transport) as client, pytest.raises(AlertsApiError, match="page"):
        fetch_alerts(BASE_URL, API_KEY, client=client)
