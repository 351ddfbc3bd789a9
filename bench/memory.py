"""Memory: resident size of an idle MCP server, and after 10,000 calls.

One process: a toolkit on the in-process sandbox, its MCP server, and the SDK's client in memory.
RSS (from /proc) is read when the server is idle (built, tools listed, no call made yet), after
100 calls, and after all the calls (a read operation, ``get_domain``), each after a garbage
collection. Target: growth from idle under 10%. ``--trace`` also prints where Python allocations
grew between 100 calls and the end (tracemalloc), to find a leak.

    .venv/bin/python bench/memory.py [--calls N] [--trace] [--json FILE]
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
import tracemalloc
from typing import Any

from _common import ARGUMENTS, OPERATION, arg, emit, rss_bytes, table, verdict

TARGET = 0.10
TIME_LIMIT = 300.0


def _rss() -> int:
    gc.collect()
    return rss_bytes()


async def measure(calls: int, trace: bool) -> dict[str, Any]:
    from mcp import Client

    from mg_tools import Toolkit
    from mg_tools.mcp_server import build_server

    logging.getLogger("mcp").setLevel(logging.ERROR)
    toolkit = Toolkit(sandbox=True)
    async with Client(build_server(toolkit)) as client:
        await client.list_tools()
        idle = _rss()
        for _ in range(100):
            await client.call_tool(OPERATION, ARGUMENTS)
        warm = _rss()
        if trace:
            tracemalloc.start(10)
            before = tracemalloc.take_snapshot()
        started = time.monotonic()
        done = 100
        while done < calls and time.monotonic() - started < TIME_LIMIT:
            result = await client.call_tool(OPERATION, ARGUMENTS)
            assert not result.is_error
            done += 1
        elapsed = time.monotonic() - started
        end = _rss()
        growth_top: list[str] = []
        if trace:
            after = tracemalloc.take_snapshot()
            growth_top = [str(s) for s in after.compare_to(before, "traceback")[:10]]
            tracemalloc.stop()
    await toolkit.aclose()
    mib = 1024 * 1024
    growth = (end - idle) / idle
    return {
        "operation": OPERATION,
        "calls": done,
        "seconds": round(elapsed, 1),
        "idle_mib": round(idle / mib, 1),
        "after_100_mib": round(warm / mib, 1),
        "end_mib": round(end / mib, 1),
        "growth_from_idle": round(growth, 4),
        "growth_from_100": round((end - warm) / warm, 4),
        "target": TARGET,
        "ok": growth < TARGET,
        "tracemalloc_top": growth_top,
    }


def run(calls: int = 10_000, trace: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(calls, trace))


def report(result: dict[str, Any]) -> str:
    out = [
        table(
            f"Memory of the MCP server in memory ({result['operation']}, {result['calls']:,} calls, "
            f"{result['seconds']} s)",
            ["idle MiB", "after 100 calls MiB", "at the end MiB", "growth from idle", "growth after warm-up"],
            [
                [
                    result["idle_mib"],
                    result["after_100_mib"],
                    result["end_mib"],
                    f"{result['growth_from_idle']:.1%}",
                    f"{result['growth_from_100']:.1%}",
                ]
            ],
        )
    ]
    out.append(f"target: growth from idle under {result['target']:.0%} -> {verdict(result['ok'])}")
    out += result["tracemalloc_top"]
    return "\n".join(out)


if __name__ == "__main__":
    outcome = run(arg(sys.argv, "--calls", 10_000), trace="--trace" in sys.argv)
    print(report(outcome))
    emit(outcome, sys.argv)
