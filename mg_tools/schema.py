"""Compact JSON schemas for tools: what every provider accepts, at the fewest tokens.

From the pydantic schema: no titles, ``anyOf [X, null]`` folded to ``X`` (leaving a field out is
how an agent says "none"), ``default: null`` dropped, nested models inlined when used once, and
nothing else lost: types, enums, constraints and descriptions stay.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

__all__ = ["compact", "input_schema"]

_DROP = {"title", "examples"}


@cache
def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The compact input schema of a params model (built once per model)."""
    schema = model.model_json_schema(mode="validation", by_alias=False)
    defs = schema.pop("$defs", {})
    out = compact(schema, defs)
    out.pop("description", None)  # the tool description already says it
    out["type"] = "object"
    return out


def _deref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def compact(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [compact(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    node = _deref(node, defs)
    node = {k: v for k, v in node.items() if k not in _DROP}
    if node.get("default", 0) is None:
        del node["default"]
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        kept = [o for o in any_of if o != {"type": "null"}]
        if len(kept) == 1:
            node = {**{k: v for k, v in node.items() if k != "anyOf"}, **kept[0]}
        else:
            node["anyOf"] = kept
    node = _deref(node, defs)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: compact(prop, defs) for name, prop in value.items()}
        else:
            out[key] = compact(value, defs)
    if out.get("additionalProperties") is False and out.get("type") == "object" and "properties" in out:
        # Unknown fields are rejected by validation anyway; saying so costs tokens on every tool.
        del out["additionalProperties"]
    return out
