"""Discover-mode search quality: recall@1 and recall@5 per area on hand-written intents.

The intents (tests/data/intents.json) are plain-language requests, each mapped to the operation
that serves it; tests/mcp/test_search_quality.py fails below 95% recall@5 on the same file. The
search runs offline over every registered operation, as ``search_operations`` does in discover
mode with nothing hidden.

    .venv/bin/python bench/search_quality.py [--misses] [--json FILE]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

from _common import ROOT, emit, table, verdict

from mg_tools import Toolkit
from mg_tools.search import OperationIndex

INTENTS = ROOT / "tests" / "data" / "intents.json"
RECALL_TARGET = 0.95


def run() -> dict[str, Any]:
    toolkit = Toolkit()
    operations = {op.name: op for op in toolkit.operations()}
    index = OperationIndex(operations.values())
    intents = json.loads(INTENTS.read_text())["intents"]
    areas: dict[str, dict[str, int]] = defaultdict(lambda: {"intents": 0, "at_1": 0, "at_5": 0})
    misses = []
    for item in intents:
        want = item["operation"]
        found = [hit.operation.name for hit in index.search(item["intent"], limit=5)]
        counts = areas[operations[want].area]
        counts["intents"] += 1
        counts["at_1"] += found[:1] == [want]
        counts["at_5"] += want in found
        if found[:1] != [want]:
            misses.append({"intent": item["intent"], "want": want, "found": found, "in_top_5": want in found})
    total = {k: sum(a[k] for a in areas.values()) for k in ("intents", "at_1", "at_5")}
    recall_5 = total["at_5"] / total["intents"]
    return {
        "operations": len(operations),
        "areas": {
            area: {
                **a,
                "recall_at_1": a["at_1"] / a["intents"],
                "recall_at_5": a["at_5"] / a["intents"],
                "operations": sum(op.area == area for op in operations.values()),
            }
            for area, a in sorted(areas.items())
        },
        "total": {**total, "recall_at_1": total["at_1"] / total["intents"], "recall_at_5": recall_5},
        "target_recall_at_5": RECALL_TARGET,
        "ok": recall_5 >= RECALL_TARGET,
        "misses": misses,
    }


def report(result: dict[str, Any], misses: bool = False) -> str:
    rows = [
        [area, a["operations"], a["intents"], f"{a['recall_at_1']:.0%}", f"{a['recall_at_5']:.0%}"]
        for area, a in result["areas"].items()
    ]
    t = result["total"]
    rows.append(["all", result["operations"], t["intents"], f"{t['recall_at_1']:.1%}", f"{t['recall_at_5']:.1%}"])
    out = [
        table(
            "Discover-mode search: recall on hand-written intents",
            ["area", "operations", "intents", "recall@1", "recall@5"],
            rows,
        )
    ]
    out.append(f"target: recall@5 at least {result['target_recall_at_5']:.0%} -> {verdict(result['ok'])}")
    if misses:
        for m in result["misses"]:
            mark = "@5 ok" if m["in_top_5"] else "MISSED"
            out.append(f"  [{mark}] {m['intent']!r}: want {m['want']}, got {m['found']}")
    return "\n".join(out)


if __name__ == "__main__":
    outcome = run()
    print(report(outcome, misses="--misses" in sys.argv))
    emit(outcome, sys.argv)
