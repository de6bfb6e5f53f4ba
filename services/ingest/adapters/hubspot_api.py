"""HubSpot's CRM objects API as ingest reads it: records by id, with retries inside a budget.

Webhook events name records only by id, so `enrich` loads each one (once per request, however
many events name it) from `GET /crm/v3/objects/{type}/{id}?properties=…&associations=…`. When
a request names enough records of one type that it saves calls, they are read with
`POST /crm/v3/objects/{type}/batch/read` (properties only: HubSpot's batch read returns no
associations) plus one `POST /crm/v4/associations/{type}/{to}/batch/read` per association
type: 1 + k calls instead of n. Batches hold at most 100 ids, HubSpot's limit.

**The budget.** HubSpot counts a delivery as failed when the answer takes more than 5 seconds,
so all the calls of one request share a budget of `budget_seconds` (4 s: the rest is for the
broker). Each attempt gets `timeout` (`HUBSPOT_API_TIMEOUT_SECONDS`) or what is left of the
budget, whichever is less; a call is tried at most `attempts` times (`HUBSPOT_API_ATTEMPTS`).
Connection errors, timeouts and 5xx answers are retried after an exponential backoff with
jitter; a 429 is retried after its `Retry-After`. When the wait would not fit in the budget,
or the attempts run out, hydration gives up at once with `Unavailable`: the webhook answers
503 and HubSpot delivers it again later, when the API (or our rate allowance) is back. A 404
is an answer, not a failure: the record is reported missing and its events are parked. Other
4xx (a revoked token, a scope missing) are not retried: they need an operator, and 503 keeps
the deliveries coming back until one acts.

The access token goes only into the `Authorization` header: never logged, never in an error.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from services.ingest.adapters.base import Unavailable
from services.ingest.metrics import HYDRATION_CALLS, HYDRATION_FAILURES, HYDRATION_LATENCY
from shared.clock import monotonic
from shared.logging import get_logger

log = get_logger(__name__)

VENDOR = "hubspot"
BATCH_LIMIT = 100  # ids per batch read, HubSpot's limit
BUDGET_SECONDS = 4.0  # HubSpot gives a delivery 5 s; keep one for the broker
_MIN_ATTEMPT_SECONDS = 0.05  # less than this left: no point starting a call

# A hydrated record: {"id", "properties": {name: str | None}, "associations": {type: [ids]},
# "createdAt", "updatedAt"}: JSON, so it travels inside the item to the dead-letter topic.
Record = dict[str, Any]
RecordKey = tuple[str, str]  # (object type, id)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ObjectSpec:
    """What ingest reads of one object type."""

    properties: tuple[str, ...]
    associations: tuple[str, ...]

    def batch_saves_calls(self, count: int) -> bool:
        """Whether 1 batch read + 1 per association type is fewer calls than `count` reads."""
        return count > 1 + len(self.associations)


_ENGAGEMENT = ("hs_timestamp", "hubspot_owner_id", "hs_createdate")
_LINKS = ("deals", "companies", "contacts")
SPECS = {
    "deals": ObjectSpec(
        (
            "dealname", "dealstage", "pipeline", "amount", "closedate", "hubspot_owner_id",
            "deal_currency_code", "closed_lost_reason", "createdate",
        ),
        ("companies", "contacts"),
    ),
    "emails": ObjectSpec(
        (*_ENGAGEMENT, "hs_email_direction", "hs_email_status", "hs_email_subject"), _LINKS
    ),
    "calls": ObjectSpec(
        (*_ENGAGEMENT, "hs_call_direction", "hs_call_duration", "hs_call_disposition",
         "hs_call_status"),
        _LINKS,
    ),
    "meetings": ObjectSpec(
        (*_ENGAGEMENT, "hs_meeting_start_time", "hs_meeting_end_time", "hs_meeting_outcome",
         "hs_activity_type", "hs_meeting_title"),
        _LINKS,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, per-call timeout, the request's budget, the backoff."""

    attempts: int = 3
    timeout: float = 3.0
    budget_seconds: float = BUDGET_SECONDS
    base_delay: float = 0.2
    max_delay: float = 2.0
    jitter: float = 0.5  # up to +50 %

    def backoff(self, attempt: int, draw: float) -> float:
        """The wait after failed attempt `attempt` (0-based); `draw` is uniform in [0, 1)."""
        return min(self.max_delay, self.base_delay * 2.0**attempt) * (1 + self.jitter * draw)


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429 asks us to wait, when it says (HubSpot sends whole seconds)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


class HubSpotApi:
    """A client of the CRM objects API; `start` opens the connection pool, `stop` closes it."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr | None,
        policy: RetryPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = monotonic,
        draw: Callable[[], float] = random.random,
        concurrency: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.policy = policy
        self._transport = transport
        self._sleep, self._clock, self._draw = sleep, clock, draw
        self._concurrency = concurrency
        self._client: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return self._token is not None and bool(self._token.get_secret_value())

    async def start(self) -> None:
        """Open the client (no call is made: the API may be down when ingest starts)."""
        if self._client is None and self.configured:
            assert self._token is not None  # narrowed by `configured`
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers={
                    "Authorization": f"Bearer {self._token.get_secret_value()}",
                    "Accept": "application/json",
                },
                timeout=self.policy.timeout,
                transport=self._transport,
            )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def read(self, wanted: Mapping[str, Collection[str]]) -> dict[RecordKey, Record | None]:
        """The records of each object type's ids (None: HubSpot has no such record).

        Raises `Unavailable` when they cannot all be read within the budget.
        """
        if not any(wanted.values()):
            return {}
        if not self.configured:
            raise Unavailable("HUBSPOT_ACCESS_TOKEN is not set: records cannot be hydrated")
        await self.start()
        deadline = self._clock() + self.policy.budget_seconds
        gate = asyncio.Semaphore(self._concurrency)
        jobs: list[Awaitable[dict[RecordKey, Record | None]]] = []
        for object_type, ids in wanted.items():
            unique = sorted(set(ids))
            spec = SPECS[object_type]
            if spec.batch_saves_calls(len(unique)):
                for start in range(0, len(unique), BATCH_LIMIT):
                    chunk = unique[start : start + BATCH_LIMIT]
                    jobs.append(self._batch(object_type, chunk, deadline, gate))
            else:
                jobs += [self._one(object_type, i, deadline, gate) for i in unique]
        try:
            parts = await _all_or_nothing(jobs)
        except Unavailable:
            HYDRATION_FAILURES.labels(vendor=VENDOR).inc()
            raise
        return {key: record for part in parts for key, record in part.items()}

    # ---- one record, a batch ----------------------------------------------------------------

    async def _one(
        self, object_type: str, object_id: str, deadline: float, gate: asyncio.Semaphore
    ) -> dict[RecordKey, Record | None]:
        spec = SPECS[object_type]
        params = {"properties": ",".join(spec.properties)}
        if spec.associations:
            params["associations"] = ",".join(spec.associations)
        path = f"/crm/v3/objects/{object_type}/{object_id}"
        async with gate:
            response = await self._call("GET", path, deadline, params=params, missing_ok=True)
        if response.status_code == 404:
            return {(object_type, object_id): None}
        body = _json(response, path)
        return {(object_type, object_id): _record(body, object_id, spec.associations)}

    async def _batch(
        self, object_type: str, ids: Sequence[str], deadline: float, gate: asyncio.Semaphore
    ) -> dict[RecordKey, Record | None]:
        spec = SPECS[object_type]
        path = f"/crm/v3/objects/{object_type}/batch/read"
        document = {"inputs": [{"id": i} for i in ids], "properties": list(spec.properties)}
        async with gate:
            body = _json(await self._call("POST", path, deadline, json=document), path)
        found: dict[str, Record] = {}
        for result in _list(body.get("results")):
            if isinstance(result, dict) and str(result.get("id")) in ids:
                found[str(result["id"])] = _record(result, str(result["id"]), ())
        jobs = [
            self._links(object_type, kind, list(found), deadline, gate)
            for kind in spec.associations
        ]
        for kind, linked in zip(spec.associations, await _all_or_nothing(jobs), strict=True):
            for object_id, record in found.items():
                record["associations"][kind] = linked.get(object_id, [])
        return {(object_type, i): found.get(i) for i in ids}

    async def _links(
        self, object_type: str, kind: str, ids: list[str], deadline: float, gate: asyncio.Semaphore
    ) -> dict[str, list[str]]:
        """from id → associated ids of `kind`, for records found by a batch read."""
        if not ids:
            return {}
        path = f"/crm/v4/associations/{object_type}/{kind}/batch/read"
        async with gate:
            document = {"inputs": [{"id": i} for i in ids]}
            response = await self._call("POST", path, deadline, json=document)
        linked: dict[str, list[str]] = {}
        for result in _list(_json(response, path).get("results")):
            if not isinstance(result, dict) or not isinstance(result.get("from"), dict):
                continue
            targets = [
                str(to["toObjectId"])
                for to in _list(result.get("to"))
                if isinstance(to, dict) and to.get("toObjectId") is not None
            ]
            linked[str(result["from"].get("id"))] = list(dict.fromkeys(targets))
        return linked

    # ---- one call, retried ------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        deadline: float,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """A 2xx answer (or a 404 when `missing_ok`), within the attempts and the budget."""
        what = f"{method} {path}"
        reason, tried = "no attempt fitted in the budget", 0
        for attempt in range(self.policy.attempts):
            left = deadline - self._clock()
            if left < _MIN_ATTEMPT_SECONDS:
                break
            tried += 1
            timeout = min(self.policy.timeout, left)
            outcome = await self._attempt(method, path, timeout, params, json, missing_ok)
            if outcome.response is not None:
                return outcome.response
            reason = outcome.reason
            if not outcome.retryable:
                raise Unavailable(f"HubSpot API: {what} answered {reason}; not retried")
            if attempt + 1 == self.policy.attempts:
                break
            wait = outcome.wait
            if wait is None:
                wait = self.policy.backoff(attempt, self._draw())
            if self._clock() + wait > deadline - _MIN_ATTEMPT_SECONDS:
                budget = self.policy.budget_seconds
                reason += f"; waiting {wait:.1f}s more would not fit the {budget:g}s budget"
                break
            log.warning(
                "hubspot api call retried", call=what, attempt=attempt + 1, reason=reason,
                wait_seconds=round(wait, 2),
            )  # fmt: skip
            await self._sleep(wait)
        raise Unavailable(f"HubSpot API: {what} failed after {tried} attempt(s): {reason}")

    async def _attempt(
        self,
        method: str,
        path: str,
        timeout: float,
        params: Mapping[str, str] | None,
        json: Any,
        missing_ok: bool,
    ) -> _Attempt:
        """One call, counted and timed; what it answered or why it failed."""
        assert self._client is not None  # read() started it
        started = self._clock()
        try:
            # httpx bounds each phase; the outer timeout bounds the whole call (and holds for
            # transports that do not enforce httpx's, such as an in-process ASGI app).
            async with asyncio.timeout(timeout):
                response = await self._client.request(
                    method, path, params=params, json=json, timeout=timeout
                )
        # RequestError: transport errors, and a body that cannot be decoded (DecodingError).
        except (httpx.RequestError, TimeoutError) as exc:
            _count("error", started, self._clock())
            return _Attempt(reason=f"{type(exc).__name__} after {self._clock() - started:.2f}s")
        status = response.status_code
        if status == 404 and missing_ok:
            _count("not_found", started, self._clock())
            return _Attempt(response=response)
        if response.is_success:
            _count("ok", started, self._clock())
            return _Attempt(response=response)
        if status == 429:
            _count("throttled", started, self._clock())
            return _Attempt(reason="429 (rate limited)", wait=retry_after(response))
        _count("error", started, self._clock())
        return _Attempt(reason=f"HTTP {status}", retryable=status >= 500)


@dataclass(frozen=True)
class _Attempt:
    """The outcome of one call: the answer to use, or why to retry (and after how long)."""

    response: httpx.Response | None = None
    reason: str = ""
    wait: float | None = None  # a 429's Retry-After; None: back off
    retryable: bool = True


def _count(outcome: str, started: float, ended: float) -> None:
    HYDRATION_CALLS.labels(vendor=VENDOR, outcome=outcome).inc()
    HYDRATION_LATENCY.labels(vendor=VENDOR).observe(max(0.0, ended - started))


async def _all_or_nothing(jobs: Sequence[Awaitable[Any]]) -> list[Any]:
    """Every job's result; on the first failure the others are cancelled and it is raised."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _json(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise Unavailable(f"HubSpot API: {path} answered a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise Unavailable(f"HubSpot API: {path} answered {type(body).__name__}, not an object")
    return body


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _record(body: Mapping[str, Any], object_id: str, kinds: Sequence[str]) -> Record:
    """A record as items carry it, from a v3 object (associations as plain id lists)."""
    properties = body.get("properties")
    associations = body.get("associations")
    links: dict[str, list[str]] = {}
    for kind in kinds:
        rows = associations.get(kind) if isinstance(associations, dict) else None
        results = _list(rows.get("results")) if isinstance(rows, dict) else []
        ids = [str(row.get("id")) for row in results if isinstance(row, dict) and row.get("id")]
        links[kind] = list(dict.fromkeys(ids))
    return {
        "id": str(body.get("id") or object_id),
        "properties": {
            str(name): None if value is None else str(value)
            for name, value in (properties.items() if isinstance(properties, dict) else ())
        },
        "associations": links,
        "createdAt": body.get("createdAt"),
        "updatedAt": body.get("updatedAt"),
    }
