"""The toolkit's operations as OpenAI Agents SDK tools (``pip install 'mg-tools[openai-agents]'``).

    from agents import Agent
    from mg_tools import Toolkit
    from mg_tools.adapters.openai_agents import openai_agents_tools

    agent = Agent(name="mail", tools=openai_agents_tools(Toolkit.from_env(), areas=["suppressions"]))

The tools' schemas are the MCP server's, not strict ones (``strict_json_schema=False``): leaving an
optional argument out is how a model says "none", which strict mode cannot express without making every
field nullable and required. A call answers the result envelope as JSON text; an error a model can act
on answers the error's JSON, which the SDK hands to the model as the tool's output, and the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mg_tools.adapters.base import Answer, ToolDef, answer, require, tool_defs
from mg_tools.errors import InvalidArguments
from mg_tools.tool_defs import error_detail

if TYPE_CHECKING:
    from agents import FunctionTool

    from mg_tools.toolkit import Toolkit

__all__ = ["openai_agents_tools"]


def openai_agents_tools(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[FunctionTool]:
    """A ``FunctionTool`` per operation ``toolkit`` exposes to the caller in progress (only those named
    in ``tools`` or in ``areas``, when given), each running its calls through ``toolkit.execute``."""
    agents = require("agents", "openai-agents")
    return [_tool(agents, toolkit, tool) for tool in tool_defs(toolkit, tools=tools, areas=areas)]


def _tool(agents: Any, toolkit: Toolkit, tool: ToolDef) -> FunctionTool:
    async def invoke(context: Any, raw: str) -> str:
        try:
            arguments = json.loads(raw or "{}")
        except json.JSONDecodeError as exc:
            problem = InvalidArguments(tool.name, [("", f"not valid JSON ({exc.msg} at character {exc.pos})")])
            return Answer(False, error_detail(problem, toolkit.redactor)).text
        return (await answer(toolkit, tool, arguments)).text

    return agents.FunctionTool(
        name=tool.name,
        description=tool.description,
        params_json_schema=tool.schema,
        on_invoke_tool=invoke,
        strict_json_schema=False,
    )
