"""The pure intake checks, table-driven."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.ingest.intake import Refused, distinct, json_path, require_json
from shared.events import SalesEvent
from tests.unit.services.ingest.support import call_event


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json;charset=utf-8", True),
        ('application/json; charset="utf8"', True),
        (" APPLICATION/JSON ", True),
        ("application/json; charset=utf-16", False),
        ("application/jsonx", False),
        ("application/problem+json", False),
        ("", False),
        (None, False),
    ],
)
def test_require_json(content_type: str | None, ok: bool) -> None:
    if ok:
        require_json(content_type)
        return
    with pytest.raises(Refused) as refused:
        require_json(content_type)
    assert refused.value.status == 415


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("payload", "call.made", "connected"), ("payload", "connected")),
        (("payload", "rep.upserted"), ("payload",)),
        (("payload",), ("payload",)),
        (("source", "vendor"), ("source", "vendor")),
        (("payload", "not-a-type", "x"), ("payload", "not-a-type", "x")),
    ],
)
def test_json_path_strips_only_the_payload_union_tag(
    loc: tuple[str | int, ...], path: tuple[str | int, ...]
) -> None:
    assert json_path(loc) == path


def test_distinct_keeps_the_first_of_each_event_id() -> None:
    first = SalesEvent.model_validate(call_event("d-1"))
    retry = SalesEvent.model_validate(call_event("d-1", connected=False))
    other = SalesEvent.model_validate(call_event("d-2", at=first.occurred_at + timedelta(1)))
    assert distinct([first, other, retry]) == [first, other]
