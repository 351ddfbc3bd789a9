"""What a Cedar policy set adds to each call: p50/p99 of the executor's decision path with and without one.

Each sample prepares one call (validate, grants, policy rules with the usage counters read from a
SQLite file as deployed, build the request; nothing is sent). The two toolkits alternate call by
call, so both see the same load. A call that is sent also records its usage (one SQLite write, only
when a policy reads ``context.usage``): measured on its own, as "usage write".

    python bench/policy_eval.py [--calls N] [--json FILE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import DOMAIN, arg, emit, machine, ms, percentile, table

from mg_tools import Toolkit
from mg_tools.settings import Settings

POLICY = """
permit (principal == Identity::"local", action in Action::"read", resource);
permit (principal == Identity::"local", action == Action::"send_message", resource == Domain::"mg.example.com")
when { ["example.com"].containsAll(context.recipient_domains) };
forbid (principal, action in Action::"send", resource)
when { context.usage.recipients_24h + context.recipient_count > 1000000 };
"""
CALLS = {
    "get_domain": {"domain": DOMAIN},
    "send_message": {
        "domain": DOMAIN,
        "sender": "Ann <ann@mg.example.com>",
        "to": ["bob@example.com", "cy@example.com"],
        "subject": "Hi",
        "text": "Hello",
    },
}


def sample(toolkit: Toolkit, name: str, arguments: dict) -> float:
    executor = toolkit.executor
    start = time.perf_counter()
    executor.prepare(name, arguments)
    return time.perf_counter() - start


def usage_write(toolkit: Toolkit) -> float:
    start = time.perf_counter()
    toolkit.executor.rules.usage.record("bench", "send_message", 2)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if "--help" in argv or "-h" in argv:
        print(__doc__)
        print("options: --calls N (default 2000), --json FILE")
        return 0
    calls = arg(argv, "--calls", 2000)
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.cedar"
        policy.write_text(POLICY)
        settings = Settings(state_dir=Path(tmp) / "state")
        plain = Toolkit(sandbox=True, settings=settings)
        ruled = Toolkit(sandbox=True, settings=settings, policy_file=policy)
        rows, result = [], {"machine": machine(), "calls": calls}
        for name, arguments in CALLS.items():
            times: dict[str, list[float]] = {"without": [], "with": []}
            for _ in range(min(200, calls)):  # warm-up: imports, caches, SQLite pages
                sample(plain, name, arguments)
                sample(ruled, name, arguments)
            for _ in range(calls):
                times["without"].append(sample(plain, name, arguments))
                times["with"].append(sample(ruled, name, arguments))
            figures = {k: {"p50_ms": ms(percentile(v, 50)), "p99_ms": ms(percentile(v, 99))} for k, v in times.items()}
            added = round(figures["with"]["p50_ms"] - figures["without"]["p50_ms"], 3)
            result[name] = {**figures, "added_p50_ms": added}
            rows.append(
                [
                    name,
                    figures["without"]["p50_ms"],
                    figures["with"]["p50_ms"],
                    figures["without"]["p99_ms"],
                    figures["with"]["p99_ms"],
                    added,
                ]
            )
        writes = [usage_write(ruled) for _ in range(calls)]
        result["usage_write"] = {"p50_ms": ms(percentile(writes, 50)), "p99_ms": ms(percentile(writes, 99))}
        rows.append(["usage write", "", result["usage_write"]["p50_ms"], "", result["usage_write"]["p99_ms"], ""])
    print(
        table(
            f"Policy evaluation per call ({calls} calls each, ms)",
            ["call", "p50 without", "p50 with", "p99 without", "p99 with", "added p50"],
            rows,
        )
    )
    emit(result, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
