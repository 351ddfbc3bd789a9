"""Reference documentation generated from the registry (docs/tools.md)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from mg_tools.operation import Operation

__all__ = ["tools_markdown"]

HEADER = """# Tools reference

Generated from the registry by `mg-tools tools --markdown > docs/tools.md`; a test fails when it is
out of date. Each tool is one Mailgun operation (or, where the path says *composite*, one answer
built from several read operations). Permission tags are `area:access`.

"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def tools_markdown(operations: Iterable[Operation]) -> str:
    ops = sorted(operations, key=lambda op: (op.area, op.name))
    lines = [HEADER, f"{len(ops)} tools.\n"]
    for area, group in groupby(ops, key=lambda op: op.area):
        group = list(group)
        lines.append(f"\n## {area} ({len(group)})\n\n| tool | access | request | description |\n|---|---|---|---|\n")
        for op in group:
            request = f"`{op.method} {op.path}`" if op.path else "*composite*"
            notes = []
            if op.deprecated:
                notes.append("**deprecated**")
            if op.returns_secret:
                notes.append("returns secrets (redacted unless granted)")
            if op.untrusted:
                notes.append("returns text from email senders, marked untrusted")
            description = _cell(op.description) + (f" ({'; '.join(notes)})" if notes else "")
            lines.append(f"| `{op.name}` | {op.access} | {request} | {description} |\n")
    return "".join(lines)
