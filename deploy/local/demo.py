"""The demo feed for `make run`: a small org whose history replays fast, then a live trickle.

Two managers, six reps, a dozen deals. Most deals are worked every few days; two are not:
"Initech platform rollout" (Proposal, last touched on day 3) and "Hooli pilot" (Discovery,
last touched on day 8). Replaying 28 days of event time in ~14 s, each goes stale partway
through and its manager gets a Slack message. Events are signed canonical webhooks posted
to ingest over real HTTP, one batch per simulated day. Deterministic for a seed and anchor.
(The CRM simulator of issue 3 replaces this with a full org model.)
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from shared.signing import signed_headers

HISTORY_DAYS = 28


@dataclass(frozen=True)
class Person:
    rep_id: str
    name: str
    role: str
    manager_id: str | None
    team: str
    time_zone: str


@dataclass(frozen=True)
class Deal:
    opportunity_id: str
    name: str
    owner: str
    account_id: str
    stage: str
    amount: int
    abandoned_after_day: int | None = None  # the owner stops touching it after this day


MANAGERS = (
    Person("mgr-ava", "Ava Chen", "manager", None, "east", "America/New_York"),
    Person("mgr-ben", "Ben Okafor", "manager", None, "west", "America/Los_Angeles"),
)
REPS = (
    Person("rep-dana", "Dana Ortiz", "AE", "mgr-ava", "east", "America/New_York"),
    Person("rep-eli", "Eli Novak", "AE", "mgr-ava", "east", "America/New_York"),
    Person("rep-fay", "Fay Ito", "SDR", "mgr-ava", "east", "America/New_York"),
    Person("rep-gus", "Gus Moreau", "AE", "mgr-ben", "west", "America/Los_Angeles"),
    Person("rep-hana", "Hana Said", "AE", "mgr-ben", "west", "America/Los_Angeles"),
    Person("rep-ivo", "Ivo Lind", "SDR", "mgr-ben", "west", "America/Los_Angeles"),
)
DEALS = (
    Deal(
        "opp-initech",
        "Initech platform rollout",
        "rep-dana",
        "acc-initech",
        "Proposal",
        84_000,
        abandoned_after_day=3,
    ),
    Deal("opp-acme", "Acme expansion", "rep-dana", "acc-acme", "Discovery", 36_000),
    Deal(
        "opp-umbrella", "Umbrella security suite", "rep-eli", "acc-umbrella", "Negotiation", 120_000
    ),
    Deal("opp-globex", "Globex renewal", "rep-eli", "acc-globex", "Qualification", 22_000),
    Deal(
        "opp-hooli",
        "Hooli pilot",
        "rep-gus",
        "acc-hooli",
        "Discovery",
        18_000,
        abandoned_after_day=8,
    ),
    Deal("opp-stark", "Stark analytics", "rep-gus", "acc-stark", "Proposal", 64_000),
    Deal("opp-wayne", "Wayne logistics", "rep-hana", "acc-wayne", "Discovery", 41_000),
    Deal("opp-tyrell", "Tyrell data platform", "rep-hana", "acc-tyrell", "Negotiation", 150_000),
)


class Feed:
    """Builds canonical events with deterministic delivery ids for one anchor time."""

    def __init__(self, anchor: datetime, seed: int) -> None:
        self.anchor = anchor
        self.start = anchor - timedelta(days=HISTORY_DAYS)
        self.random = random.Random(seed)  # noqa: S311 - demo data, not security
        self._count = 0
        self._tag = f"demo-{anchor:%Y%m%dT%H%M}-{seed}"

    def event(
        self, event_type: str, at: datetime, rep_id: str, payload: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        self._count += 1
        return {
            "type": event_type,
            "occurred_at": at.isoformat(),
            "rep_id": rep_id,
            "source": {"vendor": "simulator", "delivery_id": f"{self._tag}-{self._count}"},
            "payload": payload,
            **fields,
        }

    def org(self) -> list[dict[str, Any]]:
        at = self.start
        return [
            self.event(
                "rep.upserted",
                at,
                p.rep_id,
                {
                    "name": p.name,
                    "email": f"{p.rep_id.split('-')[1]}@demo.salescoach.local",
                    "role": p.role,
                    "manager_id": p.manager_id,
                    "team": p.team,
                    "time_zone": p.time_zone,
                },
            )
            for p in (*MANAGERS, *REPS)
        ]

    def day(self, index: int) -> list[dict[str, Any]]:
        """Everything that happens on history day `index` (0 = 28 days ago)."""
        base = self.start + timedelta(days=index, hours=13)
        events = []
        if index == 0:
            events += self.org()
            events += [self._created(deal, base) for deal in DEALS]
        weekday = base.weekday() < 5
        for deal in DEALS:
            quiet = deal.abandoned_after_day is not None and index > deal.abandoned_after_day
            worked = weekday and not quiet and (index % 3 == DEALS.index(deal) % 3 or index < 2)
            if worked:
                events.append(self._touch(deal, base + timedelta(minutes=7 * len(events))))
        if weekday:
            for rep in REPS:
                events += self._prospecting(rep, base)
        return [e for e in events if datetime.fromisoformat(e["occurred_at"]) < self.anchor]

    def live(self, now: datetime) -> list[dict[str, Any]]:
        """A few events at wall time for deals that are being worked."""
        worked = [d for d in DEALS if d.abandoned_after_day is None]
        deal = self.random.choice(worked)
        return [self._touch(deal, now), *self._prospecting(self.random.choice(REPS), now)[:1]]

    def _created(self, deal: Deal, at: datetime) -> dict[str, Any]:
        return self.event(
            "opportunity.created",
            at,
            deal.owner,
            {
                "name": deal.name,
                "stage": deal.stage,
                "amount": f"{deal.amount}.00",
                "close_date": (self.anchor + timedelta(days=45)).date().isoformat(),
            },
            opportunity_id=deal.opportunity_id,
            account_id=deal.account_id,
        )

    def _touch(self, deal: Deal, at: datetime) -> dict[str, Any]:
        kind = self.random.choice(("email.sent", "call.made", "email.sent"))
        payload: dict[str, Any] = {"subject": f"Next steps for {deal.name}"}
        if kind == "call.made":
            connected = self.random.random() < 0.4
            payload = {
                "connected": connected,
                "duration_seconds": self.random.randint(60, 900) if connected else 0,
            }
        return self.event(
            kind,
            at,
            deal.owner,
            payload,
            opportunity_id=deal.opportunity_id,
            account_id=deal.account_id,
        )

    def _prospecting(self, rep: Person, at: datetime) -> list[dict[str, Any]]:
        count = self.random.randint(2, 5) if rep.role == "SDR" else self.random.randint(0, 2)
        return [
            self.event(
                "email.sent",
                at + timedelta(minutes=3 * n),
                rep.rep_id,
                {"subject": "Quick question"},
                account_id=f"acc-prospect-{self.random.randint(1, 40)}",
            )
            for n in range(count)
        ]


def post(client: httpx.Client, url: str, secret: str, events: list[dict[str, Any]]) -> None:
    """Sign and send one batch; retry while ingest answers 503 (broker busy or restarting)."""
    body = orjson.dumps(events)
    for attempt in range(20):
        headers = {
            "Content-Type": "application/json",
            **signed_headers(secret, body, datetime.now(UTC)),
        }
        response = client.post(url, content=body, headers=headers)
        if response.status_code == 202:
            return
        if response.status_code != 503:
            raise RuntimeError(f"ingest refused a batch: {response.status_code} {response.text}")
        time.sleep(min(0.2 * 2**attempt, 5))
    raise RuntimeError("ingest stayed unavailable")


def batches(feed: Feed) -> Iterator[list[dict[str, Any]]]:
    for index in range(HISTORY_DAYS + 1):
        events = feed.day(index)
        if events:
            yield events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest-url", default="http://127.0.0.1:8001")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--seconds-per-day",
        type=float,
        default=0.5,
        help="wall seconds per replayed day of history",
    )
    parser.add_argument(
        "--live-interval",
        type=float,
        default=5.0,
        help="wall seconds between live events after the history",
    )
    parser.add_argument("--no-live", action="store_true", help="exit after the history")
    args = parser.parse_args(argv)
    secret = os.environ.get("INGEST_SECRET")
    if not secret:
        print("INGEST_SECRET is not set", file=sys.stderr)
        return 2
    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    feed = Feed(anchor, args.seed)
    url = args.ingest_url.rstrip("/") + "/v1/events"
    with httpx.Client(timeout=15) as client:
        for number, events in enumerate(batches(feed)):
            post(client, url, secret, events)
            print(f"history day {number}: {len(events)} events", flush=True)
            time.sleep(args.seconds_per_day)
        print("history replayed; going live", flush=True)
        while not args.no_live:
            time.sleep(args.live_interval)
            post(client, url, secret, feed.live(datetime.now(UTC)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
