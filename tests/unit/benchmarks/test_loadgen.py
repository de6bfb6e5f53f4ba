"""The load generator frames responses by Content-Length, however the bytes arrive, and
refuses what it cannot frame instead of miscounting."""

from __future__ import annotations

import pytest

from benchmarks.loadgen import ProtocolError, RequestPool, Response, ResponseParser, render_post

ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\n"
    b'content-length: 14\r\n\r\n{"accepted":1}'
)
REFUSED = b'HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\n{"detail":1}'


def test_pipelined_responses_in_one_chunk() -> None:
    assert ResponseParser().feed(ACCEPTED + REFUSED + ACCEPTED[:20]) == [
        Response(202, b'{"accepted":1}'),
        Response(401, b'{"detail":1}'),
    ]


def test_responses_split_at_every_byte() -> None:
    parser = ResponseParser()
    stream = ACCEPTED + REFUSED
    responses = [
        response for byte in range(len(stream)) for response in parser.feed(stream[byte : byte + 1])
    ]
    assert [r.status for r in responses] == [202, 401]
    assert responses[1].body == b'{"detail":1}'
    assert parser.pending == 0


def test_a_body_that_holds_a_blank_line_is_not_a_new_response() -> None:
    body = b"a\r\n\r\nHTTP/1.1 500 X\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert ResponseParser().feed(head + body + REFUSED) == [
        Response(200, body),
        Response(401, b'{"detail":1}'),
    ]


def test_no_content_response_needs_no_length() -> None:
    assert ResponseParser().feed(b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n") == [
        Response(204, b"")
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
def test_what_it_cannot_frame_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseParser().feed(raw)


def test_endless_headers_are_a_protocol_error() -> None:
    parser = ResponseParser()
    with pytest.raises(ProtocolError):
        parser.feed(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: y\r\n" * 10_000)


def test_rendered_post_declares_its_body_length() -> None:
    request = render_post("/v1/events", b'{"a":"\xc3\xa9"}', {"Content-Type": "application/json"})
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/events HTTP/1.1"
    assert b"Content-Length: %d" % len(body) in lines
    assert b"Content-Type: application/json" in lines
    assert body == b'{"a":"\xc3\xa9"}'


def test_pool_hands_out_in_order_and_counts_reuse() -> None:
    pool = RequestPool([b"a", b"b"])
    assert [pool.take() for _ in range(5)] == [b"a", b"b", b"a", b"b", b"a"]
    assert pool.reused == 3
