"""Compact shapes: the fields of each list item an answer shows unless the whole record is asked for.

An operation declares its compact shape as dotted paths into an item (``Operation.compact``, e.g.
``("timestamp", "event", "delivery-status.code")``); the items keep those fields, nested as they were.
The executor applies the shape after the response, so ``full`` never reaches Mailgun.
"""

from __future__ import annotations

from typing import Any

from mg_tools.results import items_at, replaced

__all__ = ["FULL", "FULL_PROPERTY", "project", "shown"]

#: The argument that asks for whole records, on every operation with a compact shape.
FULL = "full"
FULL_PROPERTY: dict[str, Any] = {"type": "boolean", "description": "Whole records, not the compact fields"}


def project(item: Any, fields: tuple[str, ...]) -> Any:
    """``item`` with only the values at ``fields`` (dotted paths); anything but a dict is kept whole."""
    if not isinstance(item, dict):
        return item
    out: dict[str, Any] = {}
    for path in fields:
        *parents, last = path.split(".")
        source = item
        for key in parents:
            source = source.get(key) if isinstance(source, dict) else None
        if not isinstance(source, dict) or source.get(last) in (None, "", [], {}):
            continue
        target = out
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = source[last]
    return out


def shown(data: Any, items_key: str, *, offset: int = 0, fields: tuple[str, ...] = ()) -> Any:
    """``data`` with its list at ``items_key`` starting after ``offset`` items, each in the compact shape
    ``fields`` (whole when there are none)."""
    items = items_at(data, items_key)
    if not isinstance(items, list) or not (offset or fields):
        return data
    items = items[offset:]
    if fields:
        items = [project(item, fields) for item in items]
    return replaced(data, items_key, items)
