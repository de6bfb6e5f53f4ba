"""A small asyncio HTTP/1.1 load generator: N keep-alive connections, one request in flight each.

Python HTTP clients (httpx, aiohttp) spend more CPU per request than a small ASGI app does,
so on a two-core machine they, not the server, would set the pace. This one only writes
pre-rendered request bytes and frames responses by Content-Length, on uvloop's protocols.
It is no general client: no chunked bodies, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, cast

_MAX_HEAD_BYTES = 64 * 1024
# Bodies of the failures kept for the report (the first few are enough to see why).
_KEEP_FAILURES = 3


class ProtocolError(Exception):
    """The server's bytes are not an HTTP/1.x response this generator can frame."""


class Response(NamedTuple):
    status: int
    body: bytes


class ResponseParser:
    """Splits a connection's byte stream into responses framed by Content-Length."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not complete a response yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Response]:
        """Every response completed by `data`, in order; keeps the rest for the next call."""
        self._buffer += data
        responses: list[Response] = []
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(self._buffer) > _MAX_HEAD_BYTES:
                    raise ProtocolError(f"no end of headers within {_MAX_HEAD_BYTES} bytes")
                return responses
            status, length = _parse_head(bytes(self._buffer[:head_end]))
            body_start = head_end + 4
            body_end = body_start + length
            if len(self._buffer) < body_end:
                return responses
            responses.append(Response(status, bytes(self._buffer[body_start:body_end])))
            del self._buffer[:body_end]


def _parse_head(head: bytes) -> tuple[int, int]:
    """The status code and body length of a response head (status line and headers)."""
    status_line, _, header_block = head.partition(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    status = int(code)
    if status < 200:
        raise ProtocolError(f"informational response {status} is not supported")
    length: int | None = None
    for line in header_block.split(b"\r\n") if header_block else ():
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if not value.isdigit() or (length is not None and int(value) != length):
                raise ProtocolError(f"bad Content-Length: {value[:40]!r}")
            length = int(value)
        elif name == b"transfer-encoding":
            raise ProtocolError(f"Transfer-Encoding {value.strip()[:40]!r} is not supported")
    if length is None:
        if status in (204, 304):
            return status, 0
        raise ProtocolError(f"response {status} has no Content-Length")
    return status, length


def render_post(
    path: str, body: bytes, headers: Mapping[str, str], *, host: str = "127.0.0.1"
) -> bytes:
    """The bytes of a keep-alive HTTP/1.1 POST of `body` with `headers`."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class LoadResult:
    """What one timed run saw."""

    connections: int
    expected_status: int
    seconds: float
    cpu_seconds: float  # of this process (the generator) during the run
    responses: int = 0
    failures: int = 0  # unexpected statuses, plus requests lost with a broken connection
    statuses: Counter[int] = field(default_factory=Counter)
    failure_samples: list[str] = field(default_factory=list)
    reused: int = 0  # requests sent again because the pool ran out

    @property
    def per_second(self) -> float:
        """Responses with the expected status per second."""
        return self.statuses[self.expected_status] / self.seconds if self.seconds else 0.0

    @property
    def generator_load(self) -> float:
        """The generator's CPU time over wall time: near 1.0 means it may be the bottleneck."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


class RequestPool:
    """Pre-rendered requests handed out in order across runs; wraps around when used up."""

    def __init__(self, requests: Sequence[bytes]) -> None:
        if not requests:
            raise ValueError("a request pool needs at least one request")
        self._requests = requests
        self._next = 0
        self.handed_out = 0

    def take(self) -> bytes:
        request = self._requests[self._next]
        self._next = (self._next + 1) % len(self._requests)
        self.handed_out += 1
        return request

    @property
    def reused(self) -> int:
        return max(0, self.handed_out - len(self._requests))


class _Run:
    def __init__(self, pool: RequestPool, expected_status: int, deadline: float) -> None:
        self.pool = pool
        self.expected_status = expected_status
        self.deadline = deadline
        self.responses = 0
        self.failures = 0
        self.statuses: Counter[int] = Counter()
        self.samples: list[str] = []
        self.last_response = 0.0

    def record(self, response: Response) -> None:
        self.responses += 1
        self.statuses[response.status] += 1
        if response.status != self.expected_status:
            self.fail(f"{response.status}: {response.body[:200]!r}")

    def fail(self, reason: str) -> None:
        self.failures += 1
        if len(self.samples) < _KEEP_FAILURES:
            self.samples.append(reason)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for its response, repeat."""

    def __init__(self) -> None:
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.run: _Run | None = None
        self.in_flight = False
        self.idle: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop may call this after create_connection returned, which set it already;
        # its transports are not registered as asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def start(self, run: _Run) -> None:
        self.run = run
        self.idle = asyncio.get_running_loop().create_future()
        self._send_next()

    def _send_next(self) -> None:
        assert self.run is not None and self.transport is not None
        now = time.perf_counter()
        if now >= self.run.deadline:
            self._finish()
            return
        self.in_flight = True
        self.transport.write(self.run.pool.take())

    def data_received(self, data: bytes) -> None:
        run = self.run
        if run is None:
            return
        try:
            responses = self.parser.feed(data)
        except ProtocolError as exc:
            run.fail(f"protocol error: {exc}")
            self.in_flight = False
            self._finish()
            if self.transport is not None:
                self.transport.close()
            return
        if not responses:
            return
        for response in responses:
            run.record(response)
        run.last_response = time.perf_counter()
        self.in_flight = False
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.run is not None and self.in_flight:
            self.run.fail(f"connection lost: {exc or 'closed by the server'}")
            self.in_flight = False
        self._finish()

    def _finish(self) -> None:
        if not self.idle.done():
            self.idle.set_result(None)


async def run_load(
    host: str,
    port: int,
    pool: RequestPool,
    *,
    connections: int,
    seconds: float,
    expected_status: int,
) -> LoadResult:
    """Keep `connections` connections busy for `seconds`, then wait for the last responses."""
    loop = asyncio.get_running_loop()
    opened = [await loop.create_connection(_Connection, host, port) for _ in range(connections)]
    for transport, connection in opened:
        connection.transport = transport
    reused_before = pool.reused
    cpu_started = time.process_time()
    started = time.perf_counter()
    run = _Run(pool, expected_status, started + seconds)
    run.last_response = started
    try:
        for _, connection in opened:
            connection.start(run)
        await asyncio.gather(*(connection.idle for _, connection in opened))
    finally:
        for transport, _ in opened:
            transport.close()
    return LoadResult(
        connections=connections,
        expected_status=expected_status,
        seconds=run.last_response - started,
        cpu_seconds=time.process_time() - cpu_started,
        responses=run.responses,
        failures=run.failures,
        statuses=run.statuses,
        failure_samples=run.samples,
        reused=pool.reused - reused_before,
    )
