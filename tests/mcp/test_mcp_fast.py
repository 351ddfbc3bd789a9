"""The direct path through the HTTP transport answers every request exactly as the SDK's transport does:
the same raw requests go to the app with it and without it, and status, headers and bodies must match."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from reliability.support import SEND
from starlette.testclient import TestClient

from mg_tools import Toolkit
from mg_tools.mcp_fast import FastPath
from mg_tools.mcp_server import http_app
from mg_tools.settings import Settings
from mg_tools.usage import MemoryUsage

TOKENS = {"ops": "tok-ops-" + "o" * 16, "helpdesk": "tok-helpdesk-" + "h" * 16, "auditor": "tok-auditor-" + "a" * 16}
POLICY = (
    'permit (principal, action in Action::"read", resource);\n'
    'permit (principal, action == Action::"delete_bounce", resource);\n'
    '@id("approve")\n@confirm("a person approves each send")\n'
    'permit (principal, action == Action::"send_message", resource);\n'
)
IDENTITIES = "\n".join(
    f'[identities.{name}]\ntoken_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n{extra}\n'
    for (name, token), extra in zip(
        TOKENS.items(), ("", 'grants = "suppressions:*,send_message"', "read_only = true"), strict=True
    )
)
BASE = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
LEGACY = {**BASE, "MCP-Protocol-Version": "2025-11-25"}
HEADERS_COMPARED = ("content-type", "content-length", "mcp-session-id", "allow", "www-authenticate")


def rpc(method: str, params: dict | None = None, request_id: int | str = 7) -> dict:
    message: dict = {"jsonrpc": "2.0", "id": request_id, "method": method}
    return message if params is None else {**message, "params": params}


def call(name: str, arguments: dict | None = None, request_id: int | str = 7) -> dict:
    return rpc("tools/call", {"name": name, "arguments": arguments or {}}, request_id)


#: (name, token, headers, body): bodies that are not JSON-RPC objects are sent as given.
CASES = [
    ("ping", "ops", LEGACY, rpc("ping")),
    ("ping without a version header", "ops", BASE, rpc("ping", request_id="a-string-id")),
    ("ping at 2025-06-18", "ops", {**BASE, "MCP-Protocol-Version": "2025-06-18"}, rpc("ping", {})),
    ("valid call", "ops", LEGACY, call("get_domain", {"domain": "mg.example.com"})),
    ("call with null arguments", "ops", LEGACY, rpc("tools/call", {"name": "list_domains"})),
    ("error from Mailgun", "ops", LEGACY, call("get_domain", {"domain": "nope.example.com"})),
    ("invalid arguments", "ops", LEGACY, call("get_domain", {"domain": 5})),
    ("missing arguments", "ops", LEGACY, call("get_domain", {})),
    ("unknown tool", "ops", LEGACY, call("get_domian", {"domain": "mg.example.com"})),
    ("tools/call without a name", "ops", LEGACY, rpc("tools/call", {"arguments": {}})),
    ("tools/call without params", "ops", LEGACY, rpc("tools/call")),
    ("denied by the rules", "ops", LEGACY, call("delete_domain", {"domain": "mg.example.com"})),
    ("denied by the identity's grants", "helpdesk", LEGACY, call("get_domain", {"domain": "mg.example.com"})),
    ("denied as read-only", "auditor", LEGACY, call("delete_bounce", {"domain": "mg.example.com", "address": "a@b.c"})),
    ("confirmation required", "ops", LEGACY, call("send_message", SEND)),
    ("forged confirmation", "ops", LEGACY, call("send_message", {**SEND, "confirm_token": "forged"})),
    ("read_result of nothing", "ops", LEGACY, call("read_result", {"result_id": "r-none"})),
    ("tools/list, ops", "ops", LEGACY, rpc("tools/list")),
    ("tools/list, helpdesk", "helpdesk", LEGACY, rpc("tools/list", {})),
    ("tools/list, auditor", "auditor", LEGACY, rpc("tools/list")),
    ("tools/list with a bad cursor type", "ops", LEGACY, rpc("tools/list", {"cursor": 5})),
    (
        "progress token",
        "ops",
        LEGACY,
        call("list_domains") | {"params": {"name": "list_domains", "_meta": {"progressToken": 1}}},
    ),
    ("prompts/list", "ops", LEGACY, rpc("prompts/list")),
    ("unknown method", "ops", LEGACY, rpc("resources/list")),
    (
        "initialize",
        "ops",
        BASE,
        rpc(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        ),
    ),
    ("notification", "ops", LEGACY, {"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ("batch", "ops", LEGACY, [rpc("ping", request_id=1), rpc("ping", request_id=2)]),
    ("response", "ops", LEGACY, {"jsonrpc": "2.0", "id": 3, "result": {}}),
    ("bad JSON", "ops", LEGACY, b'{"jsonrpc": "2.0", "id": 1, "method": "ping"'),
    ("not JSON-RPC", "ops", LEGACY, {"id": 1, "method": "ping"}),
    ("wrong protocol version", "ops", {**BASE, "MCP-Protocol-Version": "1999-01-01"}, rpc("ping")),
    ("modern version, no envelope", "ops", {**BASE, "MCP-Protocol-Version": "2026-07-28"}, rpc("ping")),
    ("missing Accept", "ops", {"Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25"}, rpc("ping")),
    ("Accept: text/event-stream only", "ops", {**LEGACY, "Accept": "text/event-stream"}, rpc("ping")),
    ("Accept: */*", "ops", {**LEGACY, "Accept": "*/*"}, rpc("ping")),
    ("wrong Content-Type", "ops", {**LEGACY, "Content-Type": "text/plain"}, rpc("ping")),
    ("Content-Type with charset", "ops", {**LEGACY, "Content-Type": "application/json; charset=utf-8"}, rpc("ping")),
    ("Content-Type upper case", "ops", {**LEGACY, "Content-Type": "Application/JSON"}, rpc("ping")),
    ("foreign Host", "ops", {**LEGACY, "Host": "evil.example"}, rpc("ping")),
    ("foreign Origin", "ops", {**LEGACY, "Origin": "http://evil.example"}, rpc("ping")),
    ("no token", None, LEGACY, rpc("ping")),
    ("unknown token", "nobody", LEGACY, rpc("ping")),
]


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """One toolkit (sandbox, Cedar rules, identities, audit), served with the direct path and without."""
    tmp = tmp_path_factory.mktemp("fast")
    (tmp / "policy.cedar").write_text(POLICY)
    (tmp / "identities.toml").write_text(IDENTITIES)
    settings = Settings(identities=tmp / "identities.toml", audit=str(tmp / "audit.jsonl"))
    toolkit = Toolkit(sandbox=True, settings=settings, policy_file=tmp / "policy.cedar", usage=MemoryUsage())
    with (
        TestClient(http_app(toolkit, extra_hosts=["testserver"])) as fast,
        TestClient(http_app(toolkit, extra_hosts=["testserver"], fast_path=False)) as slow,
    ):
        yield fast, slow, tmp / "audit.jsonl"
    toolkit.close()


def _send(client: TestClient, token: str | None, headers: dict, body) -> tuple[int, dict, object]:
    headers = {**headers, **({"Authorization": f"Bearer {TOKENS.get(token, token)}"} if token else {})}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/mcp", content=content, headers=headers)
    kept = {k: response.headers.get(k) for k in HEADERS_COMPARED}
    text = re.sub(r'(confirm_token\\?": \\?")[^"\\]+', r"\1TOKEN", response.text)
    try:
        return response.status_code, kept, json.loads(text)
    except ValueError:
        return response.status_code, kept, text


@pytest.mark.parametrize(("name", "token", "headers", "body"), CASES, ids=[c[0] for c in CASES])
def test_the_direct_path_answers_as_the_sdk_transport(apps, name, token, headers, body):
    fast, slow, _ = apps
    direct, through_sdk = _send(fast, token, headers, body), _send(slow, token, headers, body)
    if name == "confirmation required":  # the token differs per call, its length does not
        direct[1].pop("content-length"), through_sdk[1].pop("content-length")
    assert direct == through_sdk


def test_the_direct_path_is_taken(apps, monkeypatch):
    """The comparison above compares two paths: a qualifying request never reaches the SDK's transport."""
    fast, _, _ = apps

    async def refuse(*args):
        raise AssertionError("reached the SDK's transport")

    app = fast.app.app
    while not isinstance(app, FastPath):
        app = app.app
    monkeypatch.setattr(app, "app", refuse)
    status, _, body = _send(fast, "ops", LEGACY, call("get_domain", {"domain": "mg.example.com"}))
    assert status == 200 and body["result"]["structuredContent"]["result"]["domain"]["name"] == "mg.example.com"
    assert _send(fast, "ops", LEGACY, rpc("ping"))[2] == {"jsonrpc": "2.0", "id": 7, "result": {}}


def test_audit_records_the_same_on_both_paths(apps):
    fast, slow, trail = apps
    before = len(trail.read_text().splitlines()) if trail.exists() else 0
    for client in (fast, slow):
        _send(client, "ops", LEGACY, call("get_domain", {"domain": "mg.example.com"}))
        _send(client, "helpdesk", LEGACY, call("get_domain", {"domain": "mg.example.com"}))
    records = [json.loads(line) for line in trail.read_text().splitlines()[before:]]
    shape = [(r["identity"], r["tool"], r["decision"]["result"], r["outcome"]["status"]) for r in records]
    assert shape[:2] == shape[2:] and [s[0] for s in shape[:2]] == ["ops", "helpdesk"]


def test_a_body_over_the_cap_is_refused_before_it_is_read(apps):
    fast, slow, _ = apps
    huge = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    assert _send(fast, "ops", LEGACY, huge) == _send(slow, "ops", LEGACY, huge)
    assert _send(fast, "ops", LEGACY, huge)[0] == 413
