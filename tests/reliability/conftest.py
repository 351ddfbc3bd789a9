"""Fixtures of the reliability suite: a real sandbox server on loopback, and log capture."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mg_tools import Toolkit, log
from mg_tools.sandbox import DEFAULT_API_KEY, create_app
from mg_tools.sandbox.server import serve_in_background

from .support import FAST_RETRY, REGISTRY


@dataclass
class LiveSandbox:
    """A sandbox served by uvicorn on ``127.0.0.1:<free port>`` in a background thread."""

    url: str
    api_key: str
    app: Any
    http: httpx.Client

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.http.request(method, path, **kw)
        response.raise_for_status()
        return response

    def reset(self) -> None:
        self.admin("POST", "/_sandbox/reset")

    def fault(self, **rule: Any) -> None:
        """Add a fault rule: ``method``, ``path`` (regex), ``status``, ``retry_after``, ``delay``,
        ``drop`` ("before"|"after"), ``times``, ``message``."""
        self.admin("POST", "/_sandbox/faults", json=rule)

    def faults(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/_sandbox/faults").json()["items"]

    def message_count(self) -> int:
        return self.admin("GET", "/_sandbox/messages").json()["total_count"]

    def toolkit(self, **kw: Any) -> Toolkit:
        kw.setdefault("retry", FAST_RETRY)
        kw.setdefault("timeout", 2.0)
        return Toolkit(api_key=self.api_key, base_url=self.url, registry=REGISTRY, **kw)


@contextlib.contextmanager
def serve_sandbox(api_key: str = DEFAULT_API_KEY) -> Iterator[LiveSandbox]:
    """Run a fresh sandbox on a free loopback port for the duration of the block."""
    app = create_app(api_key=api_key)
    with (
        serve_in_background(
            app, name="loopback sandbox", log_level="critical", access_log=False, timeout_graceful_shutdown=1
        ) as url,
        httpx.Client(base_url=url, auth=("api", api_key), timeout=5) as http,
    ):
        yield LiveSandbox(url=url, api_key=api_key, app=app, http=http)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveSandbox]:
    with serve_sandbox() as live:
        yield live


@pytest.fixture
def live(live_server: LiveSandbox) -> Iterator[LiveSandbox]:
    """The loopback sandbox, reset (state and faults) before and after the test."""
    live_server.reset()
    yield live_server
    live_server.reset()


def configure_logs(level: str | None = None, stream: Any = None) -> None:
    """Point the logs at ``stream`` (default: the real stderr, which outlives every capture)."""
    with contextlib.redirect_stderr(stream or sys.__stderr__):
        log.configure(level)


@pytest.fixture
def debug_logs():
    """Debug-level logs as they are written to stderr; call the fixture's value to read them."""
    buffer = io.StringIO()
    configure_logs("debug", buffer)
    yield buffer.getvalue
    configure_logs()
