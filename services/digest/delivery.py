"""Acting on one alert change, in stages: decide (dedup), find the recipient, deliver with
retries, record in the outbox. The consumer calls `AlertDelivery.handle` per message."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.digest import directory, outbox
from services.digest.decide import (
    NotificationRecord,
    Reason,
    after_attempt,
    decide,
    recipient_of,
)
from services.digest.metrics import DELIVERY_LATENCY, NOTIFICATIONS
from services.digest.notifiers import DeliveryResult, Notifier, Outcome
from shared.alerting import AlertMessage
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts, capped."""

    initial_seconds: float = 0.5
    max_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
        return float(min(self.max_seconds, self.initial_seconds * 2 ** min(attempt - 1, 30)))


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` unless `stop` is set first; True when stopping."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


class AlertDelivery:
    """Delivers alert changes to one channel, exactly once per decided change, as far as the
    channel allows (a Slack post that times out may still have landed)."""

    def __init__(self, *, engine: Engine, notifier: Notifier, retry: RetryPolicy) -> None:
        self._engine = engine
        self._notifier = notifier
        self._retry = retry

    async def handle(self, alert: AlertMessage, stop: asyncio.Event) -> bool:
        """Act on `alert` until the effect is recorded; False if told to stop before that."""
        channel = self._notifier.channel
        previous = await asyncio.to_thread(
            outbox.load, self._engine, fingerprint=alert.fingerprint, channel=channel
        )
        reason = decide(previous, alert)
        if reason is Reason.NOTHING:
            NOTIFICATIONS.labels(channel, "skipped").inc()
            return True
        recipient_id = recipient_of(reason, previous, alert)
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(alert, reason, previous, recipient_id)
            record = after_attempt(
                previous, alert, reason, result, recipient_id=recipient_id, attempts=attempts
            )
            if not await self._record(alert.fingerprint, record, stop):
                return False
            NOTIFICATIONS.labels(channel, result.outcome.value).inc()
            self._log(alert, reason, result, attempts)
            if result.outcome is not Outcome.RETRYABLE:
                return True
            if await wait_or_stop(stop, self._retry.delay(attempts)):
                return False

    async def _record(
        self, fingerprint: str, record: NotificationRecord, stop: asyncio.Event
    ) -> bool:
        """Save the outcome, retrying the database alone: a delivered post is never redone
        because its bookkeeping hit a transient database error."""
        attempt = 0
        while True:
            try:
                await asyncio.to_thread(
                    outbox.save,
                    self._engine,
                    fingerprint=fingerprint,
                    channel=self._notifier.channel,
                    record=record,
                )
                return True
            except SQLAlchemyError:
                attempt += 1
                log.exception("outbox write failed; retrying", fingerprint=fingerprint)
                if await wait_or_stop(stop, self._retry.delay(attempt)):
                    return False

    async def _attempt(
        self,
        alert: AlertMessage,
        reason: Reason,
        previous: NotificationRecord | None,
        recipient_id: str,
    ) -> DeliveryResult:
        if not recipient_id:
            return DeliveryResult.permanent("alert has no manager to notify")
        person = await asyncio.to_thread(directory.recipient, self._engine, recipient_id)
        if person is None:
            return DeliveryResult.retryable(f"recipient {recipient_id} not in the directory yet")
        with DELIVERY_LATENCY.labels(self._notifier.channel).time():
            if reason is Reason.FIRST:
                return await self._notifier.send(alert, person)
            assert previous is not None and previous.message_ts is not None
            return await self._notifier.update(alert, person, previous.message_ts)

    def _log(
        self, alert: AlertMessage, reason: Reason, result: DeliveryResult, attempts: int
    ) -> None:
        fields = {
            "fingerprint": alert.fingerprint,
            "rule": alert.rule,
            "reason": reason.value,
            "outcome": result.outcome.value,
            "attempts": attempts,
            "channel": self._notifier.channel,
        }
        if result.outcome is Outcome.DELIVERED:
            log.info("alert notified", **fields)
        else:
            log.warning("alert notification failed", detail=result.detail, **fields)
