"""LangChain: a fake chat model's tool calls run through the toolkit, the standard tool loop."""

from __future__ import annotations

import json

import pytest
from adapters_support import DOMAIN, audit_records
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from mg_tools.adapters.langchain import langchain_tools
from mg_tools.operation import Access
from mg_tools.tool_defs import operation_schema


def run_loop(tools, *calls: dict) -> list[ToolMessage]:
    """The chat model asks for ``calls``; each tool call is run as LangChain's tool loop runs it."""
    model = FakeMessagesListChatModel(
        responses=[AIMessage(content="", tool_calls=[{**c, "id": f"call{i}"} for i, c in enumerate(calls)])]
    )
    reply = model.invoke([HumanMessage("keep bob off the list")])
    by_name = {t.name: t for t in tools}
    return [by_name[call["name"]].invoke(call) for call in reply.tool_calls]


def test_a_tool_call_changes_the_sandbox_and_is_audited(make_toolkit, trail):
    mg = make_toolkit()
    tools = langchain_tools(mg, areas=["suppressions"])
    (answer,) = run_loop(tools, {"name": "add_bounce", "args": {"domain": DOMAIN, "address": "bob@example.com"}})
    assert answer.status == "success" and answer.tool_call_id == "call0"
    assert json.loads(answer.content) == answer.artifact and "result" in answer.artifact
    assert mg.call("get_bounce", domain=DOMAIN, address="bob@example.com")["address"] == "bob@example.com"
    record = audit_records(trail)[0]
    assert record["tool"] == "add_bounce" and record["outcome"]["status"] == "ok"


def test_tools_are_the_mcp_tools_the_policy_exposes(make_toolkit):
    mg = make_toolkit(read_only=True)
    tools = {t.name: t for t in langchain_tools(mg)}
    assert "send_message" not in tools and "add_bounce" not in tools and "read_result" in tools
    assert all(mg.operation(n).access is Access.READ for n in tools if n != "read_result")
    op = mg.operation("get_bounce")
    assert tools["get_bounce"].description == op.description
    assert tools["get_bounce"].args_schema == operation_schema(op, confirm=False)
    assert [t.name for t in langchain_tools(mg, tools=["get_bounce", "get_domain"])] == ["get_domain", "get_bounce"]


def test_errors_reach_the_model_as_error_messages(make_toolkit, keep_domain, trail):
    tools = langchain_tools(make_toolkit(policy_file=keep_domain), areas=["suppressions"])
    invalid, denied = run_loop(
        tools,
        {"name": "get_bounce", "args": {"domain": DOMAIN, "address": "not an address"}},
        {"name": "delete_bounce", "args": {"domain": DOMAIN, "address": "bob@example.com"}},
    )
    assert invalid.status == denied.status == "error"
    assert json.loads(invalid.content)["error"] == "invalid_arguments" and "address" in invalid.content
    refusal = json.loads(denied.content)
    assert refusal["error"] == "policy_denied" and "keep-domain" in refusal["message"]
    assert [r["decision"]["result"] for r in audit_records(trail)] == ["invalid", "denied"]


def test_confirmation_token_round_trip(make_toolkit):
    mg = make_toolkit(confirm="suppressions:write")
    (tool,) = langchain_tools(mg, tools=["add_bounce"])
    assert "confirm_token" in tool.args
    call = {"name": "add_bounce", "args": {"domain": DOMAIN, "address": "eve@example.com"}}
    (asked,) = run_loop([tool], call)
    token = json.loads(asked.content)["confirm_token"]
    assert asked.status == "error" and json.loads(asked.content)["error"] == "confirmation_required"
    (done,) = run_loop([tool], {**call, "args": {**call["args"], "confirm_token": token}})
    assert done.status == "success" and mg.call("get_bounce", domain=DOMAIN, address="eve@example.com")


@pytest.mark.anyio
async def test_async_invocation_runs_on_the_callers_loop(make_toolkit):
    (tool,) = langchain_tools(make_toolkit(), tools=["list_domains"])
    message = await tool.ainvoke({"name": "list_domains", "args": {}, "id": "c1", "type": "tool_call"})
    assert message.artifact["result"]["items"][0]["name"] == DOMAIN


def test_unknown_names_are_refused(make_toolkit):
    from mg_tools.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no such tool or area: sned_message, suppression"):
        langchain_tools(make_toolkit(), tools=["sned_message"], areas=["suppression"])
