"""Run every bench, print their tables, and write bench/results.json and docs/benchmarks.png.

Each bench runs in its own process (start-up and memory figures must not see the others' imports),
one after the other, on this machine; each compares things measured side by side in that run.

    .venv/bin/python bench/run_all.py            # the full run recorded in docs/benchmarks.md
    .venv/bin/python bench/run_all.py --quick    # fewer runs and calls: a check that all works

The plot needs matplotlib (``pip install -e ".[bench]"``); without it the plot is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import memory
import overhead
import sandbox_latency
import search_quality
import stages
import startup
import throughput
import tokens
from _common import BENCH, PYTHON, ROOT, machine, table

RESULTS = BENCH / "results.json"
PLOT = ROOT / "docs" / "benchmarks.png"

#: name -> (module, arguments of a full run, arguments of a quick run)
BENCHES = {
    "tokens": (tokens, [], []),
    "search": (search_quality, [], []),
    "startup": (startup, ["--runs", "9"], ["--runs", "3"]),
    "sandbox": (sandbox_latency, ["--requests", "2000"], ["--requests", "300", "--seconds", "2"]),
    "stages": (stages, ["--calls", "5000"], ["--calls", "500"]),
    "overhead": (overhead, ["--calls", "2000"], ["--calls", "200"]),
    "throughput": (throughput, ["--seconds", "10"], ["--seconds", "3"]),
    "memory": (memory, ["--calls", "10000"], ["--calls", "1000"]),
}


def run_bench(name: str, args: list[str]) -> dict[str, Any]:
    module = BENCHES[name][0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run(
            [PYTHON, str(Path(module.__file__).resolve()), *args, "--json", str(out)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=1800,
        )
        return json.loads(out.read_text())


def summary(results: dict[str, Any]) -> list[list[Any]]:
    """One row per target: what, measured, target, verdict."""
    rows = []
    if "startup" in results:
        s = results["startup"]
        rows.append(
            ["start-up to first tools/list (x bare mcp server)", f"{s['mcp']['ratio']:.2f}x", "<= 1.3x", s["mcp"]["ok"]]
        )
        rows.append(
            [
                "mg-tools call --dry-run, median",
                f"{s['dry_run']['median_s']:.3f} s",
                "< 0.5 s, no mcp import",
                s["dry_run"]["ok"],
            ]
        )
    if "overhead" in results:
        for name in ("in memory", "stdio"):
            o = results["overhead"][name]
            rows.append(
                [
                    f"added p50 per call, {name} (SDK floor alone: {o['sdk_floor_added_p50_ms']:.2f} ms)",
                    f"{o['added_p50_ms']:.2f} ms",
                    f"<= {o['target_added_ms']} ms",
                    o["ok"],
                ]
            )
    if "sandbox" in results:
        b = results["sandbox"]
        rows.append(
            [
                "sandbox keep-alive p50 (x bare uvicorn app), req/s",
                f"{b['keep_alive_ratio']:.2f}x, {b['sandbox']['requests_per_s']:,.0f}/s",
                "<= 1.5x, >= 2,000/s",
                b["ok"],
            ]
        )
    if "stages" in results:
        g = results["stages"]
        rows.append(
            ["mg-tools' own work per call, p50 (no HTTP)", f"{g['total']['p50_ms']:.3f} ms", "<= 0.3 ms", g["ok"]]
        )
    if "throughput" in results:
        t = results["throughput"]
        rows.append(
            [
                f"HTTP calls/s with {t['clients']} clients, of direct (SDK floor: {t['floor_ratio']:.0%})",
                f"{t['ratio']:.0%}",
                ">= 50%",
                t["ok"],
            ]
        )
    if "tokens" in results:
        k = results["tokens"]["targets"]
        rows.append(
            [
                "tools/list tokens per operation, --mode all",
                f"{k['all_per_operation']['value']:.1f}",
                "<= 160",
                k["all_per_operation"]["ok"],
            ]
        )
        rows.append(
            ["tools/list tokens, --mode discover", k["discover_total"]["value"], "<= 1,500", k["discover_total"]["ok"]]
        )
    if "search" in results:
        q = results["search"]
        rows.append(["discover search recall@5 on intents", f"{q['total']['recall_at_5']:.1%}", ">= 95%", q["ok"]])
    if "memory" in results:
        m = results["memory"]
        rows.append([f"RSS growth after {m['calls']:,} calls", f"{m['growth_from_idle']:.1%}", "< 10%", m["ok"]])
    return rows


def plot(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    fig.suptitle(
        f"mg-tools benchmarks ({results['machine']['cpus']} CPUs, Python {results['machine']['python']}, "
        f"{results['date']})",
        fontsize=13,
    )

    def bars(
        ax: Any,
        title: str,
        labels: list[str],
        values: list[float],
        unit: str,
        target: float | None = None,
        target_label: str = "target",
        colors: list[str] | None = None,
    ) -> None:
        ax.bar(labels, values, color=colors or ["#8da0cb"] * len(values))
        for i, v in enumerate(values):
            ax.annotate(f"{v:,.0f}" if v >= 100 else f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=8)
        if target is not None:
            ax.axhline(target, color="#d62728", linestyle="--", linewidth=1)
            ax.annotate(
                target_label,
                xy=(0.99, target),
                xycoords=("axes fraction", "data"),
                color="#d62728",
                fontsize=8,
                ha="right",
                va="bottom",
            )
            ax.set_ylim(0, max(max(values), target) * 1.15)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.tick_params(axis="x", labelsize=8, rotation=15)

    if "startup" in results:
        s = results["startup"]["mcp"]
        bars(
            axes[0][0],
            "Start-up to first tools/list (stdio)",
            ["bare mcp server", "mg-tools --sandbox"],
            [s["floor_s"], s["server_s"]],
            "seconds (median)",
            s["floor_s"] * 1.3,
            "1.3x floor",
            ["#bbbbbb", "#66c2a5"],
        )
        cli = results["startup"]["cli"]
        bars(
            axes[0][1],
            "Commands without MCP (median)",
            ["python -c pass", "import pydantic, httpx", "mg-tools call --dry-run"],
            [v["median_s"] for v in cli.values()],
            "seconds",
            0.5,
            "0.5 s",
            ["#bbbbbb", "#bbbbbb", "#66c2a5"],
        )
    if "overhead" in results:
        ax = axes[0][2]
        names = ["in memory", "stdio", "HTTP"]
        width = 0.27
        for j, (path_name, color) in enumerate((("direct", "#bbbbbb"), ("floor", "#fc8d62"), ("mcp", "#66c2a5"))):
            values = [results["overhead"][n][path_name]["p50_ms"] for n in names]
            ax.bar(
                [i + (j - 1) * width for i in range(3)],
                values,
                width,
                label={"direct": "direct httpx", "floor": "bare SDK server", "mcp": "mg-tools"}[path_name],
                color=color,
            )
        ax.set_xticks(range(3), names)
        ax.set_title("Per-call latency of get_domain (p50)", fontsize=10)
        ax.set_ylabel("ms")
        ax.legend(fontsize=8)
    if "throughput" in results:
        t = results["throughput"]
        bars(
            axes[0][3],
            f"HTTP throughput, {t['clients']} concurrent clients",
            ["direct httpx", "bare SDK server", "mg-tools"],
            [t["direct"]["calls_per_s"], t["floor"]["calls_per_s"], t["mcp"]["calls_per_s"]],
            "calls/s",
            t["direct"]["calls_per_s"] * 0.5,
            "50% of direct",
            ["#bbbbbb", "#fc8d62", "#66c2a5"],
        )
    if "tokens" in results:
        k = results["tokens"]
        modes = k["modes"]
        others = k["others"]
        bars(
            axes[1][0],
            "tools/list tokens per operation (tool)",
            ["mg-tools all", "mg-tools read-only", "Mailgun MCP*", "GitHub MCP* (per tool)"],
            [
                modes["all"]["per_operation"],
                modes["all --read-only"]["per_operation"],
                others["official Mailgun MCP server"]["per_item"],
                others["GitHub MCP server"]["per_item"],
            ],
            "cl100k tokens",
            160,
            "160",
            ["#66c2a5", "#66c2a5", "#bbbbbb", "#bbbbbb"],
        )
        bars(
            axes[1][1],
            "tools/list tokens, whole answer",
            ["discover", "all", "all read-only"],
            [modes["discover"]["total"], modes["all"]["total"], modes["all --read-only"]["total"]],
            "cl100k tokens",
            1500,
            "1,500 (discover)",
            ["#66c2a5"] * 3,
        )
    if "search" in results:
        ax = axes[1][2]
        areas = list(results["search"]["areas"])
        at1 = [results["search"]["areas"][a]["recall_at_1"] * 100 for a in areas]
        at5 = [results["search"]["areas"][a]["recall_at_5"] * 100 for a in areas]
        ax.bar([i - 0.2 for i in range(len(areas))], at1, 0.4, label="recall@1", color="#8da0cb")
        ax.bar([i + 0.2 for i in range(len(areas))], at5, 0.4, label="recall@5", color="#66c2a5")
        ax.axhline(95, color="#d62728", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(areas)), areas, rotation=45, fontsize=8, ha="right")
        ax.set_ylim(0, 105)
        ax.set_title(f"Discover search on {results['search']['total']['intents']} intents", fontsize=10)
        ax.set_ylabel("%")
        ax.legend(fontsize=8, loc="lower left")
    if "memory" in results:
        m = results["memory"]
        bars(
            axes[1][3],
            f"RSS, in-memory server ({m['calls']:,} calls)",
            ["idle", "after 100 calls", "at the end"],
            [m["idle_mib"], m["after_100_mib"], m["end_mib"]],
            "MiB",
            m["idle_mib"] * 1.1,
            "idle +10%",
            ["#66c2a5"] * 3,
        )
    fig.text(0.01, 0.01, "* reported figures, not measured here. Dashed red lines: targets.", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = [a for a in argv if a in BENCHES] or list(BENCHES)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "quick": quick}
    for name in only:
        module, full, short = BENCHES[name]
        started = time.monotonic()
        sys.stdout.write(f"running {name} ... ")
        sys.stdout.flush()
        results[name] = run_bench(name, short if quick else full)
        sys.stdout.write(f"{time.monotonic() - started:.0f} s\n")
        print(module.report(results[name]))
    results["machine"]["load_average_after"] = machine()["load_average"]

    print(table("Targets", ["figure", "measured", "target", "met"], summary(results)))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    if plot(results, PLOT):
        print(f"wrote {PLOT.relative_to(ROOT)}")
    else:
        print("matplotlib is not installed: no plot (pip install -e '.[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
