"""A request's body is read whenever HTTP framing says it has one, and not waited for otherwise."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from mg_tools.sandbox import create_app
from mg_tools.sandbox.core import Ctx


def _ctx(headers: list[tuple[bytes, bytes]], body: bytes, reads: list[bytes]) -> Ctx:
    async def receive() -> dict:
        reads.append(body)
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    return Ctx(Request(scope, receive), create_app().state.sandbox, {})


def test_a_body_framed_by_its_length_is_read_without_a_content_type():
    reads: list[bytes] = []
    ctx = _ctx([(b"content-length", b"8")], b'{"a": 1}', reads)
    asyncio.run(ctx.load())
    assert ctx.json == {"a": 1} and reads == [b'{"a": 1}']


def test_a_chunked_body_is_read():
    reads: list[bytes] = []
    ctx = _ctx([(b"transfer-encoding", b"chunked")], b"[1]", reads)
    asyncio.run(ctx.load())
    assert ctx.json == [1] and ctx.body == b"[1]"


def test_a_request_without_a_body_is_not_read():
    reads: list[bytes] = []
    ctx = _ctx([(b"host", b"sandbox")], b"", reads)
    asyncio.run(ctx.load())
    assert reads == [] and ctx.body == b"" and ctx.json is None and not ctx.form
