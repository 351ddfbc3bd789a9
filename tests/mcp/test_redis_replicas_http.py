"""Two HTTP replicas sharing one Redis, driven by the SDK's client over streamable HTTP: a result
trimmed on one is read on the other, a confirmation token is used once across both, a quota counts
the calls of both.

Both replicas call one standalone sandbox; each has its own state directory, so only Redis joins them.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_support import error_of, payload, run_http

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import http_app
from mg_tools.sandbox import DEFAULT_API_KEY
from mg_tools.sandbox.server import BackgroundSandbox
from mg_tools.settings import Settings

DOMAIN = "mg.example.com"
SEND = {"domain": DOMAIN, "sender": f"ann@{DOMAIN}", "to": ["bob@example.com"], "subject": "Hi", "text": "Hello"}
#: Each tool may be called twice an hour, counted over both replicas.
QUOTA = "permit (principal, action, resource) when { context.usage.calls_1h < 2 };\n"


@pytest.fixture(scope="module")
def replicas(redis_server, tmp_path_factory):
    """The MCP URLs of two replicas (budget 500, sends confirmed, the quota), and the sandbox they call."""
    tmp = tmp_path_factory.mktemp("replicas")
    (tmp / "quota.cedar").write_text(QUOTA)
    with BackgroundSandbox() as sandbox:
        toolkits = [
            Toolkit(
                api_key=DEFAULT_API_KEY,
                base_url=sandbox.url,
                settings=Settings(redis_url=redis_server.url, state_dir=tmp / name),
                budget=500,
                policy=Policy.build(confirm="*:send"),
                policy_file=tmp / "quota.cedar",
            )
            for name in ("a", "b")
        ]
        with run_http(http_app(toolkits[0])) as a, run_http(http_app(toolkits[1])) as b:
            yield f"{a}/mcp", f"{b}/mcp", sandbox
        for toolkit in toolkits:
            toolkit.close()


def client(url: str) -> Client:
    return Client(streamable_http_client(url))


@pytest.mark.anyio
async def test_a_result_trimmed_on_one_replica_is_read_on_the_other(replicas, redis_url):
    a, b, _ = replicas
    async with client(a) as on_a:
        trimmed = (await on_a.call_tool("get_domain", {"domain": DOMAIN})).structured_content["truncated"]
    text, offset = "", 0
    async with client(b) as on_b:
        while offset is not None:
            part = await on_b.call_tool("read_result", {"result_id": trimmed["result_id"], "offset": offset})
            part = part.structured_content
            text, offset = text + part["chunk"], part["next_offset"]
        unknown = await on_b.call_tool("read_result", {"result_id": "000000000000"})
    assert json.loads(text)["domain"]["name"] == DOMAIN and len(text) == trimmed["total_chars"] > 500
    assert "unknown or expired" in error_of(unknown)["message"]


@pytest.mark.anyio
async def test_a_token_issued_on_one_replica_is_used_once_on_the_other(replicas, redis_url):
    a, b, _ = replicas
    async with client(a) as on_a, client(b) as on_b:
        token = error_of(await on_a.call_tool("send_message", SEND))["confirm_token"]
        accepted = await on_b.call_tool("send_message", {**SEND, "confirm_token": token})
        again = await on_a.call_tool("send_message", {**SEND, "confirm_token": token})
    assert not accepted.is_error and payload(accepted)["result"]["message"].startswith("Queued")
    assert error_of(again)["error"] == "confirmation_required" and "already used" in error_of(again)["message"]


@pytest.mark.anyio
async def test_a_quota_counts_the_calls_of_both_replicas(replicas, redis_url):
    a, b, _ = replicas
    async with client(a) as on_a, client(b) as on_b:
        first = await on_a.call_tool("list_domains", {"limit": 5})
        second = await on_b.call_tool("list_domains", {"limit": 5})
        refused = [await c.call_tool("list_domains", {"limit": 5}) for c in (on_a, on_b)]
    assert not first.is_error and not second.is_error
    assert [error_of(r)["error"] for r in refused] == ["policy_denied", "policy_denied"]
