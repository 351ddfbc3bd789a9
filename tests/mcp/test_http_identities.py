"""Identities over HTTP: each bearer token runs as its identity, sees only its own tools and calls
only those; an unknown token is refused."""

from __future__ import annotations

import hashlib

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_support import error_of, payload, run_http

from mg_tools import Policy, Toolkit
from mg_tools.audit_view import read
from mg_tools.errors import ConfigurationError
from mg_tools.identities import Identities
from mg_tools.mcp_server import http_app, http_identities
from mg_tools.operation import Access
from mg_tools.settings import Settings

TOKENS = {"helpdesk": "tok-helpdesk-" + "h" * 16, "auditor": "tok-auditor-" + "a" * 16}
SINGLE = "tok-single-" + "s" * 16
#: A subaccount id the sandbox does not know (where no request reaches it).
SUBACCOUNT = "646d00a1b32c35364a2ad34f"


def identities_file(tmp_path, subaccount: str = SUBACCOUNT):
    path = tmp_path / "identities.toml"
    path.write_text(
        f"""[identities.helpdesk]
token_sha256 = "{hashlib.sha256(TOKENS["helpdesk"].encode()).hexdigest()}"
grants = "suppressions:*,send_message"

[identities.auditor]
token_sha256 = "{hashlib.sha256(TOKENS["auditor"].encode()).hexdigest()}"
read_only = true
subaccount = "{subaccount}"
"""
    )
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An HTTP server with the identities file and the single token, on a sandbox, with an audit trail."""
    tmp = tmp_path_factory.mktemp("identities")
    settings = Settings(identities=tmp / "identities.toml", http_token=SINGLE, audit=str(tmp / "audit.jsonl"))
    toolkit = Toolkit(sandbox=True, settings=settings, file_roots=[tmp], policy=Policy.build(grants="*:*,subaccounts"))
    # The auditor acts for a subaccount of its own, which owns no domain.
    identities_file(tmp, toolkit.call("create_subaccount", name="Auditors")["subaccount"]["id"])
    with run_http(http_app(toolkit)) as url:
        yield url, toolkit, tmp / "audit.jsonl"
    toolkit.close()


def client(url: str, token: str, mode: str = "auto") -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode)


async def names(url: str, token: str) -> set[str]:
    async with client(url, token) as c:
        return {t.name for t in (await c.list_tools()).tools}


@pytest.mark.anyio
async def test_each_token_lists_only_its_own_tools(served):
    url, toolkit, _ = served
    helpdesk, auditor, single = [await names(url, t) for t in (*TOKENS.values(), SINGLE)]
    suppressions = {op.name for op in toolkit.operations() if op.area == "suppressions"}
    reads = {op.name for op in toolkit.operations() if op.access is Access.READ}
    assert helpdesk == suppressions | {"send_message", "read_result"}
    assert auditor == reads | {"read_result"}
    assert single == {op.name for op in toolkit.operations()} | {"read_result"}


@pytest.mark.anyio
async def test_each_token_calls_only_its_own_tools_as_its_identity(served):
    url, _, trail = served
    bounce = {"domain": "mg.example.com", "address": "gone@example.com"}
    async with client(url, TOKENS["helpdesk"]) as c:
        added = await c.call_tool("add_bounce", bounce)
        refused = await c.call_tool("delete_domain", {"domain": "mg.example.com"})
    async with client(url, TOKENS["auditor"]) as c:
        listed = await c.call_tool("list_domains", {"limit": 1})
        read_only = await c.call_tool("delete_bounce", bounce)
    assert not added.is_error, added
    assert "no grant covers delete_domain" in error_of(refused)["message"]
    assert payload(listed)["result"]["total_count"] == 0, "the auditor's subaccount owns no domain"
    assert "read-only mode" in error_of(read_only)["message"] and "identity 'auditor'" in error_of(read_only)["message"]
    records = {(r["identity"], r["tool"]): r for r in read(trail).records}
    assert records[("helpdesk", "delete_domain")]["decision"]["result"] == "denied"
    assert records[("auditor", "list_domains")]["resource"].startswith("account:")
    assert records[("auditor", "list_domains")]["resource"] != "account:main"
    assert records[("helpdesk", "add_bounce")]["decision"]["grant"] == "*:* + suppressions:*"


@pytest.mark.anyio
async def test_discover_mode_searches_and_calls_only_what_the_identity_may_use(tmp_path):
    settings = Settings(identities=identities_file(tmp_path))
    toolkit = Toolkit(sandbox=True, settings=settings, file_roots=[tmp_path])
    with run_http(http_app(toolkit, mode="discover")) as url:
        async with client(url, TOKENS["helpdesk"]) as c:
            found = await c.call_tool("search_operations", {"query": "delete a domain", "limit": 20})
            refused = await c.call_tool("call_operation", {"name": "delete_domain", "arguments": {"domain": "x.com"}})
    hits = {h["name"] for h in payload(found)["operations"]}
    allowed = {op.name for op in toolkit.operations() if op.area == "suppressions"} | {"send_message"}
    assert hits and hits <= allowed, hits
    assert "delete_domain" not in hits
    assert "no grant covers delete_domain" in error_of(refused)["message"]


@pytest.mark.anyio
async def test_concurrent_requests_keep_their_own_identity(served):
    url, _, _ = served
    seen: dict[str, set[str]] = {}

    async def list_as(name: str) -> None:
        seen[name] = await names(url, TOKENS[name])

    async with anyio.create_task_group() as group:
        for _ in range(3):
            for name in TOKENS:
                group.start_soon(list_as, name)
    assert "delete_bounce" in seen["helpdesk"] and "delete_bounce" not in seen["auditor"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Bearer {SINGLE}x", "Basic abc", TOKENS["auditor"]])
def test_an_unknown_token_gets_401(served, authorization):
    url, _, _ = served
    headers = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-11-25"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    assert httpx.post(f"{url}/mcp", json=body, headers=headers).status_code == 401


def test_beyond_loopback_an_identities_file_is_enough(tmp_path):
    with_file = Toolkit(sandbox=True, settings=Settings(identities=identities_file(tmp_path)))
    http_app(with_file, host="0.0.0.0")  # no error: every request needs an identity's token
    with pytest.raises(ConfigurationError, match="without a token"):
        http_app(Toolkit(sandbox=True, settings=Settings()), host="0.0.0.0")


def test_a_bad_identities_file_stops_the_server(tmp_path):
    (tmp_path / "bad.toml").write_text('[identities.a]\ntoken = "plain"\n')
    toolkit = Toolkit(sandbox=True, settings=Settings(identities=tmp_path / "bad.toml"))
    with pytest.raises(ConfigurationError, match=r"bad.toml:2: .*store its SHA-256 as token_sha256"):
        http_identities(toolkit)
    assert len(http_identities(Toolkit(sandbox=True, settings=Settings()))) == 0
    assert isinstance(http_identities(Toolkit(sandbox=True, settings=Settings()), "t" * 20), Identities)
