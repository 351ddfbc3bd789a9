"""``--mode discover``: a few meta-tools reach every exposed operation through the same executor."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError
from mcp_support import connect, error_of, payload, wire
from mcp_types import INVALID_PARAMS

from mg_tools import Policy, Toolkit
from mg_tools.schema import input_schema

pytestmark = pytest.mark.anyio


async def test_discover_lists_the_meta_tools(toolkit, protocol):
    async with connect(toolkit, mode="discover", protocol=protocol) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
    assert set(tools) == {"search_operations", "describe_operation", "call_operation", "read_result"}
    assert all(t["inputSchema"]["type"] == "object" for t in tools.values())
    assert "domains" in tools["search_operations"]["description"]  # the areas there are
    assert tools["search_operations"]["annotations"]["readOnlyHint"] is True
    # Nothing needs confirmation here, so call_operation does not offer a token.
    assert set(tools["call_operation"]["inputSchema"]["properties"]) == {"name", "arguments"}
    # It can send mail: open world, the MCP default, so the hint is left out.
    assert "openWorldHint" not in tools["call_operation"]["annotations"]


async def test_search_describe_call(toolkit, protocol):
    async with connect(toolkit, mode="discover", protocol=protocol) as client:
        found = await client.call_tool("search_operations", {"query": "show a domain's DNS records", "limit": 3})
        described = await client.call_tool("describe_operation", {"name": "get_domain"})
        called = await client.call_tool(
            "call_operation", {"name": "get_domain", "arguments": {"domain": "mg.example.com"}}
        )
    names = [o["name"] for o in found.structured_content["operations"]]
    assert "get_domain" in names and len(names) <= 3
    assert described.structured_content["input_schema"] == input_schema(toolkit.operation("get_domain").params)
    assert described.structured_content["access"] == "read"
    assert not called.is_error
    assert called.structured_content["result"]["domain"]["name"] == "mg.example.com"
    assert payload(called) == called.structured_content


async def test_call_operation_errors_are_results(toolkit):
    async with connect(toolkit, mode="discover") as client:
        unknown = await client.call_tool("call_operation", {"name": "get_domian", "arguments": {}})
        invalid = await client.call_tool("call_operation", {"name": "get_domain", "arguments": {"nme": "x"}})
        missing = await client.call_tool("call_operation", {})
        with pytest.raises(MCPError):
            await client.call_tool("get_domain", {"domain": "mg.example.com"})  # not a tool in this mode
    assert error_of(unknown)["error"] == "unknown_operation"
    assert "Did you mean: get_domain" in error_of(unknown)["message"]
    assert "search_operations" in error_of(unknown)["message"]
    assert {"field": "nme", "problem": "unknown field"} in error_of(invalid)["fields"]
    assert "name: required" in error_of(missing)["message"]


async def test_nothing_matched_lists_the_areas(toolkit):
    async with connect(toolkit, mode="discover") as client:
        result = await client.call_tool("search_operations", {"query": "zzzz qqqq"})
    assert result.structured_content["operations"] == []
    assert "domains" in result.structured_content["hint"]


async def test_a_weak_match_says_nothing_matches_well_and_still_lists_candidates(toolkit):
    async with connect(toolkit, mode="discover") as client:
        weak = await client.call_tool("search_operations", {"query": "who won the football game"})
        strong = await client.call_tool("search_operations", {"query": "unsubscribe bob@example.com"})
    assert weak.structured_content["weak"] is True and weak.structured_content["operations"]
    assert weak.structured_content["hint"].startswith("nothing matches well")
    assert "suppressions" in weak.structured_content["hint"]
    assert "weak" not in strong.structured_content and "hint" not in strong.structured_content


async def test_discover_keeps_the_policy(tmp_path, protocol):
    toolkit = Toolkit(sandbox=True, policy=Policy.build(read_only=True), file_roots=[tmp_path])
    async with connect(toolkit, mode="discover", protocol=protocol) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
        found = await client.call_tool("search_operations", {"query": "delete a domain", "limit": 20})
        described = await client.call_tool("describe_operation", {"name": "delete_domain"})
        called = await client.call_tool(
            "call_operation", {"name": "delete_domain", "arguments": {"domain": "mg.example.com"}}
        )
    assert all(o["access"] == "read" for o in found.structured_content["operations"])
    # A hidden operation is explained by the policy's reason, not passed off as unknown.
    assert error_of(described) == {
        "error": "policy_denied",
        "message": "read-only mode: delete_domain is a delete operation",
    }
    assert error_of(called) == {
        "error": "policy_denied",
        "message": "read-only mode: delete_domain is a delete operation; nothing was sent",
    }
    assert tools["call_operation"]["annotations"]["readOnlyHint"] is True
    await toolkit.aclose()


async def test_discover_confirmation(tmp_path):
    toolkit = Toolkit(sandbox=True, policy=Policy.build(confirm="domains:delete"), file_roots=[tmp_path])
    await toolkit.execute("create_domain", {"domain": "old.example.com"})
    call = {"name": "delete_domain", "arguments": {"domain": "old.example.com"}}
    async with connect(toolkit, mode="discover") as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
        described = await client.call_tool("describe_operation", {"name": "delete_domain"})
        asked = await client.call_tool("call_operation", call)
        done = await client.call_tool("call_operation", {**call, "confirm_token": error_of(asked)["confirm_token"]})
    assert "confirm_token" in tools["call_operation"]["inputSchema"]["properties"]
    assert described.structured_content["needs_confirmation"] is True
    assert error_of(asked)["error"] == "confirmation_required"
    assert not done.is_error, done.content[0].text
    await toolkit.aclose()


def suggested(message: str) -> set[str]:
    """The names a "Did you mean: a, b?" message suggests."""
    _, _, rest = message.partition("Did you mean: ")
    return {name.strip() for name in rest.split("?")[0].split(",") if name.strip()}


async def test_hidden_operations_say_why_and_unknown_ones_suggest_exposed_ones(tmp_path, protocol):
    toolkit = Toolkit(sandbox=True, policy=Policy.build(read_only=True), file_roots=[tmp_path])
    exposed = {op.name for op in toolkit.operations()}
    async with connect(toolkit, mode="discover", protocol=protocol) as client:
        hidden = await client.call_tool("call_operation", {"name": "send_message", "arguments": {"to": 1}})
        typo = await client.call_tool("describe_operation", {"name": "send_mesage"})
        near = await client.call_tool("call_operation", {"name": "get_domian", "arguments": {}})
        direct = await client.call_tool("delete_domain", {"domain": "mg.example.com"})
        with pytest.raises(MCPError) as info:
            await client.call_tool("get_domain", {"domain": "mg.example.com"})
    # Not "unknown operation 'send_message'. Did you mean: trace_message?": the policy's reason, before
    # the arguments are even looked at.
    assert error_of(hidden) == {
        "error": "policy_denied",
        "message": "read-only mode: send_message is a send operation; nothing was sent",
    }
    assert error_of(typo)["error"] == "unknown_operation" and suggested(error_of(typo)["message"]) <= exposed
    assert "get_domain" in suggested(error_of(near)["message"])
    assert suggested(error_of(near)["message"]) <= exposed
    assert "read-only mode: delete_domain is a delete operation" in error_of(direct)["message"]
    # An exposed operation is no tool of its own in this mode: the protocol error says how to run it.
    assert info.value.error.code == INVALID_PARAMS
    assert "call_operation(name='get_domain'" in info.value.error.message
    await toolkit.aclose()
