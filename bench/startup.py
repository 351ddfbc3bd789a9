"""Start-up: the MCP server against a bare MCP server, and the CLI against a bare interpreter.

1. ``mg-tools serve --sandbox``, from spawn to the answer of its first tools/list over stdio,
   against the floor: ``bench/floor_server.py --tools 204``, a low-level mcp server listing 204
   dummy tools (at least as many as mg-tools lists). Both speak the
   same protocol (initialize, initialized, tools/list, written at once), runs alternate, and the
   median of each is compared. Target: at most 1.3 x the floor.
2. ``mg-tools call get_domain --dry-run``: median wall time of several runs, next to ``python -c
   pass`` and ``python -c "import pydantic, httpx"``, runs alternating. Target: under 0.5 s. And
   which heavy packages the command imports (it must not import mcp).

    .venv/bin/python bench/startup.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import Any

from _common import (
    BENCH,
    MG_TOOLS,
    PYTHON,
    ROOT,
    arg,
    child_env,
    emit,
    initialize_messages,
    median,
    ms,
    table,
    verdict,
)

STARTUP_TARGET = 1.3
FLOOR_TOOLS = 204
DRY_RUN_TARGET = 0.5
DRY_RUN = ["call", "get_domain", "--dry-run", "--args", '{"domain": "mg.example.com"}']
HEAVY = ("mcp", "mcp_types", "httpx", "structlog", "starlette", "uvicorn", "anyio")


def first_tools_list(cmd: list[str], timeout: float = 60.0) -> tuple[float, int]:
    """Seconds from spawning ``cmd`` to the tools/list answer on its stdout, and the tool count."""
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    payload = b"".join(json.dumps(m).encode() + b"\n" for m in [*initialize_messages(), listing])
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        proc.stdin.write(payload)
        proc.stdin.flush()
        while time.perf_counter() - started < timeout:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{cmd} closed stdout before answering tools/list")
            message = json.loads(line)
            if message.get("id") == 1:
                return time.perf_counter() - started, len(message["result"]["tools"])
        raise RuntimeError(f"{cmd} did not answer tools/list within {timeout} s")
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        cmd,
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )
    return time.perf_counter() - started


def imported(cmd_args: list[str]) -> dict[str, bool]:
    """Which heavy top-level packages a CLI command imports (from ``-X importtime``)."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "mg_tools", *cmd_args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.M))
    return {name: name in modules for name in HEAVY}


def run(runs: int = 9) -> dict[str, Any]:
    floor_cmd = [PYTHON, str(BENCH / "floor_server.py"), "--tools", str(FLOOR_TOOLS)]
    server_cmd = [MG_TOOLS, "serve", "--sandbox"]
    cli = {
        "python -c pass": [PYTHON, "-c", "pass"],
        'python -c "import pydantic, httpx"': [PYTHON, "-c", "import pydantic, httpx"],
        "mg-tools call get_domain --dry-run": [MG_TOOLS, *DRY_RUN],
    }
    # Warm-up: byte-compiled caches written, files in the page cache.
    first_tools_list(floor_cmd)
    tools = first_tools_list(server_cmd)[1]
    for cmd in cli.values():
        wall(cmd)

    floor, server = [], []
    for _ in range(runs):
        floor.append(first_tools_list(floor_cmd)[0])
        server.append(first_tools_list(server_cmd)[0])
    times: dict[str, list[float]] = {name: [] for name in cli}
    for _ in range(runs):
        for name, cmd in cli.items():
            times[name].append(wall(cmd))

    ratio = median(server) / median(floor)
    dry_run = median(times["mg-tools call get_domain --dry-run"])
    result = {
        "runs": runs,
        "mcp": {
            "floor_s": median(floor),
            "server_s": median(server),
            "ratio": ratio,
            "tools": tools,
            "floor_runs_s": floor,
            "server_runs_s": server,
            "target_ratio": STARTUP_TARGET,
            "ok": ratio <= STARTUP_TARGET,
        },
        "cli": {name: {"median_s": median(v), "runs_s": v} for name, v in times.items()},
        "dry_run": {
            "median_s": dry_run,
            "target_s": DRY_RUN_TARGET,
            "ok": dry_run < DRY_RUN_TARGET,
            "imports": imported(DRY_RUN),
        },
    }
    result["dry_run"]["ok"] = result["dry_run"]["ok"] and not result["dry_run"]["imports"]["mcp"]
    return result


def report(result: dict[str, Any]) -> str:
    m = result["mcp"]
    out = [
        table(
            f"Start-up to the first tools/list over stdio (median of {result['runs']} alternating runs)",
            ["process", "median ms", "tools", "x floor"],
            [
                [f"bench/floor_server.py --tools {FLOOR_TOOLS} (bare mcp server)", ms(m["floor_s"]), FLOOR_TOOLS, 1.0],
                ["mg-tools serve --sandbox", ms(m["server_s"]), m["tools"], round(m["ratio"], 2)],
            ],
        )
    ]
    out.append(f"target: at most {m['target_ratio']} x the floor -> {verdict(m['ok'])}")
    rows = [[name, ms(v["median_s"])] for name, v in result["cli"].items()]
    out.append(
        table(f"Commands that do not serve MCP (median of {result['runs']} runs)", ["command", "median ms"], rows)
    )
    d = result["dry_run"]
    heavy = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in d["imports"].items())
    out.append(f"dry run imports: {heavy}")
    out.append(f"target: dry run under {d['target_s']} s and no mcp import -> {verdict(d['ok'])}")
    return "\n".join(out)


if __name__ == "__main__":
    outcome = run(arg(sys.argv, "--runs", 9))
    print(report(outcome))
    emit(outcome, sys.argv)
