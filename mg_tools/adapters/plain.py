"""The tools as plain definitions for the OpenAI and Anthropic APIs, for code that runs the tool loop
itself (``mg-tools tools --format openai|anthropic`` prints them).

Run each call the model makes with ``toolkit.execute(name, arguments, confirm_token=...)`` (pop
``confirm_token`` from the arguments first), and answer ``result.to_dict()`` as JSON; on an
``MgToolsError``, answer its ``to_dict()`` as JSON and let the model correct itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mg_tools.adapters.base import tool_defs

if TYPE_CHECKING:
    from mg_tools.toolkit import Toolkit

__all__ = ["FORMATS", "anthropic_tools", "openai_tools"]


def openai_tools(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The tools in the Chat Completions shape: ``{"type": "function", "function": {"name",
    "description", "parameters"}}`` (the Responses API takes the inner keys beside ``"type"``)."""
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.schema}}
        for t in tool_defs(toolkit, tools=tools, areas=areas)
    ]


def anthropic_tools(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """The tools in the Anthropic Messages API's shape: ``{"name", "description", "input_schema"}``."""
    return [
        {"name": t.name, "description": t.description, "input_schema": t.schema}
        for t in tool_defs(toolkit, tools=tools, areas=areas)
    ]


#: The plain formats by name, as ``mg-tools tools --format`` takes them.
FORMATS = {"anthropic": anthropic_tools, "openai": openai_tools}
