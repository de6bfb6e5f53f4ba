"""Process helpers shared by the launchers (broker, local stack)."""

from __future__ import annotations

import signal
import sys


def die_with_parent() -> None:
    """In a child (preexec_fn): ask Linux to SIGTERM us when the parent dies, so no orphans."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_for_stop_signal() -> None:
    """Block the main thread until SIGINT or SIGTERM arrives (foreground servers' mains)."""
    import threading

    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.wait(0.5):  # a timed wait lets the handler run promptly on every platform
        pass
