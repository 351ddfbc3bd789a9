"""Shared fixtures for the sandbox's own tests: an authenticated client on a fresh app, the app's
:class:`~mg_tools.sandbox.core.Sandbox`, and a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from mg_tools.sandbox import DEFAULT_API_KEY, DEFAULT_DOMAIN, create_app
from mg_tools.sandbox.core import Sandbox


class Clock:
    """A sandbox clock that stands still until the test sets or advances ``now``."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _connect(app: ASGIApp) -> TestClient:
    client = TestClient(app, base_url="https://api.mailgun.net")
    client.auth = ("api", DEFAULT_API_KEY)
    return client


@pytest.fixture
def connect() -> Callable[[ASGIApp], TestClient]:
    """Open a client on a given app with the sandbox's API key, under Mailgun's production URL:
    ``with connect(create_app(state_path=path)) as client: ...`` (e.g. to test restarts)."""
    return _connect


@pytest.fixture
def client(connect):
    """A client (see ``connect``) on a fresh in-memory sandbox."""
    with connect(create_app()) as c:
        yield c


@pytest.fixture
def sb(client) -> Sandbox:
    """The sandbox behind ``client``: its state, keys and clock."""
    return client.app.state.sandbox


@pytest.fixture
def clock(sb) -> Clock:
    """A :class:`Clock` installed as the sandbox's clock."""
    sb.clock = Clock()
    return sb.clock


@pytest.fixture
def send_at(client, clock) -> Callable[..., None]:
    """Send a short message from ``ann@<domain>`` with the sandbox clock set to ``at``; form fields
    given as keywords replace the defaults."""

    def send(at: float, domain: str = DEFAULT_DOMAIN, **fields: Any) -> None:
        clock.now = at
        form = {"from": f"ann@{domain}", "to": "bob@gmail.com", "subject": "Hi", "text": "Hi"}
        form.update(fields)
        response = client.post(f"/v3/{domain}/messages", data=form)
        assert response.status_code == 200, response.text

    return send
