"""Per-call overhead: one operation through MCP against a direct httpx call to the same sandbox.

The operation is ``get_domain`` (a read with a small answer); the direct call is the request the
executor builds for it (``GET /v4/domains/mg.example.com``, Basic auth). A third path is the floor:
``bench/floor_server.py --proxy``, a bare MCP server on the same SDK whose one tool makes the direct
call and answers as mg-tools does; it tells the SDK's own cost from what mg-tools adds. Calls
alternate in blocks between the paths, one at a time, and differences of medians (p50) are reported.

- in memory: the SDK's client -> mg-tools' MCP server -> toolkit -> in-process sandbox (ASGI),
  against httpx -> the same ASGI app. Target: at most 0.5 ms added at p50.
- stdio: ``python server.py`` as a child process pointed at the sandbox running standalone
  (uvicorn, loopback), driven with JSON-RPC lines on its stdin/stdout, against httpx -> the same
  sandbox. Target: at most 1 ms added at p50.
- HTTP: ``python server.py --transport http`` (stateless, JSON answers) pointed at the same
  sandbox, one POST per call, against httpx -> the sandbox. No target; reported.

    .venv/bin/python bench/overhead.py [--calls N] [--json FILE]
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import floor_server
import httpx
from _common import (
    ARGUMENTS,
    BENCH,
    DIRECT_PATH,
    OPERATION,
    PROTOCOL,
    PYTHON,
    ROOT,
    SANDBOX_KEY,
    arg,
    call_message,
    child_env,
    emit,
    free_port,
    initialize_messages,
    mcp_env,
    ms,
    percentile,
    sandbox_process,
    spawn,
    table,
    verdict,
)

TARGETS_MS = {"in memory": 0.5, "stdio": 1.0}
BLOCK = 50
TIME_LIMIT = 60.0  # seconds per transport, whatever --calls says
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": PROTOCOL,
}


def summary(times: list[float]) -> dict[str, float]:
    return {
        "n": len(times),
        "p50_ms": ms(percentile(times, 50)),
        "p90_ms": ms(percentile(times, 90)),
        "p99_ms": ms(percentile(times, 99)),
        "mean_ms": ms(sum(times) / len(times)),
    }


def compare(name: str, times: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {path: summary(t) for path, t in times.items()}
    added = out["mcp"]["p50_ms"] - out["direct"]["p50_ms"]
    out["added_p50_ms"] = round(added, 3)
    out["sdk_floor_added_p50_ms"] = round(out["floor"]["p50_ms"] - out["direct"]["p50_ms"], 3)
    out["over_floor_p50_ms"] = round(out["mcp"]["p50_ms"] - out["floor"]["p50_ms"], 3)
    out["ratio_p50"] = round(out["mcp"]["p50_ms"] / out["direct"]["p50_ms"], 2)
    if name in TARGETS_MS:
        out["target_added_ms"] = TARGETS_MS[name]
        out["ok"] = added <= TARGETS_MS[name]
    return out


async def alternate(calls: int, **paths: Callable[[], Awaitable[Any]]) -> dict[str, list[float]]:
    """Time ``calls`` calls of each path, in alternating blocks, after a warm-up of each."""
    for _ in range(20):
        for fn in paths.values():
            await fn()
    times: dict[str, list[float]] = {name: [] for name in paths}
    deadline = time.monotonic() + TIME_LIMIT
    clock = time.perf_counter
    while min(map(len, times.values())) < calls and time.monotonic() < deadline:
        for name, fn in paths.items():
            for _ in range(BLOCK):
                started = clock()
                await fn()
                times[name].append(clock() - started)
    return times


# -- in memory --------------------------------------------------------------------------------------


async def in_memory(calls: int) -> dict[str, Any]:
    from mcp import Client

    from mg_tools import Toolkit
    from mg_tools.mcp_server import build_server
    from mg_tools.toolkit import SANDBOX_BASE_URL

    toolkit = Toolkit(sandbox=True)
    direct_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=toolkit.sandbox_app), base_url=SANDBOX_BASE_URL, auth=("api", SANDBOX_KEY)
    )
    async with Client(build_server(toolkit)) as client, Client(floor_server.build(direct_client)) as floor:
        await client.list_tools()
        await floor.list_tools()

        async def mcp() -> None:
            result = await client.call_tool(OPERATION, ARGUMENTS)
            assert not result.is_error, result

        async def via_floor() -> None:
            result = await floor.call_tool(OPERATION, ARGUMENTS)
            assert not result.is_error, result

        async def direct() -> None:
            response = await direct_client.get(DIRECT_PATH)
            response.raise_for_status()
            response.json()

        times = await alternate(calls, mcp=mcp, floor=via_floor, direct=direct)
    await direct_client.aclose()
    await toolkit.aclose()
    return compare("in memory", times)


# -- stdio ------------------------------------------------------------------------------------------


class StdioServer:
    """An MCP server process on pipes, spoken to with JSON-RPC lines (no SDK client on our side)."""

    def __init__(self, cmd: list[str], **env: str) -> None:
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=child_env(**env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 1
        for message in initialize_messages():
            self._send(message)
        self._answer(0)

    def _send(self, message: dict[str, Any]) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _answer(self, request_id: int) -> dict[str, Any]:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the stdio server closed its output")
            message = json.loads(line)
            if message.get("id") == request_id:
                return message

    def call(self) -> dict[str, Any]:
        self.next_id += 1
        self._send(call_message(self.next_id))
        answer = self._answer(self.next_id)
        if "error" in answer or answer["result"].get("isError"):
            raise RuntimeError(f"call failed: {answer}")
        return answer

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


async def over_stdio(calls: int, sandbox_url: str) -> dict[str, Any]:
    server = StdioServer([PYTHON, str(ROOT / "server.py")], **mcp_env(sandbox_url))
    floor = StdioServer([PYTHON, str(BENCH / "floor_server.py"), "--proxy", sandbox_url])
    direct_client = httpx.AsyncClient(base_url=sandbox_url, auth=("api", SANDBOX_KEY))
    try:

        async def mcp() -> None:
            server.call()  # blocking pipe I/O: nothing else runs meanwhile, as intended

        async def via_floor() -> None:
            floor.call()

        async def direct() -> None:
            response = await direct_client.get(DIRECT_PATH)
            response.raise_for_status()
            response.json()

        times = await alternate(calls, mcp=mcp, floor=via_floor, direct=direct)
    finally:
        server.close()
        floor.close()
        await direct_client.aclose()
    return compare("stdio", times)


# -- HTTP -------------------------------------------------------------------------------------------


def mcp_poster(port: int) -> tuple[httpx.AsyncClient, Callable[[], Awaitable[None]]]:
    """A client for an MCP server over HTTP, and a call of the operation through it."""
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=MCP_HEADERS, timeout=30)
    counter = iter(range(1, 10**9))

    async def call() -> None:
        response = await client.post("/mcp", json=call_message(next(counter)))
        response.raise_for_status()
        assert not response.json()["result"].get("isError")

    return client, call


async def over_http(calls: int, sandbox_url: str) -> dict[str, Any]:
    port, floor_port = free_port(), free_port()
    with (
        spawn(
            [PYTHON, str(ROOT / "server.py"), "--transport", "http", "--port", str(port)], port, **mcp_env(sandbox_url)
        ),
        spawn([PYTHON, str(BENCH / "floor_server.py"), "--proxy", sandbox_url, "--http", str(floor_port)], floor_port),
    ):
        mcp_client, mcp = mcp_poster(port)
        floor_client, via_floor = mcp_poster(floor_port)
        direct_client = httpx.AsyncClient(base_url=sandbox_url, auth=("api", SANDBOX_KEY))

        async def direct() -> None:
            response = await direct_client.get(DIRECT_PATH)
            response.raise_for_status()
            response.json()

        try:
            times = await alternate(calls, mcp=mcp, floor=via_floor, direct=direct)
        finally:
            for client in (mcp_client, floor_client, direct_client):
                await client.aclose()
    return compare("HTTP", times)


async def measure(calls: int) -> dict[str, Any]:
    results = {"operation": OPERATION, "calls": calls, "in memory": await in_memory(calls)}
    with sandbox_process() as url:
        results["stdio"] = await over_stdio(calls, url)
        results["HTTP"] = await over_http(calls, url)
    return results


def run(calls: int = 2000) -> dict[str, Any]:
    return asyncio.run(measure(calls))


def report(result: dict[str, Any]) -> str:
    rows = []
    for name in ("in memory", "stdio", "HTTP"):
        r = result[name]
        rows.append(
            [
                name,
                r["direct"]["p50_ms"],
                r["floor"]["p50_ms"],
                r["mcp"]["p50_ms"],
                r["added_p50_ms"],
                r["sdk_floor_added_p50_ms"],
                r["over_floor_p50_ms"],
                r["mcp"]["p99_ms"],
                r["mcp"]["n"],
                f"{r['target_added_ms']} ms: {verdict(r['ok'])}" if "ok" in r else "-",
            ]
        )
    return table(
        f"Per-call overhead of {result['operation']}, ms (p50 unless said; direct = httpx to the same "
        "sandbox, floor = bare SDK server making the same call)",
        [
            "transport",
            "direct",
            "floor",
            "mg-tools",
            "added",
            "of which SDK floor",
            "mg-tools over floor",
            "mg-tools p99",
            "calls",
            "target (added)",
        ],
        rows,
    )


if __name__ == "__main__":
    outcome = run(arg(sys.argv, "--calls", 2000))
    print(report(outcome))
    emit(outcome, sys.argv)
