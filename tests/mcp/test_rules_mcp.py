"""Cedar policy rules over MCP: what is listed, the confirmation a @confirm policy asks for, in both modes."""

from __future__ import annotations

import pytest
from mcp_support import connect, error_of, payload, wire
from reliability.support import SEND

from mg_tools import Toolkit
from mg_tools.usage import MemoryUsage

pytestmark = pytest.mark.anyio

POLICY = (
    'permit (principal, action in Action::"read", resource);\n'
    '@id("approve")\n@confirm("a person approves each send")\n'
    'permit (principal, action == Action::"send_message", resource);\n'
)


@pytest.fixture
async def ruled(tmp_path):
    path = tmp_path / "policy.cedar"
    path.write_text(POLICY)
    toolkit = Toolkit(sandbox=True, policy_file=path, usage=MemoryUsage())
    yield toolkit
    await toolkit.aclose()


async def test_a_confirm_policy_adds_the_token_and_hidden_tools_are_not_listed(ruled):
    async with connect(ruled) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
        asked = await client.call_tool("send_message", SEND)
        token = error_of(asked)["confirm_token"]
        done = await client.call_tool("send_message", {**SEND, "confirm_token": token})
        hidden = await client.call_tool("delete_domain", {"domain": "mg.example.com"})
    assert "confirm_token" in tools["send_message"]["inputSchema"]["properties"]
    assert "confirm_token" not in tools["get_domain"]["inputSchema"]["properties"]
    assert "delete_domain" not in tools and "create_domain" not in tools
    assert "a person approves each send" in error_of(asked)["message"]
    assert payload(done)["result"]["message"].startswith("Queued")
    assert error_of(hidden)["error"] == "policy_denied"
    assert "no policy in policy.cedar can permit delete_domain" in error_of(hidden)["message"]


async def test_discover_mode_finds_only_what_the_policy_can_permit(ruled):
    async with connect(ruled, mode="discover") as client:
        found = payload(await client.call_tool("search_operations", {"query": "delete a domain"}))
        described = payload(await client.call_tool("describe_operation", {"name": "send_message"}))
    assert "delete_domain" not in {op["name"] for op in found["operations"]}
    assert described["needs_confirmation"] is True


async def test_over_http_each_identity_sees_and_calls_what_the_rules_permit_it(tmp_path):
    """A policy may name the identities of MG_TOOLS_IDENTITIES: each token then lists and calls what
    the rules permit its own identity, not what they permit the server's."""
    import hashlib

    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp_support import run_http

    from mg_tools.mcp_server import http_app
    from mg_tools.settings import Settings

    tokens = {"helpdesk": "tok-helpdesk-" + "h" * 16, "analyst": "tok-analyst-" + "a" * 16}
    (tmp_path / "identities.toml").write_text(
        "".join(
            f'[identities.{name}]\ntoken_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n\n'
            for name, token in tokens.items()
        )
    )
    (tmp_path / "policy.cedar").write_text(
        'permit (principal, action in Action::"read", resource);\n'
        '@id("helpdesk-bounces")\n'
        'permit (principal == Identity::"helpdesk", action == Action::"add_bounce", resource);\n'
    )
    settings = Settings(identities=tmp_path / "identities.toml", policy_file=tmp_path / "policy.cedar")
    toolkit = Toolkit(sandbox=True, settings=settings, usage=MemoryUsage())
    bounce = {"domain": "mg.example.com", "address": "gone@example.com"}

    def client(url: str, token: str) -> Client:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        return Client(streamable_http_client(f"{url}/mcp", http_client=http))

    with run_http(http_app(toolkit)) as url:
        async with client(url, tokens["helpdesk"]) as c:
            helpdesk = {t.name for t in (await c.list_tools()).tools}
            added = await c.call_tool("add_bounce", bounce)
        async with client(url, tokens["analyst"]) as c:
            analyst = {t.name for t in (await c.list_tools()).tools}
            refused = await c.call_tool("add_bounce", bounce)
    await toolkit.aclose()
    assert "add_bounce" in helpdesk and "add_bounce" not in analyst
    assert "list_domains" in helpdesk and "list_domains" in analyst
    assert not added.is_error, added
    assert error_of(refused)["error"] == "policy_denied"
