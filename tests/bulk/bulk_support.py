"""Helpers of the bulk-send tests: recipients, sandbox fault rules, and the copies each recipient got."""

from __future__ import annotations

from collections import Counter

from starlette.testclient import TestClient

from mg_tools.sandbox import DEFAULT_API_KEY

DOMAIN = "mg.example.com"
MESSAGE = {"domain": DOMAIN, "sender": f"news@{DOMAIN}", "subject": "Hi %recipient.name%", "text": "Hello"}


def people(count: int, start: int = 0) -> list[dict]:
    return [{"address": f"r{i}@example.com", "variables": {"name": f"R{i}"}} for i in range(start, start + count)]


def add_fault(app, **rule) -> None:
    """Post a fault rule to the sandbox ``app`` (``/_sandbox/faults``)."""
    with TestClient(app, base_url="https://api.mailgun.net") as client:
        client.auth = ("api", DEFAULT_API_KEY)
        assert client.post("/_sandbox/faults", json=rule).status_code == 200


def copies(app) -> Counter:
    """How many copies each recipient was sent: the sandbox's accepted events."""
    events = app.sb.state.list("event", f"{DOMAIN}/")
    return Counter(e["recipient"] for e in events if e["event"] == "accepted")
