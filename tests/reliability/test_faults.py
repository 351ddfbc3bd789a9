"""Faults over a real loopback server: 429, 5xx, timeouts and dropped connections on each kind of
access. Reads are retried within the deadline, a send is never duplicated, giving up is a clear
error, and no call hangs.

The retry decision itself is also checked for every registered operation, on a mock transport.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from typing import Any

import httpx
import pytest

from mg_tools import Access, Operation, Toolkit, TransportError
from mg_tools.client import MailgunClient, RetryPolicy
from mg_tools.errors import NotFound, RateLimited, ServerError
from mg_tools.request import build_request
from mg_tools.sandbox import DEFAULT_DOMAIN
from mg_tools.types import Params

from .support import (
    BASE_URL,
    FAKE_KEY,
    FAST_RETRY,
    HTTP_OPERATIONS,
    REGISTRY,
    Recorder,
    constructed,
    quiet,
    recording_toolkit,
)

#: Every call in this module must finish within this, whatever the fault (no hung call).
HARD_LIMIT = 8.0
SHORT_TIMEOUT = 0.3
SEND_ARGS = {
    "domain": DEFAULT_DOMAIN,
    "sender": "Ann <ann@mg.example.com>",
    "to": ["bob@example.com"],
    "subject": "Hello",
    "text": "Hi Bob",
}
_names = itertools.count()


def call(mg, name: str, arguments: dict[str, Any]) -> tuple[Any, float]:
    """Run one call under a hard time limit; return (result or the error raised, seconds taken)."""
    started = time.monotonic()
    try:
        result = mg.run(asyncio.wait_for(mg.execute(name, arguments), HARD_LIMIT))
    except TimeoutError:
        pytest.fail(f"{name} hung for more than {HARD_LIMIT}s")
    except Exception as exc:
        result = exc
    return result, time.monotonic() - started


def new_domain_name() -> str:
    return f"fault-{next(_names)}.example.com"


def domain_exists(mg, name: str) -> bool:
    result, _ = call(mg, "get_domain", {"domain": name})
    if isinstance(result, NotFound):
        return False
    assert not isinstance(result, Exception), result
    return True


def wait_for_messages(live, expected: int, within: float = 3.0) -> int:
    """The number of stored messages once it reaches ``expected`` (or after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while (count := live.message_count()) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return count


# -- the four kinds of access, as (operation, arguments, path regex) -------------------------------------


def read(live, mg):
    return "get_domain", {"domain": DEFAULT_DOMAIN}, f"^/v4/domains/{DEFAULT_DOMAIN}$", "GET"


def write(live, mg):
    name = new_domain_name()
    return "create_domain", {"domain": name}, "^/v4/domains$", "POST"


def delete(live, mg):
    name = new_domain_name()
    created, _ = call(mg, "create_domain", {"domain": name})
    assert not isinstance(created, Exception), created
    return "delete_domain", {"domain": name}, f"^/v3/domains/{name}$", "DELETE"


def send(live, mg):
    return "send_message", SEND_ARGS, f"^/v3/{DEFAULT_DOMAIN}/messages$", "POST"


KINDS = {"read": read, "write": write, "delete": delete, "send": send}


@pytest.fixture
def mg(live):
    toolkit = live.toolkit(timeout=SHORT_TIMEOUT)
    yield toolkit
    toolkit.close()


def outcome(live, mg, kind: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """What a call left behind: the stored messages, and whether the domain it named exists. (The
    server has finished with the request when the client returns, except after a timeout.)"""
    state: dict[str, Any] = {"messages": live.message_count()}
    if kind in ("write", "delete"):
        state["exists"] = domain_exists(mg, args["domain"])
    return state


# -- 429 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_429_is_retried_after_retry_after_for_every_kind(kind, live, mg):
    """A 429 is refused before anything is accepted, so even a send is retried, after Retry-After."""
    name, args, path, method = KINDS[kind](live, mg)
    live.fault(method=method, path=path, status=429, retry_after=0.3, times=1)
    result, took = call(mg, name, args)
    assert not isinstance(result, Exception), result
    assert took >= 0.3, "Retry-After was not honoured"
    state = outcome(live, mg, kind, name, args)
    assert state["messages"] == (1 if kind == "send" else 0)
    if kind == "write":
        assert state["exists"]
    if kind == "delete":
        assert not state["exists"]


def test_429_that_persists_gives_a_clear_rate_limited_error(live, mg):
    live.fault(method="POST", path=f"^/v3/{DEFAULT_DOMAIN}/messages$", status=429, retry_after=0.05, times=50)
    result, took = call(mg, "send_message", SEND_ARGS)
    assert isinstance(result, RateLimited) and result.retry_after == 0.05
    assert "429" in result.message and took < 2
    assert live.faults()[0]["times"] == 50 - FAST_RETRY.attempts, "every attempt but no more"
    assert live.message_count() == 0


# -- 500 / 503 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("kind", KINDS)
def test_5xx_once(kind, status, live, mg):
    """Idempotent requests (GET, DELETE) are retried; a POST that may have been accepted is not."""
    name, args, path, method = KINDS[kind](live, mg)
    live.fault(method=method, path=path, status=status, times=1)
    result, _ = call(mg, name, args)
    state = outcome(live, mg, kind, name, args)
    if kind in ("read", "delete"):
        assert not isinstance(result, Exception), result
        if kind == "delete":
            assert not state["exists"]
    else:
        assert isinstance(result, ServerError) and result.status == status, result
        assert "may still have been processed: check events or logs before repeating it" in result.message
        # Retrying would have succeeded (the fault fires once): nothing happened means no retry.
        assert state["messages"] == 0
        if kind == "write":
            assert not state["exists"]


def test_5xx_that_persists_on_a_read_gives_up_after_the_attempts(live, mg):
    live.fault(method="GET", path="^/v4/domains", status=503, times=50)
    result, took = call(mg, "get_domain", {"domain": DEFAULT_DOMAIN})
    assert isinstance(result, ServerError) and result.status == 503
    assert live.faults()[0]["times"] == 50 - FAST_RETRY.attempts
    assert took < 2


# -- timeouts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_timeout(kind, live, mg):
    """The server answers after the client gave up. Reads and deletes are retried; a write or a
    send is reported as maybe sent, and is processed exactly once."""
    name, args, path, method = KINDS[kind](live, mg)
    live.fault(method=method, path=path, delay=SHORT_TIMEOUT * 3, times=1)
    result, took = call(mg, name, args)
    assert took < SHORT_TIMEOUT * FAST_RETRY.attempts + 2
    if kind in ("read", "delete"):
        assert not isinstance(result, Exception), result
        return
    # Not retried (a retry would have succeeded: the fault fires once), and reported as maybe sent.
    assert isinstance(result, TransportError) and result.maybe_sent, result
    assert "may have reached Mailgun" in result.message
    time.sleep(SHORT_TIMEOUT * 3)  # the delayed request has ended server-side by now
    if kind == "send":
        assert live.message_count() <= 1, "the send was duplicated"


def test_a_read_that_keeps_timing_out_gives_up_within_the_deadline(live):
    retry = RetryPolicy(attempts=20, deadline=1.0, backoff=0.01, max_backoff=0.02)
    with live.toolkit(timeout=0.2, retry=retry) as mg:
        live.fault(method="GET", path="^/v4/domains", delay=0.6, times=100)
        result, took = call(mg, "get_domain", {"domain": DEFAULT_DOMAIN})
    assert isinstance(result, TransportError), result
    assert took < retry.deadline + 0.2 + 0.5, f"took {took:.2f}s, past the deadline"


# -- dropped connections -----------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_connection(kind, when, live, mg):
    """The connection drops before or after the server processed the request."""
    name, args, path, method = KINDS[kind](live, mg)
    live.fault(method=method, path=path, drop=when, times=1)
    result, _ = call(mg, name, args)
    state = outcome(live, mg, kind, name, args)
    if kind == "read":
        assert not isinstance(result, Exception), result
    elif kind == "delete":
        assert not state["exists"]
        if when == "before":
            assert not isinstance(result, Exception), result
        else:
            # The retry finds nothing to delete: the error must say the first attempt may have done it.
            assert isinstance(result, NotFound), result
            assert "an earlier attempt whose answer was lost may already have done it" in result.message
    else:
        assert isinstance(result, TransportError) and result.maybe_sent, result
        assert "check events or logs before repeating it" in result.message
        processed = when == "after"
        if kind == "send":
            assert state["messages"] == int(processed), "a send must never be repeated"
        else:
            assert state["exists"] is processed


def test_no_server_at_all_is_a_clear_error_that_nothing_was_sent():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with Toolkit(
        api_key=FAKE_KEY, base_url=f"http://127.0.0.1:{port}", registry=REGISTRY, retry=FAST_RETRY, timeout=1.0
    ) as mg:
        for name, args in (("send_message", SEND_ARGS), ("get_domain", {"domain": DEFAULT_DOMAIN})):
            result, took = call(mg, name, args)
            assert isinstance(result, TransportError) and result.maybe_sent is False, result
            assert "could not connect" in result.message and took < 2


def test_a_response_that_trickles_forever_does_not_hang_the_call():
    """Each read arrives within the read timeout, but the answer never completes: the call must
    still end, bounded by the retry deadline and the timeout."""

    async def trickle(request: httpx.Request) -> httpx.Response:
        async def body():
            yield b"{"
            while True:
                await asyncio.sleep(0.05)
                yield b" "

        return httpx.Response(200, headers={"content-type": "application/json"}, content=body())

    retry = RetryPolicy(attempts=3, deadline=0.3, backoff=0.01, max_backoff=0.02, max_call=0.6)
    with Toolkit(
        api_key=FAKE_KEY,
        base_url=BASE_URL,
        registry=REGISTRY,
        transport=httpx.MockTransport(trickle),
        retry=retry,
        timeout=0.2,
    ) as mg:
        for name, args in (("get_domain", {"domain": DEFAULT_DOMAIN}), ("send_message", SEND_ARGS)):
            result, took = call(mg, name, args)
            assert isinstance(result, TransportError) and result.maybe_sent, result
            assert took < retry.max_call + 0.5


# -- the retry decision, for every registered operation ----------------------------------------------------


def _attempts(op, fail) -> int:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return fail(request)

    client = MailgunClient(
        api_key=FAKE_KEY,
        base_url=BASE_URL,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=3, backoff=0.0001, max_backoff=0.0002, max_retry_after=0.0),
    )
    req = quiet(build_request, op, constructed(op, dict.fromkeys(op.path_params, "x")))

    async def go() -> None:
        try:
            await client.send(req, idempotent=op.idempotent)
        except Exception:
            pass
        await client.aclose()

    asyncio.run(go())
    return len(calls)


def _read_error(request):
    raise httpx.ReadError("connection reset by peer")


def _connect_error(request):
    raise httpx.ConnectError("connection refused")


FAILURES = {
    "503": lambda request: httpx.Response(503, json={"message": "down"}),
    "read error after sending": _read_error,
    "429": lambda request: httpx.Response(429, json={"message": "slow"}, headers={"Retry-After": "0"}),
    "connect error": _connect_error,
}


@pytest.mark.parametrize("op", HTTP_OPERATIONS, ids=lambda op: op.name)
def test_every_operation_retries_only_what_is_safe_to_repeat(op):
    if op.access is Access.SEND:
        assert not op.idempotent, "a send is never safe to repeat, whatever its method"
    if op.method in ("POST", "PATCH"):
        assert not op.idempotent
    safe = 3 if op.idempotent else 1
    assert _attempts(op, FAILURES["503"]) == safe
    assert _attempts(op, FAILURES["read error after sending"]) == safe
    assert _attempts(op, FAILURES["429"]) == 3, "a 429 was refused before acceptance: always retried"
    assert _attempts(op, FAILURES["connect error"]) == 3, "nothing left: always retried"


def test_a_send_is_never_idempotent_whatever_its_method():
    for method in ("GET", "PUT", "DELETE", "POST"):
        assert not Operation("send_it", method, "/v3/x", Params, Access.SEND).idempotent


def test_the_executor_tells_the_client_what_is_idempotent():
    for name, args, expected in (("send_message", SEND_ARGS, 1), ("get_domain", {"domain": DEFAULT_DOMAIN}, 3)):
        recorder = Recorder(status=503, body={"message": "down"})
        with recording_toolkit(recorder) as mg:
            result, _ = call(mg, name, args)
        assert isinstance(result, ServerError)
        assert len(recorder.requests) == expected, name


@pytest.mark.parametrize(
    "header",
    ["soon", "nan", "inf", "-1", "1e309", "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 99 Foo 2015", "", "0.05", "3600"],
)
def test_any_retry_after_header_is_read_without_crashing(header):
    recorder = Recorder(status=429, body={"message": "slow"}, headers={"Retry-After": header})
    with recording_toolkit(recorder) as mg:
        result, took = call(mg, "get_domain", {"domain": DEFAULT_DOMAIN})
    assert isinstance(result, RateLimited), result
    assert result.retry_after is None or 0 <= result.retry_after < float("inf")
    assert len(recorder.requests) == FAST_RETRY.attempts and took < 3
