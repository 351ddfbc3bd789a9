"""The statuses of answers that did not come from the gateway's own checks: Mailgun's errors (502),
its rate limit (429), no answer (504) and shared state that does not answer (503)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from reliability.conftest import serve_sandbox
from reliability.support import FAST_RETRY, SEND
from starlette.testclient import TestClient

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import http_app
from mg_tools.settings import Settings

DOMAIN = {"domain": "mg.example.com"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[TestClient, object]]:
    """The gateway of a toolkit calling a sandbox on loopback, which faults can be injected into."""
    with serve_sandbox() as live:
        toolkit = Toolkit(api_key=live.api_key, base_url=live.url, retry=FAST_RETRY, timeout=0.5)
        with TestClient(http_app(toolkit, extra_hosts=["testserver"])) as client:
            yield client, live
        toolkit.close()


@pytest.fixture
def gateway(upstream):
    client, live = upstream
    live.reset()
    yield client, live
    live.reset()


def test_a_mailgun_error_is_502_with_its_status_and_message(gateway):
    client, _ = gateway
    answer = client.post("/api/tools/get_domain", json={"domain": "missing.example.com"})
    assert answer.status_code == 502
    body = answer.json()
    assert body["status"] == 404 and body["error"] == "not_found" and "Domain not found" in body["message"]


def test_a_server_error_of_mailgun_is_502(gateway):
    client, live = gateway
    live.fault(method="POST", path="/messages$", status=500, message="boom", times=5)
    answer = client.post("/api/tools/send_message", json=SEND)
    assert answer.status_code == 502 and answer.json()["status"] == 500 and "boom" in answer.json()["message"]


def test_the_rate_limit_is_429_with_retry_after(gateway):
    client, live = gateway
    live.fault(method="GET", path="/domains/", status=429, retry_after=7, message="slow down", times=10)
    answer = client.post("/api/tools/get_domain", json=DOMAIN)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "7"
    assert answer.json()["error"] == "rate_limited" and answer.json()["retry_after"] == 7


def test_no_answer_is_504(gateway):
    client, live = gateway
    live.fault(method="POST", path="/messages$", delay=2, times=1)
    answer = client.post("/api/tools/send_message", json=SEND)
    assert answer.status_code == 504
    assert answer.json()["error"] == "transport_error" and answer.json()["maybe_sent"] is True


def test_shared_state_that_does_not_answer_is_503(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(redis_url=f"redis://127.0.0.1:{port}/0", state_dir=tmp_path)
    toolkit = Toolkit(sandbox=True, settings=settings, policy=Policy.build(confirm="domains:delete"))
    with toolkit, TestClient(http_app(toolkit, extra_hosts=["testserver"])) as client:
        answer = client.post("/api/tools/delete_domain", json=DOMAIN)
    assert answer.status_code == 503 and answer.json()["error"] == "state_unavailable", answer.text
