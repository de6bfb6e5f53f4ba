"""A small adapter that speaks the adapter protocol for real, to test the webhook flow.

Its body is a JSON array of `{"id", "user", "at", "kind"}`; users map through the mapping's
`pipedrive.users` section (any section would do). `kind` "call" maps to call.made, "skip" is
ignored, "boom" raises a bug, anything else is an unknown activity type.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from services.ingest.adapters.base import (
    AdapterBase,
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    Mapped,
    ParkReason,
    Unavailable,
    Unmappable,
    WebhookRequest,
    build_event,
    refuse,
    rep_for,
    require_media_type,
)
from services.ingest.mapping import MappingConfig
from services.ingest.models import Outcome


class FakeAdapter(AdapterBase):
    vendor = "pipedrive"  # a real vendor label, so events validate and metrics are declared

    def __init__(self) -> None:
        self.enrich_down = False
        self.commit_down = False
        self.committed: list[Item] = []

    def authenticate(self, request: WebhookRequest) -> None:
        if request.headers.get("x-fake-token") != "let-me-in":
            raise refuse(401, Outcome.UNAUTHORIZED, "fake token missing or wrong")

    def parse(self, request: WebhookRequest) -> list[Item]:
        require_media_type(request.content_type, ["application/json"])
        try:
            document = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise refuse(400, Outcome.INVALID, "body is not JSON") from exc
        if not isinstance(document, list) or not all(isinstance(i, dict) for i in document):
            raise refuse(422, Outcome.INVALID, "body: expected an array of objects")
        return document

    async def enrich(self, items: Sequence[Item]) -> list[Item]:
        if self.enrich_down:
            raise Unavailable("fake API down")
        return list(items)

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        kind = item.get("kind")
        if kind == "skip":
            return Ignored(IgnoreReason.NOT_TRACKED, "skipped")
        if kind == "boom":
            raise RuntimeError("a bug in the adapter")
        if kind != "call":
            raise Unmappable(ParkReason.UNKNOWN_ACTIVITY_TYPE, f"activity type {kind!r}")
        rep = rep_for(mapping.pipedrive.users, item.get("user"), vendor="pipedrive")
        event = build_event(
            vendor="pipedrive",
            delivery_id=f"fake:{item['id']}",
            event_type="call.made",
            occurred_at=item["at"],
            rep_id=rep,
            payload={"connected": True, "duration_seconds": 60},
        )
        return Mapped((event,))

    async def commit(self, items: Sequence[Item]) -> None:
        if self.commit_down:
            raise Unavailable("fake store down")
        self.committed.extend(items)
