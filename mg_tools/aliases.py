"""Mailgun's own field names, accepted as input beside the tool's names.

People paste from Mailgun's documentation and SDKs: ``from``, ``o:tag``, ``o:testmode``,
``h:Reply-To``, ``v:order_id``, ``t:variables``, ``recipient-variables``, ``amp-html``. Before
validation, :func:`accept_wire_names` renames each name Mailgun uses for a field (its
``serialization_alias``, and the names of its ``validation_alias``) to the field, moves prefixed keys
(``h:X-Header``) into their dict field, and takes values in Mailgun's shape: one value where the field
holds a list (``"o:tag": "news"``), JSON text where it holds an object (``"t:variables": "{...}"``),
a whole number where it holds text (``"t:version": 2``).
Schemas keep showing only the tool's names; a name given twice (``sender`` and ``from``) is refused.

A Mailgun name that is also the name of another field of the same tool (``update_list_member`` takes
the member as ``address``, Mailgun's name for ``new_address``) keeps meaning that field.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import AliasChoices, BaseModel

from mg_tools.types import _Marker

__all__ = ["WireNames", "accept_wire_names", "accepts", "wire_names"]


@dataclass(frozen=True)
class WireNames:
    """The names a params model accepts besides its field names."""

    #: Mailgun's name -> the field it fills.
    fields: dict[str, str]
    #: A key prefix (``h:``, ``v:``) -> the dict field its keys join.
    prefixes: dict[str, str]
    #: Fields holding a list: one value given under Mailgun's name becomes a list of one.
    lists: frozenset[str]
    #: Fields sent as JSON text: JSON text given for them is read as the object it encodes.
    json_text: frozenset[str]
    #: Fields holding text and no number: a whole number given for them is its decimal text.
    text: frozenset[str]

    def accepts(self, key: str) -> bool:
        """Whether ``key`` names a field by Mailgun's name, or is a prefixed dict entry (``h:X-Header``)."""
        return key in self.fields or self.entry_of(key) is not None

    def entry_of(self, key: str) -> tuple[str, str] | None:
        """``(dict field, entry)`` for a prefixed key such as ``h:X-Header``; None for any other key."""
        for prefix, name in self.prefixes.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                return name, key[len(prefix) :]
        return None


@cache
def wire_names(model: type[BaseModel]) -> WireNames:
    """Mailgun's names for the fields of ``model`` (computed once per model)."""
    own = set(model.model_fields)
    candidates: dict[str, set[str]] = {}
    prefixes: dict[str, str] = {}
    lists, json_text, text = set(), set(), set()
    for name, info in model.model_fields.items():
        names = {info.serialization_alias, info.alias}
        if isinstance(info.validation_alias, AliasChoices):
            names.update(c for c in info.validation_alias.choices if isinstance(c, str))
        elif isinstance(info.validation_alias, str):
            names.add(info.validation_alias)
        for wire in names - own - {None}:
            candidates.setdefault(wire, set()).add(name)
        marks = {m.kind: m.arg for m in info.metadata if isinstance(m, _Marker)}
        if marks.get("prefixed"):  # not an empty prefix: that dict's keys are plain field names
            prefixes[marks["prefixed"]] = name
        if _holds(info.annotation, list) and not _holds(info.annotation, str):
            lists.add(name)
        if "json_text" in marks and not _holds(info.annotation, str):
            json_text.add(name)
        if _holds(info.annotation, str) and not any(_holds(info.annotation, t) for t in (int, float, bool)):
            text.add(name)
    fields = {wire: next(iter(names)) for wire, names in candidates.items() if len(names) == 1}
    return WireNames(fields, prefixes, frozenset(lists), frozenset(json_text), frozenset(text))


def _holds(annotation: Any, kind: type) -> bool:
    """Whether ``annotation`` (through ``Annotated``, ``Optional`` and unions) admits a ``kind``."""
    if annotation is kind or typing.get_origin(annotation) is kind:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _holds(typing.get_args(annotation)[0], kind)
    if origin in (typing.Union, types.UnionType):
        return any(_holds(arg, kind) for arg in typing.get_args(annotation))
    return False


def accept_wire_names(
    model: type[BaseModel], arguments: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str]]]:
    """``arguments`` with Mailgun's names turned into the field names of ``model``.

    Returns the arguments, which name the caller used for each renamed field (to name it so in
    errors), and the problems found: a field given under two names, a header or variable given both
    in its dict and as a prefixed key.
    """
    if not model.model_config.get("populate_by_name"):
        return arguments, {}, []
    names = wire_names(model)
    out: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    entries: list[tuple[str, str, str, Any]] = []
    for key, value in arguments.items():
        if not isinstance(key, str) or key in model.model_fields or not names.accepts(key):
            field = key
        elif key in names.fields:
            field = names.fields[key]
            if field in names.lists and value is not None and not isinstance(value, list):
                value = [value]
        else:
            entries.append((key, *names.entry_of(key), value))  # type: ignore[misc]
            continue
        if field in out:
            first = given_as.get(field, field)
            problems.append((field, f"given twice, as {first} and as {key} (Mailgun's name for it): give one"))
            continue
        out[field] = value
        if key != field:
            given_as[field] = key
    for key, field, entry, value in entries:
        held = out.get(field)
        if held is None:
            held = {}
        elif not isinstance(held, dict):
            continue  # the dict field itself is malformed: validation says so
        if entry in held:
            problems.append((field, f"{entry} given twice, in {field} and as {key}: give one"))
            continue
        out[field] = {**held, entry: value}
    for field in names.json_text & out.keys():
        if isinstance(out[field], str):
            out[field] = _json(out[field])
    for field in names.text & out.keys():
        if type(out[field]) is int:  # not a bool; Mailgun's examples give versions and ids as numbers
            out[field] = str(out[field])
    return out, given_as, problems


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text  # not JSON: validation says the field wants an object


def accepts(model: type[BaseModel], key: str) -> bool:
    """Whether ``model`` accepts ``key`` as an argument name (a field, or Mailgun's name for one)."""
    return key in model.model_fields or wire_names(model).accepts(key)
