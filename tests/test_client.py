import asyncio
import base64

import httpx
import pytest

from mg_tools import ConfigurationError, TransportError
from mg_tools.client import MailgunClient, RetryPolicy, base_url_for
from mg_tools.errors import BadRequest, Conflict, NotFound, RateLimited, ServerError, Unauthorized
from mg_tools.request import PreparedRequest

FAST = RetryPolicy(attempts=4, backoff=0.001, max_backoff=0.002, max_retry_after=0.01)


def client_for(handler, **kw):
    return MailgunClient(api_key="fake-key-1234", base_url="https://api.mailgun.net",
                         transport=httpx.MockTransport(handler), retry=FAST, **kw)


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

    send(client_for(handler), PreparedRequest("POST", "/v3/d/messages", form=[("to", "a@x"), ("to", "b@x"), ("o:tag", "t")]))
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
    client = MailgunClient(api_key="k" * 8, base_url="https://api.mailgun.net", transport=httpx.MockTransport(handler),
                           retry=RetryPolicy(attempts=100, backoff=0.1, max_backoff=0.1, deadline=1.0))
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
