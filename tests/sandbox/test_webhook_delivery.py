"""Webhooks fired by the message pipeline: signed JSON posts to loopback URLs only, each attempt
recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mg_tools.sandbox import DEFAULT_SIGNING_KEY
from mg_tools.sandbox.webhook_dispatch import is_loopback_url

# Every test runs on a stopped sandbox clock.
pytestmark = pytest.mark.usefixtures("clock")
DOMAIN = "mg.example.com"


class Receiver:
    """A loopback HTTP server that records every POST and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _hook(sb, event_id, *urls):
    sb.state.put("webhook", f"{DOMAIN}/{event_id}", {"urls": list(urls)})


def _send(client, **fields):
    form = {"from": "ann@mg.example.com", "to": "bob@example.com", "subject": "Hi", "text": "Hi"}
    form.update(fields)
    response = client.post(f"/v3/{DOMAIN}/messages", data=form)
    assert response.status_code == 200, response.text


def test_delivered_and_failed_events_are_posted_signed(client, sb, clock, receiver):
    sb.state.put("bounce", f"{DOMAIN}/bad@example.com", {"address": "bad@example.com"})
    _hook(sb, "delivered", f"{receiver.url}/delivered")
    _hook(sb, "permanent_fail", f"{receiver.url}/failed", f"{receiver.url}/failed-too")
    _send(client, to=["bob@example.com", "bad@example.com"], **{"v:order": "7"})
    assert [path for path, _ in receiver.requests] == ["/delivered", "/failed", "/failed-too"]
    stored = {e["id"]: e for e in sb.state.list("event", f"{DOMAIN}/")}
    for _path, payload in receiver.requests:
        signature = payload["signature"]
        assert len(signature["token"]) == 50
        assert signature["timestamp"] == str(int(clock.now))
        expected = hmac.new(
            DEFAULT_SIGNING_KEY.encode(), (signature["timestamp"] + signature["token"]).encode(), hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(signature["signature"], expected)
        assert payload["event-data"] == stored[payload["event-data"]["id"]]
    assert receiver.requests[0][1]["event-data"]["event"] == "delivered"
    assert receiver.requests[0][1]["event-data"]["user-variables"] == {"order": "7"}
    assert receiver.requests[1][1]["event-data"]["reason"] == "suppress-bounce"
    records = client.get("/_sandbox/webhook-deliveries").json()["items"]
    assert [(r["webhook"], r["status"], r["skipped"]) for r in records] == [
        ("delivered", 200, False),
        ("permanent_fail", 200, False),
        ("permanent_fail", 200, False),
    ]


def test_accepted_webhook_and_non_200_answers_are_recorded(client, sb, receiver):
    receiver.status = 500
    _hook(sb, "accepted", f"{receiver.url}/accepted")
    _send(client)
    assert [p["event-data"]["event"] for _, p in receiver.requests] == ["accepted"]
    assert sb.webhook_deliveries[-1]["status"] == 500


def test_other_hosts_are_never_contacted(client, sb, receiver):
    _hook(sb, "delivered", "https://hooks.example.com/mailgun", f"{receiver.url}/ok")
    _send(client)
    skipped, posted = sb.webhook_deliveries
    assert skipped["url"] == "https://hooks.example.com/mailgun"
    assert skipped["skipped"] is True and skipped["status"] is None and "loopback" in skipped["error"]
    assert posted["status"] == 200 and [path for path, _ in receiver.requests] == ["/ok"]


def test_unreachable_loopback_url_is_recorded_and_the_send_succeeds(client, sb):
    with Receiver() as gone:
        url = gone.url  # a port nothing listens on once the receiver is closed
    _hook(sb, "delivered", f"{url}/hook")
    _send(client)
    [record] = sb.webhook_deliveries
    assert record["status"] is None and record["error"] and record["skipped"] is False


def test_scheduled_delivery_fires_the_webhook_when_due(client, sb, clock, receiver):
    _hook(sb, "delivered", f"{receiver.url}/late")
    due = clock.now + 600
    _send(client, **{"o:deliverytime": format_datetime(datetime.fromtimestamp(due, tz=UTC))})
    assert receiver.requests == []
    clock.now = due + 1
    client.get("/v4/domains")
    [(_path, payload)] = receiver.requests
    assert payload["event-data"]["event"] == "delivered" and payload["event-data"]["timestamp"] == due


def test_no_webhook_configured_means_no_record(client, sb):
    _send(client)
    assert sb.webhook_deliveries == []


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:8000/hook", True),
        ("http://127.0.0.1/hook", True),
        ("https://127.8.9.10:9/x", True),
        ("http://[::1]:8080/", True),
        ("http://10.0.0.1/hook", False),
        ("https://hooks.example.com/", False),
        ("http://127.0.0.1@evil.example.com/", False),
        ("http://localhost.evil.example.com/", False),
        ("ftp://127.0.0.1/", False),
        ("not a url", False),
    ],
)
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback
