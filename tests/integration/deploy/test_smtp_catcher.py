"""The SMTP catcher on a socket: aiosmtplib in, .eml files out; the CLI stops cleanly."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from deploy.local.smtp_catcher import SmtpCatcher
from shared.embedded_broker import free_port, port_open
from tests.support.poll import wait_for


def mail(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Salescoach <digest@salescoach.local>"
    message["To"] = "Mia Manager <mia@example.com>"
    message["Subject"] = subject
    message.set_content("plain body")
    message.add_alternative("<p>html body</p>", subtype="html")
    return message


async def test_received_messages_become_eml_files(tmp_path: Path) -> None:
    with SmtpCatcher(tmp_path / "mail") as catcher:
        for n in range(3):
            await aiosmtplib.send(mail(f"digest {n}"), hostname=catcher.host, port=catcher.port)
        saved = catcher.messages()
    assert len(saved) == 3
    parsed = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in saved]
    assert [m["Subject"] for m in parsed] == ["digest 0", "digest 1", "digest 2"]
    assert parsed[0]["X-Envelope-To"] == "mia@example.com"
    assert parsed[0]["X-Envelope-From"] == "digest@salescoach.local"
    assert parsed[0].get_body(("plain",)).get_content().strip() == "plain body"
    assert not list((tmp_path / "mail").glob(".*.tmp"))


def test_stop_is_idempotent_and_frees_the_port(tmp_path: Path) -> None:
    catcher = SmtpCatcher(tmp_path).start()
    assert port_open(catcher.port)
    catcher.stop()
    catcher.stop()
    assert not port_open(catcher.port)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_line_catcher_saves_and_exits_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "deploy.local.smtp_catcher",
        "--port",
        str(port),
        "--mail-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.PIPE)
    try:
        wait_for(lambda: port_open(port), timeout=30, what="smtp catcher listening")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(mail("from the cli"))
        assert len(list(tmp_path.glob("*.eml"))) == 1
    finally:
        process.send_signal(stop_signal)
        process.communicate(timeout=20)
    assert process.returncode == 0
