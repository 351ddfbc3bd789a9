"""Every operation of operations.tsv (Mailgun's API, one row per endpoint) is a registered tool."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from mg_tools import Toolkit

OPERATIONS = Path(__file__).resolve().parent / "data" / "operations.tsv"


def _shape(path: str) -> str:
    """A path template with its placeholder names erased: Mailgun's names and ours differ."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def _rows() -> list[dict[str, str]]:
    with OPERATIONS.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _tools() -> dict[tuple[str, str], str]:
    # Every registered tool: sensitive writes are not exposed by the default policy, but they exist.
    return {(op.method, _shape(op.path)): op.name for op in Toolkit().registry if op.path}


def test_every_operation_is_a_tool():
    tools = _tools()
    missing = [
        f"{row['group']}: {row['method']} {row['path']}"
        for row in _rows()
        if (row["method"], _shape(row["path"])) not in tools
    ]
    assert not missing, f"{len(missing)} operations have no tool:\n" + "\n".join(missing)
    assert len(_rows()) == 196


def test_the_command_line_lists_all_196_when_sensitive_areas_are_named(capsys):
    from mg_tools.cli import main
    from mg_tools.operation import SENSITIVE_AREAS

    assert main(["tools", "--json", "--grants", ",".join(("*:*", *sorted(SENSITIVE_AREAS)))]) == 0
    listed = json.loads(capsys.readouterr().out)
    endpoints = {(tool["method"], _shape(tool["path"])) for tool in listed if tool["method"]}
    assert {(row["method"], _shape(row["path"])) for row in _rows()} <= endpoints


def test_each_operation_has_one_tool():
    # One endpoint may take a single item as a form and many as JSON: two tools, one per encoding.
    endpoints = Counter((op.method, _shape(op.path), op.encoding) for op in Toolkit().registry if op.path)
    twice = [f"{method} {path} ({encoding})" for (method, path, encoding), count in endpoints.items() if count > 1]
    assert not twice, f"endpoints served by two tools: {twice}"
