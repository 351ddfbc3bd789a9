"""Every operation of operations.tsv (Mailgun's API, one row per endpoint) is a registered tool."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from mg_tools import Toolkit

OPERATIONS = Path(__file__).resolve().parent / "data" / "operations.tsv"

#: Groups of operations.tsv not yet served by a tool. Empty when the whole API is covered.
PENDING_GROUPS = frozenset(
    {
        "Domain Keys", "Domain Tracking", "DKIM Security", "Credentials", "Keys", "IP Allowlist",
        "Account Management", "Users", "Subaccounts", "Custom Message Limit",
        "Tags", "Tags New", "Stats", "Bounce Classification",
    }
)  # fmt: skip


def _shape(path: str) -> str:
    """A path template with its placeholder names erased: Mailgun's names and ours differ."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def _rows() -> list[dict[str, str]]:
    with OPERATIONS.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _tools() -> dict[tuple[str, str], str]:
    return {(op.method, _shape(op.path)): op.name for op in Toolkit().operations() if op.path}


def test_every_operation_is_a_tool():
    tools = _tools()
    missing = [
        f"{row['group']}: {row['method']} {row['path']}"
        for row in _rows()
        if row["group"] not in PENDING_GROUPS and (row["method"], _shape(row["path"])) not in tools
    ]
    assert not missing, f"{len(missing)} operations have no tool:\n" + "\n".join(missing)


def test_pending_groups_are_really_pending():
    """A group listed as pending has no tool yet: once one lands, the group leaves the list."""
    tools = _tools()
    served = Counter(row["group"] for row in _rows() if (row["method"], _shape(row["path"])) in tools)
    assert not (PENDING_GROUPS & set(served)), f"served, no longer pending: {sorted(PENDING_GROUPS & set(served))}"
    assert {row["group"] for row in _rows()} >= PENDING_GROUPS


def test_each_operation_has_one_tool():
    # One endpoint may take a single item as a form and many as JSON: two tools, one per encoding.
    endpoints = Counter((op.method, _shape(op.path), op.encoding) for op in Toolkit().operations() if op.path)
    twice = [f"{method} {path} ({encoding})" for (method, path, encoding), count in endpoints.items() if count > 1]
    assert not twice, f"endpoints served by two tools: {twice}"
