"""Fixtures of the webhook listener tests: signed posts, a listener served on a loopback port, and a
loopback HTTP target recording what it is sent."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mg_tools.sandbox.server import serve_in_background
from mg_tools.triggers import DeadLetters, Listener, StdoutSink, Tokens, listener_app

KEY = "test-signing-key"


def signature(timestamp: str, token: str, key: str = KEY) -> dict[str, str]:
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def json_post(event: dict[str, Any], *, key: str = KEY, timestamp: float | None = None) -> dict[str, Any]:
    """A JSON webhook post of ``event``, signed now (or at ``timestamp``) with a fresh token."""
    stamp = str(int(time.time() if timestamp is None else timestamp))
    return {"signature": signature(stamp, secrets.token_hex(25), key), "event-data": event}


class Target:
    """A loopback HTTP server recording each POSTed JSON body and answering ``statuses`` in turn (then 200)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                target.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(target.statuses.pop(0) if target.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def __enter__(self) -> Target:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    with Target() as t:
        yield t


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def dead_file(tmp_path: Path) -> Path:
    return tmp_path / "dead.jsonl"


@pytest.fixture
def make_listener(out, dead_file):
    """Builds a listener (stdout sink on ``out``, dead letters in ``dead_file``, memory tokens) with overrides."""

    def make(**overrides: Any) -> Listener:
        fields = {
            "signing_key": KEY,
            "sink": StdoutSink(out),
            "dead_letters": DeadLetters(dead_file),
            "tokens": Tokens(),
        }
        return Listener(**{**fields, **overrides})

    return make


@pytest.fixture
def serve():
    """Serves a listener on a loopback port for the test; returns its base URL."""
    servers = []

    def start(listener: Listener) -> str:
        server = serve_in_background(listener_app(listener), name="listener", log_level="critical", lifespan="on")
        servers.append(server)
        return server.__enter__()

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def http():
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        yield client
