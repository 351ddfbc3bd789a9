"""The toolkit's operations as LangChain tools (``pip install 'mg-tools[langchain]'``).

    from mg_tools import Toolkit
    from mg_tools.adapters.langchain import langchain_tools

    tools = langchain_tools(Toolkit.from_env(), areas=["suppressions"])
    model = ChatOpenAI(...).bind_tools(tools)

A call answers the result envelope as JSON text (the tool message's content) and as a dict (its
artifact). An error a model can act on raises a ``ToolException`` the tool handles itself: the tool
message carries the error's JSON with ``status="error"``, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mg_tools.adapters.base import ToolDef, answer, answer_sync, require, tool_defs

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from mg_tools.toolkit import Toolkit

__all__ = ["langchain_tools"]


def langchain_tools(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[BaseTool]:
    """A ``StructuredTool`` per operation ``toolkit`` exposes to the caller in progress (only those named
    in ``tools`` or in ``areas``, when given), each running its calls through ``toolkit.execute``."""
    lc = require("langchain_core.tools", "langchain")
    return [_tool(lc, toolkit, tool) for tool in tool_defs(toolkit, tools=tools, areas=areas)]


def _tool(lc: Any, toolkit: Toolkit, tool: ToolDef) -> BaseTool:
    def outcome(found: Any) -> tuple[str, dict[str, Any]]:
        if not found.ok:
            raise lc.ToolException(found.text)
        return found.text, found.data

    async def arun(**arguments: Any) -> tuple[str, dict[str, Any]]:
        return outcome(await answer(toolkit, tool, arguments))

    def run(**arguments: Any) -> tuple[str, dict[str, Any]]:
        return outcome(answer_sync(toolkit, tool, arguments))

    return lc.StructuredTool(
        name=tool.name,
        description=tool.description,
        args_schema=tool.schema,
        func=run,
        coroutine=arun,
        response_format="content_and_artifact",
        handle_tool_error=True,
    )
