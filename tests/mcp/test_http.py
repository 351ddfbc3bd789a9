"""The streamable HTTP transport: MCP at /mcp, /healthz, bearer token, Host/Origin checks, body cap."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_support import ROOT, wire
from starlette.testclient import TestClient

from mg_tools import Toolkit
from mg_tools.cli import main
from mg_tools.errors import ConfigurationError
from mg_tools.mcp_server import MAX_BODY, allowed_hosts, http_app

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def _client(server, protocol: str, **headers: str) -> Client:
    http = create_mcp_http_client(headers=server.headers(**headers))
    return Client(streamable_http_client(server.mcp, http_client=http), mode=protocol)


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_mcp_over_http(http_server, protocol):
    async with _client(http_server, protocol) as client:
        names = {t["name"] for t in wire(await client.list_tools())}
        result = await client.call_tool("get_domain", {"domain": "mg.example.com"})
        error = await client.call_tool("get_domain", {"domain": "nope.example.com"})
        assert client.protocol_version == ("2025-11-25" if protocol == "legacy" else "2026-07-28")
    assert {"get_domain", "send_message", "read_result"} <= names
    assert result.structured_content["result"]["domain"]["name"] == "mg.example.com"
    assert error.is_error and "Mailgun 404" in error.content[0].text


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_discover_over_http_without_token(open_http_server, protocol):
    http = create_mcp_http_client(headers={"Origin": "http://localhost:6274"})  # a local inspector's page
    async with Client(streamable_http_client(open_http_server.mcp, http_client=http), mode=protocol) as client:
        names = {t["name"] for t in wire(await client.list_tools())}
        called = await client.call_tool("call_operation", {"name": "list_domains", "arguments": {"limit": 1}})
    assert names == {"search_operations", "describe_operation", "call_operation", "read_result"}
    assert called.structured_content["result"]["total_count"] >= 1


def test_health_needs_no_token(http_server):
    response = httpx.get(f"{http_server.url}/healthz")
    assert response.status_code == 200
    operations = len(http_server.toolkit.operations())
    assert response.json() == {
        "status": "ok",
        "mode": "all",
        "operations": operations,
        "tools": operations + 1,
        "sandbox": True,
    }


def test_health_counts_operations_and_tools_in_discover_mode(open_http_server):
    health = httpx.get(f"{open_http_server.url}/healthz").json()
    assert health["operations"] == len(open_http_server.toolkit.operations()) > 4
    assert health["tools"] == 4


#: Short: a server that holds the request open fails the test at once instead of hanging it.
QUICK = httpx.Timeout(3.0)


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH", "HEAD"])
@pytest.mark.parametrize("version", [None, "2025-11-25", "2026-07-28"])
def test_only_post_is_served_at_mcp(open_http_server, method, version):
    """Stateless: no event stream to open with GET, no session to end with DELETE."""
    headers = {"Accept": "text/event-stream, application/json"}
    if version:
        headers["MCP-Protocol-Version"] = version
    response = httpx.request(method, open_http_server.mcp, headers=headers, timeout=QUICK)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    if method != "HEAD":
        error = response.json()["error"]
        assert error["code"] == -32600 and "POST" in error["message"] and method in error["message"]


def test_405_still_needs_the_token(http_server):
    assert httpx.get(http_server.mcp, timeout=QUICK).status_code == 401
    response = httpx.get(http_server.mcp, headers=http_server.headers(Accept="text/event-stream"), timeout=QUICK)
    assert response.status_code == 405


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic abc", "bearer {token}", "Bearer {token}x", "{token}"]
)
def test_requests_without_the_token_get_401(http_server, authorization):
    headers = dict(MCP_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=http_server.token)
    response = httpx.post(http_server.mcp, json=LIST, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert http_server.token not in response.text
    assert httpx.get(f"{http_server.url}/anything", headers=headers).status_code == 401


def test_the_token_opens_mcp(http_server):
    response = httpx.post(http_server.mcp, json=LIST, headers=http_server.headers(**MCP_HEADERS))
    assert response.status_code == 200
    assert any(t["name"] == "get_domain" for t in response.json()["result"]["tools"])


@pytest.mark.parametrize("version", [None, "2025-11-25", "2026-07-28"])
def test_foreign_origin_is_rejected(http_server, version):
    headers = http_server.headers(**MCP_HEADERS, Origin="https://evil.example")
    if version:
        headers["MCP-Protocol-Version"] = version
    assert httpx.post(http_server.mcp, json=LIST, headers=headers).status_code == 403
    local = http_server.headers(**MCP_HEADERS, Origin="http://127.0.0.1:3000")
    assert httpx.post(http_server.mcp, json=LIST, headers=local).status_code == 200


def test_foreign_host_is_rejected(http_server):
    headers = http_server.headers(**MCP_HEADERS, Host="evil.example")
    assert httpx.post(http_server.mcp, json=LIST, headers=headers).status_code == 421


def test_oversize_bodies_get_413(http_server):
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "' + b"x" * MAX_BODY + b'"}}'
    response = httpx.post(http_server.mcp, content=body, headers=http_server.headers(**MCP_HEADERS))
    assert response.status_code == 413


def test_non_loopback_needs_a_token(tmp_path):
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path])
    with pytest.raises(ConfigurationError, match="MG_TOOLS_HTTP_TOKEN"):
        http_app(toolkit, host="0.0.0.0")
    with pytest.raises(ConfigurationError):
        http_app(toolkit, host="192.168.1.20")
    http_app(toolkit, host="localhost")
    http_app(toolkit, host="0.0.0.0", token="a-long-enough-token")


def test_allowed_hosts_follow_the_bind_address():
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"]
    assert {"10.1.2.3", "10.1.2.3:*"} <= set(allowed_hosts("10.1.2.3"))
    assert "[fd00::1]:*" in allowed_hosts("fd00::1")
    wildcard = set(allowed_hosts("0.0.0.0", ["mcp.internal"]))
    assert {socket.gethostname(), "mcp.internal", "mcp.internal:*", "localhost:*"} <= wildcard


def test_a_star_turns_host_and_origin_checks_off(tmp_path):
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path])
    foreign = {**MCP_HEADERS, "Authorization": "Bearer a-long-enough-token", "Origin": "https://elsewhere.example"}
    checked = http_app(toolkit, host="0.0.0.0", token="a-long-enough-token", extra_hosts=["proxy.example"])
    with TestClient(checked, base_url="http://elsewhere.example") as client:
        assert client.post("/mcp", json=LIST, headers=foreign).status_code == 421
        assert client.post("/mcp", json=LIST, headers={**foreign, "Host": "proxy.example"}).status_code == 403
        proxied = {**foreign, "Host": "proxy.example", "Origin": "https://proxy.example"}
        assert client.post("/mcp", json=LIST, headers=proxied).status_code == 200
    unchecked = http_app(toolkit, host="0.0.0.0", token="a-long-enough-token", extra_hosts=["*"])
    with TestClient(unchecked, base_url="http://elsewhere.example") as client:
        assert client.post("/mcp", json=LIST, headers=foreign).status_code == 200
        assert client.post("/mcp", json=LIST, headers=MCP_HEADERS).status_code == 401


def test_the_token_is_redacted_from_logs(tmp_path):
    token = "tok-" + secrets.token_hex(16)
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path])
    http_app(toolkit, token=token)
    assert token not in toolkit.redactor.redact_text(f"Authorization: {token}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_command_over_http(tmp_path):
    """`python server.py --transport http` end to end: the CLI wiring, the token, and a quiet stdout."""
    token, port = "tok-" + secrets.token_hex(16), _free_port()
    env = {**os.environ, "MG_TOOLS_HTTP_TOKEN": token, "MG_TOOLS_LOG_LEVEL": "info"}
    proc = subprocess.Popen(
        [sys.executable, "server.py", "--transport", "http", "--port", str(port), "--sandbox", "--mode", "discover"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz")
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        assert httpx.post(f"{base}/mcp", json=LIST, headers=MCP_HEADERS).status_code == 401
        ok = httpx.post(f"{base}/mcp", json=LIST, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"})
        assert {t["name"] for t in ok.json()["result"]["tools"]} >= {"search_operations", "call_operation"}
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert out == ""
    assert "no real mail is sent" in err and f"{base}/mcp" in err and "bearer token required" in err
    assert token not in err
    # The start-up line and /healthz give the same two numbers.
    counts = health.json()
    assert f"serving {counts['operations']} operations through {counts['tools']} tools (mode discover)" in err


def test_serve_refuses_a_public_address_without_token(monkeypatch, capsys):
    monkeypatch.delenv("MG_TOOLS_HTTP_TOKEN", raising=False)
    assert main(["serve", "--transport", "http", "--host", "0.0.0.0", "--sandbox"]) == 2
    out = capsys.readouterr()
    assert "refusing to serve HTTP on 0.0.0.0 without a token: set MG_TOOLS_HTTP_TOKEN" in out.err
    assert out.out == ""
