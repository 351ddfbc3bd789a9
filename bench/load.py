"""Many MCP sessions over HTTP, spread over two replicas sharing one Redis: errors, latency, memory.

Starts a standalone sandbox, a ``redis-server`` and two ``mg-tools serve --transport http`` replicas
(each its own state directory, both with ``MG_TOOLS_REDIS_URL`` set to that Redis and a quota
policy, so every call reads and writes the shared counters), all on 127.0.0.1. Then ``--sessions``
SDK client sessions (half on each replica) call ``get_domain`` in a loop for ``--seconds``. Every
call has a time limit, and the run stops by itself.

    python bench/load.py                          # 200 sessions for 60 s
    python bench/load.py --sessions 20 --seconds 5

Reports calls, errors (exit status 1 when any), p50/p99 latency, and the resident memory of each
replica at start, after a warm-up and at the end, with its growth from warm-up to end. Writes the
``load`` entry of ``bench/results.json`` and ``docs/load.png`` (calls/s and p99 over time).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    ARGUMENTS,
    MG_TOOLS,
    OPERATION,
    ROOT,
    free_port,
    machine,
    mcp_env,
    percentile,
    rss_bytes,
    sandbox_process,
    spawn,
)

RESULTS = ROOT / "bench" / "results.json"
PLOT = ROOT / "docs" / "load.png"
CALL_LIMIT = 30.0  # seconds; a call taking longer counts as an error
WARMUP_SECONDS = 3.0
#: Read by every call, so the quota counters in Redis are read and written each time.
QUOTA = "permit (principal, action, resource) when { context.usage.calls_1h < 100000000 };\n"


@dataclass
class Stats:
    """Each call's (finish time, latency) and every error, across all sessions."""

    calls: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    opened: int = 0


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB: psutil when installed, else /proc."""
    try:
        import psutil
    except ImportError:
        return rss_bytes(pid) / 2**20
    return psutil.Process(pid).memory_info().rss / 2**20


async def session(index: int, url: str, token: str, until: float, stats: Stats) -> None:
    """One SDK client session calling the operation until ``until``."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    try:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            stats.opened += 1
            while time.monotonic() < until:
                started = time.perf_counter()
                try:
                    result = await asyncio.wait_for(client.call_tool(OPERATION, ARGUMENTS), CALL_LIMIT)
                except Exception as exc:
                    stats.errors.append(f"session {index}: {type(exc).__name__}: {exc}"[:300])
                    continue
                stats.calls.append((time.monotonic(), time.perf_counter() - started))
                if result.is_error:
                    stats.errors.append(f"session {index}: {result.content[0].text[:200]}")
    except Exception as exc:
        stats.errors.append(f"session {index}: {type(exc).__name__}: {exc}"[:300])
    finally:
        await http.aclose()


async def drive(sessions: int, seconds: float, urls: list[str], token: str) -> Stats:
    """``sessions`` sessions, alternating between the replicas, for ``seconds``; bounded."""
    stats = Stats()
    until = time.monotonic() + seconds
    tasks = [session(i, urls[i % len(urls)], token, until, stats) for i in range(sessions)]
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + CALL_LIMIT + 30)
    return stats


def start_replicas(stack: ExitStack, sandbox_url: str, redis_url: str, token: str, tmp: Path) -> list[Any]:
    """Two replicas on free ports; returns their processes, each with its MCP URL as ``.mcp``."""
    (tmp / "quota.cedar").write_text(QUOTA)
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        env = mcp_env(sandbox_url) | {
            "MG_TOOLS_REDIS_URL": redis_url,
            "MG_TOOLS_STATE_DIR": str(tmp / name),
            "MG_TOOLS_HTTP_TOKEN": token,
            "MG_TOOLS_POLICY": str(tmp / "quota.cedar"),
            "MG_TOOLS_LOG_LEVEL": "warning",
        }
        cmd = [MG_TOOLS, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
        proc = stack.enter_context(spawn(cmd, port, **env))
        proc.mcp = f"http://127.0.0.1:{port}/mcp"
        replicas.append(proc)
    return replicas


def windows(stats: Stats, start: float, width: float = 5.0) -> list[dict[str, float]]:
    """Calls/s and p99 (ms) per ``width``-second window of the run."""
    buckets: dict[int, list[float]] = {}
    for finished, latency in stats.calls:
        buckets.setdefault(int((finished - start) // width), []).append(latency)
    return [
        {"t": (k + 1) * width, "calls_per_s": len(v) / width, "p99_ms": percentile(v, 99) * 1000}
        for k, v in sorted(buckets.items())
    ]


def plot(series: list[dict[str, float]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(7, 3.2))
    t = [w["t"] for w in series]
    left.plot(t, [w["calls_per_s"] for w in series], color="tab:blue", label="calls/s")
    left.set_xlabel("seconds")
    left.set_ylabel("calls/s", color="tab:blue")
    right = left.twinx()
    right.plot(t, [w["p99_ms"] for w in series], color="tab:red", label="p99 ms")
    right.set_ylabel("p99 latency (ms)", color="tab:red")
    left.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def record(entry: dict[str, Any]) -> None:
    """Sets the ``load`` entry of bench/results.json, leaving the other benches' figures."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["load"] = entry
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true", help="print only: no results.json entry, no plot")
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")

    token = secrets.token_urlsafe(24)
    redis_port = free_port()
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        sandbox_url = stack.enter_context(sandbox_process())
        stack.enter_context(spawn(redis_cmd, redis_port))
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        replicas = start_replicas(stack, sandbox_url, redis_url, token, Path(tmp))
        urls = [r.mcp for r in replicas]
        rss = {r.mcp: {"start": rss_mib(r.pid)} for r in replicas}
        warm = asyncio.run(drive(len(urls) * 2, WARMUP_SECONDS, urls, token))
        for r in replicas:
            rss[r.mcp]["warm"] = rss_mib(r.pid)
        started = time.monotonic()
        stats = asyncio.run(drive(args.sessions, args.seconds, urls, token))
        elapsed = time.monotonic() - started
        for r in replicas:
            rss[r.mcp]["end"] = rss_mib(r.pid)
        died = [r.mcp for r in replicas if r.poll() is not None]

    errors = warm.errors + stats.errors + [f"{url} died during the run" for url in died]
    latencies = [latency for _, latency in stats.calls]
    memory = [
        {
            "replica": name,
            **{k: round(v, 1) for k, v in m.items()},
            "growth_pct": round(100 * (m["end"] / m["warm"] - 1), 1),
        }
        for name, m in zip("ab", rss.values())
    ]
    entry = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "sessions": args.sessions,
        "sessions_opened": stats.opened,
        "seconds": round(elapsed, 1),
        "operation": OPERATION,
        "calls": len(latencies),
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "errors": len(errors),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "rss_mib": memory,
        "windows": windows(stats, started),
    }
    print(
        f"sessions  {stats.opened}/{args.sessions} over 2 replicas sharing Redis, {elapsed:.1f} s (loopback, sandbox)"
    )
    print(f"calls     {entry['calls']} ({entry['calls_per_s']}/s), errors {entry['errors']}")
    print(f"latency   p50 {entry['p50_ms']} ms, p99 {entry['p99_ms']} ms")
    for m in memory:
        print(
            f"RSS {m['replica']}     start {m['start']} MiB, warm {m['warm']} MiB, end {m['end']} MiB "
            f"({m['growth_pct']:+}%)"
        )
    for error in errors[:10]:
        print("ERROR", error)
    if not args.no_write:
        record(entry)
        title = (
            f"{args.sessions} sessions over 2 replicas sharing Redis ({entry['date']}, {entry['machine']['cpus']} CPUs)"
        )
        plot(entry["windows"], title)
    return 1 if errors or stats.opened < args.sessions else 0


if __name__ == "__main__":
    sys.exit(main())
