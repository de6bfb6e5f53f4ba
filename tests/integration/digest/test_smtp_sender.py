"""The SMTP sender against the catcher, and against nothing."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from deploy.local.smtp_catcher import SmtpCatcher
from services.digest.notifiers import Outcome, SmtpSender
from shared.embedded_broker import free_port


def mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Salescoach <digest@salescoach.local>"
    message["To"] = "Mia Manager <mia@example.com>"
    message["Subject"] = "digest"
    message["Message-ID"] = "<digest-2026-11-02-abc@salescoach.local>"
    message.set_content("text")
    message.add_alternative("<p>html</p>", subtype="html")
    return message


async def test_delivered_mail_is_caught(smtp_catcher: SmtpCatcher) -> None:
    sender = SmtpSender(host=smtp_catcher.host, port=smtp_catcher.port, timeout_seconds=5)
    result = await sender.send(mail())
    assert (result.outcome, result.ref) == (
        Outcome.DELIVERED,
        "<digest-2026-11-02-abc@salescoach.local>",
    )
    [saved] = smtp_catcher.messages()
    parsed = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<digest-2026-11-02-abc@salescoach.local>"
    assert parsed["X-Envelope-To"] == "mia@example.com"


async def test_no_server_is_retryable_and_certainly_not_sent() -> None:
    result = await SmtpSender(host="127.0.0.1", port=free_port(), timeout_seconds=2).send(mail())
    assert (result.outcome, result.ambiguous) == (Outcome.RETRYABLE, False)
