"""Reading the audit trail back: ``mg-tools audit [--file F] [--since 1h|ISO] [--identity X] [--tool Y]``.

Records are read from a JSON-lines file (see :mod:`mg_tools.audit`), filtered, and shown as a table
or as JSON. A line that is not a JSON object (a line cut short by a full disk) is skipped and counted.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mg_tools.errors import ConfigurationError

__all__ = ["Trail", "parse_since", "read", "select", "table"]

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
COLUMNS = ("time", "identity", "tool", "resource", "decision", "outcome", "ms")


@dataclass
class Trail:
    """The records of an audit file, and how many lines could not be read."""

    records: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0


def read(path: str | Path) -> Trail:
    """Every record of the audit file ``path``."""
    trail = Trail()
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    trail.records.append(record)
                elif line.strip():
                    trail.unreadable += 1
    except OSError as exc:
        raise ConfigurationError(f"cannot read the audit file {str(path)!r} ({exc.strerror or exc})") from None
    return trail


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """The moment ``value`` names: a span back from now (``90s``, ``15m``, ``1h``, ``2d``, ``1w``) or an
    ISO 8601 time (UTC when no offset is given)."""
    now = now or datetime.now(UTC)
    ago = _AGO.match(value.strip().lower())
    if ago:
        return now - timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigurationError(
            f"--since {value!r} is neither a span (90s, 15m, 1h, 2d, 1w) nor an ISO time (2026-12-05T10:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select(
    records: Iterable[dict[str, Any]],
    *,
    since: datetime | None = None,
    identity: str | None = None,
    tool: str | None = None,
) -> list[dict[str, Any]]:
    """The records at or after ``since`` whose identity and tool match (globs such as ``delete_*``)."""
    out = []
    for record in records:
        if since is not None and _time(record) < since:
            continue
        if identity and not fnmatch.fnmatchcase(str(record.get("identity", "")), identity):
            continue
        if tool and not fnmatch.fnmatchcase(str(record.get("tool", "")), tool):
            continue
        out.append(record)
    return out


def table(records: Iterable[dict[str, Any]]) -> str:
    """The records as a plain-text table, one line each."""
    rows = [COLUMNS] + [_row(r) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + f"  {row[-1]:>6}\n"
        for row in rows
    )


def _row(record: dict[str, Any]) -> tuple[str, ...]:
    decision = record.get("decision") or {}
    shown = str(decision.get("result", "?"))
    confirmation = record.get("confirmation")
    if isinstance(confirmation, dict):
        shown += f" ({confirmation.get('how')}"
        shown += f": {confirmation['answer']})" if "answer" in confirmation else ")"
    if record.get("dry_run"):
        shown += " [dry run]"
    parent = record.get("parent")
    tool = str(record.get("tool", "?")) + (f" < {parent.get('tool')}" if isinstance(parent, dict) else "")
    duration = record.get("duration_ms")
    return (
        str(record.get("time", ""))[:19].replace("T", " "),
        str(record.get("identity", "")),
        tool,
        str(record.get("resource", "")),
        shown,
        _outcome(record.get("outcome") or {}),
        f"{duration:.0f}" if isinstance(duration, (int, float)) else "",
    )


def _outcome(outcome: dict[str, Any]) -> str:
    status = str(outcome.get("status", "?"))
    if status == "error":
        return f"error {outcome.get('error', '')}"
    detail = outcome.get("id")
    return f"{status} {detail}" if detail else status


def _time(record: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(record.get("time", "")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
