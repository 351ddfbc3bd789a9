"""Acting for a subaccount: every request carries ``X-Mailgun-On-Behalf-Of``, from the toolkit's
setting or the current caller's, checked before anything is sent; and, end to end through the tools,
the sandbox keeps a subaccount's domains its own."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from reliability.support import SEND

from mg_tools import ConfigurationError, Policy, Toolkit
from mg_tools.caller import Caller, acting_as
from mg_tools.cli import main
from mg_tools.errors import Forbidden, NotFound

SUB = "0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba98"
HEADER = "X-Mailgun-On-Behalf-Of"
GRANTED = Policy.build(grants="*:*,subaccounts")


def recording_toolkit(seen: list[httpx.Request], **kw) -> Toolkit:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total_count": 0})

    return Toolkit(api_key="fake-key", transport=httpx.MockTransport(answer), policy=GRANTED, **kw)


def test_every_request_carries_the_toolkit_s_subaccount():
    seen: list[httpx.Request] = []
    with recording_toolkit(seen, subaccount=SUB.upper()) as mg:
        mg.call("list_domains")
        mg.call("get_subaccount", subaccount_id=OTHER)
    assert [r.headers[HEADER] for r in seen] == [SUB, SUB]


def test_without_a_subaccount_no_header_is_sent():
    seen: list[httpx.Request] = []
    with recording_toolkit(seen) as mg:
        mg.call("list_domains")
    assert HEADER not in seen[0].headers


def test_a_caller_s_subaccount_wins_over_the_toolkit_s():
    seen: list[httpx.Request] = []
    with recording_toolkit(seen, subaccount=SUB) as mg:

        async def calls() -> None:
            with acting_as(Caller("client", subaccount=OTHER)):
                await mg.acall("list_domains")
            with acting_as(Caller("parent")):
                await mg.acall("list_domains")

        mg.run(calls())
    assert [r.headers[HEADER] for r in seen] == [OTHER, SUB]


def test_delete_subaccount_keeps_the_subaccount_it_names():
    seen: list[httpx.Request] = []
    with recording_toolkit(seen, subaccount=SUB) as mg:
        mg.call("delete_subaccount", subaccount_id=OTHER)
    assert seen[0].headers[HEADER] == OTHER


@pytest.mark.parametrize("bad", ["acme", "0123456789abcdef0123456", SUB + "0", "0123456789abcdef0123456g"])
def test_an_id_that_is_no_subaccount_id_is_refused_before_anything_is_sent(bad):
    with pytest.raises(ConfigurationError, match=r"is not a Mailgun subaccount id \(24 hexadecimal"):
        Toolkit(sandbox=True, subaccount=bad)
    seen: list[httpx.Request] = []
    with recording_toolkit(seen) as mg, acting_as(Caller("client", subaccount=bad)):
        with pytest.raises(ConfigurationError, match="the caller's subaccount"):
            mg.call("list_domains")
    assert seen == []


def test_dry_runs_show_the_header_and_the_call_log_names_the_subaccount(caplog):
    caplog.set_level(logging.INFO, logger="mg_tools")
    with Toolkit(sandbox=True, subaccount=SUB) as mg:
        assert mg.dry_run("list_domains")["headers"] == {HEADER: SUB}
        with pytest.raises(Forbidden, match="is not a subaccount of this account"):
            mg.call("list_domains")
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "call"]
    assert record.operation == "list_domains" and record.subaccount == SUB


def test_the_cli_takes_subaccount_on_call_and_refuses_a_bad_one(capsys):
    assert main(["call", "list_domains", "--dry-run", "--subaccount", SUB]) == 0
    assert json.loads(capsys.readouterr().out)["headers"] == {HEADER: SUB}
    assert main(["call", "list_domains", "--dry-run", "--subaccount", "acme"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'acme' is not a Mailgun subaccount id" in err
    assert main(["serve", "--subaccount", "acme"]) == 2


def test_a_subaccount_s_domains_are_its_own_through_the_tools():
    with Toolkit(sandbox=True, policy=GRANTED) as parent:
        sub = parent.call("create_subaccount", name="Client")["subaccount"]["id"]
        shared = httpx.ASGITransport(app=parent.sandbox_app)
        with Toolkit(sandbox=True, subaccount=sub, transport=shared) as child:
            child.call("create_domain", domain="client.example.com")
            child.call("verify_domain", domain="client.example.com")
            assert [d["name"] for d in child.call("list_domains")["items"]] == ["client.example.com"]
            assert "client.example.com" not in [d["name"] for d in parent.call("list_domains")["items"]]
            with pytest.raises(NotFound):
                parent.call("get_domain", domain="client.example.com")
            message = {**SEND, "domain": "client.example.com", "sender": "me@client.example.com"}
            assert child.call("send_message", **message)["message"].startswith("Queued")
            parent.call("disable_subaccount", subaccount_id=sub)
            with pytest.raises(Forbidden, match="is disabled and cannot send"):
                child.call("send_message", **message)


def test_the_audit_trail_names_the_subaccount_a_call_acts_for(tmp_path):
    from mg_tools.audit import Auditor, JsonLinesFile

    trail = tmp_path / "audit.jsonl"
    seen: list[httpx.Request] = []
    with recording_toolkit(seen, subaccount=SUB, audit=Auditor(JsonLinesFile(trail))) as mg:
        mg.call("list_domains")
        mg.dry_run("get_domain", domain="mg.example.com")
        with acting_as(Caller("bot", subaccount=OTHER)):
            mg.call("list_domains")
    records = [json.loads(line) for line in trail.read_text().splitlines()]
    assert [(r["resource"], r["subaccount"]) for r in records] == [
        (f"account:{SUB}", SUB),
        ("domain:mg.example.com", SUB),
        (f"account:{OTHER}", OTHER),
    ]
    with recording_toolkit(seen, audit=Auditor(JsonLinesFile(trail))) as mg:
        mg.call("list_domains")
    last = json.loads(trail.read_text().splitlines()[-1])
    assert last["resource"] == "account:main" and "subaccount" not in last
