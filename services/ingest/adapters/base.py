"""What every webhook adapter is: the request it reads, what it answers, what it maps to.

An adapter turns one vendor's webhook request into *items* (one notification, one event,
one change: a JSON-able dict holding the vendor's own data for it) and maps each item to
canonical events, or parks it with a reason, or ignores it (a change we do not track).
Items are self-contained so a parked one can be mapped again from the dead-letter topic.

Steps, in the order the flow calls them (`services.ingest.webhooks`):
`authenticate` → `parse` → `enrich` (I/O: hydration, previous state) → `map` (pure, per
item) → events and dead letters produced → `commit` (I/O, after the broker acknowledged)
→ `acknowledge`. Any step before producing may raise `Refused`; `enrich` and `commit` raise
`Unavailable` when a dependency is down, which the flow answers with 503 + Retry-After.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import SecretStr, ValidationError

from services.ingest.intake import Refused, refuse
from services.ingest.mapping import MappingConfig
from services.ingest.models import Outcome
from shared.events import SalesEvent, derive_event_id

Item = dict[str, Any]


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP request as the adapter sees it; header names are lower-case."""

    method: str
    url: str  # as called: scheme://host[:port]/path[?query]
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime  # wall time

    @classmethod
    def of(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> WebhookRequest:
        """A request with its header names lower-cased (the last of repeated names wins)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(method.upper(), url, lowered, body, received_at)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class ParkReason(StrEnum):
    """Why an authenticated item could not be mapped: the dead-letter label values."""

    UNKNOWN_USER = "unknown_user"
    UNKNOWN_PIPELINE = "unknown_pipeline"
    UNKNOWN_STAGE = "unknown_stage"
    UNKNOWN_ACTIVITY_TYPE = "unknown_activity_type"
    UNSUPPORTED_OBJECT = "unsupported_object"
    MISSING_FIELD = "missing_field"
    INVALID_VALUE = "invalid_value"
    RECORD_NOT_FOUND = "record_not_found"
    FUTURE_EVENT = "future_event"
    ADAPTER_ERROR = "adapter_error"


class IgnoreReason(StrEnum):
    """Why an item was understood and deliberately dropped: the ignored-items label values."""

    NOT_TRACKED = "not_tracked"  # an object or change the product has no event for
    STALE = "stale"  # older than what was already seen for the record
    DUPLICATE = "duplicate"  # the same change repeated within one request


class Unmappable(Exception):
    """Raised inside `map`: the item is parked with this reason and detail."""

    def __init__(self, reason: ParkReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class Unavailable(Exception):
    """A dependency (vendor API, state store) is down; nothing is acknowledged, retry later."""


@dataclass(frozen=True)
class Mapped:
    """The canonical events of one item (possibly none: nothing changed)."""

    events: tuple[SalesEvent, ...]


@dataclass(frozen=True)
class Parked:
    """An item that could not be mapped; goes to the dead-letter topic."""

    reason: ParkReason
    detail: str


@dataclass(frozen=True)
class Ignored:
    """An item understood and deliberately dropped."""

    reason: IgnoreReason
    detail: str = ""


ItemResult = Mapped | Parked | Ignored


@dataclass(frozen=True)
class Receipt:
    """What a request amounted to, for the answer, the metrics and the log."""

    events: tuple[SalesEvent, ...] = ()
    parked: tuple[Parked, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    items: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class Adapter(Protocol):
    """One vendor webhook format."""

    vendor: str  # the route's last segment and the metrics' vendor label

    def authenticate(self, request: WebhookRequest) -> None:
        """Raise `Refused` (401) unless the request comes from the configured account."""
        ...

    def parse(self, request: WebhookRequest) -> list[Item]:
        """The request's items; raise `Refused` (400, 415, 422) for a body of the wrong shape."""
        ...

    async def enrich(self, items: Sequence[Item]) -> list[Item]:
        """Items with what `map` needs from elsewhere (hydrated records, previous state)."""
        ...

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        """The item's events (pure); may raise `Unmappable`."""
        ...

    async def commit(self, items: Sequence[Item]) -> None:
        """Called once the broker acknowledged the request's events (remember state)."""
        ...

    def exclusive(self, items: Sequence[Item]) -> AbstractAsyncContextManager[None]:
        """Held from `enrich` to `commit`: keeps concurrent requests about the same records
        from both reading the state before either saved theirs."""
        ...

    def acknowledge(self, receipt: Receipt) -> Response:
        """The 2xx answer the vendor expects."""
        ...

    def refusal(self, refused: Refused) -> Response:
        """The error answer, in the vendor's format."""
        ...

    async def start(self) -> None:
        """Called when the app starts (open clients); must not fail when a dependency is down."""
        ...

    async def stop(self) -> None:
        """Called when the app stops."""
        ...


class AdapterBase:
    """Defaults for the optional steps: no enrichment, no state, JSON answers, no lifecycle."""

    vendor: str

    async def enrich(self, items: Sequence[Item]) -> list[Item]:
        return list(items)

    async def commit(self, items: Sequence[Item]) -> None:
        del items

    def exclusive(self, items: Sequence[Item]) -> AbstractAsyncContextManager[None]:
        del items
        return nullcontext()

    def acknowledge(self, receipt: Receipt) -> Response:
        return receipt_json(receipt)

    def refusal(self, refused: Refused) -> Response:
        return json_refusal(refused)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


# ---- helpers adapters share ---------------------------------------------------------------


def json_refusal(refused: Refused) -> Response:
    """A refusal as `application/json` (its body model), with its headers."""
    return JSONResponse(refused.body.model_dump(mode="json"), refused.status, refused.headers)


def receipt_json(receipt: Receipt, status: int = 200) -> Response:
    """The JSON answer: counts and the event ids, in item order."""
    return JSONResponse(
        {
            "accepted": len(receipt.events),
            "parked": len(receipt.parked),
            "ignored": len(receipt.ignored),
            "event_ids": [event.event_id for event in receipt.events],
        },
        status,
    )


def require_media_type(content_type: str, allowed: Sequence[str]) -> None:
    """Refuse with 415 unless the media type is one of `allowed` (charset, if any, UTF-8)."""
    media_type, _, parameters = content_type.partition(";")
    charset = ""
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() not in allowed or charset not in ("", "utf-8", "utf8"):
        raise refuse(
            415,
            Outcome.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {' or '.join(allowed)}, got {content_type or 'none'!r}",
        )


def not_configured(setting: str, vendor: str) -> Refused:
    """401 for a vendor whose credentials are not set: nothing can be authenticated."""
    return refuse(401, Outcome.UNAUTHORIZED, f"{vendor} webhooks are not configured: set {setting}")


def check_basic_auth(
    authorization: str | None, user: str, password: SecretStr | None, *, vendor: str
) -> None:
    """Refuse with 401 unless `authorization` is HTTP Basic for user:password.

    Both parts are compared in constant time, and both always are, so the answer's timing
    does not tell a right user name from a wrong one.
    """
    unauthorized = refuse(
        401,
        Outcome.UNAUTHORIZED,
        f"{vendor}: HTTP Basic credentials missing or wrong",
        {"WWW-Authenticate": f'Basic realm="{vendor}"'},
    )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        raise unauthorized
    try:
        given_user, sep, given_password = (
            base64.b64decode(token.strip(), validate=True).decode().partition(":")
        )
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, a non-ASCII token
        raise unauthorized from exc
    expected = password.get_secret_value() if password is not None else ""
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), expected.encode())
    if not (sep and user_ok and password_ok):
        raise unauthorized


def require(value: Any, what: str) -> Any:
    """`value`, or `Unmappable(MISSING_FIELD)` naming `what` when it is None or empty."""
    if value is None or value == "":
        raise Unmappable(ParkReason.MISSING_FIELD, f"{what} is missing")
    return value


def rep_for(users: Mapping[str, str], vendor_user_id: Any, *, vendor: str) -> str:
    """The rep of a vendor user, or `Unmappable(UNKNOWN_USER)` naming where to add it."""
    if vendor_user_id is None or vendor_user_id == "":
        raise Unmappable(ParkReason.MISSING_FIELD, "the owner (user id) is missing")
    rep = users.get(str(vendor_user_id))
    if rep is None:
        raise Unmappable(
            ParkReason.UNKNOWN_USER,
            f"user {vendor_user_id} is not in the mapping ({vendor}.users)",
        )
    return rep


def build_event(
    *,
    vendor: str,
    delivery_id: str,
    event_type: str,
    occurred_at: datetime | str,
    rep_id: str,
    payload: Mapping[str, Any],
    account_id: str | None = None,
    opportunity_id: str | None = None,
    contact_id: str | None = None,
) -> SalesEvent:
    """A validated canonical event with the deterministic id of (vendor, delivery, type).

    Raises `Unmappable(INVALID_VALUE)` naming the field when a mapped value breaks the
    contract (a negative amount, a 300-character stage name).
    """
    document = {
        "event_id": derive_event_id(vendor, delivery_id, event_type),
        "type": event_type,
        "occurred_at": occurred_at,
        "source": {"vendor": vendor, "delivery_id": delivery_id[:128]},
        "rep_id": rep_id,
        "account_id": account_id,
        "opportunity_id": opportunity_id,
        "contact_id": contact_id,
        "payload": dict(payload),
    }
    try:
        return SalesEvent.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"] if part != event_type)
        raise Unmappable(
            ParkReason.INVALID_VALUE, f"{event_type}: {where}: {first['msg']}"
        ) from exc


__all__ = ["Refused", "refuse"]
