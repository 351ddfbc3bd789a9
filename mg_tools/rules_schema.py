"""The Cedar schema of the registry: what a policy may say about each tool, and the request a call becomes.

Entity types: ``Identity`` (an enumeration of the known identities, so a misspelled one fails
validation), ``Domain`` and ``Account``. Every tool is an action, member of the action groups of its
access (``read``, ``write``, ``delete``, ``send``) and of its area (``messages``, ``domains``, ...).
It applies to ``Identity`` principals and to ``Domain`` resources when it takes a ``domain`` argument,
``Account`` ones otherwise (both when the domain is optional).

Each action's context holds ``args``, a record typed from the tool's params model (field names as the
tool names them): strings (enums and date-times too), integers as ``Long``, booleans, lists as
``Set``, nested models as records; a field that may be left out or null is optional (test it with
``has``). Free-form maps and floating-point numbers have no faithful Cedar type: they are left out of
the schema and of the request. Sends add ``recipients``, ``recipient_domains``, ``recipient_count`` and
``sender_domain``; every action has ``usage`` and ``dry_run``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from mg_tools.operation import Access, Operation

__all__ = ["USAGE_FIELDS", "args_type", "cedar_schema", "context_type", "project", "resource_types"]

#: The counters of ``context.usage`` (see :mod:`mg_tools.usage`).
USAGE_FIELDS = ("calls_1h", "calls_24h", "recipients_1h", "recipients_24h")
_LONG = {"type": "Long"}
_STRING = {"type": "String"}
_STRINGS = {"type": "Set", "element": _STRING}
_LONG_RANGE = (-(2**63), 2**63 - 1)
#: What :func:`project` returns for a value the type cannot hold.
_SKIP = object()


def resource_types(op: Operation) -> tuple[str, ...]:
    """The entity types a call of ``op`` can act on."""
    field = op.params.model_fields.get("domain")
    if field is None:
        return ("Account",)
    return ("Domain",) if field.is_required() else ("Domain", "Account")


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _nullable(schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    return any(_deref(b, defs).get("type") == "null" for b in _deref(schema, defs).get("anyOf", ()))


def _literal_type(values: list[Any]) -> dict[str, Any] | None:
    for kind, cedar in ((str, _STRING), (bool, {"type": "Boolean"}), (int, _LONG)):
        if values and all(isinstance(v, kind) and (kind is bool or not isinstance(v, bool)) for v in values):
            return cedar
    return None


def _cedar_type(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The Cedar type of a JSON schema, or None when Cedar has no faithful one."""
    schema = _deref(schema, defs)
    if "anyOf" in schema:
        types = [_cedar_type(b, defs) for b in schema["anyOf"] if _deref(b, defs).get("type") != "null"]
        return types[0] if types and types[0] is not None and all(t == types[0] for t in types) else None
    if "enum" in schema or "const" in schema:
        return _literal_type(schema.get("enum", [schema.get("const")]))
    kind = schema.get("type")
    if kind == "string":
        return _STRING
    if kind == "integer":
        return _LONG
    if kind == "boolean":
        return {"type": "Boolean"}
    if kind == "array":
        element = _cedar_type(schema.get("items", {}), defs)
        return None if element is None else {"type": "Set", "element": element}
    if kind == "object" and "properties" in schema:
        return _record(schema, defs)
    return None


def _record(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    attributes = {}
    for name, prop in schema["properties"].items():
        cedar = _cedar_type(prop, defs)
        if cedar is None:
            continue
        # A field with a default other than null is always in the arguments, unless null can replace it.
        always = name in required or (_deref(prop, defs).get("default") is not None and not _nullable(prop, defs))
        attributes[name] = {**cedar, "required": always}
    return {"type": "Record", "attributes": attributes}


def args_type(op: Operation) -> dict[str, Any]:
    """The Cedar record type of ``op``'s arguments (shared: do not change it)."""
    return _model_type(op.params)


@functools.cache
def _model_type(model: type[BaseModel]) -> dict[str, Any]:
    # Made once per params model: pydantic's JSON schema takes about a millisecond a model.
    schema = model.model_json_schema(mode="serialization", by_alias=False)
    return _record({"properties": {}, **schema}, schema.get("$defs", {}))


def context_type(op: Operation) -> dict[str, Any]:
    """The Cedar type of ``op``'s request context."""
    attributes: dict[str, Any] = {
        "args": args_type(op),
        "usage": {"type": "Record", "attributes": dict.fromkeys(USAGE_FIELDS, _LONG)},
        "dry_run": {"type": "Boolean"},
    }
    if op.access is Access.SEND:
        attributes.update(recipients=_STRINGS, recipient_domains=_STRINGS, recipient_count=_LONG, sender_domain=_STRING)
    return {"type": "Record", "attributes": attributes}


def cedar_schema(operations: Iterable[Operation], identities: Iterable[str]) -> dict[str, Any]:
    """The Cedar schema (JSON form) of ``operations`` for the principals ``identities``."""
    ops = list(operations)
    groups = {str(a) for a in Access} | {op.area for op in ops}
    actions: dict[str, Any] = {group: {} for group in sorted(groups)}
    for op in ops:
        actions[op.name] = {
            "memberOf": [{"id": str(op.access)}, {"id": op.area}],
            "appliesTo": {
                "principalTypes": ["Identity"],
                "resourceTypes": list(resource_types(op)),
                "context": context_type(op),
            },
        }
    entities = {"Identity": {"enum": sorted(set(identities))}, "Domain": {}, "Account": {}}
    return {"": {"entityTypes": entities, "actions": actions}}


def project(value: Any, cedar: dict[str, Any]) -> Any:
    """``value`` (JSON data) reduced to what the Cedar type ``cedar`` holds: record attributes the type
    does not declare are dropped; a value the type cannot hold gives ``_SKIP``."""
    kind = cedar["type"]
    if kind == "String":
        return value if isinstance(value, str) else _SKIP
    if kind == "Long":
        ok = isinstance(value, int) and not isinstance(value, bool) and _LONG_RANGE[0] <= value <= _LONG_RANGE[1]
        return value if ok else _SKIP
    if kind == "Boolean":
        return value if isinstance(value, bool) else _SKIP
    if kind == "Set":
        if not isinstance(value, list):
            return _SKIP
        items = [project(v, cedar["element"]) for v in value]
        return _SKIP if any(i is _SKIP for i in items) else items
    if not isinstance(value, dict):
        return _SKIP
    out = {}
    for name, attribute in cedar["attributes"].items():
        if name in value:
            item = project(value[name], attribute)
            if item is not _SKIP:
                out[name] = item
    return out
