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
