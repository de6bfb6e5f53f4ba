"""The one interface every alert channel implements, and what a delivery attempt returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.alerting import AlertMessage

MAX_DETAIL = 500  # fits NotificationOutbox.last_error


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt achieved. `ref` identifies the delivered message (Slack ts, Message-ID).

    `ambiguous` means the request may have reached the far side before failing (a timeout
    after sending), so a retry risks a duplicate.
    """

    outcome: Outcome
    ref: str | None = None
    detail: str | None = None
    ambiguous: bool = False

    @classmethod
    def delivered(cls, ref: str) -> DeliveryResult:
        return cls(Outcome.DELIVERED, ref=ref)

    @classmethod
    def retryable(cls, detail: str, *, ambiguous: bool = False) -> DeliveryResult:
        return cls(Outcome.RETRYABLE, detail=detail[:MAX_DETAIL], ambiguous=ambiguous)

    @classmethod
    def permanent(cls, detail: str) -> DeliveryResult:
        return cls(Outcome.PERMANENT, detail=detail[:MAX_DETAIL])


@dataclass(frozen=True)
class Recipient:
    """Who a notification is for, as the directory knows them."""

    person_id: str
    name: str
    email: str


class Notifier(Protocol):
    """An alert channel. Adapters never see the database; the caller records results."""

    channel: str

    async def send(self, alert: AlertMessage, recipient: Recipient) -> DeliveryResult:
        """Called when an alert is first notified: post it; `ref` of the result is kept."""
        ...

    async def update(self, alert: AlertMessage, recipient: Recipient, ref: str) -> DeliveryResult:
        """Called when a notified alert changed or resolved: edit the message behind `ref`."""
        ...
