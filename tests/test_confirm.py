"""Confirmation tokens: bound to every byte sent, single-use, expiring, and valid across processes."""

import base64
import json
import stat
import subprocess
import sys

import pytest
from reliability.support import SEND, Recorder, recording_toolkit

from mg_tools import ConfirmationRequired, Policy, Toolkit
from mg_tools.caller import Caller, acting_as
from mg_tools.cli import main
from mg_tools.confirm import Confirmations, MemoryLedger, SqliteLedger
from mg_tools.state import state_dir


def attached(content: bytes) -> dict:
    return {**SEND, "attachments": [{"content": base64.b64encode(content).decode(), "filename": "a.txt"}]}


def ask(mg, arguments, token=None) -> str:
    with pytest.raises(ConfirmationRequired) as info:
        mg.run(mg.execute("send_message", arguments, confirm_token=token))
    return info.value


@pytest.fixture
def recorder():
    return Recorder(body={"id": "<1@mg>", "message": "Queued. Thank you."})


@pytest.fixture
def mg(recorder):
    toolkit = recording_toolkit(recorder, policy=Policy.build(confirm="*:send"))
    yield toolkit
    toolkit.close()


def test_a_token_does_not_confirm_other_attachment_bytes_of_the_same_size(mg, recorder):
    token = ask(mg, attached(b"invoice: 100 EUR")).token
    refused = ask(mg, attached(b"invoice: 999 EUR"), token)
    assert "issued for a different call" in refused.message and recorder.requests == []
    mg.run(mg.execute("send_message", attached(b"invoice: 100 EUR"), confirm_token=token))
    assert len(recorder.requests) == 1


def test_a_token_does_not_confirm_a_local_file_changed_after_approval(recorder, tmp_path):
    mg = recording_toolkit(recorder, policy=Policy.build(confirm="*:send"), file_roots=[tmp_path])
    (tmp_path / "report.txt").write_bytes(b"approved text")
    arguments = {**SEND, "attachments": [{"path": str(tmp_path / "report.txt")}]}
    token = ask(mg, arguments).token
    (tmp_path / "report.txt").write_bytes(b"swapped text!")
    assert "different call" in ask(mg, arguments, token).message and recorder.requests == []


def test_a_token_is_used_once(mg, recorder):
    token = ask(mg, SEND).token
    mg.run(mg.execute("send_message", SEND, confirm_token=token))
    again = ask(mg, SEND, token)
    assert "already used" in again.message and again.token != token
    assert len(recorder.requests) == 1


def test_a_dry_run_checks_a_token_without_using_it(mg, recorder):
    token = ask(mg, SEND).token
    assert mg.executor.dry_run("send_message", SEND, confirm_token=token).data["method"] == "POST"
    mg.run(mg.execute("send_message", SEND, confirm_token=token))
    assert len(recorder.requests) == 1


def test_a_token_expires():
    now = [1_000_000.0]
    confirmations = Confirmations(key=b"k" * 32, ledger=MemoryLedger(lambda: now[0]), clock=lambda: now[0])
    token = confirmations.issue(b"digest")
    assert confirmations.check(token, b"digest", consume=False) is None
    now[0] += 599
    assert confirmations.check(token, b"digest", consume=False) is None
    now[0] += 2
    assert confirmations.check(token, b"digest", consume=True) == "it has expired"


@pytest.mark.parametrize("token", ["", "abc", "x.y.z", "1.2", "zz.00.00", "a.b.c.d"])
def test_garbage_tokens_are_refused(token):
    assert Confirmations(key=b"k" * 32, ledger=MemoryLedger()).check(token, b"d", consume=True)


def test_the_key_and_ledger_are_private_and_shared_through_the_state_directory(recorder):
    first = recording_toolkit(recorder, policy=Policy.build(confirm="*:send"))
    token = ask(first, SEND).token
    second = recording_toolkit(recorder, policy=Policy.build(confirm="*:send"))  # another process, later
    second.run(second.execute("send_message", SEND, confirm_token=token))
    assert "already used" in ask(first, SEND, token).message
    folder = state_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("confirm.key", "confirm-ledger.sqlite"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert len(recorder.requests) == 1


def test_the_sqlite_ledger_refuses_a_second_use_from_another_connection(tmp_path):
    assert SqliteLedger(tmp_path / "l.sqlite").use("n1", 2e9)
    assert not SqliteLedger(tmp_path / "l.sqlite").use("n1", 2e9)
    assert SqliteLedger(tmp_path / "l.sqlite").use("n2", 2e9)


def test_the_cli_completes_a_confirmation_in_the_next_invocation(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    argv = [
        "call",
        "delete_domain",
        "--sandbox",
        "--confirm",
        "domains:delete",
        "--args",
        json.dumps({"domain": "mg.example.com"}),
    ]
    assert main(argv) == 3
    err = capsys.readouterr().err
    token = err.rsplit("confirm_token: ", 1)[1].rstrip(")\n")
    # A separate process, as a person at a shell would run it.
    done = subprocess.run(
        [sys.executable, "-m", "mg_tools", *argv, "--confirm-token", token], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["message"].startswith("Domain will be deleted")
    assert main([*argv, "--confirm-token", token]) == 3
    assert "already used" in capsys.readouterr().err


def test_confirmation_in_the_python_api_needs_no_setup(tmp_path):
    with Toolkit(sandbox=True, policy=Policy.build(confirm="domains:delete")) as mg:
        with pytest.raises(ConfirmationRequired) as info:
            mg.call("delete_domain", domain="mg.example.com")
        mg.run(mg.execute("delete_domain", {"domain": "mg.example.com"}, confirm_token=info.value.token))


def test_the_toolkits_settings_choose_where_the_key_lives(tmp_path, recorder):
    from mg_tools import Settings

    settings = Settings.from_env({"MG_TOOLS_STATE_DIR": str(tmp_path / "elsewhere")})
    mg = recording_toolkit(recorder, policy=Policy.build(confirm="*:send"), settings=settings)
    ask(mg, SEND)
    assert (tmp_path / "elsewhere" / "confirm.key").exists()


def test_a_token_confirms_nothing_for_another_identity(mg, recorder):
    with acting_as(Caller("helpdesk")):
        token = ask(mg, SEND).token
    with acting_as(Caller("ops")):
        refused = ask(mg, SEND, token)
    assert "issued for a different call" in refused.message and recorder.requests == []
    refused = ask(mg, SEND, token)  # no caller: the local identity
    assert "issued for a different call" in refused.message and recorder.requests == []
    with acting_as(Caller("helpdesk")):
        mg.run(mg.execute("send_message", SEND, confirm_token=token))
    assert len(recorder.requests) == 1


def test_a_token_confirms_neither_another_tool_nor_other_content(recorder):
    mg = recording_toolkit(recorder, policy=Policy.build(confirm="*:send,*:delete"))
    token = ask(mg, SEND).token
    with pytest.raises(ConfirmationRequired, match="issued for a different call"):
        mg.run(mg.execute("delete_domain", {"domain": "mg.example.com"}, confirm_token=token))
    assert "issued for a different call" in ask(mg, {**SEND, "subject": "Other"}, token).message
    assert recorder.requests == []
