"""The notification decision, table-driven in the manner of Alertmanager's needsUpdate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.digest.decide import (
    DeliveryStatus,
    NotificationRecord,
    Reason,
    after_attempt,
    decide,
    recipient_of,
)
from services.digest.notifiers.base import DeliveryResult
from shared.alerting import AlertMessage, AlertState
from tests.unit.services.digest.factories import T0, alert, record

LATER = T0 + timedelta(hours=1)
EARLIER = T0 - timedelta(hours=1)
FIRING, RESOLVED, PENDING = AlertState.FIRING, AlertState.RESOLVED, AlertState.PENDING
DELIVERED, RETRYING, FAILED = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.RETRYING,
    DeliveryStatus.FAILED,
)

CASES: list[tuple[str, NotificationRecord | None, AlertMessage, Reason]] = [
    ("pending, never notified", None, alert(PENDING), Reason.NOTHING),
    ("pending after a firing message", record(FIRING), alert(PENDING, at=LATER), Reason.NOTHING),
    ("first firing", None, alert(FIRING), Reason.FIRST),
    ("resolved while pending: never notified", None, alert(RESOLVED), Reason.NOTHING),
    ("same firing redelivered", record(FIRING), alert(FIRING), Reason.NOTHING),
    ("older firing after newer", record(FIRING), alert(FIRING, at=EARLIER), Reason.NOTHING),
    ("firing content changed", record(FIRING), alert(FIRING, at=LATER), Reason.CHANGED),
    ("resolved after firing", record(FIRING), alert(RESOLVED, at=LATER), Reason.RESOLVED),
    (
        "resolved at the same event time, next version",
        record(FIRING, alert_version=1),
        alert(RESOLVED, version=2),
        Reason.RESOLVED,
    ),
    (
        "same event time, same version redelivered",
        record(FIRING, alert_version=2),
        alert(FIRING, version=2),
        Reason.NOTHING,
    ),
    (
        "resolved redelivered",
        record(RESOLVED, version=LATER),
        alert(RESOLVED, at=LATER),
        Reason.NOTHING,
    ),
    ("resolved again, newer", record(RESOLVED), alert(RESOLVED, at=LATER), Reason.NOTHING),
    ("re-fired after resolved", record(RESOLVED), alert(FIRING, at=LATER), Reason.FIRST),
    (
        "first post still retrying, redelivered",
        record(PENDING, RETRYING),
        alert(FIRING),
        Reason.FIRST,
    ),
    (
        "resolve still retrying, redelivered",
        record(FIRING, RETRYING),
        alert(RESOLVED),
        Reason.RESOLVED,
    ),
    (
        "first post failed for good, redelivered",
        record(PENDING, FAILED),
        alert(FIRING),
        Reason.NOTHING,
    ),
    (
        "first post failed, content changed",
        record(PENDING, FAILED),
        alert(FIRING, at=LATER),
        Reason.FIRST,
    ),
    (
        "first post failed, then resolved",
        record(PENDING, FAILED),
        alert(RESOLVED, at=LATER),
        Reason.NOTHING,
    ),
    (
        "update failed for good, then resolved",
        record(FIRING, FAILED),
        alert(RESOLVED, at=LATER),
        Reason.RESOLVED,
    ),
]


@pytest.mark.parametrize(
    ("previous", "incoming", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    previous: NotificationRecord | None, incoming: AlertMessage, expected: Reason
) -> None:
    assert decide(previous, incoming) is expected


def test_edits_go_to_the_original_recipient() -> None:
    moved = alert(RESOLVED, at=LATER, manager_id="mgr-2")
    assert recipient_of(Reason.RESOLVED, record(FIRING), moved) == "mgr-1"
    assert recipient_of(Reason.FIRST, None, moved) == "mgr-2"
    assert recipient_of(Reason.FIRST, None, alert(FIRING, manager_id=None)) == ""


def test_a_delivered_post_records_its_ts_and_the_shown_state() -> None:
    result = DeliveryResult.delivered("1700000000.000200")
    after = after_attempt(
        None, alert(FIRING), Reason.FIRST, result, recipient_id="mgr-1", attempts=2
    )
    assert (after.shown_state, after.message_ts, after.status) == (
        FIRING,
        "1700000000.000200",
        DELIVERED,
    )
    assert (after.version, after.attempts, after.last_error) == (T0, 2, None)
    assert decide(after, alert(FIRING)) is Reason.NOTHING


def test_a_failed_edit_keeps_what_the_message_shows() -> None:
    previous = record(FIRING)
    failed = DeliveryResult.retryable("slack ratelimited (HTTP 429)")
    after = after_attempt(
        previous,
        alert(RESOLVED, at=LATER),
        Reason.RESOLVED,
        failed,
        recipient_id="mgr-1",
        attempts=1,
    )
    assert (after.shown_state, after.message_ts, after.status) == (
        FIRING,
        previous.message_ts,
        RETRYING,
    )
    assert after.last_error == "slack ratelimited (HTTP 429)"
    assert decide(after, alert(RESOLVED, at=LATER)) is Reason.RESOLVED


def test_a_permanent_first_failure_is_not_retried_on_redelivery() -> None:
    failed = DeliveryResult.permanent("slack users_not_found (HTTP 200)")
    after = after_attempt(
        None, alert(FIRING), Reason.FIRST, failed, recipient_id="mgr-1", attempts=1
    )
    assert (after.shown_state, after.message_ts, after.status) == (PENDING, None, FAILED)
    assert decide(after, alert(FIRING)) is Reason.NOTHING
