"""The audit trail: one JSON line per call attempt from the executor, redacted, bodies left out unless
asked for; and ``mg-tools audit`` reading it back."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
from reliability.support import SEND

from mg_tools import Toolkit
from mg_tools.audit import Auditor, JsonLinesFile
from mg_tools.audit_view import parse_since, select, table
from mg_tools.caller import Caller, acting_as
from mg_tools.cli import main
from mg_tools.errors import ConfigurationError, MgToolsError, PolicyDenied
from mg_tools.log import Redactor
from mg_tools.policy import Policy
from mg_tools.settings import Settings

ATTACHED = {"content": base64.b64encode(b"secret quarterly numbers").decode(), "filename": "q.txt"}


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def trail(tmp_path):
    return tmp_path / "audit.jsonl"


def toolkit(trail, *, bodies: bool = False, **kw) -> Toolkit:
    return Toolkit(sandbox=True, settings=Settings(audit=str(trail), audit_bodies=bodies), **kw)


def test_every_attempt_is_one_record(trail):
    with toolkit(trail, policy=Policy.build(deny="delete_domain")) as mg:
        sent = mg.call("send_message", **SEND, attachments=[ATTACHED])
        mg.dry_run("get_domain", domain="mg.example.com")
        with pytest.raises(MgToolsError):
            mg.call("delete_domain", domain="mg.example.com")
        with pytest.raises(MgToolsError):
            mg.call("get_domain", domain="not a domain")
    send, dry, denied, invalid = records(trail)
    assert send["tool"] == "send_message" and send["access"] == "send" and send["identity"] == "local"
    assert send["resource"] == "domain:mg.example.com" and send["digest"].startswith("sha256:")
    assert send["decision"] == {"result": "allowed", "grant": "*:*"} and not send["dry_run"]
    assert send["outcome"] == {"status": "ok", "id": sent["id"], "message": sent["message"]}
    assert send["arguments"]["text"] == "<5 characters, not kept>"
    assert send["arguments"]["attachments"] == [{"content": "<32 characters, not kept>", "filename": "q.txt"}]
    assert datetime.fromisoformat(send["time"]).tzinfo is not None and send["duration_ms"] >= 0
    assert dry["dry_run"] and dry["outcome"] == {"status": "ok"}
    assert denied["decision"]["result"] == "denied" and "denied by the rule" in denied["decision"]["reason"]
    assert denied["outcome"] == {"status": "error", "error": "policy_denied"}
    assert invalid["decision"] == {"result": "invalid"} and invalid["outcome"]["error"] == "invalid_arguments"
    assert stat.S_IMODE(os.stat(trail).st_mode) == 0o600


def test_bodies_are_kept_only_when_asked_for(trail):
    with toolkit(trail, bodies=True) as mg:
        mg.call("send_message", **SEND, attachments=[ATTACHED])
        mg.call("create_template", domain="mg.example.com", template_name="t1", template="<p>{{name}}</p>")
    send, template = records(trail)
    assert send["arguments"]["text"] == "Hello" and send["arguments"]["attachments"][0] == ATTACHED
    assert template["arguments"]["template"] == "<p>{{name}}</p>"
    with toolkit(trail) as mg:
        mg.call("create_template", domain="mg.example.com", template_name="t2", template="<b>x</b>")
    assert records(trail)[-1]["arguments"]["template"] == "<8 characters, not kept>"


def test_secrets_never_reach_the_trail(trail):
    with toolkit(trail) as mg:
        mg.call("create_domain", domain="new.example.com", smtp_password="hunter2-pass")
    (record,) = records(trail)
    assert record["arguments"]["smtp_password"] == "***" and "hunter2" not in trail.read_text()


def test_a_composites_sub_calls_name_their_parent(trail):
    with toolkit(trail) as mg:
        mg.call("trace_message", domain="mg.example.com", recipient="bob@example.com")
    *subs, parent = records(trail)
    assert parent["tool"] == "trace_message" and "parent" not in parent and subs
    assert all(s["parent"] == {"call_id": parent["call_id"], "tool": "trace_message"} for s in subs)


def test_identity_subaccount_and_rule_ids_are_recorded(trail):
    auditor = Auditor(JsonLinesFile(trail), redactor=Redactor())
    registry = Toolkit(sandbox=True).registry
    with acting_as(Caller("helpdesk")), pytest.raises(PolicyDenied):
        with auditor.attempt("list_domains", {}, registry=registry, subaccount="acct-7"):
            raise PolicyDenied("forbidden by a rule", policies=("no-weekend-sends",))
    (record,) = records(trail)
    assert record["identity"] == "helpdesk" and record["resource"] == "account:acct-7"
    assert record["subaccount"] == "acct-7"
    assert record["decision"] == {"result": "denied", "reason": "forbidden by a rule", "policies": ["no-weekend-sends"]}


def test_concurrent_appends_never_interleave(trail):
    sink = JsonLinesFile(trail)
    payload = "x" * 8000

    def write(n: int) -> None:
        for i in range(100):
            sink.write({"writer": n, "i": i, "payload": payload})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = records(trail)
    assert len(lines) == 400 and all(r["payload"] == payload for r in lines)


def test_a_dash_writes_to_stderr(capfd):
    JsonLinesFile("-").write({"tool": "get_domain"})
    out, err = capfd.readouterr()
    assert out == "" and json.loads(err) == {"tool": "get_domain"}


def test_without_a_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Toolkit(sandbox=True) as mg:
        mg.call("get_domain", domain="mg.example.com")
        assert not mg.executor.audit.enabled
    assert list(tmp_path.iterdir()) == []


# -- reading it back ------------------------------------------------------------------------------


def test_since_takes_a_span_or_an_iso_time():
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert parse_since("1h", now) == now - timedelta(hours=1)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("2026-12-05T10:00", now) == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    with pytest.raises(ConfigurationError, match="neither a span"):
        parse_since("yesterday", now)


def test_records_are_selected_by_time_identity_and_tool():
    rows = [
        {"time": "2026-12-05T09:00:00+00:00", "identity": "helpdesk", "tool": "delete_bounce"},
        {"time": "2026-12-05T11:30:00+00:00", "identity": "helpdesk", "tool": "send_message"},
        {"time": "2026-12-05T11:45:00+00:00", "identity": "ops", "tool": "delete_domain"},
    ]
    since = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    assert select(rows, since=since) == rows[1:]
    assert select(rows, identity="help*", tool="delete_*") == rows[:1]


def test_the_cli_shows_the_trail_as_a_table_and_as_json(trail, capsys, monkeypatch):
    with toolkit(trail, policy=Policy.build(deny="delete_domain")) as mg:
        mg.call("send_message", **SEND)
        with pytest.raises(MgToolsError):
            mg.call("delete_domain", domain="mg.example.com")
    with trail.open("a") as f:
        f.write("{cut short\n")
    monkeypatch.setenv("MG_TOOLS_AUDIT", str(trail))
    assert main(["audit"]) == 0
    out, err = capsys.readouterr()
    header, send, denied = out.splitlines()
    assert header.split()[:4] == ["time", "identity", "tool", "resource"]
    assert "send_message" in send and "allowed" in send and "ok <" in send
    assert "delete_domain" in denied and "denied" in denied and "error policy_denied" in denied
    assert "1 lines" in err and "skipped" in err
    assert main(["audit", "--file", str(trail), "--tool", "delete_*", "--since", "1h", "--json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["tool"] == "delete_domain"
    assert table([]).splitlines()[0].startswith("time")


def test_the_cli_needs_a_readable_file(tmp_path, capsys):
    assert main(["audit"]) == 2
    assert "pass --file FILE or set MG_TOOLS_AUDIT" in capsys.readouterr().err
    assert main(["audit", "--file", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read the audit file" in capsys.readouterr().err
