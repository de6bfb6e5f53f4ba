"""Prometheus metrics of the digest service (labels bounded: channel, outcome enums)."""

from __future__ import annotations

from prometheus_client import Counter

from shared.observability import NAMESPACE, latency_histogram

NOTIFICATIONS = Counter(
    "digest_notifications",
    "Alert changes handled per channel: delivered, retryable, permanent, skipped",
    ["channel", "outcome"],
    namespace=NAMESPACE,
)
EMAILS = Counter(
    "digest_emails",
    "Digest emails: delivered, duplicate, retryable, ambiguous, permanent",
    ["outcome"],
    namespace=NAMESPACE,
)
ALERT_MESSAGES = Counter(
    "digest_alert_messages",
    "Messages read from the alerts topic: processed or invalid",
    ["outcome"],
    namespace=NAMESPACE,
)
DELIVERY_LATENCY = latency_histogram(
    "digest_delivery", "Time of one delivery attempt to a channel", ("channel",)
)
