"""mg-tools' own work per call, stage by stage, apart from the HTTP round trip.

One ``get_domain`` call taken apart: validating the arguments, the policy decision and building the
request (``Executor.prepare``), shaping the answer (``Executor.shape``: decoding, redaction, cursor,
budget) and turning the result into an MCP answer (``McpTools._result``). The answer is a real one,
fetched once from an in-process sandbox; no request is sent while timing. Audit off, default
policy. The stages alternate in blocks; p50 and p99 of each and of their sum per call. Target: the
sum at most 0.3 ms at p50.

For reference, a last row times the whole tool call as the MCP server runs it (``McpTools.call_tool``)
against an httpx transport that answers at once with the same response: it adds the client's retry
loop and httpx's own handling of the request and response, but no network.

    .venv/bin/python bench/stages.py [--calls N] [--json FILE]
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import ARGUMENTS, OPERATION, arg, emit, ms, percentile, table, verdict

TARGET_MS = 0.3
BLOCK = 100


def _setup() -> tuple[Any, Any, Any]:
    from mg_tools import Toolkit
    from mg_tools.mcp_server import McpTools

    toolkit = Toolkit(sandbox=True)
    tools = McpTools(toolkit)
    prepared = toolkit.executor.prepare(OPERATION, ARGUMENTS)
    response = asyncio.run(toolkit.executor.client.send(prepared.request, idempotent=True))
    response.read()
    return toolkit, tools, response


def _whole_call(response: Any, calls: int) -> list[float]:
    """``McpTools.call_tool`` per call, against a transport answering at once with ``response``."""
    import httpx
    import mcp_types as types

    from mg_tools import Toolkit
    from mg_tools.mcp_server import McpTools

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)

    toolkit = Toolkit(api_key="bench-key", base_url="http://mailgun.invalid", transport=httpx.MockTransport(answer))
    tools = McpTools(toolkit)
    params = types.CallToolRequestParams(name=OPERATION, arguments=ARGUMENTS)

    async def loop() -> list[float]:
        times = []
        clock = time.perf_counter
        for i in range(calls + 200):
            started = clock()
            result = await tools.call_tool(None, params)
            if i >= 200:
                times.append(clock() - started)
        assert not result.is_error, result
        await toolkit.aclose()
        return times

    return asyncio.run(loop())


def _summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(percentile(times, 50)), "p99_ms": ms(percentile(times, 99))}


def run(calls: int = 5000) -> dict[str, Any]:
    toolkit, tools, response = _setup()
    executor = toolkit.executor
    state: dict[str, Any] = {}

    def prepare() -> None:
        state["prepared"] = executor.prepare(OPERATION, ARGUMENTS)

    def shape() -> None:
        prepared = state["prepared"]
        state["result"] = executor.shape(prepared.operation, prepared.request, response)

    def answer() -> None:
        tools._result(state["result"])

    stages: dict[str, Callable[[], None]] = {
        "validate, policy, build (prepare)": prepare,
        "shape (decode, redact, cursor, budget)": shape,
        "MCP answer": answer,
    }
    times: dict[str, list[float]] = {name: [] for name in stages}
    totals: list[float] = []
    clock = time.perf_counter
    for _ in range(200):
        for fn in stages.values():
            fn()
    while len(totals) < calls:
        for _ in range(BLOCK):
            total = 0.0
            for name, fn in stages.items():
                started = clock()
                fn()
                took = clock() - started
                times[name].append(took)
                total += took
            totals.append(total)
    toolkit.close()
    whole = _whole_call(response, calls)
    out: dict[str, Any] = {
        "operation": OPERATION,
        "calls": len(totals),
        "stages": {name: _summary(t) for name, t in times.items()},
        "total": _summary(totals),
        "whole_call": _summary(whole),
        "target_ms": TARGET_MS,
    }
    out["ok"] = out["total"]["p50_ms"] <= TARGET_MS
    return out


def report(result: dict[str, Any]) -> str:
    rows = [[name, s["p50_ms"], s["p99_ms"]] for name, s in result["stages"].items()]
    rows.append(["all of mg-tools' own work", result["total"]["p50_ms"], result["total"]["p99_ms"]])
    whole = result["whole_call"]
    rows.append(["for reference: the whole tool call, instant transport", whole["p50_ms"], whole["p99_ms"]])
    return "\n".join(
        [
            table(
                f"mg-tools' own work per {result['operation']} call, ms ({result['calls']} calls, no HTTP, audit off)",
                ["stage", "p50", "p99"],
                rows,
            ),
            f"target: at most {result['target_ms']} ms at p50 -> {verdict(result['ok'])}",
        ]
    )


if __name__ == "__main__":
    outcome = run(arg(sys.argv, "--calls", 5000))
    print(report(outcome))
    emit(outcome, sys.argv)
