"""Discover-mode search quality: recall@1 and recall@5 on a tuning set and a held-out set.

The tuning set is ``tests/data/intents.json`` and ``tests/data/intents_tune.json``; the held-out set
``tests/data/intents_heldout.json`` is requests written the same way and split off at random, never
used to tune the search: only its totals are printed. The search runs offline over every registered
operation, as ``search_operations`` does in discover mode with nothing hidden.
``tests/mcp/test_search_quality.py`` holds the same figures to their thresholds.

    .venv/bin/python bench/search_quality.py [--misses] [--json FILE]

``--misses`` lists the tuning set's misses (and how weak answers were), never the held-out ones.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import ROOT, emit, table, verdict

from mg_tools import Toolkit
from mg_tools.search import OperationIndex

DATA = ROOT / "tests" / "data"
SETS = {
    "tune": (DATA / "intents.json", DATA / "intents_tune.json"),
    "heldout": (DATA / "intents_heldout.json",),
}
RECALL_TARGET = 0.95


def load(paths: tuple[Path, ...]) -> list[dict[str, str]]:
    return [item for path in paths for item in json.loads(path.read_text())["intents"]]


def evaluate(index: OperationIndex, intents: list[dict[str, str]]) -> dict[str, Any]:
    """Recall@1 and @5 over ``intents``, per area and in total, with the misses."""
    areas: dict[str, dict[str, int]] = defaultdict(lambda: {"intents": 0, "at_1": 0, "at_5": 0})
    misses, weak = [], 0
    for item in intents:
        want = item["operation"]
        hits = index.search(item["intent"], limit=5)
        found = [hit.operation.name for hit in hits]
        weak += not hits or hits[0].weak
        counts = areas[index.names[want].area]
        counts["intents"] += 1
        counts["at_1"] += found[:1] == [want]
        counts["at_5"] += want in found
        if found[:1] != [want]:
            misses.append({"intent": item["intent"], "want": want, "found": found, "in_top_5": want in found})
    total = {k: sum(a[k] for a in areas.values()) for k in ("intents", "at_1", "at_5")}
    return {
        "areas": {
            area: {**a, "recall_at_1": a["at_1"] / a["intents"], "recall_at_5": a["at_5"] / a["intents"]}
            for area, a in sorted(areas.items())
        },
        "total": {
            **total,
            "recall_at_1": total["at_1"] / total["intents"],
            "recall_at_5": total["at_5"] / total["intents"],
            "weak": weak,
        },
        "misses": misses,
    }


def run() -> dict[str, Any]:
    operations = {op.name: op for op in Toolkit().registry}  # every tool, sensitive ones too
    index = OperationIndex(operations.values())
    sets = {name: evaluate(index, load(paths)) for name, paths in SETS.items()}
    held = sets["heldout"]["total"]["recall_at_5"]
    sets["heldout"].pop("misses")  # never looked at: the held-out set stays held out
    return {
        "operations": len(operations),
        "sets": sets,
        "target_heldout_recall_at_5": RECALL_TARGET,
        "ok": held >= RECALL_TARGET,
    }


def report(result: dict[str, Any], misses: bool = False) -> str:
    rows = [
        [
            name,
            s["total"]["intents"],
            f"{s['total']['recall_at_1']:.1%}",
            f"{s['total']['recall_at_5']:.1%}",
            s["total"]["weak"],
        ]
        for name, s in result["sets"].items()
    ]
    out = [
        table(
            f"Discover-mode search over {result['operations']} tools: recall on hand-written requests",
            ["set", "intents", "recall@1", "recall@5", "answered as weak"],
            rows,
        )
    ]
    target = result["target_heldout_recall_at_5"]
    out.append(f"target: held-out recall@5 at least {target:.0%} -> {verdict(result['ok'])}")
    if misses:
        for m in result["sets"]["tune"]["misses"]:
            mark = "@5 ok" if m["in_top_5"] else "MISSED"
            out.append(f"  [{mark}] {m['intent']!r}: want {m['want']}, got {m['found']}")
    return "\n".join(out)


if __name__ == "__main__":
    outcome = run()
    print(report(outcome, misses="--misses" in sys.argv))
    emit(outcome, sys.argv)
