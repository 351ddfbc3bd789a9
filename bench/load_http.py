"""Hold many concurrent MCP sessions over the HTTP transport and report errors, latency and memory.

Starts ``mg-tools serve --transport http --sandbox`` on a free loopback port with a bearer token,
opens ``--sessions`` MCP client sessions (the SDK's client over streamable HTTP), and has each one
call tools in a loop for ``--seconds``. Every call has a time limit; nothing leaves 127.0.0.1.

    python bench/load_http.py                      # 50 sessions for 60 s
    python bench/load_http.py --sessions 10 --seconds 5

Reports calls, errors (must be 0: exit status 1 otherwise), p50/p90/p99/max latency per call, and
the server's resident memory (RSS) after start-up and after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CALL_LIMIT = 30.0  # seconds; a call taking longer counts as an error (a hung call)
#: What each session does, round and round: reads of several kinds, a search-sized list, and a call
#: that the sandbox answers with a 404 (an expected tool error, not a failure).
CALLS = (
    ("get_domain", {"domain": "mg.example.com"}, False),
    ("list_domains", {"limit": 5}, False),
    ("get_sending_queues", {"domain": "mg.example.com"}, False),
    ("list_templates", {"domain": "mg.example.com", "limit": 5}, False),
    ("get_domain", {"domain": "missing.example.com"}, True),
)


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sessions_opened: int = 0


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux /proc), or None where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, token: str) -> subprocess.Popen:
    env = {**os.environ, "MG_TOOLS_HTTP_TOKEN": token, "MG_TOOLS_LOG_LEVEL": "warning"}
    env.pop("MAILGUN_API_KEY", None)
    env.pop("MAILGUN_API_BASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mg_tools",
            "serve",
            "--transport",
            "http",
            "--sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not become healthy within 30 s")


async def session(index: int, url: str, token: str, until: float, stats: Stats) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    try:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            stats.sessions_opened += 1
            tools = await asyncio.wait_for(client.list_tools(), CALL_LIMIT)
            if not tools.tools:
                stats.errors.append(f"session {index}: no tools listed")
            turn = index  # sessions start at different points of the round
            while time.monotonic() < until:
                name, arguments, expect_error = CALLS[turn % len(CALLS)]
                turn += 1
                started = time.perf_counter()
                try:
                    result = await asyncio.wait_for(client.call_tool(name, arguments), CALL_LIMIT)
                except Exception as exc:
                    stats.errors.append(f"session {index} {name}: {type(exc).__name__}: {exc}"[:300])
                    continue
                stats.latencies.append(time.perf_counter() - started)
                if bool(result.is_error) != expect_error:
                    text = result.content[0].text if result.content else ""
                    stats.errors.append(f"session {index} {name}: unexpected result: {text[:200]}")
    except Exception as exc:
        stats.errors.append(f"session {index}: {type(exc).__name__}: {exc}"[:300])
    finally:
        await http.aclose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(sessions: int, seconds: float, url: str, token: str) -> Stats:
    stats = Stats()
    until = time.monotonic() + seconds
    tasks = [asyncio.create_task(session(i, url, token, until, stats)) for i in range(sessions)]
    # Bounded: every session ends at ``until`` plus at most one call's limit.
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + CALL_LIMIT + 30)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)

    token = secrets.token_urlsafe(24)
    port = free_port()
    server = start_server(port, token)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        warm = asyncio.run(run(2, 1.0, url, token))  # imports and first-call costs, before measuring
        rss_before = rss_mib(server.pid)
        started = time.monotonic()
        stats = asyncio.run(run(args.sessions, args.seconds, url, token))
        elapsed = time.monotonic() - started
        rss_after = rss_mib(server.pid)
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    errors = warm.errors + stats.errors + ([] if alive else ["the server died during the run"])
    lat = [x * 1000 for x in stats.latencies]
    fmt = lambda v: "n/a" if v is None else f"{v:.1f} MiB"  # noqa: E731
    print(f"sessions      {stats.sessions_opened}/{args.sessions} opened, held for {elapsed:.1f} s (loopback, sandbox)")
    print(f"calls         {len(lat)}  ({len(lat) / elapsed:.0f}/s)")
    print(f"errors        {len(errors)}")
    if lat:
        print(
            f"latency ms    p50 {percentile(lat, 0.50):.1f}   p90 {percentile(lat, 0.90):.1f}   "
            f"p99 {percentile(lat, 0.99):.1f}   max {max(lat):.1f}   mean {statistics.fmean(lat):.1f}"
        )
    print(
        f"server RSS    before {fmt(rss_before)}   after {fmt(rss_after)}"
        + (f"   (+{rss_after - rss_before:.1f} MiB)" if rss_before and rss_after else "")
    )
    for error in errors[:10]:
        print("ERROR", error)
    return 1 if errors or stats.sessions_opened < args.sessions else 0


if __name__ == "__main__":
    sys.exit(main())
