"""Email over SMTP (aiosmtplib): one message per call, failures classified for retrying."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr

from services.digest.notifiers.base import DeliveryResult


def classify(error: Exception) -> DeliveryResult:
    """Map an aiosmtplib failure to retryable/permanent, flagging ones that may have sent."""
    name = type(error).__name__
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError):
        return DeliveryResult.retryable(f"smtp {name}")  # nothing was sent
    if isinstance(error, aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPNotSupported):
        return DeliveryResult.permanent(f"smtp {name}")
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        if all(code >= 500 for code in codes):
            return DeliveryResult.permanent(f"smtp recipients refused {codes}")
        return DeliveryResult.retryable(f"smtp recipients refused {codes}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        detail = f"smtp {name} {error.code}"
        if error.code >= 500:
            return DeliveryResult.permanent(detail)
        return DeliveryResult.retryable(detail)  # 4xx: the server said "not now"
    # A timeout or dropped connection mid-conversation: the server may have the message.
    return DeliveryResult.retryable(f"smtp {name}", ambiguous=True)


class SmtpSender:
    """Sends finished `EmailMessage`s to one SMTP server."""

    channel = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout_seconds

    def __repr__(self) -> str:
        return f"SmtpSender(host={self._host!r}, port={self._port})"

    async def send(self, message: EmailMessage) -> DeliveryResult:
        """Deliver `message` to its To: recipients; the result's ref is its Message-ID."""
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password.get_secret_value() if self._password else None,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            return classify(error)
        return DeliveryResult.delivered(str(message["Message-ID"]))
