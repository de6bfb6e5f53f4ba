"""The pure core of ingest: authenticate, check and validate one request body.

Every function either returns or raises `Refused`, which carries the status code, the
outcome label and the body to answer with. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import SecretStr, ValidationError
from pydantic_core import ErrorDetails

from services.ingest.models import InvalidEvents, Issue, Outcome, Problem
from shared.events import EventType, SalesEvent
from shared.logging import get_logger
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

log = get_logger(__name__)

Loc = tuple[str | int, ...]

_EVENT_TYPES = frozenset(t.value for t in EventType)
_JSON_MEDIA_TYPE = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})


class Refused(Exception):
    """The request is answered with `status` and `body`; nothing was produced."""

    def __init__(
        self,
        status: int,
        outcome: Outcome,
        body: Problem | InvalidEvents,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, outcome.value)
        self.status = status
        self.outcome = outcome
        self.body = body
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Limits:
    """What one request may carry."""

    max_batch: int
    max_future_skew: timedelta


def refuse(
    status: int, outcome: Outcome, detail: str, headers: Mapping[str, str] | None = None
) -> Refused:
    """A refusal whose body is `{"detail": detail}`."""
    return Refused(status, outcome, Problem(detail=detail), headers)


def authenticate(secret: SecretStr, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Refuse with 401 unless the body carries a fresh, valid signature."""
    reason = verify(
        secret.get_secret_value(),
        headers.get(TIMESTAMP_HEADER),
        headers.get(SIGNATURE_HEADER),
        body,
        now,
    )
    if reason is not None:
        raise refuse(401, Outcome.UNAUTHORIZED, reason)


def require_json(content_type: str | None) -> None:
    """Refuse with 415 unless the body is declared as UTF-8 application/json."""
    media_type, _, parameters = (content_type or "").partition(";")
    charset = _parameter(parameters, "charset")
    if media_type.strip().lower() != _JSON_MEDIA_TYPE or (charset and charset not in _UTF8):
        raise refuse(
            415,
            Outcome.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {_JSON_MEDIA_TYPE}, got {content_type or 'none'!r}",
        )


def _parameter(parameters: str, name: str) -> str | None:
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"').lower()
    return None


def parse_events(body: bytes, *, limits: Limits, now: datetime) -> list[SalesEvent]:
    """The events of a body holding one event or a batch; all valid or refused."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise refuse(400, Outcome.INVALID, f"body is not valid JSON: {exc}") from exc
    items, batched = _items(document, limits.max_batch)
    events: list[SalesEvent] = []
    issues: list[Issue] = []
    for index, item in enumerate(items):
        loc: Loc = ("body", index) if batched else ("body",)
        event, problems = check_event(item, loc, limits=limits, now=now)
        issues.extend(problems)
        if event is not None:
            events.append(event)
    if issues:
        raise Refused(422, Outcome.INVALID, InvalidEvents(detail=issues))
    return events


def _items(document: Any, max_batch: int) -> tuple[Sequence[Any], bool]:
    """The body's events and whether it was a batch; refuse other shapes and big batches."""
    if isinstance(document, dict):
        return [document], False
    if not isinstance(document, list):
        raise _invalid(("body",), "Body should be an event object or an array of them", "body_type")
    if not document:
        raise _invalid(("body",), "Batch should hold at least 1 event", "too_short")
    if len(document) > max_batch:
        raise refuse(
            413,
            Outcome.TOO_LARGE,
            f"batch of {len(document)} events is over the limit of {max_batch}",
        )
    return document, True


def _invalid(loc: Loc, msg: str, error_type: str) -> Refused:
    return Refused(
        422, Outcome.INVALID, InvalidEvents(detail=[Issue(loc=list(loc), msg=msg, type=error_type)])
    )


def check_event(
    item: Any, loc: Loc, *, limits: Limits, now: datetime
) -> tuple[SalesEvent | None, list[Issue]]:
    """One event validated against the contract and the clock, or the issues found."""
    try:
        event = SalesEvent.model_validate(item)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return None, [_issue(loc, error) for error in errors]
    except Exception:
        # A contract validator that crashes on odd input is still the input's problem for
        # the caller (422), and a bug for us to see in the log.
        log.error("event validator crashed", loc=list(loc), exc_info=True)
        return None, [Issue(loc=list(loc), msg="Event could not be validated", type="value_error")]
    problems = list(_time_issues(event, loc, limits.max_future_skew, now))
    return (None if problems else event), problems


def _issue(loc: Loc, error: ErrorDetails) -> Issue:
    return Issue(loc=[*loc, *json_path(error["loc"])], msg=error["msg"], type=error["type"])


def json_path(loc: Loc) -> Loc:
    """A pydantic error location without the payload's union tag, i.e. the JSON path."""
    if len(loc) >= 2 and loc[0] == "payload" and loc[1] in _EVENT_TYPES:
        return (loc[0], *loc[2:])
    return loc


def _time_issues(event: SalesEvent, loc: Loc, skew: timedelta, now: datetime) -> Iterable[Issue]:
    path = [*loc, "occurred_at"]
    try:
        event.occurred_at.astimezone(UTC)
    except OverflowError:
        # Downstream clocks normalise event time to UTC; this one has no UTC equivalent.
        yield Issue(loc=path, msg="occurred_at is out of range in UTC", type="datetime_range")
        return
    if event.occurred_at > now + skew:
        yield Issue(
            loc=path,
            msg=f"occurred_at is more than {int(skew.total_seconds())} seconds in the future",
            type="datetime_too_far_in_future",
        )


def distinct(events: Iterable[SalesEvent]) -> list[SalesEvent]:
    """The events with repeated event ids dropped; the first occurrence wins."""
    seen: dict[str, SalesEvent] = {}
    for event in events:
        seen.setdefault(event.event_id, event)
    return list(seen.values())
