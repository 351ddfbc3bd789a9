"""Discover-mode search quality on plain-language intents (tests/data/intents.json).

Each intent is a request written by hand and the one operation that serves it, across every area
that has tools. The search must put that operation in its first five results for at least 95% of
them; bench/search_quality.py prints recall@1 and @5 per area from the same file. When this fails,
improve mg_tools/search.py (synonyms, weighting), not the intents.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from reliability.support import ALL_ALLOWED

from mg_tools import Toolkit
from mg_tools.search import OperationIndex

INTENTS = Path(__file__).resolve().parents[1] / "data" / "intents.json"
RECALL_AT_5 = 0.95
MIN_INTENTS, MIN_PER_AREA = 100, 2


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return Toolkit(policy=ALL_ALLOWED)  # an operator may grant any tool, sensitive ones by name


@pytest.fixture(scope="module")
def intents() -> list[dict[str, str]]:
    return json.loads(INTENTS.read_text())["intents"]


def test_intents_cover_every_area(toolkit, intents):
    names = {op.name: op for op in toolkit.operations()}
    unknown = sorted({i["operation"] for i in intents} - names.keys())
    assert not unknown, f"intents name operations that do not exist: {unknown}"
    assert len(intents) >= MIN_INTENTS
    assert len({i["intent"].lower() for i in intents}) == len(intents), "duplicate intents"
    per_area = Counter(names[i["operation"]].area for i in intents)
    thin = {area: per_area[area] for area in toolkit.registry.areas if per_area[area] < MIN_PER_AREA}
    assert not thin, f"areas with fewer than {MIN_PER_AREA} intents: {thin}"


def test_recall_at_5(toolkit, intents):
    index = OperationIndex(toolkit.operations())
    missed = []
    for item in intents:
        found = [hit.operation.name for hit in index.search(item["intent"], limit=5)]
        if item["operation"] not in found:
            missed.append(f"{item['intent']!r}: want {item['operation']}, got {found}")
    recall = 1 - len(missed) / len(intents)
    assert recall >= RECALL_AT_5, (
        f"recall@5 {recall:.1%} < {RECALL_AT_5:.0%}; improve mg_tools/search.py. Missed:\n" + "\n".join(missed)
    )
