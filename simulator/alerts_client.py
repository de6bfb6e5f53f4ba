"""Read every alert from the running api (`GET /v1/alerts`, all pages)."""

from __future__ import annotations

from typing import Any

import httpx

PAGE_SIZE = 500  # the api's maximum `limit`
BODY_EXCERPT_CHARS = 300
DEFAULT_TIMEOUT = httpx.Timeout(30.0)


class AlertsApiError(RuntimeError):
    """The api answered something other than a page of alerts."""


def fetch_alerts(
    base_url: str, api_key: str, *, client: httpx.Client | None = None
) -> list[dict[str, Any]]:
    """Every alert, following `next_cursor` until it is null."""
    if client is None:
        with httpx.Client(timeout=DEFAULT_TIMEOUT) as owned:
            return _fetch_all(owned, base_url, api_key)
    return _fetch_all(client, base_url, api_key)


def _fetch_all(client: httpx.Client, base_url: str, api_key: str) -> list[dict[str, Any]]:
    url = f"{base_url.rstrip('/')}/v1/alerts"
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = _get_page(client, url, api_key, cursor)
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if cursor is None:
            return items
        # A cursor that comes back twice would loop forever; the api promises it never does.
        if cursor in seen:
            raise AlertsApiError(f"GET {url} returned the same next_cursor twice")
        seen.add(cursor)


def _get_page(client: httpx.Client, url: str, api_key: str, cursor: str | None) -> dict[str, Any]:
    params: dict[str, str | int] = {"limit": PAGE_SIZE}
    if cursor is not None:
        params["cursor"] = cursor
    response = client.get(url, params=params, headers={"X-API-Key": api_key})
    if response.status_code != httpx.codes.OK:
        raise AlertsApiError(
            f"GET {url} answered {response.status_code}: {_excerpt(response.text, api_key)}"
        )
    page = response.json()
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise AlertsApiError(f"GET {url} did not return a page of alerts")
    return page


def _excerpt(body: str, api_key: str) -> str:
    """The start of a body, with the key blanked in case the server echoed it."""
    if api_key:
        body = body.replace(api_key, "***")
    body = " ".join(body.split())
    if len(body) > BODY_EXCERPT_CHARS:
        return body[:BODY_EXCERPT_CHARS] + "..."
    return body
