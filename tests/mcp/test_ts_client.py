"""The official TypeScript SDK, the client most desktop apps are built on, against mg-tools.

``tests/mcp/ts/client.mjs`` connects with ``@modelcontextprotocol/sdk`` (the exact version pinned in
``tests/mcp/ts/package.json``) over stdio (``python -m mg_tools serve``) and over streamable HTTP (servers
started here on free loopback ports), lists the tools, makes the calls of a plan and reports what the
SDK returned or threw. The SDK checks structured content against each tool's output schema, even on
error results: a mismatch reaches the user as a -32602 instead of the error's own message.

Node and npm are needed (``npm ci`` installs the SDK on first use). Without them the tests skip, or
fail when ``CI`` is set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from mcp_support import ROOT, run_http
from node_support import node_with_packages

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import http_app

TS = Path(__file__).parent / "ts"
SDK_PACKAGE = TS / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"
#: The protocol versions the server speaks; the SDK must settle on one of them.
SERVED = ("2025-11-25", "2026-07-28")
INVALID_PARAMS = -32602
TOKEN = "ts-client-test-token-3b9e"


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with the pinned SDK installed under tests/mcp/ts/node_modules."""
    return node_with_packages(TS, SDK_PACKAGE, "the TypeScript SDK checks")


# -- the plan -----------------------------------------------------------------------------------------


def call(id: str, tool: str, arguments: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": id, "tool": tool, "arguments": arguments or {}, **extra}


UNKNOWN_RESULT = "000000000000"

ALL_CALLS = [
    call("list", "list_domains", {"limit": 1}),
    call("get", "get_domain", {"domain": "mg.example.com"}),
    call("invalid", "list_domains", {"limit": 0, "colour": "red"}),
    call("not_found", "get_domain", {"domain": "nope.example.com"}),
    call("unknown_tool", "get_domian", {"domain": "mg.example.com"}),
    call("read_unknown", "read_result", {"result_id": UNKNOWN_RESULT}),
    call("read_invalid", "read_result", {}),
]

DISCOVER_CALLS = [
    call("list", "call_operation", {"name": "list_domains", "arguments": {"limit": 1}}),
    call("search", "search_operations", {"query": "show a domain's settings", "limit": 5}),
    call("describe", "describe_operation", {"name": "get_domain"}),
    call("invalid", "call_operation", {"name": "list_domains", "arguments": {"limit": 0}}),
    call("unknown", "call_operation", {"name": "get_domian", "arguments": {"domain": "mg.example.com"}}),
    call("describe_unknown", "describe_operation", {"name": "get_domian"}),
    call("missing_name", "call_operation", {}),
    call("read_unknown", "read_result", {"result_id": UNKNOWN_RESULT}),
    call("direct", "get_domain", {"domain": "mg.example.com"}),
]

READ_ONLY_ALL_CALLS = [
    call("get", "get_domain", {"domain": "mg.example.com"}),
    call("hidden", "delete_domain", {"domain": "mg.example.com"}),
    call("hidden_send", "send_message", {"domain": "mg.example.com"}),
    call("typo_of_hidden", "send_mesage", {}),
]

READ_ONLY_DISCOVER_CALLS = [
    call("hidden", "call_operation", {"name": "delete_domain", "arguments": {"domain": "mg.example.com"}}),
    call("describe_hidden", "describe_operation", {"name": "send_message"}),
    call("typo_of_hidden", "call_operation", {"name": "send_mesage", "arguments": {}}),
    call("search", "search_operations", {"query": "send an email message", "limit": 20}),
]

PROMPT = {"name": "diagnose_delivery", "arguments": {"recipient": "ann@example.com", "domain": "mg.example.com"}}

CONFIRM_CALLS = [
    call("create", "create_domain", {"domain": "old.example.com"}),
    call("asked", "delete_domain", {"domain": "old.example.com"}),
    call("done", "delete_domain", {"domain": "old.example.com"}, confirm_from="asked"),
]


def _stdio(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "mg_tools", "serve", "--sandbox", "--sandbox-state", ":memory:", *args]
    return {"stdio": {"command": command[0], "args": command[1:], "cwd": str(ROOT)}}


@pytest.fixture(scope="module")
def report(node, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """One run of client.mjs over every session below (they run concurrently); its JSON report."""
    tmp = tmp_path_factory.mktemp("ts")
    with ExitStack() as stack:

        def http(mode: str, policy: Policy | None = None, token: str | None = None) -> dict[str, Any]:
            toolkit = stack.enter_context(Toolkit(sandbox=True, policy=policy, file_roots=[tmp]))
            url = stack.enter_context(run_http(http_app(toolkit, mode=mode, token=token)))
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return {"http": {"url": f"{url}/mcp", "headers": headers}}

        sessions = [
            {"name": "stdio-all", **_stdio("--mode", "all"), "calls": ALL_CALLS, "prompt": PROMPT},
            {"name": "stdio-discover", **_stdio("--mode", "discover"), "calls": DISCOVER_CALLS, "prompt": PROMPT},
            {
                "name": "stdio-read-only",
                **_stdio("--mode", "all", "--read-only"),
                "calls": READ_ONLY_ALL_CALLS,
                "prompt": PROMPT,
            },
            {"name": "http-all", **http("all", token=TOKEN), "calls": ALL_CALLS},
            {"name": "http-discover", **http("discover"), "calls": DISCOVER_CALLS, "prompt": PROMPT},
            {
                "name": "http-read-only",
                **http("discover", Policy.build(read_only=True)),
                "calls": READ_ONLY_DISCOVER_CALLS,
            },
            {"name": "http-confirm", **http("all", Policy.build(confirm="*:delete")), "calls": CONFIRM_CALLS},
        ]
        plan = tmp / "plan.json"
        plan.write_text(json.dumps({"sessions": sessions}))
        done = subprocess.run(
            [node, str(TS / "client.mjs"), str(plan)], cwd=TS, capture_output=True, text=True, timeout=180
        )
    assert done.returncode == 0, done.stderr[-3000:]
    yield json.loads(done.stdout)


def session(report: dict[str, Any], name: str) -> dict[str, Any]:
    got = report["sessions"][name]
    assert got["error"] is None, got
    return got


def error_result(got: dict[str, Any], id: str) -> dict[str, Any]:
    """An error result as the client got it: no throw, no structured content, the error's JSON as text."""
    answer = got["calls"][id]
    assert "thrown" not in answer, f"{id}: the SDK threw instead of returning the error: {answer['thrown']}"
    assert answer["isError"] is True, answer
    assert answer["structuredContent"] is None, answer
    return json.loads(answer["text"])


def thrown(got: dict[str, Any], id: str) -> dict[str, Any]:
    answer = got["calls"][id]
    assert "thrown" in answer, answer
    return answer["thrown"]


ALL_SESSIONS = [
    "stdio-all",
    "stdio-discover",
    "stdio-read-only",
    "http-all",
    "http-discover",
    "http-read-only",
    "http-confirm",
]


# -- the tests ----------------------------------------------------------------------------------------


def test_the_pinned_sdk_ran(report):
    pinned = json.loads((TS / "package.json").read_text())["dependencies"]["@modelcontextprotocol/sdk"]
    assert report["sdk"] == pinned
    lock = json.loads((TS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@modelcontextprotocol/sdk"]["version"] == pinned


@pytest.mark.parametrize("name", ALL_SESSIONS)
def test_every_session_negotiates_a_served_protocol(report, name):
    got = session(report, name)
    assert got["protocolVersion"] in SERVED
    assert got["serverInfo"]["name"] == "mg-tools"
    assert "no real mail is sent" in got["instructions"]
    assert "read_result" in got["tools"]


@pytest.mark.parametrize("name", ["stdio-all", "http-all"])
def test_all_mode(report, name):
    got = session(report, name)
    assert {"list_domains", "get_domain", "send_message", "read_result"} <= set(got["tools"])
    assert set(got["outputSchemas"]) == {"read_result"}
    assert got["calls"]["list"]["structuredContent"]["result"]["total_count"] >= 1
    assert got["calls"]["get"]["structuredContent"]["result"]["domain"]["name"] == "mg.example.com"
    invalid = error_result(got, "invalid")
    assert invalid["error"] == "invalid_arguments"
    assert {f["field"] for f in invalid["fields"]} == {"limit", "colour"}
    not_found = error_result(got, "not_found")
    assert not_found == {"error": "not_found", "status": 404, "message": not_found["message"]}
    assert "Mailgun 404" in not_found["message"] and "Domain not found" in not_found["message"]
    # read_result declares an output schema: its errors must still reach the model as errors.
    assert "unknown or expired" in error_result(got, "read_unknown")["message"]
    assert "result_id: required" in error_result(got, "read_invalid")["message"]
    unknown = thrown(got, "unknown_tool")
    assert unknown["code"] == INVALID_PARAMS and "Did you mean: get_domain" in unknown["message"]


@pytest.mark.parametrize("name", ["stdio-discover", "http-discover"])
def test_discover_mode(report, name):
    got = session(report, name)
    assert set(got["tools"]) == {"search_operations", "describe_operation", "call_operation", "read_result"}
    assert set(got["outputSchemas"]) == set(got["tools"])
    assert got["calls"]["list"]["structuredContent"]["result"]["total_count"] >= 1
    assert "get_domain" in [o["name"] for o in got["calls"]["search"]["structuredContent"]["operations"]]
    assert got["calls"]["describe"]["structuredContent"]["input_schema"]["type"] == "object"
    assert error_result(got, "invalid")["error"] == "invalid_arguments"
    unknown = error_result(got, "unknown")
    assert unknown["error"] == "unknown_operation"
    assert "Did you mean: get_domain" in unknown["message"] and "search_operations" in unknown["message"]
    assert "Did you mean: get_domain" in error_result(got, "describe_unknown")["message"]
    assert "name: required" in error_result(got, "missing_name")["message"]
    assert "unknown or expired" in error_result(got, "read_unknown")["message"]
    direct = thrown(got, "direct")
    assert direct["code"] == INVALID_PARAMS and "call_operation" in direct["message"]


def test_hidden_tools_explain_the_policy_in_all_mode(report):
    got = session(report, "stdio-read-only")
    assert "delete_domain" not in got["tools"] and "send_message" not in got["tools"]
    assert not got["calls"]["get"]["isError"]
    hidden = error_result(got, "hidden")
    assert hidden["error"] == "policy_denied"
    assert "read-only mode: delete_domain is a delete operation" in hidden["message"]
    assert "read-only mode: send_message is a send operation" in error_result(got, "hidden_send")["message"]
    typo = thrown(got, "typo_of_hidden")
    assert typo["code"] == INVALID_PARAMS and "send_mesage" in typo["message"]
    assert "send_message" not in typo["message"].replace("send_mesage", "")  # never suggest a hidden tool


def test_hidden_operations_explain_the_policy_in_discover_mode(report):
    got = session(report, "http-read-only")
    hidden = error_result(got, "hidden")
    assert hidden["error"] == "policy_denied"
    assert "read-only mode: delete_domain is a delete operation" in hidden["message"]
    described = error_result(got, "describe_hidden")
    assert "read-only mode: send_message is a send operation" in described["message"]
    typo = error_result(got, "typo_of_hidden")
    assert typo["error"] == "unknown_operation" and "send_message" not in typo["message"].replace("send_mesage", "")
    assert all(o["access"] == "read" for o in got["calls"]["search"]["structuredContent"]["operations"])


def test_confirmation_round_trip_through_the_error_text(report):
    got = session(report, "http-confirm")
    assert not got["calls"]["create"]["isError"]
    asked = error_result(got, "asked")
    assert asked["error"] == "confirmation_required" and asked["confirm_token"]
    assert "Ask the user" in asked["hint"]
    done = got["calls"]["done"]
    assert done["isError"] is False, done
    assert done["structuredContent"]["result"]


@pytest.mark.parametrize("name", ["http-all", "http-discover", "http-read-only", "http-confirm"])
def test_stateless_http_refuses_the_event_stream_at_once(report, name):
    """The SDK opens GET /mcp for server messages after connecting; a stateless server says 405."""
    exchanges = session(report, name)["http"]
    gets = [e["status"] for e in exchanges if e["method"] == "GET"]
    assert gets and set(gets) == {405}, exchanges
    assert all(e["status"] == 200 or e["status"] == 202 for e in exchanges if e["method"] == "POST"), exchanges


@pytest.mark.parametrize("name", ["stdio-all", "stdio-discover"])
def test_the_start_up_line_counts_operations_and_tools(report, name):
    got = session(report, name)
    with Toolkit(sandbox=True) as toolkit:
        operations = len(toolkit.operations())
    tools = len(got["tools"])
    word = "as" if name.endswith("all") else "through"
    assert f"serving {operations} operations {word} {tools} tools" in got["stderr"], got["stderr"]


@pytest.mark.parametrize("name", ["stdio-all", "stdio-discover", "stdio-read-only", "http-discover"])
def test_prompts_are_listed_and_filled_in(report, name):
    got = session(report, name)
    read_only = name == "stdio-read-only"
    assert set(got["prompts"]) == (
        {"diagnose_delivery", "report_campaign"}
        if read_only
        else {"diagnose_delivery", "set_up_sending_domain", "clean_bounced_members", "report_campaign"}
    )
    assert got["prompt"].index("1. trace_message:") < got["prompt"].index("2. check_suppression:")
    assert "recipient=ann@example.com" in got["prompt"]
    assert ("call_operation" in got["prompt"]) is name.endswith("discover")
