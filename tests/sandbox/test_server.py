"""The standalone sandbox refuses to listen beyond loopback with the publicly documented API key."""

from __future__ import annotations

import socket

import httpx
import pytest

from mg_tools.cli import main
from mg_tools.errors import ConfigurationError
from mg_tools.sandbox import DEFAULT_API_KEY, server

EXPOSED = ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "2001:db8::1", "example.com", "::ffff:10.0.0.1"]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]


@pytest.fixture
def binds(monkeypatch) -> list[tuple[str, int]]:
    """Every address the sandbox tries to bind; nothing is actually bound."""
    calls: list[tuple[str, int]] = []

    def refuse(host: str, port: int):
        calls.append((host, port))
        raise OSError("binding is not allowed in this test")

    monkeypatch.setattr(server, "_bind", refuse)
    return calls


@pytest.mark.parametrize("host", EXPOSED)
def test_serve_refuses_an_exposed_address_with_the_default_key(host, binds):
    with pytest.raises(ConfigurationError) as raised:
        server.serve(host=host, port=0)
    message = raised.value.message
    assert "--api-key" in message and "127.0.0.1" in message and "\n" not in message
    assert binds == []


@pytest.mark.parametrize("host", EXPOSED)
def test_background_sandbox_refuses_an_exposed_address_with_the_default_key(host, binds):
    with pytest.raises(ConfigurationError):
        server.BackgroundSandbox(host=host)
    assert binds == []


def test_serve_with_an_own_key_may_bind_beyond_loopback(binds):
    with pytest.raises(OSError, match="not allowed in this test"):
        server.serve(host="0.0.0.0", port=0, api_key="a-key-of-my-own")
    assert binds == [("0.0.0.0", 0)]


@pytest.mark.parametrize("host", LOOPBACK)
def test_serve_binds_loopback_with_the_default_key(host, binds):
    with pytest.raises(OSError, match="not allowed in this test"):
        server.serve(host=host, port=0, api_key=DEFAULT_API_KEY)
    assert binds == [(host, 0)]


def test_cli_refuses_with_one_line_and_exit_code_2(binds, capsys):
    code = main(["sandbox", "--host", "0.0.0.0", "--port", "0"])
    captured = capsys.readouterr()
    assert code == 2
    assert binds == []
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mg-tools: refusing to serve the sandbox on 0.0.0.0")
    assert "--api-key" in lines[0]


@pytest.mark.parametrize(("host", "expected"), [*((h, False) for h in EXPOSED), *((h, True) for h in LOOPBACK)])
def test_is_loopback_host(host, expected):
    from mg_tools.sandbox.core import is_loopback_host

    assert is_loopback_host(host) is expected


def test_serve_in_background_serves_any_app_and_frees_its_port():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})

    with server.serve_in_background(app, log_level="critical") as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url).text == "served"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def _server_sockets(sandbox: server.BackgroundSandbox) -> list:
    connections = sandbox._server._server.server_state.connections
    return [protocol.transport.get_extra_info("socket") for protocol in connections]


def test_accepted_connections_send_without_delay():
    # Without TCP_NODELAY, an answer written in two parts waits for the client's delayed ACK (~40 ms)
    # on every keep-alive request.
    with server.BackgroundSandbox(log_level="critical") as sandbox, httpx.Client(base_url=sandbox.url) as client:
        assert client.get("/_sandbox/health").json()["sandbox"] is True
        sockets = _server_sockets(sandbox)
        assert sockets
        assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in sockets)
