"""A call that needs confirmation asks the user through the client (MCP elicitation): accepted, it is
sent once with the token the executor issued; declined or cancelled, nothing is sent. Every attempt is
in the audit trail. Clients without elicitation get the token round trip."""

from __future__ import annotations

import hashlib
import json
import secrets

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_support import PROTOCOLS, error_of, payload, run_http
from reliability.support import SEND, Recorder, recording_toolkit

from mg_tools.audit import Auditor, JsonLinesFile
from mg_tools.audit_view import read
from mg_tools.confirm import Confirmations, MemoryLedger
from mg_tools.identities import Identities
from mg_tools.mcp_server import DECLINED, build_server, http_app
from mg_tools.policy import Policy

QUESTION = "Send 'Hi' to bob@example.com from Ann <ann@mg.example.com>?"


@pytest.fixture
def recorder():
    return Recorder(body={"id": "<1@mg.example.com>", "message": "Queued. Thank you."})


@pytest.fixture
def trail(tmp_path):
    return tmp_path / "audit.jsonl"


@pytest.fixture
def mg(recorder, trail):
    toolkit = recording_toolkit(
        recorder,
        policy=Policy.build(confirm="*:send,*:delete"),
        audit=Auditor(JsonLinesFile(trail)),
        confirmations=Confirmations(key=secrets.token_bytes(32), ledger=MemoryLedger()),
    )
    yield toolkit
    toolkit.close()


class User:
    """Answers each question with ``action`` and remembers what it was asked."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.asked: list[str] = []

    async def __call__(self, context, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        return types.ElicitResult(action=self.action, content={} if self.action == "accept" else None)


def decisions(trail) -> list[tuple[str, str, str]]:
    return [
        (r["tool"], r["decision"]["result"], (r.get("confirmation") or {}).get("how", "")) for r in read(trail).records
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_accepted_confirmation_sends_the_call_once(mg, recorder, trail, protocol):
    user = User("accept")
    async with Client(build_server(mg), mode=protocol, elicitation_callback=user) as client:
        result = await client.call_tool("send_message", SEND)
    assert not result.is_error, result
    assert payload(result)["result"]["id"] == "<1@mg.example.com>"
    assert user.asked == [QUESTION] and len(recorder.requests) == 1
    assert decisions(trail) == [
        ("send_message", "confirmation_required", ""),
        ("send_message", "allowed", "elicitation"),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_confirmation_sends_nothing(mg, recorder, trail, protocol, action):
    user = User(action)
    async with Client(build_server(mg, mode="discover"), mode=protocol, elicitation_callback=user) as client:
        result = await client.call_tool(
            "call_operation", {"name": "delete_domain", "arguments": {"domain": "mg.example.com"}}
        )
    assert error_of(result) == {"error": "confirmation_declined", "message": DECLINED}
    assert user.asked == ["Delete domain mg.example.com?"] and recorder.requests == []
    last = read(trail).records[-1]
    assert last["confirmation"]["answer"] == action and last["outcome"] == {"status": "declined"}


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_without_elicitation_the_token_goes_back_to_the_agent(mg, recorder, protocol):
    async with Client(build_server(mg), mode=protocol) as client:
        result = await client.call_tool("send_message", SEND)
        token = error_of(result)["confirm_token"]
        confirmed = await client.call_tool("send_message", {**SEND, "confirm_token": token})
    assert not confirmed.is_error and len(recorder.requests) == 1


@pytest.mark.anyio
async def test_an_accept_with_a_forged_state_sends_nothing(mg, recorder):
    accept = {"confirm": types.ElicitResult(action="accept", content={})}
    async with Client(build_server(mg), elicitation_callback=User("accept")) as client:
        forged = await client.session.call_tool(
            "send_message", SEND, input_responses=accept, request_state="0.0.0", allow_input_required=True
        )
        missing = await client.session.call_tool(
            "send_message", SEND, input_responses=accept, allow_input_required=True
        )
    assert error_of(forged)["error"] == "confirmation_required" and recorder.requests == []
    assert error_of(missing) == {"error": "confirmation_declined", "message": DECLINED}


def _http_client(url: str, token: str, user: User | None, protocol: str = "auto") -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=protocol, elicitation_callback=user)


@pytest.mark.anyio
async def test_over_http_the_user_is_asked_and_the_audit_trail_holds_every_attempt(mg, recorder, trail, tmp_path):
    path = tmp_path / "identities.toml"
    path.write_text(
        f'[identities.helpdesk]\ntoken_sha256 = "{hashlib.sha256(b"tok-helpdesk").hexdigest()}"\n'
        'grants = "messages:*,suppressions:*"\n'
    )
    identities = Identities.load(path, mg.registry)
    with run_http(http_app(mg, identities=identities)) as url:
        async with _http_client(url, "tok-helpdesk", User("accept")) as client:
            sent = await client.call_tool("send_message", SEND)
            denied = await client.call_tool("delete_domain", {"domain": "mg.example.com"})
        async with _http_client(url, "tok-helpdesk", User("decline")) as client:
            declined = await client.call_tool("delete_bounce", {"domain": "mg.example.com", "address": "a@example.com"})
        async with _http_client(url, "tok-helpdesk", User("accept"), protocol="legacy") as client:
            # Stateless HTTP carries no request from server to client on 2025-11-25: the token comes back.
            token = error_of(await client.call_tool("send_message", SEND))["confirm_token"]
    assert not sent.is_error and len(recorder.requests) == 1
    assert "no grant covers delete_domain" in error_of(denied)["message"]
    assert error_of(declined)["message"] == DECLINED and token
    records = read(trail).records
    assert {r["identity"] for r in records} == {"helpdesk"}
    assert [(r["tool"], r["decision"]["result"], (r.get("outcome") or {}).get("status")) for r in records] == [
        ("send_message", "confirmation_required", "error"),
        ("send_message", "allowed", "ok"),
        ("delete_domain", "denied", "error"),
        ("delete_bounce", "confirmation_required", "error"),
        ("delete_bounce", "confirmation_required", "declined"),
        ("send_message", "confirmation_required", "error"),
    ]
    assert records[1]["confirmation"]["how"] == "elicitation" and records[1]["outcome"]["id"] == "<1@mg.example.com>"
    assert json.dumps(records).count(token) == 0  # a token is a credential for the call: never written
