"""Recipients of a bulk send: read from a CSV or JSON-lines file or given as a list, checked, batched.

Every problem is found before anything is sent, and named by its line (or list position).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BATCH_SIZE", "BadRecipients", "Recipient", "batches", "digest", "parse_recipients"]

#: Mailgun takes at most this many recipients in one send.
BATCH_SIZE = 1000
#: One plain address (no display name, no list): what a key of recipient-variables must be.
_ADDRESS = re.compile(r"^[^@\s,;<>\"()\[\]]+@[^@\s,;<>\"()\[\]]+\.[^@\s,;<>\"()\[\]]+$")
_ADDRESS_COLUMNS = ("address", "email")
#: Problems listed in one error at most; the rest are counted.
_MAX_PROBLEMS = 10


class BadRecipients(ValueError):
    """Recipients that cannot be sent to; ``problems`` lists ``(where, what)``, ``where`` naming the line."""

    def __init__(self, problems: Sequence[tuple[str, str]], more: int = 0) -> None:
        self.problems = list(problems)
        text = "; ".join(f"{where}: {what}" for where, what in self.problems)
        super().__init__(f"{text}{f'; and {more} more problems' if more else ''}; nothing was sent")


@dataclass(frozen=True)
class Recipient:
    """One recipient and the values of its ``%recipient.NAME%`` placeholders."""

    address: str
    variables: dict[str, Any] = field(default_factory=dict)


def parse_recipients(data: bytes, name: str) -> list[Recipient]:
    """The recipients of a file's ``data``: JSON lines when ``name`` ends in ``.jsonl``/``.ndjson``,
    else CSV with a header row (an ``address`` or ``email`` column, the other columns variables)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRecipients([(name, f"not UTF-8 text (byte {exc.start})")]) from None
    if not text.strip():
        raise BadRecipients([(name, "the file is empty")])
    if name.lower().endswith((".jsonl", ".ndjson")):
        rows = _json_lines(text)
    else:
        rows = _csv_rows(text)
    return checked(rows)


def _json_lines(text: str) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((f"line {number}", json.loads(line)))
        except ValueError as exc:
            raise BadRecipients([(f"line {number}", f"not JSON ({exc.msg})")]) from None
    return rows


def _csv_rows(text: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip() for column in next(reader)]
    column = next((c for c in _ADDRESS_COLUMNS if c in (h.lower() for h in header)), None)
    if column is None:
        raise BadRecipients([("line 1", "the header has no 'address' (or 'email') column")])
    key = next(h for h in header if h.lower() == column)
    rows: list[tuple[str, Any]] = []
    for values in reader:
        number = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise BadRecipients([(f"line {number}", f"{len(values)} fields where the header has {len(header)}")])
        row = dict(zip(header, values, strict=True))
        rows.append((f"line {number}", {"address": row.pop(key), **row}))
    return rows


def recipients_of(items: Iterable[Any]) -> list[Recipient]:
    """Recipients given as a list of ``{"address": ..., "variables": {...}}`` (or Recipient)."""
    rows = []
    for index, item in enumerate(items):
        if isinstance(item, Recipient):
            item = {"address": item.address, **item.variables}
        elif isinstance(item, dict):
            item = {"address": item.get("address"), **(item.get("variables") or {})}
        rows.append((f"recipients[{index}]", item))
    return checked(rows)


def checked(rows: Sequence[tuple[str, Any]]) -> list[Recipient]:
    """``rows`` (where, ``{"address": ..., **variables}``) as recipients, or BadRecipients naming every
    malformed address and repeated recipient (addresses compare case-insensitively)."""
    if not rows:
        raise BadRecipients([("recipients", "no recipients")])
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    out: list[Recipient] = []
    for where, row in rows:
        if not isinstance(row, dict):
            problems.append((where, "must be an object with an 'address'"))
            continue
        values = dict(row)
        address = values.pop("address", None)
        address = address.strip() if isinstance(address, str) else address
        if not isinstance(address, str) or not _ADDRESS.match(address):
            problems.append((where, f"not an email address: {str(address)[:80]!r}"))
            continue
        first = seen.setdefault(address.lower(), where)
        if first != where:
            problems.append((where, f"{address} is already a recipient ({first})"))
            continue
        out.append(Recipient(address, values))
    if problems:
        raise BadRecipients(
            problems[:_MAX_PROBLEMS], len(problems) - _MAX_PROBLEMS if len(problems) > _MAX_PROBLEMS else 0
        )
    return out


def batches(recipients: Sequence[Recipient], size: int = BATCH_SIZE) -> list[tuple[int, int]]:
    """The ``[start, end)`` ranges of the batches: the same recipients always give the same batches."""
    return [(start, min(start + size, len(recipients))) for start in range(0, len(recipients), size)]


def digest(value: Any) -> str:
    """A SHA-256 of ``value`` as canonical JSON: equal inputs, equal digests."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
