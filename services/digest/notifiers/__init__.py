"""Notification channels behind one interface, and the function that builds them."""

from __future__ import annotations

from dataclasses import dataclass

from services.digest.notifiers.base import DeliveryResult, Notifier, Outcome, Recipient
from services.digest.notifiers.email import SmtpSender
from services.digest.notifiers.slack import SlackNotifier
from services.digest.settings import DigestSettings

__all__ = [
    "Channels",
    "DeliveryResult",
    "Notifier",
    "Outcome",
    "Recipient",
    "SlackNotifier",
    "SmtpSender",
    "build_channels",
]


@dataclass(frozen=True)
class Channels:
    """The alert channel (Slack DMs) and the digest channel (email)."""

    alerts: Notifier
    email: SmtpSender


def build_channels(settings: DigestSettings) -> Channels:
    """Every channel, configured from settings."""
    slack = SlackNotifier(
        token=settings.slack_bot_token,
        base_url=settings.slack_base_url,
        link_base=settings.public_base_url,
    )
    email = SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout_seconds=settings.smtp_timeout_seconds,
    )
    return Channels(alerts=slack, email=email)
