"""Compact JSON schemas for tools: what every provider accepts, at the fewest tokens.

From the pydantic schema: no titles, ``anyOf [X, null]`` folded to ``X`` (leaving a field out is
how an agent says "none"), ``default: null`` and ``additionalProperties: true`` dropped, nested
models inlined, required fields listed first. Types, enums, numeric bounds, array sizes, formats and
descriptions stay, but for lower bounds that go without saying (``minimum`` 0 or 1 of an integer,
``minItems`` 1). String length bounds and regex patterns are left out: they cost tokens on almost
every tool, say little to a model, and validation still enforces them, naming the field and the
problem when a call breaks one. ``patternProperties`` (which some providers reject) becomes
``additionalProperties`` with the same value schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from mg_tools.shapes import FULL, FULL_PROPERTY

if TYPE_CHECKING:
    from mg_tools.operation import Operation

__all__ = ["compact", "input_schema", "known", "remember", "tool_schema"]

_DROP = {"title", "examples"}
_STRING_BOUNDS = {"minLength", "maxLength", "pattern"}
_PLAIN = (type(None), bool, int, float, str)
#: Lower bounds every count, page size and list an agent passes keeps anyway.
_OBVIOUS = {"minimum": (0, 1), "minItems": (1,)}
#: The input schema of every params model built (or loaded from :mod:`mg_tools.schema_cache`) so far.
_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


class _Generator(GenerateJsonSchema):
    def encode_default(self, dft: Any) -> Any:
        # Most defaults are None, a number or a string: pydantic would serialize each through a
        # type adapter built for it, a fifth of the start-up cost of an all-mode server.
        return dft if type(dft) in _PLAIN else super().encode_default(dft)


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The compact input schema of a params model (built once per model; do not mutate it)."""
    schema = _SCHEMAS.get(model)
    if schema is None:
        schema = _SCHEMAS[model] = _build(model)
    return schema


def known(model: type[BaseModel]) -> bool:
    """Whether the input schema of ``model`` is already at hand (built or remembered)."""
    return model in _SCHEMAS


def remember(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """Take ``schema`` as the input schema of ``model`` (one :func:`input_schema` built from the same
    source), unless one is already at hand."""
    _SCHEMAS.setdefault(model, schema)


def _build(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation", by_alias=False, schema_generator=_Generator)
    defs = schema.pop("$defs", {})
    out = compact(schema, defs)
    out.pop("description", None)  # the tool description already says it
    out["type"] = "object"
    required = out.get("required", [])
    if required and "properties" in out:
        props = out["properties"]
        out["properties"] = {
            **{k: props[k] for k in required if k in props},
            **{k: v for k, v in props.items() if k not in required},
        }
    return out


def tool_schema(op: Operation) -> dict[str, Any]:
    """The input schema of an operation: its params model's, with ``full`` when the operation has a
    compact shape."""
    schema = input_schema(op.params)
    if not op.compact:
        return schema
    return {**schema, "properties": {**schema.get("properties", {}), FULL: FULL_PROPERTY}}


def _deref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``node`` with the definition it refers to merged in (its own keys win)."""
    if "$ref" not in node:
        return dict(node)
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def compact(node: Any, defs: dict[str, Any]) -> Any:
    """A compact copy of ``node`` (a pydantic JSON schema or a part of one), its references to
    ``defs`` inlined."""
    if isinstance(node, list):
        return [compact(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    node = _deref(node, defs)
    if node.get("default", 0) is None:
        del node["default"]
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        kept = [o for o in any_of if o != {"type": "null"}]
        if len(kept) == 1:  # the one type left may be a reference itself
            node = _deref({**{k: v for k, v in node.items() if k != "anyOf"}, **kept[0]}, defs)
        else:
            node["anyOf"] = kept
    node = {k: v for k, v in node.items() if k not in _DROP and k not in _STRING_BOUNDS}
    patterns = node.pop("patternProperties", None)
    if isinstance(patterns, dict) and "additionalProperties" not in node:
        values = list(patterns.values())
        if len(values) == 1:
            node["additionalProperties"] = values[0]
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: compact(prop, defs) for name, prop in value.items()}
        else:
            out[key] = compact(value, defs)
    for key, values in _OBVIOUS.items():
        if out.get(key) in values and out.get("type") in ("integer", "array") and type(out[key]) is int:
            del out[key]
    if out.get("additionalProperties") is True:
        del out["additionalProperties"]  # the default
    if out.get("additionalProperties") is False and out.get("type") == "object" and "properties" in out:
        # Unknown fields are rejected by validation anyway; saying so costs tokens on every tool.
        del out["additionalProperties"]
    return out
