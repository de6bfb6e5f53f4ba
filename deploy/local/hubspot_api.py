"""A local server speaking the slice of HubSpot's CRM objects API that ingest hydrates from.

`python -m deploy.local.hubspot_api --host 127.0.0.1 --port 8092`

- `GET /crm/v3/objects/{object_type}/{id}?properties=a,b&associations=deals,companies,contacts`
  answers `{id, properties, createdAt, updatedAt, archived}` plus, when asked, `associations`
  (`{"deals": {"results": [{"id": "…", "type": "call_to_deal"}]}}`, only non-empty ones).
  Like HubSpot, it returns the asked properties (null when unset) plus hs_object_id and the
  create/modify dates; without `properties=` only the type's default properties.
- `POST /crm/v3/objects/{object_type}/batch/read` with `{"inputs": [{"id": …}], "properties":
  [...]}`: 200 `{status: COMPLETE, results, startedAt, completedAt}`, 207 with `errors` when
  some ids are unknown. Like HubSpot's, it returns no associations: those come from
- `POST /crm/v4/associations/{from_type}/{to_type}/batch/read` with `{"inputs": [{"id": …}]}`:
  `{status, results: [{from: {id}, to: [{toObjectId, associationTypes}]}]}` for the objects
  that have some (at most 100 inputs, as HubSpot allows), 207 with `errors` for unknown ids.

Object types: calls, emails, meetings, deals, companies, contacts, or their objectTypeIds.
Errors have HubSpot's shape `{status: "error", message, correlationId, category[, context]}`:
404 OBJECT_NOT_FOUND, 401 INVALID_AUTHENTICATION, 400 VALIDATION_ERROR. Every call needs
`Authorization: Bearer <token>` (with HUBSPOT_LOCAL_TOKEN set, exactly that token).

Test hooks: `POST /_records` (a list of records as the HubSpot formatter puts them in
`Delivery.records`; a record for a known object merges into it, as a PATCH would),
`GET /_records`, `DELETE /_records` (reset records, calls and faults), `POST /_faults` (the next
N CRM calls answer 429 with Retry-After and HubSpot's rate-limit body, or a 5xx; with
`delay_seconds` they answer that much later, and status 200 makes them slow but normal answers),
`GET /_calls` (every CRM call, token never recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import orjson
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.observability import health_router

MAX_CALLS = 10_000
RATE_LIMIT_MAX, RATE_LIMIT_INTERVAL_MS = 190, 10_000  # a private app's ten-second allowance
# object type -> (objectTypeId, name in association labels)
OBJECT_TYPES = {
    "contacts": ("0-1", "contact"),
    "companies": ("0-2", "company"),
    "deals": ("0-3", "deal"),
    "meetings": ("0-47", "meeting_event"),
    "calls": ("0-48", "call"),
    "emails": ("0-49", "email"),
}
_BY_TYPE_ID = {type_id: name for name, (type_id, _) in OBJECT_TYPES.items()}
_BY_SINGULAR = {label.removesuffix("_event"): name for name, (_, label) in OBJECT_TYPES.items()}
_ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
DEFAULT_PROPERTIES = {
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
                 "lastname"),
    "meetings": _ENGAGEMENT_DEFAULTS,
    "calls": _ENGAGEMENT_DEFAULTS,
    "emails": _ENGAGEMENT_DEFAULTS,
}  # fmt: skip
# HubSpot-defined association type ids (v4), by (from, to).
ASSOCIATION_TYPE_IDS = {
    ("deals", "companies"): 5, ("deals", "contacts"): 3,
    ("calls", "deals"): 206, ("calls", "companies"): 182, ("calls", "contacts"): 194,
    ("emails", "deals"): 210, ("emails", "companies"): 186, ("emails", "contacts"): 198,
    ("meetings", "deals"): 212, ("meetings", "companies"): 188, ("meetings", "contacts"): 200,
}  # fmt: skip
BATCH_LIMIT = 100
_CREATED = {"deals": "createdate", "companies": "createdate", "contacts": "createdate"}
_MODIFIED = {"contacts": "lastmodifieddate"}
NOT_FOUND_MESSAGE = "Object not found.  objectId are usually numeric."  # sic: two spaces
NO_CREDENTIALS_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you"
    " can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def object_type_of(name: str) -> str | None:
    """The canonical path name of an object type given as a name, singular or objectTypeId."""
    name = name.strip().lower()
    return name if name in OBJECT_TYPES else _BY_TYPE_ID.get(name) or _BY_SINGULAR.get(name)


def _now_iso() -> str:
    now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def hubspot_error(status: int, category: str, message: str, **extra: Any) -> JSONResponse:
    """An error response in HubSpot's shape, with a fresh correlation id."""
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    return JSONResponse(body | extra | {"category": category}, status_code=status)


class RecordIn(BaseModel):
    """One CRM record to serve, as the HubSpot formatter lists them in `Delivery.records`."""

    object_type: str
    id: str = Field(pattern=r"^[0-9]{1,20}$")
    properties: dict[str, str | None] = Field(default_factory=dict)
    associations: dict[str, list[str]] = Field(default_factory=dict)
    createdAt: str | None = None  # noqa: N815 - HubSpot's spelling
    updatedAt: str | None = None  # noqa: N815 - HubSpot's spelling


class FaultSpec(BaseModel):
    """Make the next `times` CRM calls fail with `status` (429 or 5xx), or be slow (200)."""

    status: int = Field(default=429, ge=200, le=599)
    retry_after: int = Field(default=1, ge=0, le=3600)
    times: int = Field(default=1, ge=1, le=1000)
    policy: str = "TEN_SECONDLY_ROLLING"  # or DAILY
    delay_seconds: float = Field(default=0.0, ge=0, le=60)


@dataclass
class StoredObject:
    """One CRM object as the fake holds it."""

    object_type: str
    id: str
    properties: dict[str, str | None]
    associations: dict[str, list[str]]
    created_at: str
    updated_at: str

    def merge(
        self, properties: dict[str, str | None], links: dict[str, list[str]], at: str
    ) -> None:
        """Apply a later record for this object, as a PATCH plus association adds would."""
        self.properties |= properties
        for kind, ids in links.items():
            known = self.associations.setdefault(kind, [])
            known.extend(i for i in ids if i not in known)
        self.updated_at = at

    def dump(self) -> dict[str, Any]:
        """The object in the records format it was loaded in."""
        return {
            "object_type": self.object_type,
            "id": self.id,
            "properties": dict(self.properties),
            "associations": {kind: list(ids) for kind, ids in self.associations.items()},
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    def public(self, properties: list[str] | None, associations: list[str]) -> dict[str, Any]:
        """The object as the v3 API answers: asked or default properties, asked associations."""
        computed = {
            "hs_object_id": self.id,
            _CREATED.get(self.object_type, "hs_createdate"): self.created_at,
            _MODIFIED.get(self.object_type, "hs_lastmodifieddate"): self.updated_at,
        }
        names = (
            [*computed, *properties] if properties else list(DEFAULT_PROPERTIES[self.object_type])
        )
        values = self.properties | computed
        body: dict[str, Any] = {
            "id": self.id,
            "properties": {name: values.get(name) for name in dict.fromkeys(names)},
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
        }
        linked = {kind: self._associated(kind) for kind in associations}
        if any(linked.values()):
            body["associations"] = {
                kind: {"results": rows} for kind, rows in linked.items() if rows
            }
        return body

    def _associated(self, kind: str) -> list[dict[str, str]]:
        label = f"{OBJECT_TYPES[self.object_type][1]}_to_{OBJECT_TYPES[kind][1]}"
        return [{"id": other, "type": label} for other in self.associations.get(kind, [])]


@dataclass
class HubSpotState:
    """Objects, calls and pending faults of one server; thread-safe under `lock`."""

    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_CALLS))
    faults: deque[FaultSpec] = field(default_factory=deque)
    recent: deque[float] = field(default_factory=deque)  # call times, for the limit headers
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, records: list[RecordIn]) -> None:
        """Store records, or merge each into the object it updates; all or none."""
        checked = [(object_type_of(r.object_type), _links(r.associations), r) for r in records]
        if (bad := next((r for kind, _, r in checked if kind is None), None)) is not None:
            raise ValueError(f"unknown object type {bad.object_type!r}")
        for object_type, links, record in checked:
            assert object_type is not None  # checked above; narrows the type
            updated = record.updatedAt or _now_iso()
            created = record.createdAt or updated
            stored = self.objects.setdefault(
                (object_type, record.id),
                StoredObject(object_type, record.id, {}, {}, created, updated),
            )
            stored.merge(record.properties, links, updated)

    def take_fault(self) -> FaultSpec | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.times <= 1:
            self.faults.popleft()
        else:
            self.faults[0] = fault.model_copy(update={"times": fault.times - 1})
        return fault

    def rate_headers(self, *, exhausted: bool = False) -> dict[str, str]:
        """HubSpot's rolling ten-second allowance headers, counting this call."""
        now = time.monotonic()
        self.recent.append(now)
        while self.recent and now - self.recent[0] > RATE_LIMIT_INTERVAL_MS / 1000:
            self.recent.popleft()
        remaining = 0 if exhausted else max(0, RATE_LIMIT_MAX - len(self.recent))
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(RATE_LIMIT_INTERVAL_MS),
            "X-HubSpot-RateLimit-Max": str(RATE_LIMIT_MAX),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
        }

    def reset(self) -> None:
        self.objects.clear()
        self.calls.clear()
        self.faults.clear()


def _faulted(fault: FaultSpec) -> JSONResponse:
    if fault.status == 429:
        message = f"You have reached your {fault.policy.lower()} limit."
        response = hubspot_error(429, "RATE_LIMITS", message, errorType="RATE_LIMIT",
                                 policyName=fault.policy)  # fmt: skip
        response.headers["Retry-After"] = str(fault.retry_after)
        return response
    return hubspot_error(fault.status, "INTERNAL_ERROR", "internal error")


def _links(associations: dict[str, list[str]]) -> dict[str, list[str]]:
    """Associations keyed by canonical object type, duplicates dropped."""
    links: dict[str, list[str]] = {}
    for kind, ids in associations.items():
        if (name := object_type_of(kind)) is None:
            raise ValueError(f"unknown association type {kind!r}")
        links[name] = list(dict.fromkeys(ids))
    return links


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class CrmApi:
    """The CRM routes over one `HubSpotState`, and the call log around them."""

    def __init__(self, state: HubSpotState, *, token: str | None = None) -> None:
        self.state = state
        self.token = token

    async def answer(
        self, request: Request, call: dict[str, Any], handler: Callable[[], JSONResponse]
    ) -> JSONResponse:
        """Check auth and faults, run `handler`, record the call (never its token)."""
        with self.state.lock:
            denied = self._gate(request)
            fault = self.state.take_fault() if denied is None else None
        if fault is not None and fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)  # a slow answer; the lock stays free
        with self.state.lock:
            response = denied or (_faulted(fault) if fault and fault.status >= 400 else None)
            if response is None:
                response = handler()
            if denied is None:
                exhausted = fault is not None and fault.status == 429
                response.headers.update(self.state.rate_headers(exhausted=exhausted))
            call |= {"status": response.status_code, "at": time.time()}
            self.state.calls.append(call)
            return response

    def _gate(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        allowed = bool(token) and (
            self.token is None or hmac.compare_digest(token.encode(), self.token.encode())
        )
        if allowed:
            return None
        return hubspot_error(401, "INVALID_AUTHENTICATION", NO_CREDENTIALS_MESSAGE)

    def get_object(self, raw_type: str, object_id: str, query: dict[str, str]) -> JSONResponse:
        object_type = object_type_of(raw_type)
        if object_type is None:
            message = f"Unable to infer object type from: {raw_type}"
            return hubspot_error(400, "VALIDATION_ERROR", message)
        stored = self.state.objects.get((object_type, object_id))
        if stored is None:
            return hubspot_error(404, "OBJECT_NOT_FOUND", NOT_FOUND_MESSAGE,
                                 context={"id": [object_id]})  # fmt: skip
        kinds = [k for k in map(object_type_of, _split(query.get("associations"))) if k]
        properties = _split(query.get("properties")) or None
        return JSONResponse(stored.public(properties, kinds))

    def batch_read(self, raw_type: str, body: bytes) -> JSONResponse:
        object_type = object_type_of(raw_type)
        if object_type is None:
            message = f"Unable to infer object type from: {raw_type}"
            return hubspot_error(400, "VALIDATION_ERROR", message)
        try:
            parsed = orjson.loads(body)
            ids = [str(item["id"]) for item in parsed["inputs"]]
            properties = [str(name) for name in parsed.get("properties") or []]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            return hubspot_error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")
        started = _now_iso()
        found = [self.state.objects.get((object_type, i)) for i in ids]
        results = [stored.public(properties or None, []) for stored in found if stored]
        body_out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        missing = [i for i, stored in zip(ids, found, strict=True) if stored is None]
        if missing:
            label = OBJECT_TYPES[object_type][1].upper()
            message = f"Could not get some {label} objects, they may be deleted or not exist."
            error = {"status": "error", "category": "OBJECT_NOT_FOUND", "message": message,
                     "context": {"ids": missing}}  # fmt: skip
            body_out |= {"numErrors": len(missing), "errors": [error]}
        body_out |= {"startedAt": started, "completedAt": _now_iso()}
        return JSONResponse(body_out, status_code=207 if missing else 200)

    def associations_batch_read(self, raw_from: str, raw_to: str, body: bytes) -> JSONResponse:
        """v4 associations of each input object to objects of one type."""
        from_type, to_type = object_type_of(raw_from), object_type_of(raw_to)
        if from_type is None or to_type is None:
            unknown = raw_from if from_type is None else raw_to
            return hubspot_error(
                400, "VALIDATION_ERROR", f"Unable to infer object type from: {unknown}"
            )
        try:
            ids = [str(item["id"]) for item in orjson.loads(body)["inputs"]]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            return hubspot_error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")
        if len(ids) > BATCH_LIMIT:
            message = f"Too many inputs: {len(ids)}, the limit is {BATCH_LIMIT}"
            return hubspot_error(400, "VALIDATION_ERROR", message)
        started = _now_iso()
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
        kinds = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        results, missing = [], []
        for object_id in ids:
            stored = self.state.objects.get((from_type, object_id))
            if stored is None:
                missing.append(object_id)
            elif linked := stored.associations.get(to_type):
                to = [{"toObjectId": int(other), "associationTypes": kinds} for other in linked]
                results.append({"from": {"id": object_id}, "to": to})
        body_out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            message = "Could not find some objects."
            error = {"status": "error", "category": "OBJECT_NOT_FOUND", "message": message,
                     "context": {"ids": missing}}  # fmt: skip
            body_out |= {"numErrors": len(missing), "errors": [error]}
        body_out |= {"startedAt": started, "completedAt": _now_iso()}
        return JSONResponse(body_out, status_code=207 if missing else 200)


def _test_hooks(state: HubSpotState) -> APIRouter:
    """Routes tests use to load records, inject failures and look at calls."""
    router = APIRouter(include_in_schema=False)

    @router.post("/_records")
    def load_records(records: list[RecordIn]) -> JSONResponse:
        with state.lock:
            try:
                state.load(records)
            except ValueError as exc:
                return JSONResponse({"status": "error", "message": str(exc)}, status_code=422)
            return JSONResponse({"loaded": len(records), "total": len(state.objects)})

    @router.get("/_records")
    def list_records() -> list[dict[str, Any]]:
        with state.lock:
            return [stored.dump() for stored in state.objects.values()]

    @router.delete("/_records")
    def reset() -> dict[str, str]:
        with state.lock:
            state.reset()
        return {"status": "ok"}

    @router.post("/_faults")
    def add_fault(fault: FaultSpec) -> dict[str, Any]:
        with state.lock:
            state.faults.append(fault)
            return {"status": "ok", "pending": [f.model_dump() for f in state.faults]}

    @router.get("/_calls")
    def list_calls() -> list[dict[str, Any]]:
        with state.lock:
            return list(state.calls)

    return router


def create_app(*, token: str | None = None) -> FastAPI:
    """The local HubSpot CRM objects API; `token`, when given, is the only one accepted."""
    state = HubSpotState()
    api = CrmApi(state, token=token)
    app = FastAPI(title="Local HubSpot CRM API", docs_url=None, redoc_url=None)
    app.state.hubspot = state
    app.include_router(health_router({}))
    app.include_router(_test_hooks(state))

    @app.get("/crm/v3/objects/{object_type}/{object_id}")
    async def get_object(object_type: str, object_id: str, request: Request) -> JSONResponse:
        query = {k: v for k, v in request.query_params.items() if k != "hapikey"}
        call = {"method": "GET", "path": request.url.path, "query": query}
        return await api.answer(
            request, call, lambda: api.get_object(object_type, object_id, query)
        )

    @app.post("/crm/v3/objects/{object_type}/batch/read")
    async def batch_read(object_type: str, request: Request) -> JSONResponse:
        body = await request.body()
        call = {"method": "POST", "path": request.url.path, "query": {}, "body": body.decode()}
        return await api.answer(request, call, lambda: api.batch_read(object_type, body))

    @app.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    async def associations_batch_read(
        from_type: str, to_type: str, request: Request
    ) -> JSONResponse:
        body = await request.body()
        call = {"method": "POST", "path": request.url.path, "query": {}, "body": body.decode()}
        return await api.answer(
            request, call, lambda: api.associations_batch_read(from_type, to_type, body)
        )

    return app


def _exit_cleanly(signum: int, frame: object) -> NoReturn:  # noqa: ARG001 - signal handler
    raise SystemExit(0)


def main() -> None:
    """Serve the local HubSpot CRM API until interrupted."""
    parser = argparse.ArgumentParser(description="Local HubSpot CRM objects API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    app = create_app(token=os.environ.get("HUBSPOT_LOCAL_TOKEN") or None)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the
    # handler installed before it ran; exiting there makes a requested stop exit 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="none")


if __name__ == "__main__":
    main()
