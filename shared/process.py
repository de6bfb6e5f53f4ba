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
