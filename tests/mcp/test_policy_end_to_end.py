"""The policy features together, over HTTP with the Python SDK client, on the sandbox: two identities
with their own tokens, Cedar rules with a daily recipient quota and a send that needs a person's
approval (asked through MCP elicitation), and one audit file recording every attempt."""

from __future__ import annotations

import hashlib

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_support import error_of, payload, run_http

from mg_tools import Toolkit
from mg_tools.audit_view import read
from mg_tools.mcp_server import http_app
from mg_tools.settings import Settings

pytestmark = pytest.mark.anyio

D = "mg.example.com"
TOKENS = {"helpdesk": "tok-helpdesk-" + "h" * 20, "newsletter": "tok-newsletter-" + "n" * 20}
POLICY = f"""
permit (principal, action in Action::"read", resource);

@id("helpdesk-sends-to-customers")
permit (principal == Identity::"helpdesk", action == Action::"send_message", resource == Domain::"{D}");

@id("helpdesk-daily-cap")
forbid (principal == Identity::"helpdesk", action == Action::"send_message", resource)
when {{ context.usage.recipients_24h + context.recipient_count > 3 }};

@id("newsletter-needs-approval")
@confirm("a person approves every newsletter send")
permit (principal == Identity::"newsletter", action == Action::"send_message", resource == Domain::"{D}");
"""


def send(to: str) -> dict:
    return {"domain": D, "sender": f"news@{D}", "to": [to], "subject": "Spring sale", "text": "Hello"}


class User:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, context, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        action = self.answers.pop(0)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)


def client(url: str, token: str, user: User | None = None) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), elicitation_callback=user)


async def test_quota_approval_denial_and_audit_over_http(tmp_path):
    (tmp_path / "identities.toml").write_text(
        "".join(
            f'[identities.{name}]\ntoken_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n\n'
            for name, token in TOKENS.items()
        )
    )
    (tmp_path / "policy.cedar").write_text(POLICY)
    trail = tmp_path / "audit.jsonl"
    settings = Settings(
        identities=tmp_path / "identities.toml",
        policy_file=tmp_path / "policy.cedar",
        audit=str(trail),
        state_dir=tmp_path / "state",
    )
    toolkit = Toolkit(sandbox=True, settings=settings)
    with run_http(http_app(toolkit)) as url:
        # The helpdesk bot sends to customers one by one until its daily cap of 3 recipients.
        async with client(url, TOKENS["helpdesk"]) as c:
            batch = [await c.call_tool("send_message", send(f"customer{i}@example.com")) for i in range(5)]
            elsewhere = await c.call_tool("send_message", {**send("x@example.com"), "domain": "other.example.com"})
        # The newsletter agent's sends each need a person: one approved, one declined.
        user = User("accept", "decline")
        async with client(url, TOKENS["newsletter"], user) as c:
            approved = await c.call_tool("send_message", send("reader1@example.com"))
            declined = await c.call_tool("send_message", send("reader2@example.com"))
            stored = await c.call_tool("list_events", {"domain": D, "event": "accepted", "limit": 50})
    await toolkit.aclose()

    sent = [r for r in batch if not r.is_error]
    refused = [error_of(r) for r in batch if r.is_error]
    assert len(sent) == 3 and len(refused) == 2, "the quota stops the batch exactly at the cap"
    assert all(e["error"] == "policy_denied" and "helpdesk-daily-cap" in e["message"] for e in refused)
    assert error_of(elsewhere)["error"] == "policy_denied"
    assert not approved.is_error and payload(approved)["result"]["message"].startswith("Queued")
    assert declined.is_error and "declined" in error_of(declined)["message"]
    assert user.asked and all("Spring sale" in q for q in user.asked)
    recipients = sorted(e["recipient"] for e in payload(stored)["result"]["items"])
    assert recipients == ["customer0@example.com", "customer1@example.com", "customer2@example.com",
                          "reader1@example.com"]  # fmt: skip

    records = read(trail).records
    sends = [(r["identity"], r["decision"]["result"], r["outcome"]["status"]) for r in records
             if r["tool"] == "send_message"]  # fmt: skip
    assert sends.count(("helpdesk", "allowed", "ok")) == 3
    assert sends.count(("helpdesk", "denied", "error")) == 3
    assert ("newsletter", "allowed", "ok") in sends
    assert ("newsletter", "confirmation_required", "error") in sends
    denied = [r for r in records if r["decision"]["result"] == "denied" and r["identity"] == "helpdesk"]
    assert {p for r in denied for p in r["decision"].get("policies", [])} >= {"helpdesk-daily-cap"}
    approved_record = next(r for r in records if r.get("confirmation"))
    assert approved_record["identity"] == "newsletter" and approved_record["confirmation"]["how"] == "elicitation"
    assert "Hello" not in trail.read_text(), "message bodies stay out of the audit trail"
