"""What a model is shown of the tools, whichever front end serves them: each tool's name, description
and input schema, and the JSON of its answers and errors.

The MCP server and the agent-framework adapters (:mod:`mg_tools.adapters`) build their tools from these,
so a model sees the same tool, and the same error, however it reaches an operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from mg_tools.errors import ConfirmationRequired, MgToolsError
from mg_tools.schema import tool_schema
from mg_tools.types import Params

if TYPE_CHECKING:
    from mg_tools.log import Redactor
    from mg_tools.operation import Operation

__all__ = ["CONFIRM_HINT", "CONFIRM_PROPERTY", "ReadResult", "description_of", "error_detail", "operation_schema"]

CONFIRM_HINT = (
    "Ask the user to approve this exact call before repeating it with this confirm_token; never confirm "
    "on their behalf."
)

CONFIRM_PROPERTY: dict[str, Any] = {
    "type": "string",
    "description": "From a confirmation_required answer, once the user approved this exact call",
}


class ReadResult(Params):
    """Read a result that was trimmed to the size budget, as JSON text in chunks: pass the
    result_id from its `truncated` marker, then each next_offset until it is null."""

    result_id: str = Field(max_length=64)
    offset: int = Field(0, ge=0)


def description_of(op: Operation) -> str:
    """The tool description of an operation (marked when Mailgun deprecates the endpoint)."""
    return ("[DEPRECATED] " if op.deprecated else "") + op.description


def operation_schema(op: Operation, *, confirm: bool) -> dict[str, Any]:
    """The tool input schema of an operation, with ``confirm_token`` when the policy asks for it."""
    schema = tool_schema(op)
    if confirm:
        schema = {**schema, "properties": {**schema.get("properties", {}), "confirm_token": CONFIRM_PROPERTY}}
    return schema


def error_detail(exc: MgToolsError, redactor: Redactor) -> dict[str, Any]:
    """What a model is told of an error: its ``to_dict()``, redacted; a confirmation request also
    carries its token and what to do with it."""
    detail = redactor.redact(exc.to_dict())
    if isinstance(exc, ConfirmationRequired):
        detail["confirm_token"] = exc.token
        detail["hint"] = CONFIRM_HINT
    return detail
