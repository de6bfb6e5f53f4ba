"""The morning digest loop: every interval of wall time, send each manager whose local time
is past the digest hour on a date that has no digest yet. `now` comes from the injected
clock, so in replay mode mornings follow the alerts' event time, not the wall."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from services.digest import digest_log, directory
from services.digest.delivery import wait_or_stop
from services.digest.digests import DigestResult, DigestSender
from services.digest.timing import due_digest_date
from shared.clock import Clock, ReplayClock
from shared.logging import get_logger

log = get_logger(__name__)


class DigestScheduler:
    """Sends due digests on every tick."""

    def __init__(
        self,
        *,
        engine: Engine,
        sender: DigestSender,
        clock: Clock,
        digest_hour: int,
        interval_seconds: float,
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._clock = clock
        self._digest_hour = digest_hour
        self._interval = interval_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; a failing tick is logged and the next one tries again."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("digest tick failed")
            await wait_or_stop(stop, self._interval)

    async def tick(self) -> list[DigestResult]:
        """Send every digest due now that has not been sent; return what happened."""
        if isinstance(self._clock, ReplayClock) and not self._clock.started:
            return []  # no event time yet: "now" would be 1970
        now = self._clock.now()
        managers = await asyncio.to_thread(directory.managers, self._engine)
        due = {
            (manager.manager_id, day): manager
            for manager in managers
            if (day := due_digest_date(now, manager.time_zone, self._digest_hour)) is not None
        }
        done = await asyncio.to_thread(digest_log.sent_among, self._engine, due.keys())
        results = []
        for (manager_id, day), manager in due.items():
            if (manager_id, day) not in done:
                results.append(await self._sender.send(manager, day))
        return results
