"""Shared helpers of the bench scripts: statistics, tables, subprocesses, the loopback sandbox.

Every bench compares two things measured side by side in one run, on this machine; the figure that
matters is their ratio (or difference), not the absolute time. Loops are bounded in count and
time, and only loopback addresses are used.

Run as a script, this module serves the sandbox standalone (``python bench/_common.py sandbox
PORT``): ``mg_tools.sandbox.server.serve`` on 127.0.0.1 (as ``mg-tools sandbox`` runs it), access log
off, in-memory state.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
MG_TOOLS = str(Path(PYTHON).with_name("mg-tools"))
SANDBOX_KEY = "sandbox-key"
DOMAIN = "mg.example.com"
#: The operation every per-call bench runs: a read with a small answer.
OPERATION = "get_domain"
ARGUMENTS = {"domain": DOMAIN}
DIRECT_PATH = f"/v4/domains/{DOMAIN}"


# -- statistics and output ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table (also valid Markdown)."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        f"\n{title}",
        "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells[1:]]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def emit(result: dict[str, Any], argv: Sequence[str]) -> None:
    """``--json FILE`` writes the result dict there (run_all.py collects them)."""
    if "--json" in argv:
        Path(argv[list(argv).index("--json") + 1]).write_text(json.dumps(result, indent=2) + "\n")


def arg(argv: Sequence[str], name: str, default: int) -> int:
    return int(argv[list(argv).index(name) + 1]) if name in argv else default


# -- processes --------------------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The environment of spawned processes: bytecode caching on (as on a user's machine), no
    Mailgun account, nothing inherited that would change what is measured."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONDONTWRITEBYTECODE", "MAILGUN_API_KEY", "MAILGUN_API_BASE_URL", "MAILGUN_API_REGION"}
        and not k.startswith("MG_TOOLS_")
    }
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@contextlib.contextmanager
def spawn(cmd: Sequence[str], port: int, **env: str) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends; it must listen on ``port``."""
    proc = subprocess.Popen(
        list(cmd),
        cwd=ROOT,
        env=child_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """The sandbox standalone (uvicorn, loopback, access log off); yields its base URL."""
    with sandbox_spawned() as (url, _):
        yield url


@contextlib.contextmanager
def sandbox_spawned() -> Iterator[tuple[str, subprocess.Popen]]:
    """The sandbox standalone, as :func:`sandbox_process`; yields its base URL and its process."""
    port = free_port()
    with spawn([PYTHON, str(BENCH / "_common.py"), "sandbox", str(port)], port) as proc:
        yield f"http://127.0.0.1:{port}", proc


def mcp_env(sandbox_url: str) -> dict[str, str]:
    """Points an mg-tools server at a standalone sandbox, as at any Mailgun base URL."""
    return {"MAILGUN_API_KEY": SANDBOX_KEY, "MAILGUN_API_BASE_URL": sandbox_url}


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


# -- MCP over raw JSON-RPC --------------------------------------------------------------------------

PROTOCOL = "2025-11-25"


def initialize_messages() -> list[dict[str, Any]]:
    return [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]


def call_message(request_id: int, name: str = OPERATION, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": ARGUMENTS if arguments is None else arguments},
    }


def _serve_sandbox(port: int) -> None:
    from mg_tools.sandbox.server import serve

    serve(port=port, log_level="warning")


if __name__ == "__main__":
    if sys.argv[1:2] == ["sandbox"]:
        _serve_sandbox(int(sys.argv[2]))
