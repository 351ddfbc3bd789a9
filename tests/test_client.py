import asyncio
import base64
import email.utils
import time

import httpx
import pytest

from mg_tools import ConfigurationError, MailgunError, MgToolsError, TransportError
from mg_tools.client import MailgunClient, RetryPolicy, base_url_for, parse_retry_after, retryable
from mg_tools.errors import (
    BadRequest,
    Conflict,
    NotFound,
    RateLimited,
    Redirected,
    ServerError,
    Unauthorized,
    error_for_status,
)
from mg_tools.request import PreparedRequest

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.002, max_retry_after=0.01)


def client_for(handler, **kw):
    return MailgunClient(
        api_key="fake-key-1234",
        base_url="https://api.mailgun.net",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        **kw,
    )


def send(client, req=None, idempotent=True):
    req = req or PreparedRequest("GET", "/v4/domains")
    return asyncio.run(client.send(req, idempotent=idempotent))


def test_basic_auth_user_agent_and_form_encoding():
    seen = {}

    def handler(request):
        seen["auth"] = request.headers["authorization"]
        seen["ua"] = request.headers["user-agent"]
        seen["body"] = request.content
        return httpx.Response(200, json={"ok": True})

    send(
        client_for(handler),
        PreparedRequest("POST", "/v3/d/messages", form=[("to", "a@x"), ("to", "b@x"), ("o:tag", "t")]),
    )
    assert seen["auth"] == "Basic " + base64.b64encode(b"api:fake-key-1234").decode()
    assert seen["ua"].startswith("mg-tools/")
    assert seen["body"] == b"to=a%40x&to=b%40x&o%3Atag=t"


@pytest.mark.parametrize(
    ("status", "body", "cls", "text"),
    [
        (400, {"message": "'from' parameter is missing"}, BadRequest, "'from' parameter is missing"),
        (401, "Forbidden", Unauthorized, "Forbidden"),
        (404, {"Message": "not here"}, NotFound, "not here"),
        (409, {"Description": "exists"}, Conflict, "exists"),
        (400, {"Reason": "bad key"}, BadRequest, "bad key"),
        (400, {"error": "oops"}, BadRequest, "oops"),
        (400, {"Field": "ip", "Value": "x"}, BadRequest, "invalid ip: x"),
        (503, None, ServerError, "down"),
    ],
)
def test_error_bodies_of_every_shape_become_typed_errors(status, body, cls, text):
    def handler(request):
        if body is None:
            return httpx.Response(status, text="down")
        return httpx.Response(status, json=body)

    with pytest.raises(cls) as info:
        send(client_for(handler, timeout=1), idempotent=False)
    assert text in str(info.value) and info.value.status == status


def test_idempotent_requests_retry_5xx_then_succeed():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503 if len(calls) < 3 else 200, json={"message": "x"})

    assert send(client_for(handler)).status_code == 200
    assert len(calls) == 3


def test_a_send_is_never_retried_after_a_5xx():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(500, json={"message": "boom"})

    with pytest.raises(ServerError, match="check events before sending again|boom"):
        send(client_for(handler), PreparedRequest("POST", "/v3/d/messages"), idempotent=False)
    assert len(calls) == 1


def test_429_is_retried_honouring_retry_after_and_reported_when_giving_up():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "0"})

    with pytest.raises(RateLimited) as info:
        send(client_for(handler), PreparedRequest("POST", "/v3/d/messages"), idempotent=False)
    assert len(calls) == FAST.attempts and info.value.retry_after == 0.0


def test_connect_errors_are_retried_even_for_sends():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"id": "x"})

    assert send(client_for(handler), PreparedRequest("POST", "/v3/d/messages"), idempotent=False).status_code == 200
    assert len(calls) == 2


def test_a_send_whose_connection_dropped_is_not_repeated():
    calls = []

    def handler(request):
        calls.append(1)
        raise httpx.ReadError("connection reset")

    with pytest.raises(TransportError) as info:
        send(client_for(handler), PreparedRequest("POST", "/v3/d/messages"), idempotent=False)
    assert len(calls) == 1 and info.value.maybe_sent
    assert "may have reached Mailgun" in str(info.value)


def test_retries_stop_at_the_deadline(monkeypatch):
    import mg_tools.client as client_module

    now = [1000.0]
    calls = []

    async def fake_sleep(seconds):
        now[0] += seconds

    def handler(request):
        calls.append(1)
        now[0] += 0.01  # each attempt takes 10 ms of (fake) time
        return httpx.Response(503)

    monkeypatch.setattr(client_module.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(client_module.asyncio, "sleep", fake_sleep)
    client = MailgunClient(
        api_key="k" * 8,
        base_url="https://api.mailgun.net",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=100, backoff=0.1, max_backoff=0.1, deadline=1.0),
    )
    with pytest.raises(ServerError):
        send(client)
    # 10 ms per attempt plus 50-100 ms of backoff: the 1 s deadline allows 9 to 17 attempts, never 100.
    assert 9 <= len(calls) <= 17
    assert now[0] - 1000.0 <= 1.0 + 0.01  # no attempt starts after the deadline (the last one takes 10 ms)


def test_the_key_is_only_sent_to_mailgun_hosts_and_the_base_url():
    client = client_for(lambda r: httpx.Response(200, json={}))
    ok = PreparedRequest("GET", "/v3/domains/d/messages/k", origin="https://storage-us-east4.api.mailgun.net")
    assert send(client, ok).status_code == 200
    for origin in ("https://evil.example.com", "http://storage.api.mailgun.net", "https://mailgun.net.evil.com"):
        with pytest.raises(ConfigurationError, match="refusing to send the API key"):
            send(client, PreparedRequest("GET", "/x", origin=origin))


def test_error_messages_never_echo_the_key():
    def handler(request):
        return httpx.Response(401, json={"message": "bad key fake-key-1234"})

    with pytest.raises(Unauthorized) as info:
        send(client_for(handler))
    assert "fake-key-1234" not in str(info.value)


def test_base_url_choice():
    assert base_url_for() == "https://api.mailgun.net"
    assert base_url_for("EU") == "https://api.eu.mailgun.net"
    assert base_url_for("eu", "http://127.0.0.1:8025/") == "http://127.0.0.1:8025"
    with pytest.raises(ConfigurationError, match="'us' or 'eu'"):
        base_url_for("asia")
    with pytest.raises(ConfigurationError, match="http"):
        base_url_for(None, "ftp://x")


# -- answers that are not a success ---------------------------------------------------------------------

LEAKY_LOCATION = "https://user:pw@evil.example/v3/mg.example.com/messages?api_key=leak-me-please#frag"


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308])
@pytest.mark.parametrize(("method", "idempotent"), [("POST", False), ("GET", True)])
def test_a_redirect_is_an_error_that_is_never_followed_nor_retried(status, method, idempotent):
    calls = []

    def handler(request):
        calls.append(request.url)
        return httpx.Response(status, headers={"Location": LEAKY_LOCATION}, text="moved")

    with pytest.raises(Redirected) as info:
        send(client_for(handler), PreparedRequest(method, "/v3/mg.example.com/messages"), idempotent=idempotent)
    error = info.value
    assert len(calls) == 1 and error.status == status and error.code == "redirected"
    assert "https://evil.example/v3/mg.example.com/messages" in error.message
    assert "not processed" in error.message and "MAILGUN_API_BASE_URL" in error.message
    assert not any(part in error.message for part in ("leak-me-please", "api_key", "user", "pw@", "frag"))
    assert error.location == "https://evil.example/v3/mg.example.com/messages"


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("/v4/domains?page=2", "to https://api.mailgun.net/v4/domains."),
        ("//other.example:8443/x#y", "to https://other.example:8443/x."),
        ("/x/\u202e", "to https://api.mailgun.net/x/%E2%80%AE."),
        ("/v3/fake-key-1234/x?fake-key-1234", "to https://api.mailgun.net/v3/***/x."),
        ("http://[::1", "to an unusable location."),
        ("javascript:alert(1)", "to an unusable location."),
        ("", "to no location."),
    ],
)
def test_a_redirect_names_where_it_pointed_without_its_query(location, shown):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(302, headers=[(b"Location", location.encode())] if location else [])

    with pytest.raises(Redirected) as info:
        send(client_for(handler))
    assert shown in info.value.message and len(calls) == 1
    assert all(ch.isprintable() for ch in info.value.message)


@pytest.mark.parametrize("status", [100, 101, 199, 304])
def test_any_status_outside_2xx_is_an_error(status):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(status)

    with pytest.raises(MailgunError) as info:
        send(client_for(handler), PreparedRequest("POST", "/v3/d/messages"), idempotent=False)
    assert info.value.status == status and len(calls) == 1


# -- what an error body may put into a message ------------------------------------------------------------

CONFIGURED_KEY = "configured-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SHAPED_KEY = "key-" + "3f9a" * 8


def _fragments(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def _answering(bodies: list[str], shape: str, *, api_key: str = CONFIGURED_KEY) -> MailgunClient:
    """A client whose every request is answered 400 with the last of ``bodies``, as JSON or text."""

    def handler(request):
        body = bodies[-1]
        return httpx.Response(400, json={"message": body}) if shape == "json" else httpx.Response(400, text=body)

    return MailgunClient(
        api_key=api_key, base_url="https://api.mailgun.net", retry=FAST, transport=httpx.MockTransport(handler)
    )


@pytest.mark.parametrize("key", [CONFIGURED_KEY, SHAPED_KEY])
@pytest.mark.parametrize("shape", ["text", "json"])
def test_a_key_straddling_the_length_cap_leaves_no_fragment(key, shape):
    bodies: list[str] = []
    client = _answering(bodies, shape)
    for start in range(500 - len(key) + 1, 500):
        bodies.append("x" * start + key + " tail" * 200)
        with pytest.raises(BadRequest) as info:
            send(client)
        assert not {f for f in _fragments(key) if f in info.value.message}, start
        assert len(info.value.mailgun_message) <= 500


@pytest.mark.parametrize("shape", ["text", "json"])
def test_a_secret_split_where_scanning_stops_leaves_no_fragment(shape):
    # Each copy of a long secret shrinks to "***", so the piece cut at the scan limit would land
    # within the quoted 500 characters.
    secret = "long-secret-" + "5e1f" * 47
    client = _answering([secret * 100], shape, api_key=secret)
    with pytest.raises(BadRequest) as info:
        send(client)
    assert info.value.mailgun_message.startswith("******")
    assert not {f for f in _fragments(secret) if f in info.value.message}


HOSTILE = (
    "first line\nmg-tools: forged line\r\x1b[31mred\x1b]0;title\x07\u202eevil\u200b\x00\u2028\ufeff\ue000\U000e0041"
)


@pytest.mark.parametrize("shape", ["text", "json"])
def test_upstream_error_text_is_one_line_of_printable_characters(shape):
    def handler(request):
        return httpx.Response(400, json={"message": HOSTILE}) if shape == "json" else httpx.Response(400, text=HOSTILE)

    with pytest.raises(BadRequest) as info:
        send(client_for(handler))
    message = info.value.message
    assert all(ch.isprintable() for ch in message) and message == str(info.value)
    assert "forged line" in message and "\\n" in message and "\\x1b[31m" in message and "\\u202e" in message


@pytest.mark.parametrize("shape", ["text", "json"])
def test_a_huge_error_body_gives_a_short_message_quickly(shape):
    body = "-----BEGIN A PRIVATE KEY-----" * 40_000  # redacting all of it takes minutes: a lazy scan per marker

    def handler(request):
        return httpx.Response(400, json={"message": body}) if shape == "json" else httpx.Response(400, text=body)

    started = time.monotonic()
    with pytest.raises(BadRequest) as info:
        send(client_for(handler))
    assert len(info.value.mailgun_message) <= 500 and len(info.value.message) < 700
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("cls", [MgToolsError, ConfigurationError, TransportError, MailgunError, Redirected])
def test_every_error_message_is_escaped_when_the_error_is_made(cls):
    kwargs = {TransportError: {"maybe_sent": True}, MailgunError: {"status": 400}, Redirected: {"status": 301}}
    error = cls("a\nb\x1b[2J\u202ec\u200bd\x00", **kwargs.get(cls, {}))
    assert "\n" not in error.message and all(ch.isprintable() for ch in error.message)
    assert "a\\nb\\x1b[2J\\u202ec\\u200bd\\x00" in error.message and str(error) == error.message
    assert error.to_dict()["message"] == error.message


# -- where the key may go ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "origin", "trusted"),
    [
        ("http://127.0.0.1:8025", "http://127.0.0.1:8025", True),
        ("http://127.0.0.1:8025", "http://127.0.0.1:9999", False),
        ("http://127.0.0.1:8025", "http://127.0.0.1", False),
        ("http://127.0.0.1:8025", "https://127.0.0.1:8025", False),
        ("http://127.0.0.1", "http://127.0.0.1:80", True),
        ("http://127.0.0.1", "http://127.0.0.1:8080", False),
        ("https://api.mailgun.net", "https://api.mailgun.net:443", True),
        ("https://api.mailgun.net", "https://api.mailgun.net:8443", False),
        ("https://api.mailgun.net", "https://storage-us-east4.api.mailgun.net", True),
        ("https://api.mailgun.net", "https://storage.mailgun.net:443", True),
        ("https://api.mailgun.net", "https://mailgun.net", True),
        ("https://api.mailgun.net", "https://STORAGE.MAILGUN.NET", True),
        ("https://api.mailgun.net", "https://storage.mailgun.net:8443", False),
        ("https://api.mailgun.net", "https://storage.mailgun.net:80", False),
        ("https://api.mailgun.net", "http://storage.mailgun.net", False),
        ("https://api.mailgun.net", "https://evilmailgun.net", False),
        ("https://api.mailgun.net", "https://evil-mailgun.net", False),
        ("https://api.mailgun.net", "https://mailgun.net.evil.com", False),
        ("https://api.mailgun.net", "https://mailgun.net.", False),
        ("https://api.mailgun.net", "https://x.mailgun.net.", False),
        ("https://api.mailgun.net", "https://.mailgun.net", False),
        ("https://api.mailgun.net", "https://x..mailgun.net", False),
        ("https://api.mailgun.net", "https://mailgun.net@evil.com", False),
        ("https://api.mailgun.net", "https://evil.com@x.mailgun.net", False),
        ("https://api.mailgun.net", "https://xn--mailgn-3ya.net", False),
        ("https://api.mailgun.net", "https://x.mailgun.net:notaport", False),
    ],
)
def test_the_key_goes_only_to_the_base_origin_and_https_mailgun_hosts(base, origin, trusted):
    calls = []
    client = MailgunClient(
        api_key="fake-key-1234",
        base_url=base,
        retry=FAST,
        transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200, json={})),
    )
    req = PreparedRequest("GET", "/v3/domains/d/messages/k", origin=origin)
    if trusted:
        assert send(client, req).status_code == 200 and len(calls) == 1
    else:
        with pytest.raises(ConfigurationError, match="refusing to send the API key"):
            send(client, req)
        assert calls == []


def test_an_error_body_nested_too_deep_to_parse_is_quoted_as_text():
    body = "[" * 200_000
    with pytest.raises(BadRequest) as info:
        send(client_for(lambda r: httpx.Response(400, text=body, headers={"Content-Type": "application/json"})))
    assert info.value.mailgun_message.startswith("[[[") and len(info.value.mailgun_message) <= 500


# -- each retry decision on its own ----------------------------------------------------------------------


def _failure(what: str) -> MgToolsError:
    if what == "connect error":
        return TransportError("refused", maybe_sent=False)
    if what == "no answer after sending":
        return TransportError("reset", maybe_sent=True)
    return error_for_status(int(what))("x", status=int(what))


# The table in docs/security.md, "Retries never duplicate a send", by what failed.
RETRIED_ALWAYS = ("connect error", "429")  # nothing was accepted
RETRIED_IF_IDEMPOTENT = ("500", "502", "503", "no answer after sending")  # it may have been processed
NEVER_RETRIED = ("301", "400", "401", "404", "409", "413")  # the same answer would come again


@pytest.mark.parametrize("what", RETRIED_ALWAYS + RETRIED_IF_IDEMPOTENT + NEVER_RETRIED)
@pytest.mark.parametrize(("method", "idempotent"), [("GET", True), ("PUT", True), ("DELETE", True), ("POST", False)])
@pytest.mark.parametrize("attempt", [1, 3, 4])
def test_should_retry_follows_the_table_while_attempts_are_left(what, method, idempotent, attempt):
    safe = what in RETRIED_ALWAYS or (idempotent and what in RETRIED_IF_IDEMPOTENT)
    assert retryable(_failure(what), idempotent=idempotent) is safe
    assert RetryPolicy(attempts=4).should_retry(_failure(what), idempotent=idempotent, attempt=attempt) is (
        safe and attempt < 4
    )


@pytest.mark.parametrize(
    ("elapsed", "delay", "in_time"),
    [
        (0.0, 1.0, True),
        (9.0, 1.0, True),  # a retry may start exactly at the deadline
        (9.0, 1.5, False),
        (10.0, 0.0, True),
        (10.5, 0.0, False),
    ],
)
def test_a_retry_must_start_within_the_deadline_and_before_the_longest_call(elapsed, delay, in_time):
    assert RetryPolicy(deadline=10.0).in_time(elapsed, delay) is in_time
    assert RetryPolicy(deadline=60.0, max_call=10.0).in_time(elapsed, delay) is (elapsed + delay < 10.0)


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 10, 60])
def test_backoff_is_jittered_between_half_and_all_of_a_doubling_cap(attempt):
    policy = RetryPolicy(backoff=0.25, max_backoff=8.0)
    cap = min(8.0, 0.25 * 2**attempt)
    delays = [policy.delay(attempt) for _ in range(50)]
    assert all(cap / 2 <= d <= cap for d in delays) and len(set(delays)) > 1


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [
        (0.0, 0.0),
        (2.5, 2.5),
        (30.0, 30.0),
        (3600.0, 30.0),
        (-5.0, 0.0),
    ],
)
def test_a_retry_after_is_waited_exactly_up_to_its_cap(retry_after, delay):
    assert RetryPolicy(max_retry_after=30.0).delay(1, retry_after) == delay


@pytest.mark.parametrize("retry_after", [float("nan"), float("inf")])
def test_a_retry_after_that_is_no_number_falls_back_to_backoff(retry_after):
    assert 0.125 <= RetryPolicy(backoff=0.25, max_backoff=8.0).delay(0, retry_after) <= 0.25


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "1e309"}, None),
        ({"Retry-After": "Mon, 99 Foo 2015"}, None),
        ({"X-RateLimit-Reset": "not a time"}, None),
        ({"X-RateLimit-Reset": "1"}, 0.0),  # an epoch second long past
        ({}, None),
        ({"Retry-After": ""}, None),
    ],
)
def test_parse_retry_after_reads_seconds_and_dates_and_ignores_the_rest(headers, seconds):
    assert parse_retry_after(httpx.Headers(headers)) == seconds


def test_parse_retry_after_counts_dates_and_reset_times_from_now():
    now = time.time()
    date = email.utils.formatdate(now + 120, usegmt=True)
    assert 118 <= parse_retry_after(httpx.Headers({"Retry-After": date})) <= 120
    assert 59 <= parse_retry_after(httpx.Headers({"X-RateLimit-Reset": str(now + 60)})) <= 60
    both = httpx.Headers({"Retry-After": "3", "X-RateLimit-Reset": str(now + 60)})
    assert parse_retry_after(both) == 3.0, "Retry-After comes first"


def test_calls_are_spread_over_small_pools_each_on_the_least_busy():
    from mg_tools.client import POOLS, _Pools

    async def pools_of(client: MailgunClient) -> _Pools:
        pools = client._client()
        await client.aclose()
        return pools

    alone = asyncio.run(pools_of(MailgunClient(api_key="key-x", base_url="https://api.mailgun.net")))
    injected = MailgunClient(api_key="key-x", base_url="https://api.mailgun.net", transport=httpx.MockTransport(None))
    assert len(alone.clients) == POOLS > 1 and len(asyncio.run(pools_of(injected)).clients) == 1
    pools = _Pools(["a", "b", "c"])  # type: ignore[list-item]
    with pools.lease() as first, pools.lease() as second, pools.lease() as third:
        assert {first, second, third} == {"a", "b", "c"} and pools.busy == [1, 1, 1]
        with pools.lease() as fourth:
            assert fourth == "a" and pools.busy == [2, 1, 1]
    assert pools.busy == [0, 0, 0]
