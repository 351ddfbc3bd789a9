"""The MCP server in memory, with the SDK's real client, in both protocol eras."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp_support import ROOT, connect, error_of, payload, wire
from mcp_types import INVALID_PARAMS
from pydantic import Field

from mg_tools import Access, Operation, Policy, Registry, Toolkit
from mg_tools.client import RetryPolicy
from mg_tools.mcp_server import INTERNAL_ERROR, McpTools
from mg_tools.schema import tool_schema
from mg_tools.types import Params

pytestmark = pytest.mark.anyio


# -- listing ------------------------------------------------------------------------------------------


async def test_every_exposed_operation_is_a_tool(toolkit, protocol):
    async with connect(toolkit, protocol=protocol) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
    assert set(tools) == {op.name for op in toolkit.operations()} | {"read_result"}
    for op in toolkit.operations():
        tool = tools[op.name]
        assert tool["description"] == ("[DEPRECATED] " if op.deprecated else "") + op.description
        assert tool["inputSchema"]["type"] == "object"
        assert tool["inputSchema"] == tool_schema(op)
        assert tool["_meta"] == {"area": op.area, "access": str(op.access)}
        # Repeated on every tool for nothing: the title would restate the name, and what `result`
        # holds differs per operation (the envelope is in the server instructions).
        assert "title" not in tool and "outputSchema" not in tool


#: The MCP defaults: a tool that carries no hint is taken to be all of these.
DEFAULT_HINTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


async def test_annotations_follow_access(toolkit):
    async with connect(toolkit) as client:
        tools = {t["name"]: t["annotations"] for t in wire(await client.list_tools())}
    # Only what differs from the defaults is sent.
    assert tools["get_domain"] == {"readOnlyHint": True, "openWorldHint": False}
    assert tools["delete_domain"] == {"idempotentHint": True, "openWorldHint": False}
    assert tools["update_domain"] == {"destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
    assert tools["create_domain"] == {"destructiveHint": False, "openWorldHint": False}
    assert tools["send_message"] == {"destructiveHint": False}
    assert not any(hints.get(k) == v for hints in tools.values() for k, v in DEFAULT_HINTS.items())


async def test_annotations_read_as_the_access_says(toolkit):
    async with connect(toolkit) as client:
        listed = {t["name"]: {**DEFAULT_HINTS, **t["annotations"]} for t in wire(await client.list_tools())}
    for op in toolkit.operations():
        hints = listed[op.name]
        assert hints["readOnlyHint"] is (op.access is Access.READ)
        if op.access is not Access.READ:
            assert hints["destructiveHint"] is (op.access is Access.DELETE)
            assert hints["idempotentHint"] is op.idempotent
        assert hints["openWorldHint"] is (op.access is Access.SEND)


class _Ping(Params):
    """Answer pong."""

    word: str = Field("ping", description="What to say")


class _Boom(Params):
    """Fail on purpose."""


class _Name(Params):
    """Show a domain."""

    name: str


async def _pong(args, call):
    return {"said": args.word}


async def _boom(args, call):
    raise RuntimeError("kaboom with a secret sk-0123456789")


async def _via_denied(args, call):
    return await call("get_domain", {"name": "mg.example.com"})  # the test operation below takes `name`


def _custom_toolkit(policy: Policy | None = None, *extra: Operation) -> Toolkit:
    """A toolkit on the sandbox with a registry of test-only composite operations."""
    ops = [
        Operation("ping_test", "", "", _Ping, Access.READ, area="custom", handler=_pong, deprecated=True),
        Operation("boom_test", "", "", _Boom, Access.READ, area="custom", handler=_boom),
        *extra,
    ]
    return Toolkit(sandbox=True, registry=Registry(ops), policy=policy)


async def test_deprecated_operations_say_so():
    toolkit = _custom_toolkit()
    async with connect(toolkit) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
        result = await client.call_tool("ping_test", {"word": "hi"})
    assert tools["ping_test"]["description"] == "[DEPRECATED] Answer pong."
    assert result.structured_content["result"] == {"said": "hi"}


# -- calling ------------------------------------------------------------------------------------------


async def test_call_returns_the_result_envelope(toolkit, protocol):
    async with connect(toolkit, protocol=protocol) as client:
        result = await client.call_tool("get_domain", {"domain": "mg.example.com"})
    assert not result.is_error
    assert result.structured_content["result"]["domain"]["name"] == "mg.example.com"
    assert result.structured_content["sandbox"] == "local sandbox: no real mail is sent"
    assert payload(result) == result.structured_content


async def test_send_message_on_the_sandbox(toolkit, protocol):
    args = {
        "domain": "mg.example.com",
        "sender": "Ann <ann@mg.example.com>",
        "to": ["bob@example.com"],
        "subject": "Hello",
        "text": "Hi Bob",
    }
    async with connect(toolkit, protocol=protocol) as client:
        result = await client.call_tool("send_message", args)
    assert not result.is_error, result.content[0].text
    assert result.structured_content["result"]["id"]
    assert "no real mail is sent" in result.structured_content["sandbox"]


async def test_lists_carry_next_cursor(toolkit):
    await toolkit.execute("create_domain", {"domain": "second.example.com"})
    async with connect(toolkit) as client:
        first = await client.call_tool("list_domains", {"limit": 1})
        rest = await client.call_tool("list_domains", {"limit": 1, "cursor": first.structured_content["next_cursor"]})
    assert first.structured_content["next_cursor"] == "1"
    assert [d["name"] for d in rest.structured_content["result"]["items"]] == ["second.example.com"]


async def test_trimmed_result_is_read_with_read_result(tmp_path, protocol):
    toolkit = Toolkit(sandbox=True, budget=300, file_roots=[tmp_path])
    for n in range(3):
        await toolkit.execute("create_domain", {"domain": f"d{n}.example.com"})
    async with connect(toolkit, protocol=protocol) as client:
        listed = await client.call_tool("list_domains", {})
        marker = listed.structured_content["truncated"]
        assert marker["items_omitted"] > 0 and "read_result" in marker["hint"]
        chunks, offset = [], 0
        while offset is not None:
            part = await client.call_tool("read_result", {"result_id": marker["result_id"], "offset": offset})
            assert not part.is_error
            chunks.append(part.structured_content["chunk"])
            assert part.content[0].text.startswith(part.structured_content["chunk"])
            offset = part.structured_content["next_offset"]
        expired = await client.call_tool("read_result", {"result_id": "000000000000"})
    data = json.loads("".join(chunks))
    assert len(data["items"]) == 4
    assert "unknown or expired" in error_of(expired)["message"]
    await toolkit.aclose()


# -- errors -------------------------------------------------------------------------------------------


async def test_invalid_arguments_name_the_field(toolkit, protocol):
    async with connect(toolkit, protocol=protocol) as client:
        result = await client.call_tool("list_domains", {"limit": 0, "colour": "red"})
    error = error_of(result)
    assert "limit:" in error["message"] and "colour: unknown field" in error["message"]
    assert {f["field"] for f in error["fields"]} == {"limit", "colour"}
    assert error["error"] == "invalid_arguments"


async def test_mailgun_errors_carry_mailguns_message(toolkit, protocol):
    async with connect(toolkit, protocol=protocol) as client:
        result = await client.call_tool("get_domain", {"domain": "nope.example.com"})
    error = error_of(result)
    assert error == {"error": "not_found", "message": error["message"], "status": 404}
    assert "Mailgun 404" in error["message"] and "Domain not found" in error["message"]


async def test_unknown_tool_is_a_protocol_error(toolkit, protocol):
    async with connect(toolkit, protocol=protocol) as client:
        with pytest.raises(MCPError) as info:
            await client.call_tool("no_such_tool", {})
        with pytest.raises(MCPError) as near:
            await client.call_tool("get_domian", {})
    assert info.value.error.code == INVALID_PARAMS
    assert info.value.error.message == "Unknown tool: no_such_tool."
    assert near.value.error.code == INVALID_PARAMS
    assert near.value.error.message.startswith("Unknown tool: get_domian. Did you mean: get_domain")


async def test_unexpected_errors_are_masked_and_logged(caplog):
    toolkit = _custom_toolkit()
    async with connect(toolkit) as client:
        result = await client.call_tool("boom_test", {})
    assert error_of(result) == {"error": "internal_error", "message": INTERNAL_ERROR}
    failed = [record for record in caplog.records if getattr(record, "event", "") == "tool_failed"]
    assert failed and failed[0].tool == "boom_test" and "kaboom" in failed[0].traceback


async def test_configuration_errors_say_what_to_do(tmp_path):
    toolkit = Toolkit(api_key=None, file_roots=[tmp_path])
    async with connect(toolkit) as client:
        result = await client.call_tool("list_domains", {})
    error = error_of(result)
    assert "MAILGUN_API_KEY" in error["message"] and "--sandbox" in error["message"]
    assert error["error"] == "configuration_error"


async def test_transport_errors_say_whether_the_request_may_have_been_sent(tmp_path):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    toolkit = Toolkit(
        api_key="key-test",
        base_url="https://api.mailgun.net",
        transport=httpx.MockTransport(refuse),
        retry=RetryPolicy(attempts=1),
        file_roots=[tmp_path],
    )
    async with connect(toolkit) as client:
        result = await client.call_tool("get_domain", {"domain": "mg.example.com"})
    error = error_of(result)
    assert "could not connect" in error["message"]
    assert error == {"error": "transport_error", "message": error["message"], "maybe_sent": False}
    await toolkit.aclose()


async def test_policy_refusals_inside_composites_are_error_results():
    toolkit = _custom_toolkit(
        Policy.build(deny="get_domain"),
        Operation("via_denied", "", "", _Boom, Access.READ, area="custom", handler=_via_denied),
        Operation("get_domain", "GET", "/v4/domains/{name}", _Name, Access.READ, area="domains"),
    )
    async with connect(toolkit) as client:
        result = await client.call_tool("via_denied", {})
    error = error_of(result)
    assert "denied by the rule 'get_domain'" in error["message"]
    assert error["error"] == "policy_denied"


# -- exposure -----------------------------------------------------------------------------------------


async def test_toolsets_and_exclusions_narrow_the_tools(tmp_path, protocol):
    policy = Policy.build(toolsets="domains", tools="send_message", exclude_tools="delete_domain")
    toolkit = Toolkit(sandbox=True, policy=policy, file_roots=[tmp_path])
    async with connect(toolkit, protocol=protocol) as client:
        names = {t["name"] for t in wire(await client.list_tools())}
        excluded = await client.call_tool("delete_domain", {"domain": "mg.example.com"})
        outside = await client.call_tool("list_bounces", {"domain": "mg.example.com"})
    domains = {op.name for op in toolkit.registry if op.area == "domains"}
    assert names == domains - {"delete_domain"} | {"send_message", "read_result"}
    # A registered tool the policy hides says why, as the CLI does; nothing is sent.
    assert error_of(excluded) == {
        "error": "policy_denied",
        "message": "delete_domain (domains:delete) is denied by the rule 'delete_domain'; nothing was sent",
    }
    assert error_of(outside)["message"] == "list_bounces is outside the enabled toolsets and tools; nothing was sent"
    assert (await toolkit.execute("get_domain", {"domain": "mg.example.com"})).data["domain"]["name"]  # still there
    await toolkit.aclose()


async def test_read_only_lists_no_write_tool_and_refuses_them(tmp_path, protocol):
    policy = Policy.build(read_only=True, grants="*:*", tools="delete_domain,send_message")
    toolkit = Toolkit(sandbox=True, policy=policy, file_roots=[tmp_path])
    async with connect(toolkit, protocol=protocol) as client:
        names = [t["name"] for t in wire(await client.list_tools())]
        refused = await client.call_tool("send_message", {"domain": "mg.example.com"})
        with pytest.raises(MCPError) as info:
            await client.call_tool("send_mesage", {})
    # --read-only wins over --tools: neither named write tool is listed, and calling one says why.
    assert names == ["read_result"]
    assert error_of(refused)["message"] == "read-only mode: send_message is a send operation; nothing was sent"
    # Suggestions only ever name exposed tools.
    assert info.value.error.code == INVALID_PARAMS and info.value.error.message == "Unknown tool: send_mesage."
    await toolkit.aclose()


async def test_read_only_everything(tmp_path):
    toolkit = Toolkit(sandbox=True, policy=Policy.build(read_only=True), file_roots=[tmp_path])
    async with connect(toolkit) as client:
        tools = wire(await client.list_tools())
    accesses = {t["_meta"]["access"] for t in tools if "_meta" in t}
    assert accesses == {"read"}
    assert all(t["annotations"]["readOnlyHint"] is True for t in tools)
    await toolkit.aclose()


async def test_confirmation_round_trip(tmp_path, protocol):
    toolkit = Toolkit(sandbox=True, policy=Policy.build(confirm="*:delete"), file_roots=[tmp_path])
    await toolkit.execute("create_domain", {"domain": "old.example.com"})
    async with connect(toolkit, protocol=protocol) as client:
        tools = {t["name"]: t for t in wire(await client.list_tools())}
        asked = await client.call_tool("delete_domain", {"domain": "old.example.com"})
        token = error_of(asked)["confirm_token"]
        other = await client.call_tool("delete_domain", {"domain": "mg.example.com", "confirm_token": token})
        done = await client.call_tool("delete_domain", {"domain": "old.example.com", "confirm_token": token})
        extra = await client.call_tool("get_domain", {"domain": "mg.example.com", "confirm_token": token})
    assert "confirm_token" in tools["delete_domain"]["inputSchema"]["properties"]
    assert "confirm_token" not in tools["get_domain"]["inputSchema"]["properties"]
    assert error_of(asked)["error"] == "confirmation_required"
    assert "needs confirmation" in error_of(asked)["message"] and "Ask the user" in error_of(asked)["hint"]
    assert error_of(other)["error"] == "confirmation_required"  # a token confirms one exact call only
    assert not done.is_error, done.content[0].text
    assert "confirm_token: unknown field" in error_of(extra)["message"]
    await toolkit.aclose()


# -- the server as a whole ----------------------------------------------------------------------------


async def test_tool_list_is_built_once(toolkit):
    tools = McpTools(toolkit)
    first = await tools.list_tools(None, None)
    assert first is await tools.list_tools(None, None)


async def test_instructions_mention_the_sandbox(toolkit):
    async with connect(toolkit, protocol="legacy") as client:
        assert "no real mail is sent" in client.instructions
        assert client.server_info.name == "mg-tools"


def test_commands_that_do_not_serve_never_import_mcp():
    code = (
        "import sys, io, contextlib\nfrom mg_tools.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['tools', '--json']); main(['call', 'list_domains', '--dry-run'])\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_server_starts_without_what_listing_does_not_need():
    # Start-up time: the sandbox app is built on the first call, search and identities are for
    # discover mode and HTTP, and schemas come from the state directory's cache after the first start.
    code = (
        "import sys\nfrom mg_tools import schema\nfrom mg_tools.mcp_server import McpTools\n"
        "from mg_tools.toolkit import Toolkit\nbuilt = []\nbuild = schema._build\n"
        "schema._build = lambda model: built.append(model) or build(model)\n"
        "tools = McpTools(Toolkit(sandbox=True))\n"
        "late = ('mg_tools.sandbox.app', 'mg_tools.search', 'mg_tools.identities', 'cedarpy')\n"
        "print(len(built), len(tools.exposed), [m for m in late if m in sys.modules])"
    )
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)]
    runs.append(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60))
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    first, second = (run.stdout.strip().split(maxsplit=2) for run in runs)
    assert int(first[0]) >= int(first[1]) > 100 and first[2] == "[]"
    assert second == ["0", first[1], "[]"]
