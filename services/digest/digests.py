"""Sending a manager's digest for a date, at most once: gather, build, claim, send, record."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy.engine import Engine

from services.digest import digest_log, directory
from services.digest.directory import Manager
from services.digest.email_digest import DigestLinks, build_digest
from services.digest.metrics import DELIVERY_LATENCY, EMAILS
from services.digest.notifiers import Outcome, SmtpSender
from services.digest.settings import DigestSettings
from services.digest.timing import digest_date
from shared.clock import Clock
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class DigestResult:
    """What became of one digest; `sent` is False when it had already gone out earlier."""

    manager_id: str
    digest_date: date
    message_id: str
    outcome: Outcome
    sent: bool
    alert_count: int = 0
    detail: str | None = None


class DigestSender:
    """Builds and sends digests; the digest log makes every (manager, date) send once."""

    def __init__(
        self, *, engine: Engine, email: SmtpSender, settings: DigestSettings, clock: Clock
    ) -> None:
        self._engine = engine
        self._email = email
        self._settings = settings
        self._clock = clock

    async def send_now(self, manager_id: str) -> DigestResult | None:
        """Send today's digest (manager's local date) now; None for an unknown manager."""
        manager = await asyncio.to_thread(directory.manager, self._engine, manager_id)
        if manager is None:
            return None
        return await self.send(manager, digest_date(self._clock.now(), manager.time_zone))

    async def send(self, manager: Manager, day: date) -> DigestResult:
        """Send `manager`'s digest for `day` unless the log says it was sent already."""
        manager_id = manager.manager_id
        if (earlier := await self._logged(manager_id, day)) is not None:
            return earlier
        items = await asyncio.to_thread(directory.firing_alerts, self._engine, manager_id)
        message = build_digest(
            recipient=manager.recipient,
            digest_date=day,
            items=items,
            sender=self._settings.digest_from,
            domain=self._settings.sender_domain,
            links=digest_links(self._settings, manager_id),
            generated_at=self._clock.now(),
        )
        claimed = await asyncio.to_thread(
            digest_log.claim,
            self._engine,
            manager_id=manager_id,
            digest_date=day,
            message_id=str(message["Message-ID"]),
            alert_count=len(items),
            at=self._clock.now(),
        )
        if not claimed:  # another sender claimed it between our check and our claim
            earlier = await self._logged(manager_id, day)
            return earlier or DigestResult(
                manager_id, day, str(message["Message-ID"]), Outcome.DELIVERED, sent=False
            )
        return await self._deliver(manager_id, day, message, alert_count=len(items))

    async def _deliver(
        self, manager_id: str, day: date, message: EmailMessage, *, alert_count: int
    ) -> DigestResult:
        """Send a claimed digest; give the claim back when the send certainly failed."""
        with DELIVERY_LATENCY.labels(self._email.channel).time():
            result = await self._email.send(message)
        if result.outcome is not Outcome.DELIVERED and not result.ambiguous:
            await asyncio.to_thread(
                digest_log.release, self._engine, manager_id=manager_id, digest_date=day
            )
        label = "ambiguous" if result.ambiguous else result.outcome.value
        EMAILS.labels(label).inc()
        log.info(
            "digest email",
            manager_id=manager_id,
            digest_date=day.isoformat(),
            outcome=label,
            alerts=alert_count,
            detail=result.detail,
        )
        return DigestResult(
            manager_id,
            day,
            str(message["Message-ID"]),
            result.outcome,
            sent=result.outcome is Outcome.DELIVERED,
            alert_count=alert_count,
            detail=result.detail,
        )

    async def _logged(self, manager_id: str, day: date) -> DigestResult | None:
        row = await asyncio.to_thread(
            digest_log.sent, self._engine, manager_id=manager_id, digest_date=day
        )
        if row is None:
            return None
        EMAILS.labels("duplicate").inc()
        return DigestResult(
            manager_id,
            day,
            row.message_id,
            Outcome.DELIVERED,
            sent=False,
            alert_count=row.alert_count,
        )


def digest_links(settings: DigestSettings, manager_id: str) -> DigestLinks:
    """Links in a manager's digest: the app, and the one-click unsubscribe on this service."""
    digest_base = settings.digest_public_url.rstrip("/")
    return DigestLinks(
        app_url=settings.public_base_url.rstrip("/"),
        unsubscribe_url=(
            f"{digest_base}/v1/digests/{quote(manager_id, safe='')}/unsubscribe"
            f"?token={unsubscribe_token(settings, manager_id)}"
        ),
    )


def unsubscribe_token(settings: DigestSettings, manager_id: str) -> str:
    """An unguessable per-manager token for the one-click unsubscribe link."""
    key = settings.api_key.get_secret_value().encode()
    return hmac.new(key, f"unsubscribe:{manager_id}".encode(), hashlib.sha256).hexdigest()[:32]


def valid_unsubscribe_token(settings: DigestSettings, manager_id: str, token: str) -> bool:
    """Constant-time check of an unsubscribe link's token."""
    expected = unsubscribe_token(settings, manager_id)
    return hmac.compare_digest(expected.encode(), token.encode())
