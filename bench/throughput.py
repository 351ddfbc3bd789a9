"""Throughput over HTTP: 50 concurrent clients calling one operation, MCP against direct.

The sandbox runs standalone (uvicorn, loopback). The MCP side is ``python server.py --transport
http`` pointed at it (stateless streamable HTTP, JSON answers); each client POSTs ``tools/call``
for ``get_domain`` in a loop. The direct side is the same number of clients sending the request
the executor builds (``GET /v4/domains/mg.example.com``) straight to the sandbox. The floor is
``bench/floor_server.py --proxy --http``, a bare MCP server on the same SDK and transport whose one
tool makes the direct call: the most any MCP server in front of the sandbox could do here. All load
generators are the same code (httpx, one keep-alive connection per client) in this process, run
for the same time, in rounds that alternate the paths (each after a short warm-up). Reported:
calls/s, p50 and p99 latency. Target: mg-tools at least 50% of direct calls/s.

``--baseline DIR`` adds mg-tools from another checkout (e.g. ``git worktree add /tmp/base main``) as a
fourth path, run as it would run before uvloop and httptools were dependencies (their imports are
blocked in that process): the ratio of the two says what changed, measured side by side.

    .venv/bin/python bench/throughput.py [--clients N] [--seconds S] [--baseline DIR] [--json FILE]
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _common import (
    BENCH,
    DIRECT_PATH,
    PYTHON,
    ROOT,
    SANDBOX_KEY,
    arg,
    call_message,
    cpu_seconds,
    emit,
    free_port,
    mcp_env,
    ms,
    percentile,
    sandbox_spawned,
    spawn,
    table,
    verdict,
)
from overhead import MCP_HEADERS

TARGET = 0.5
WARM_UP = 0.5
ROUNDS = 5


async def load(
    clients: int,
    seconds: float,
    make: Callable[[int], tuple[httpx.AsyncClient, Callable[[httpx.AsyncClient], Awaitable[None]]]],
    pids: dict[str, int] | None = None,
) -> tuple[list[float], float, int, dict[str, float]]:
    """``clients`` loops calling as fast as answers come, for ``seconds`` after a warm-up: the
    latencies, the time measured, the errors, and the CPU seconds each process of ``pids`` used
    meanwhile."""
    pairs = [make(i) for i in range(clients)]
    latencies: list[float] = []
    errors = 0
    measuring = False
    stop = False

    async def loop(client: httpx.AsyncClient, call: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
        nonlocal errors
        clock = time.perf_counter
        while not stop:
            started = clock()
            try:
                await call(client)
            except (httpx.HTTPError, AssertionError, KeyError):
                errors += 1
                continue
            if measuring:
                latencies.append(clock() - started)

    tasks = [asyncio.create_task(loop(c, call)) for c, call in pairs]
    pids = pids or {}
    await asyncio.sleep(WARM_UP)
    measuring = True
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
    stop = True
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    for client, _ in pairs:
        await client.aclose()
    return latencies, elapsed, errors, cpu


def _stats(runs: list[tuple[list[float], float, int, dict[str, float]]]) -> dict[str, Any]:
    latencies = [t for run in runs for t in run[0]]
    elapsed = sum(run[1] for run in runs)
    cpu = {name: sum(run[3][name] for run in runs) for name in runs[0][3]}
    return {
        "calls": len(latencies),
        "seconds": round(elapsed, 2),
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "errors": sum(run[2] for run in runs),
        # Under contention calls/s says as much about the machine as about the server; its CPU time
        # per call does not.
        **{f"{name}_cpu_ms_per_call": ms(seconds / max(len(latencies), 1)) for name, seconds in cpu.items()},
    }


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=1, max_keepalive_connections=1)


#: Runs a checkout's server.py with uvloop and httptools unimportable, as before they were dependencies.
WITHOUT_FAST_IO = (
    "import runpy, sys; sys.modules['uvloop'] = sys.modules['httptools'] = None; "
    "sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0] + '/server.py', "
    "run_name='__main__')"
)


async def measure(clients: int, seconds: float, baseline: str | None = None) -> dict[str, Any]:
    with sandbox_spawned() as (sandbox_url, sandbox), contextlib.ExitStack() as stack:

        def direct(_: int) -> tuple[httpx.AsyncClient, Callable[[httpx.AsyncClient], Awaitable[None]]]:
            async def call(client: httpx.AsyncClient) -> None:
                response = await client.get(DIRECT_PATH)
                response.raise_for_status()
                assert response.json()["domain"]

            return httpx.AsyncClient(
                base_url=sandbox_url, auth=("api", SANDBOX_KEY), limits=_limits(), timeout=30
            ), call

        paths = {"direct": direct}
        pids: dict[str, dict[str, int]] = {"direct": {"sandbox": sandbox.pid}}
        servers = {
            "floor": [PYTHON, str(BENCH / "floor_server.py"), "--proxy", sandbox_url, "--http"],
            "mcp": [PYTHON, str(ROOT / "server.py"), "--transport", "http", "--port"],
        }
        if baseline:
            servers["baseline"] = [PYTHON, "-c", WITHOUT_FAST_IO, baseline, "--transport", "http", "--port"]
        for name, cmd in servers.items():
            port = free_port()
            proc = stack.enter_context(spawn([*cmd, str(port)], port, **mcp_env(sandbox_url)))
            paths[name] = _mcp_clients(port)
            pids[name] = {"server": proc.pid, "sandbox": sandbox.pid}
        # Rounds alternate the paths, so a change in the machine's load falls on all of them.
        runs: dict[str, list[tuple[list[float], float, int, dict[str, float]]]] = {name: [] for name in paths}
        for _ in range(ROUNDS):
            for name, make in paths.items():
                runs[name].append(await load(clients, seconds / ROUNDS, make, pids[name]))
    results = {name: _stats(r) for name, r in runs.items()}
    ratio = results["mcp"]["calls_per_s"] / results["direct"]["calls_per_s"]
    if baseline:
        results["over_baseline"] = round(results["mcp"]["calls_per_s"] / results["baseline"]["calls_per_s"], 2)
    return {
        "clients": clients,
        "seconds": seconds,
        **results,
        "ratio": round(ratio, 3),
        "floor_ratio": round(results["floor"]["calls_per_s"] / results["direct"]["calls_per_s"], 3),
        "target": TARGET,
        "ok": ratio >= TARGET,
    }


def _mcp_clients(
    port: int,
) -> Callable[[int], tuple[httpx.AsyncClient, Callable[[httpx.AsyncClient], Awaitable[None]]]]:
    def make(_: int) -> tuple[httpx.AsyncClient, Callable[[httpx.AsyncClient], Awaitable[None]]]:
        ids = iter(range(1, 10**9))

        async def call(client: httpx.AsyncClient) -> None:
            response = await client.post("/mcp", json=call_message(next(ids)))
            response.raise_for_status()
            assert not response.json()["result"].get("isError")

        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=MCP_HEADERS, limits=_limits(), timeout=30
        ), call

    return make


def run(clients: int = 50, seconds: float = 10.0, baseline: str | None = None) -> dict[str, Any]:
    return asyncio.run(measure(clients, seconds, baseline))


def report(result: dict[str, Any]) -> str:
    base = result["direct"]["calls_per_s"]
    rows = [
        [
            name,
            result[key]["calls_per_s"],
            f"{result[key]['calls_per_s'] / base:.0%}",
            result[key]["p50_ms"],
            result[key]["p99_ms"],
            result[key].get("server_cpu_ms_per_call", "-"),
            result[key]["sandbox_cpu_ms_per_call"],
            result[key]["calls"],
            result[key]["errors"],
        ]
        for name, key in (
            ("direct httpx -> sandbox", "direct"),
            ("floor: bare SDK server -> sandbox", "floor"),
            ("mg-tools MCP over HTTP -> sandbox", "mcp"),
            ("baseline mg-tools (--baseline) -> sandbox", "baseline"),
        )
        if key in result
    ]
    out = [
        table(
            f"Throughput over HTTP, {result['clients']} concurrent clients, {result['seconds']} s each "
            f"in {ROUNDS} alternating rounds",
            [
                "path",
                "calls/s",
                "of direct",
                "p50 ms",
                "p99 ms",
                "server CPU ms/call",
                "sandbox CPU ms/call",
                "calls",
                "errors",
            ],
            rows,
        )
    ]
    out.append(
        f"mg-tools / direct: {result['ratio']:.0%} (floor {result['floor_ratio']:.0%}); target at least "
        f"{result['target']:.0%} -> {verdict(result['ok'])}"
    )
    if "over_baseline" in result:
        out.append(f"mg-tools / baseline mg-tools: {result['over_baseline']:.2f}x")
    return "\n".join(out)


if __name__ == "__main__":
    baseline = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    outcome = run(arg(sys.argv, "--clients", 50), float(arg(sys.argv, "--seconds", 10)), baseline)
    print(report(outcome))
    emit(outcome, sys.argv)
