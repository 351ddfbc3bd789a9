"""The toolkit's operations as pydantic-ai tools (``pip install 'mg-tools[pydantic-ai]'``).

    from pydantic_ai import Agent
    from mg_tools import Toolkit
    from mg_tools.adapters.pydantic_ai import pydantic_ai_tools

    agent = Agent("openai:gpt-5", tools=pydantic_ai_tools(Toolkit.from_env(), areas=["suppressions"]))

Each tool takes the MCP server's input schema as it is (``Tool.from_schema``); the toolkit's executor
validates the arguments. A call returns the result envelope; an error a model can act on raises
``ToolFailed`` with the error's JSON, which the model sees as a failed tool result, and the run goes on
without spending the tool's retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mg_tools.adapters.base import ToolDef, answer, require, tool_defs

if TYPE_CHECKING:
    from pydantic_ai import Tool

    from mg_tools.toolkit import Toolkit

__all__ = ["pydantic_ai_tools"]


def pydantic_ai_tools(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[Tool]:
    """A ``Tool`` per operation ``toolkit`` exposes to the caller in progress (only those named in
    ``tools`` or in ``areas``, when given), each running its calls through ``toolkit.execute``; pass
    them as ``Agent(tools=...)`` or in a ``FunctionToolset``."""
    ai = require("pydantic_ai", "pydantic-ai")
    failed = require("pydantic_ai.exceptions", "pydantic-ai").ToolFailed
    return [_tool(ai.Tool, failed, toolkit, tool) for tool in tool_defs(toolkit, tools=tools, areas=areas)]


def _tool(tool_class: Any, failed: type[Exception], toolkit: Toolkit, tool: ToolDef) -> Tool:
    async def run(**arguments: Any) -> dict[str, Any]:
        found = await answer(toolkit, tool, arguments)
        if not found.ok:
            raise failed(found.text)
        return found.data

    return tool_class.from_schema(run, name=tool.name, description=tool.description, json_schema=tool.schema)
