"""An SMTP server that accepts every message and saves it as a `.eml` file.

`python -m deploy.local.smtp_catcher --host 127.0.0.1 --port 8025 --mail-dir var/mail`

Each message lands in the mail dir as `<arrival ns>-<sequence>-<random>.eml`, so names sort
in arrival order and never collide; it is written to a hidden temporary file first and
renamed into place, so a reader never sees half a message. `X-Envelope-From` and
`X-Envelope-To` headers are prepended, since the envelope is not always the header `To:`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from deploy.local.processes import ManagedProcess, python_module
from shared.embedded_broker import free_port, port_open
from shared.process import wait_for_stop_signal


def save_message(mail_dir: Path, content: bytes, *, sequence: int) -> Path:
    """Write one message atomically under a unique, sortable name; return its path."""
    mail_dir.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{sequence:06d}-{secrets.token_hex(4)}.eml"
    temporary = mail_dir / f".{name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    final = mail_dir / name
    os.replace(temporary, final)
    return final


class MailDirHandler:
    """aiosmtpd handler: every DATA becomes one `.eml` file in `mail_dir`."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002 - aiosmtpd hook
        """Called by aiosmtpd once a whole message has arrived."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        envelope_lines = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        await asyncio.to_thread(
            save_message, self.mail_dir, envelope_lines + raw, sequence=next(self._sequence)
        )
        return "250 Message accepted for delivery"


class _TrackedSMTP(SMTP):
    """An SMTP session that keeps its connection in a shared set while it is open."""

    def __init__(self, handler: Any, *, live: set[asyncio.BaseTransport], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._live = live
        self._tracked: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._tracked = transport
        self._live.add(transport)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._tracked is not None:
            self._live.discard(self._tracked)
        super().connection_lost(error)


class _ClosingController(Controller):
    """A Controller whose stop first closes open connections and waits until they are gone.

    aiosmtpd's own stop only cancels tasks and stops the loop, which leaks the socket of
    any session still open, such as the self-test connection `start()` makes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live: set[asyncio.BaseTransport] = set()

    def factory(self) -> SMTP:
        return _TrackedSMTP(self.handler, live=self.live, **self.SMTP_kwargs)

    async def _close_connections(self, timeout: float) -> None:
        if self.server is not None:
            self.server.close()  # stop accepting first, so no connection slips in behind us
        await asyncio.sleep(0.05)  # let connections accepted just before finish connecting
        for transport in list(self.live):
            transport.close()
        deadline = self.loop.time() + timeout
        while self.live and self.loop.time() < deadline:
            await asyncio.sleep(0.01)  # connection_lost runs on a later loop iteration

    def stop(self, no_assert: bool = False) -> None:
        if self._thread is not None and self.server is not None:
            closing = asyncio.run_coroutine_threadsafe(self._close_connections(2.0), self.loop)
            closing.result(timeout=5.0)
        super().stop(no_assert)


class _InProcessCatcher:
    """The catcher on aiosmtpd's background thread, for the command line process."""

    def __init__(self, mail_dir: Path, *, host: str, port: int) -> None:
        self.mail_dir = mail_dir
        self.host = host
        self.port = port
        self._controller: _ClosingController | None = None

    def __enter__(self) -> _InProcessCatcher:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        # Built here, not in __init__: the controller owns an event loop from construction.
        self._controller = _ClosingController(
            MailDirHandler(self.mail_dir), hostname=self.host, port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._controller is not None:
            self._controller.stop()


class SmtpCatcher:
    """The catcher as its own process: start() / stop(), or a `with` block.

    A separate process, as in the local stack, keeps aiosmtpd's server-side transports out
    of the caller's interpreter (in-process, one can outlive the server's loop and surface
    later as a ResourceWarning in whatever runs next).
    """

    def __init__(self, mail_dir: Path, *, host: str = "127.0.0.1", port: int | None = None):
        self.mail_dir = mail_dir
        self.host = host
        self.port = port or free_port()
        self._process: ManagedProcess | None = None

    def start(self, timeout: float = 30.0) -> SmtpCatcher:
        """Start the process; returns once it accepts connections."""
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self._process = ManagedProcess(
            "smtp",
            python_module(
                "deploy.local.smtp_catcher",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--mail-dir",
                str(self.mail_dir),
            ),
        ).start(Path.cwd())
        deadline = time.monotonic() + timeout
        while not port_open(self.port, self.host):
            if not self._process.alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"smtp catcher did not start on {self.host}:{self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the process (idempotent)."""
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def messages(self) -> list[Path]:
        """Saved messages, oldest first."""
        return sorted(self.mail_dir.glob("*.eml"))

    def __enter__(self) -> SmtpCatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    """Run the catcher in the foreground until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="SMTP catcher: saves mail as .eml files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--mail-dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    with _InProcessCatcher(args.mail_dir, host=args.host, port=args.port):
        print(f"smtp catcher on {args.host}:{args.port}, saving to {args.mail_dir}", flush=True)
        wait_for_stop_signal()


if __name__ == "__main__":
    main()
