"""Start, watch and stop the stack's processes (used by `make run` and the e2e tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.process import die_with_parent


@dataclass
class ManagedProcess:
    """One child process: its own session (Ctrl-C reaches only the supervisor), its own log,
    and a parent-death signal so it never outlives the supervisor."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> ManagedProcess:
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        log_path = self.log_path or Path(os.devnull)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as out:  # the child keeps its own fd
            self.process = subprocess.Popen(
                self.argv,
                cwd=cwd,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        if not self.alive():
            return False
        if self.health_url is None:
            return True
        try:
            return httpx.get(self.health_url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float) -> None:
        """Poll the health URL until it answers 200; raise with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if not self.alive():
                self.stop()
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{self.name} not healthy after {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL the whole process group if it does not exit in time."""
        self.terminate()
        self.wait(timeout)

    def terminate(self) -> None:
        """Ask the process group to stop (SIGTERM); returns at once."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return

    def wait(self, timeout: float) -> None:
        """Wait for the process to exit; SIGKILL its group after `timeout` seconds."""
        process = self.process
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def python_module(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module` with this interpreter."""
    return [sys.executable, "-m", module, *args]
