"""A local server speaking the slice of the Slack Web API the digest service uses.

`python -m deploy.local.slack_api --host 127.0.0.1 --port 8090 [--state-dir var/slack]`

It accepts requests the way `slack_sdk`'s `AsyncWebClient` sends them: chat.postMessage and
chat.update as JSON bodies, conversations.open and auth.test as query parameters on a POST,
users.lookupByEmail as a GET with query parameters; form bodies work too. Every call needs
`Authorization: Bearer xoxb-...` (or, with SLACK_LOCAL_TOKEN set, exactly that token).

Test hooks: `GET /api/_messages` (current messages, with the DM owner and history),
`GET /api/_calls` (every call, token never recorded), `POST /api/_faults` (make the next N
calls of a method answer 429 with Retry-After, or 5xx), `DELETE /api/_messages` (reset).
Emails under a `.invalid` domain are unknown users (users_not_found), for failure tests.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import orjson
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.embedded_broker import free_port
from shared.observability import health_router

MAX_CALLS = 10_000
MESSAGE_FIELDS = ("text", "blocks", "updated", "history")
BOT_USER_ID = "U0LOCALBOT"
TEAM_ID = "T0LOCAL"


def user_id_for(email: str) -> str:
    """The deterministic Slack user id of an email address."""
    return "U" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:10].upper()


def dm_channel_for(user_id: str) -> str:
    """The deterministic DM channel id between the bot and one user."""
    return "D" + hashlib.sha256(user_id.encode()).hexdigest()[:10].upper()


class FaultSpec(BaseModel):
    """Make the next `times` calls of `method` fail with `status` (429 or 5xx)."""

    method: str
    status: int = Field(default=429, ge=400, le=599)
    retry_after: int = Field(default=1, ge=0, le=3600)
    times: int = Field(default=1, ge=1, le=1000)
    error: str | None = None


@dataclass
class SlackState:
    """Users, DMs, messages, calls and pending faults of one server; thread-safe."""

    state_dir: Path | None = None
    users: dict[str, str] = field(default_factory=dict)  # user id -> email
    channels: dict[str, str] = field(default_factory=dict)  # DM channel id -> user id
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_CALLS))
    faults: dict[str, FaultSpec] = field(default_factory=dict)
    last_ts_micros: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_ts(self) -> str:
        """A unique, increasing message ts in Slack's `seconds.micros` format."""
        self.last_ts_micros = max(time.time_ns() // 1000, self.last_ts_micros + 1)
        seconds, micros = divmod(self.last_ts_micros, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def take_fault(self, method: str) -> FaultSpec | None:
        fault = self.faults.get(method)
        if fault is None:
            return None
        if fault.times <= 1:
            del self.faults[method]
        else:
            self.faults[method] = fault.model_copy(update={"times": fault.times - 1})
        return fault

    def listing(self) -> list[dict[str, Any]]:
        """Current messages, oldest first, with the user their DM belongs to."""
        rows = []
        for (channel, ts), message in sorted(self.messages.items(), key=lambda kv: kv[0][1]):
            user = self.channels.get(channel)
            email = self.users.get(user) if user else None
            rows.append({"channel": channel, "ts": ts, "user": user, "user_email": email} | message)
        return rows

    def reset(self) -> None:
        self.messages.clear()
        self.calls.clear()
        self.faults.clear()
        self.save()

    def save(self) -> None:
        """Persist users, channels and messages (atomic replace) when a state dir is set."""
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        payload = {"users": self.users, "channels": self.channels, "messages": self.listing()}
        target = self.state_dir / "slack-state.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
        os.replace(temporary, target)

    def load(self) -> None:
        if self.state_dir is None or not (self.state_dir / "slack-state.json").exists():
            return
        payload = orjson.loads((self.state_dir / "slack-state.json").read_bytes())
        self.users.update(payload.get("users", {}))
        self.channels.update(payload.get("channels", {}))
        for row in payload.get("messages", []):
            channel, ts = row.pop("channel"), row.pop("ts")
            self.messages[(channel, ts)] = {k: v for k, v in row.items() if k in MESSAGE_FIELDS}
            self.last_ts_micros = max(self.last_ts_micros, int(ts.replace(".", "")))


def _ok(**body: Any) -> dict[str, Any]:
    return {"ok": True, **body}


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


async def _arguments(request: Request) -> tuple[dict[str, Any], str]:
    """Merge query parameters with a JSON or form body; say which one carried arguments.

    slack_sdk labels even body-less requests as form-encoded, so the label follows the body.
    """
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    encoding = "query"
    content_type = request.headers.get("content-type", "")
    if body and content_type.startswith("application/json"):
        parsed = orjson.loads(body)
        if isinstance(parsed, dict):
            args.update(parsed)
            encoding = "json"
    elif body and content_type.startswith("application/x-www-form-urlencoded"):
        # Parsed here rather than with request.form(), which needs python-multipart.
        args.update(parse_qsl(body.decode(), keep_blank_values=True))
        encoding = "form"
    for key in ("blocks", "attachments"):
        if isinstance(args.get(key), str):
            args[key] = orjson.loads(args[key])  # form callers send structures as JSON text
    return args, encoding


def _bearer_token(request: Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = args.pop("token", None)
    return str(token) if token else None


def _auth_error(token: str | None, required: str | None) -> str | None:
    if not token:
        return "not_authed"
    if required is not None:
        return None if hmac.compare_digest(token.encode(), required.encode()) else "invalid_auth"
    return None if token.startswith("xoxb-") else "invalid_auth"


class SlackApi:
    """The method implementations over one `SlackState`, and the call log around them."""

    def __init__(self, state: SlackState, *, token: str | None = None) -> None:
        self.state = state
        self.token = token
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.update": self.update_message,
            "conversations.open": self.open_conversation,
            "users.lookupByEmail": self.lookup_by_email,
        }

    def dispatch(
        self, method: str, args: dict[str, Any], *, verb: str, encoding: str, token: str | None
    ) -> JSONResponse:
        """Answer one call as Slack would, recording it (never its token)."""
        with self.state.lock:
            call = {"method": method, "http_verb": verb, "encoding": encoding, "args": args}
            self.state.calls.append(call | {"at": time.time()})
            response, self.state.calls[-1]["outcome"] = self._respond(method, args, token)
        return response

    def _respond(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[JSONResponse, str]:
        if method not in self.handlers:
            return JSONResponse(_error("unknown_method"), status_code=404), "unknown_method"
        if (problem := _auth_error(token, self.token)) is not None:
            return JSONResponse(_error(problem)), problem
        if (fault := self.state.take_fault(method)) is not None:
            return _faulted(fault), f"fault_{fault.status}"
        body = self.handlers[method](args)
        return JSONResponse(body), "ok" if body["ok"] else body["error"]

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG002 - uniform
        return _ok(
            url="https://salescoach-local.slack.com/",
            team="Salescoach Local",
            user="salescoach",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id="B0LOCAL",
        )

    def lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").strip()
        if "@" not in email:
            return _error("invalid_arguments")
        if email.lower().endswith(".invalid"):
            return _error("users_not_found")
        user_id = user_id_for(email)
        self.state.users[user_id] = email
        name = email.split("@", 1)[0]
        profile = {"email": email, "real_name": name, "display_name": name}
        user = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": name}
        return _ok(user={**user, "deleted": False, "is_bot": False, "profile": profile})

    def open_conversation(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return _ok(channel={"id": str(args["channel"])})
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("not_supported")  # group DMs are not needed here
        channel = dm_channel_for(users[0])
        already_open = channel in self.state.channels
        self.state.channels[channel] = users[0]
        dm = {"id": channel, "is_im": True, "user": users[0]}
        return _ok(channel=dm, already_open=already_open, no_op=already_open)

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        if channel.startswith("U"):  # posting to a user id lands in the DM with them
            channel = dm_channel_for(channel)
            self.state.channels.setdefault(channel, str(args["channel"]))
        if not args.get("text") and not args.get("blocks"):
            return _error("no_text")
        ts = self.state.next_ts()
        message = {"text": args.get("text", ""), "blocks": args.get("blocks") or []}
        self.state.messages[(channel, ts)] = message | {"updated": False, "history": []}
        self.state.save()
        return _ok(channel=channel, ts=ts, message=_wire(ts, message))

    def update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        message = self.state.messages.get((channel, ts))
        if message is None:
            return _error("message_not_found")
        message["history"].append({"text": message["text"], "blocks": message["blocks"]})
        message.update({k: args[k] for k in ("text", "blocks") if k in args}, updated=True)
        self.state.save()
        return _ok(channel=channel, ts=ts, text=message["text"], message=_wire(ts, message))


def _wire(ts: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message as Slack returns it."""
    return {
        "type": "message",
        "ts": ts,
        "user": BOT_USER_ID,
        "bot_id": "B0LOCAL",
        "text": message["text"],
        "blocks": message["blocks"],
    }


def _faulted(fault: FaultSpec) -> JSONResponse:
    if fault.status == 429:
        return JSONResponse(
            _error(fault.error or "ratelimited"),
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return JSONResponse(_error(fault.error or "internal_error"), status_code=fault.status)


def _test_hooks(state: SlackState) -> APIRouter:
    """Routes tests use to look inside the server and to inject failures."""
    router = APIRouter(prefix="/api")

    @router.get("/_messages")
    def list_messages() -> list[dict[str, Any]]:
        with state.lock:
            return state.listing()

    @router.delete("/_messages")
    def reset() -> dict[str, Any]:
        with state.lock:
            state.reset()
        return _ok()

    @router.get("/_calls")
    def list_calls() -> list[dict[str, Any]]:
        with state.lock:
            return list(state.calls)

    @router.post("/_faults")
    def add_fault(fault: FaultSpec) -> dict[str, Any]:
        with state.lock:
            state.faults[fault.method] = fault
        return _ok(fault=fault.model_dump())

    return router


def create_app(state_dir: Path | None = None, *, token: str | None = None) -> FastAPI:
    """The local Slack Web API; `token`, when given, is the only bot token accepted."""
    state = SlackState(state_dir=state_dir)
    state.load()
    api = SlackApi(state, token=token)
    app = FastAPI(title="Local Slack Web API", docs_url=None, redoc_url=None)
    app.state.slack = state
    app.include_router(health_router({}))
    app.include_router(_test_hooks(state))

    @app.api_route("/api/{method}", methods=["GET", "POST"])
    async def slack_method(method: str, request: Request) -> Response:
        args, encoding = await _arguments(request)
        supplied = _bearer_token(request, args)
        return api.dispatch(method, args, verb=request.method, encoding=encoding, token=supplied)

    return app


class SlackApiServer:
    """The local Slack API on a background thread (tests, embedding): start() / stop()."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        state_dir: Path | None = None,
        token: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.app = create_app(state_dir, token=token)
        config = uvicorn.Config(
            self.app, host=host, port=self.port, log_level="warning", ws="none", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """What to give `AsyncWebClient(base_url=...)`."""
        return f"http://{self.host}:{self.port}/api/"

    def start(self, timeout: float = 10.0) -> SlackApiServer:
        """Serve on a daemon thread; return once the socket accepts connections."""
        self._thread = threading.Thread(target=self._server.run, name="slack-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"local Slack API did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> SlackApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _exit_cleanly(signum: int, frame: object) -> NoReturn:  # noqa: ARG001 - signal handler
    raise SystemExit(0)


def main() -> None:
    """Serve the local Slack API until interrupted."""
    parser = argparse.ArgumentParser(description="Local Slack Web API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    token = os.environ.get("SLACK_LOCAL_TOKEN") or None
    app = create_app(args.state_dir, token=token)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the
    # handler installed before it ran; exiting there makes a requested stop exit 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="none")


if __name__ == "__main__":
    main()
