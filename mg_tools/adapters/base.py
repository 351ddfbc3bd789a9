"""The framework-free part of the adapters: which tools to offer, and how one call is answered."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mg_tools.errors import ConfigurationError, InvalidArguments, MgToolsError
from mg_tools.executor import Executor
from mg_tools.schema import input_schema
from mg_tools.tool_defs import ReadResult, description_of, error_detail, operation_schema

if TYPE_CHECKING:
    from mg_tools.toolkit import Toolkit

__all__ = ["READ_RESULT", "Answer", "ToolDef", "answer", "answer_sync", "require", "tool_defs"]

#: The tool that reads the rest of a result trimmed to the size budget (its ``truncated`` marker names it).
READ_RESULT = "read_result"


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool as a model sees it: name, description and input schema (with ``confirm_token`` when
    calls may need a confirmation)."""

    name: str
    description: str
    schema: dict[str, Any]
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of one call: the result envelope (``ok``) or the error detail, as the MCP server
    gives them."""

    ok: bool
    data: dict[str, Any]

    @property
    def text(self) -> str:
        """``data`` as JSON text."""
        return json.dumps(self.data, ensure_ascii=False, default=str)


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or say which extra of mg-tools installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is not installed; install it with: pip install 'mg-tools[{extra}]'") from exc


def tool_defs(
    toolkit: Toolkit, *, tools: Iterable[str] | None = None, areas: Iterable[str] | None = None
) -> list[ToolDef]:
    """The tools of what ``toolkit`` exposes to the caller in progress; with ``tools`` and/or ``areas``
    only the operations named or in those areas. ``read_result`` comes along unless ``tools`` leaves it
    out. A name or area that is not registered is a ``ConfigurationError``; one the policy hides is
    left out."""
    names, wanted = set(tools or ()), set(areas or ())
    unknown = sorted(n for n in names if n not in toolkit.registry and n != READ_RESULT)
    unknown += sorted(a for a in wanted if not any(op.area == a for op in toolkit.registry))
    if unknown:
        raise ConfigurationError(f"no such tool or area: {', '.join(unknown)}")
    ops = [op for op in toolkit.operations() if not (names or wanted) or op.name in names or op.area in wanted]
    defs = []
    for op in ops:
        confirm = toolkit.needs_confirmation(op)
        defs.append(ToolDef(op.name, description_of(op), operation_schema(op, confirm=confirm), confirm))
    if not names or READ_RESULT in names:
        defs.append(ToolDef(READ_RESULT, " ".join((ReadResult.__doc__ or "").split()), input_schema(ReadResult)))
    return defs


async def answer(toolkit: Toolkit, tool: ToolDef, arguments: Any) -> Answer:
    """Run one call of ``tool`` through the toolkit's executor; an error a model can act on becomes
    its detail (anything else is raised)."""
    try:
        return Answer(True, await _run(toolkit, tool, arguments))
    except MgToolsError as exc:
        return Answer(False, error_detail(exc, toolkit.redactor))


def answer_sync(toolkit: Toolkit, tool: ToolDef, arguments: Any) -> Answer:
    """:func:`answer`, for code that is not async (on the toolkit's own event loop)."""
    return toolkit.run(answer(toolkit, tool, arguments))


async def _run(toolkit: Toolkit, tool: ToolDef, arguments: Any) -> dict[str, Any]:
    if not isinstance(arguments, Mapping):
        raise InvalidArguments(tool.name, [("", f"arguments must be an object, got {type(arguments).__name__}")])
    arguments = dict(arguments)
    if tool.name == READ_RESULT:
        args = Executor.validate_model(READ_RESULT, ReadResult, arguments)
        return toolkit.executor.read_result(args.result_id, args.offset)
    token = arguments.pop("confirm_token", None) if tool.confirm else None
    return (await toolkit.execute(tool.name, arguments, confirm_token=token)).to_dict()
