"""OpenAI Agents SDK: the SDK's scripted model drives ``Runner.run`` through our tools."""

from __future__ import annotations

import json

import pytest
from adapters_support import DOMAIN, audit_records
from agents import Agent, RunConfig, Runner
from agents.testing import ScriptedModel, assistant_message, function_call

from mg_tools.adapters.openai_agents import openai_agents_tools


async def run(tools, *calls: tuple[str, dict | str]) -> list[str]:
    """One model turn asking for ``calls``, then a closing message; the tools' outputs, in order."""
    steps = [
        [function_call(name, args, call_id=f"c{i}") for i, (name, args) in enumerate(calls)],
        [assistant_message("ok")],
    ]
    model = ScriptedModel(steps)
    agent = Agent(name="mail", model=model, tools=tools)
    result = await Runner.run(agent, "keep bob off the list", run_config=RunConfig(tracing_disabled=True))
    assert result.final_output == "ok" and model.remaining_steps == 0
    return [item.output for item in result.new_items if item.type == "tool_call_output_item"]


@pytest.mark.anyio
async def test_runner_calls_a_tool_that_changes_the_sandbox(make_toolkit, trail):
    mg = make_toolkit()
    tools = openai_agents_tools(mg, areas=["suppressions"])
    assert all(not t.strict_json_schema for t in tools)
    (output,) = await run(tools, ("add_bounce", {"domain": DOMAIN, "address": "bob@example.com"}))
    assert "result" in json.loads(output)
    assert (await mg.acall("get_bounce", domain=DOMAIN, address="bob@example.com"))["address"] == "bob@example.com"
    assert audit_records(trail)[0]["tool"] == "add_bounce"


@pytest.mark.anyio
async def test_errors_are_the_tools_output_and_the_run_goes_on(make_toolkit, keep_domain):
    tools = openai_agents_tools(make_toolkit(policy_file=keep_domain), areas=["suppressions"])
    broken, denied = await run(
        tools,
        ("get_bounce", "{not json"),
        ("delete_bounce", {"domain": DOMAIN, "address": "bob@example.com"}),
    )
    assert json.loads(broken)["error"] == "invalid_arguments" and "not valid JSON" in broken
    assert json.loads(denied)["error"] == "policy_denied"


@pytest.mark.anyio
async def test_read_only_exposes_no_send_and_confirmation_round_trips(make_toolkit):
    assert "send_message" not in {t.name for t in openai_agents_tools(make_toolkit(read_only=True))}
    mg = make_toolkit(confirm="suppressions:write")
    tools = openai_agents_tools(mg, tools=["add_bounce"])
    assert "confirm_token" in tools[0].params_json_schema["properties"]
    args = {"domain": DOMAIN, "address": "eve@example.com"}
    (asked,) = await run(tools, ("add_bounce", args))
    assert json.loads(asked)["error"] == "confirmation_required"
    (done,) = await run(tools, ("add_bounce", {**args, "confirm_token": json.loads(asked)["confirm_token"]}))
    assert "result" in json.loads(done)
    assert (await mg.acall("get_bounce", **args))["address"] == "eve@example.com"
