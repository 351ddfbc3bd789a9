"""pydantic-ai: a function model calls our tools in ``Agent.run``."""

from __future__ import annotations

import json

import pytest
from adapters_support import DOMAIN, audit_records
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

from mg_tools.adapters.pydantic_ai import pydantic_ai_tools


def calling(*calls: tuple[str, dict]) -> FunctionModel:
    """A model that asks for ``calls`` first, then answers with the tools' returns as JSON."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if returns:
            return ModelResponse(parts=[TextPart(json.dumps([[r.outcome, r.content] for r in returns]))])
        return ModelResponse(parts=[ToolCallPart(name, args) for name, args in calls])

    return FunctionModel(respond)


async def run(tools, *calls: tuple[str, dict]) -> list[list]:
    result = await Agent(calling(*calls), tools=tools).run("keep bob off the list")
    return json.loads(result.output)


@pytest.mark.anyio
async def test_agent_run_changes_the_sandbox(make_toolkit, trail):
    mg = make_toolkit()
    ((outcome, content),) = await run(
        pydantic_ai_tools(mg, areas=["suppressions"]), ("add_bounce", {"domain": DOMAIN, "address": "bob@example.com"})
    )
    assert outcome == "success" and "result" in content
    assert (await mg.acall("get_bounce", domain=DOMAIN, address="bob@example.com"))["address"] == "bob@example.com"
    assert audit_records(trail)[0]["outcome"]["status"] == "ok"


@pytest.mark.anyio
async def test_errors_are_failed_tool_results(make_toolkit, keep_domain):
    tools = pydantic_ai_tools(make_toolkit(policy_file=keep_domain), areas=["suppressions"])
    invalid, denied = await run(
        tools,
        ("get_bounce", {"domain": DOMAIN, "address": "not an address"}),
        ("delete_bounce", {"domain": DOMAIN, "address": "bob@example.com"}),
    )
    assert invalid[0] == denied[0] == "failed"
    assert json.loads(invalid[1])["error"] == "invalid_arguments"
    assert json.loads(denied[1])["error"] == "policy_denied"


@pytest.mark.anyio
async def test_confirmation_round_trip_and_read_only(make_toolkit):
    assert "send_message" not in {t.name for t in pydantic_ai_tools(make_toolkit(read_only=True))}
    mg = make_toolkit(confirm="suppressions:write")
    tools = pydantic_ai_tools(mg, tools=["add_bounce"])
    args = {"domain": DOMAIN, "address": "eve@example.com"}
    ((outcome, asked),) = await run(tools, ("add_bounce", args))
    token = json.loads(asked)["confirm_token"]
    assert outcome == "failed" and json.loads(asked)["error"] == "confirmation_required"
    ((outcome, _),) = await run(tools, ("add_bounce", {**args, "confirm_token": token}))
    assert outcome == "success" and (await mg.acall("get_bounce", **args))["address"] == "eve@example.com"


@pytest.mark.anyio
async def test_test_model_fills_in_our_schema(make_toolkit):
    # TestModel calls every tool with arguments generated from its schema: ours must be usable as given.
    agent = Agent(TestModel(call_tools=["list_domains"]), tools=pydantic_ai_tools(make_toolkit(), areas=["domains"]))
    result = await agent.run("which domains?")
    assert DOMAIN in result.output
