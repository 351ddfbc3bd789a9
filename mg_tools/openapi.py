"""An OpenAPI 3.1 document of the REST gateway, built from the registry for the tools of one caller.

Each tool is one operation, ``POST /api/tools/{name}``: its operationId is the tool's name, its tag its
area, its request body the tool's input schema (the one MCP lists), and its responses the result
envelope (200) and the error shapes of every status the gateway answers with. References to ``$defs``
inside an input schema are moved to ``components/schemas``, where OpenAPI resolves them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from mg_tools.operation import Operation

__all__ = ["ERROR_STATUSES", "OPENAPI_VERSION", "build_document", "tool_path"]

OPENAPI_VERSION = "3.1.0"

#: Each error status of a tool call, and when it is answered.
ERROR_STATUSES: dict[int, str] = {
    400: "Invalid arguments, or a body that is not a JSON object; nothing was sent",
    401: "No bearer token, or one that matches no identity",
    403: "Refused by the policy; nothing was sent",
    404: "No tool of that name for this caller",
    409: "Needs confirmation: repeat the same call with confirm_token in the body once a person approved it",
    413: "The body is too large",
    429: "Mailgun's rate limit was reached; wait Retry-After seconds",
    502: "Mailgun answered with an error (its status and message are in the body)",
    503: "The shared state store did not answer; nothing was sent",
    504: "Mailgun did not answer (maybe_sent says whether the request may have reached it)",
}

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {"description": "What Mailgun answered, shaped"},
        "next_cursor": {"type": "string", "description": "Pass back as cursor for the next page"},
        "truncated": {"type": "object", "description": "What was trimmed to the size budget, and how to read it"},
        "untrusted": {"type": "string"},
        "sandbox": {"type": "string"},
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. invalid_arguments or policy_denied"},
        "message": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
        "status": {"type": "integer", "description": "Mailgun's status"},
        "retry_after": {"type": ["number", "null"]},
        "maybe_sent": {"type": "boolean"},
        "confirm_token": {"type": "string"},
        "hint": {"type": "string"},
        "suggestions": {"type": "array", "items": {"type": "string"}},
    },
}


def tool_path(name: str) -> str:
    """Where the gateway runs the tool ``name``."""
    return f"/api/tools/{name}"


def build_document(
    operations: Iterable[Operation],
    *,
    schema_of: Callable[[Operation], dict[str, Any]],
    confirms: Callable[[Operation], bool],
    bearer: bool,
    version: str,
) -> dict[str, Any]:
    """The OpenAPI document of ``operations``: ``schema_of`` gives each one's input schema, ``confirms``
    whether its calls may need confirmation; ``bearer`` declares the bearer token scheme."""
    components: dict[str, Any] = {"Result": RESULT_SCHEMA, "Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    areas: set[str] = set()
    for op in operations:
        areas.add(op.area)
        body = _hoist(schema_of(op), op.name, components)
        paths[tool_path(op.name)] = {"post": _operation(op, body, confirm=confirms(op), bearer=bearer)}
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "mg-tools gateway",
            "version": version,
            "description": "Mailgun's HTTP API as tools: POST the arguments of a tool as a JSON object.",
        },
        "tags": [{"name": area} for area in sorted(areas)],
        "paths": paths,
        "components": {"schemas": components},
    }
    if bearer:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return document


def _operation(op: Operation, body: dict[str, Any], *, confirm: bool, bearer: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _json("The result envelope", "Result")}
    for status, text in ERROR_STATUSES.items():
        if (status == 401 and not bearer) or (status == 409 and not confirm):
            continue
        responses[str(status)] = _json(text, "Error")
    responses["429"] = {
        **responses["429"],
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}},
    }
    operation: dict[str, Any] = {
        "operationId": op.name,
        "tags": [op.area],
        "summary": _summary(op.description),
        "description": op.description,
        "requestBody": {"required": bool(body.get("required")), "content": {"application/json": {"schema": body}}},
        "responses": responses,
    }
    if op.deprecated:
        operation["deprecated"] = True
    return operation


def _json(description: str, component: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _summary(description: str, limit: int = 120) -> str:
    first = description.split(". ", 1)[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _hoist(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` moved to ``components`` (named ``<prefix>.<name>``) and its
    references to them pointed there."""
    defs = schema.get("$defs")
    if not defs:
        return schema
    schema = copy.deepcopy(schema)
    names = {name: f"{prefix}.{name}" for name in schema.pop("$defs")}
    for name, definition in defs.items():
        components[names[name]] = _repoint(copy.deepcopy(definition), names)
    return _repoint(schema, names)


def _repoint(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_repoint(n, names) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _repoint(v, names) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        out["$ref"] = "#/components/schemas/" + names[ref.removeprefix("#/$defs/")]
    return out
