import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mg_tools.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in (
        "MAILGUN_API_KEY",
        "MAILGUN_API_BASE_URL",
        "MAILGUN_API_REGION",
        "MG_TOOLS_GRANTS",
        "MG_TOOLS_READ_ONLY",
        "MG_TOOLS_DENY",
        "MG_TOOLS_CONFIRM",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tools_json_lists_operations_with_area_and_access(capsys):
    code, out, _ = run(capsys, "tools", "--json")
    tools = {t["name"]: t for t in json.loads(out)}
    assert code == 0
    assert {k: tools["send_message"][k] for k in ("method", "path", "area", "access", "deprecated")} == {
        "method": "POST",
        "path": "/v3/{domain}/messages",
        "area": "messages",
        "access": "send",
        "deprecated": False,
    }
    assert tools["delete_domain"]["access"] == "delete"


def test_tools_honours_policy_flags(capsys):
    _, out, _ = run(capsys, "tools", "--json", "--read-only")
    assert {t["access"] for t in json.loads(out)} == {"read"}
    _, out, _ = run(capsys, "tools", "--json", "--toolsets", "domains", "--exclude-tools", "delete_domain")
    names = {t["name"] for t in json.loads(out)}
    assert "get_domain" in names and "delete_domain" not in names and "send_message" not in names


def test_dry_run_prints_the_exact_request(capsys):
    code, out, _ = run(
        capsys,
        "call",
        "update_domain",
        "--dry-run",
        "--args",
        '{"domain": "mg.example.com", "smtp_password": "hunter22", "wildcard": true}',
    )
    request = json.loads(out)
    assert code == 0
    assert request["method"] == "PUT" and request["url"] == "https://api.mailgun.net/v4/domains/mg.example.com"
    assert request["form"] == [["smtp_password", "***"], ["wildcard", "true"]]


def test_bad_arguments_give_one_line_naming_the_field(capsys):
    code, out, err = run(capsys, "call", "get_domain", "--args", '{"domain": "../../v1/keys?x=1"}', "--sandbox")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mg-tools: invalid arguments for get_domain: domain:")
    code, _, err = run(capsys, "call", "get_domain", "--args", "{not json")
    assert code == 2 and "not valid JSON" in err
    code, _, err = run(capsys, "call", "get_domian", "--args", "{}")
    assert code == 2 and "Did you mean: get_domain" in err


def test_without_key_or_sandbox_a_call_stops_with_how_to_choose(capsys):
    code, out, err = run(capsys, "call", "list_domains")
    assert code == 2 and out == ""
    assert "set MAILGUN_API_KEY" in err and "--sandbox" in err and err.count("\n") == 1


def test_sandbox_state_persists_between_calls(capsys):
    assert run(capsys, "call", "create_domain", "--sandbox", "--args", '{"domain": "kept.example.org"}')[0] == 0
    code, out, _ = run(capsys, "call", "get_domain", "--sandbox", "--args", '{"domain": "kept.example.org"}')
    result = json.loads(out)
    assert code == 0 and result["result"]["domain"]["name"] == "kept.example.org"
    assert result["sandbox"] == "local sandbox: no real mail is sent"


def test_mailgun_errors_exit_4_with_mailguns_message(capsys):
    code, _, err = run(
        capsys,
        "call",
        "get_domain",
        "--sandbox",
        "--sandbox-state",
        ":memory:",
        "--args",
        '{"domain": "nope.example.org"}',
    )
    assert code == 4 and "Mailgun 404" in err and "Domain not found" in err


def test_policy_refusal_exits_3(capsys):
    code, _, err = run(capsys, "call", "delete_domain", "--sandbox", "--read-only", "--args", '{"domain": "x.org"}')
    assert code == 3 and "read-only mode" in err


def test_a_hidden_tool_says_why_before_looking_at_its_arguments(capsys):
    code, _, err = run(capsys, "call", "delete_domain", "--dry-run", "--read-only", "--args", "{}")
    assert (
        code == 3 and err.strip() == "mg-tools: read-only mode: delete_domain is a delete operation; nothing was sent"
    )


def test_describe_says_when_a_tool_is_unavailable(capsys, monkeypatch):
    monkeypatch.setenv("MG_TOOLS_READ_ONLY", "1")
    _, out, _ = run(capsys, "describe", "delete_domain")
    assert json.loads(out)["unavailable"] == "read-only mode: delete_domain is a delete operation"
    _, out, _ = run(capsys, "describe", "get_domain")
    assert "unavailable" not in json.loads(out)


def test_mailguns_names_work_on_the_command_line(capsys):
    args = '{"domain": "mg.example.com", "from": "a@mg.example.com", "to": "b@x.com, c@x.com", "subject": "s", '
    code, out, _ = run(capsys, "call", "send_message", "--dry-run", "--args", args + '"text": "t", "o:tag": "x"}')
    form = json.loads(out)["form"]
    assert code == 0 and ["from", "a@mg.example.com"] in form and ["o:tag", "x"] in form
    assert [v for k, v in form if k == "to"] == ["b@x.com", "c@x.com"]


def test_entry_points_and_no_heavy_imports_for_dry_runs(tmp_path):
    # A dry run needs neither MCP nor the HTTP stack nor the logging library nor the sandbox, the
    # Cedar engine or the schema generator (start-up time); and the validator of its one operation.
    heavy = ("mcp", "httpx", "structlog", "cedarpy", "starlette", "mg_tools.sandbox", "mg_tools.schema")
    probe = (
        "import sys; from mg_tools.cli import main; "
        "main(['call', 'get_domain', '--dry-run', '--args', '{\"name\": \"mg.example.com\"}']); "
        "from mg_tools.registry import Registry, make_plugin_manager; "
        "built = {op.params.__name__ for op in Registry.from_plugins(make_plugin_manager()) "
        "if op.params.__pydantic_complete__}; "
        f"sys.stderr.write('IMPORTED:' + ','.join(m for m in {heavy!r} if m in sys.modules) + f' BUILT:{{built}}')"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "MAILGUN_API_KEY"},
    )
    assert done.stderr.endswith("IMPORTED: BUILT:{'GetDomain'}") and json.loads(done.stdout)["method"] == "GET"
    for argv in (
        [sys.executable, "-m", "mg_tools", "tools", "--json"],
        [str(Path(sys.executable).parent / "mg-tools"), "tools", "--json"],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and any(t["name"] == "send_message" for t in json.loads(done.stdout))
    done = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "--transport" in done.stdout


def test_logs_are_json_lines_on_stderr_at_the_configured_level(capsys, monkeypatch):
    import logging

    ours = logging.getLogger("mg_tools")
    monkeypatch.setattr(ours, "handlers", list(ours.handlers))  # put back after the test
    monkeypatch.setattr(ours, "level", ours.level)
    monkeypatch.setenv("MG_TOOLS_LOG_LEVEL", "info")
    get_domain = (
        "call",
        "get_domain",
        "--sandbox",
        "--sandbox-state",
        ":memory:",
        "--args",
        '{"domain": "mg.example.com"}',
    )
    code, out, err = run(capsys, *get_domain)
    assert code == 0 and json.loads(out)["result"]["domain"]["name"] == "mg.example.com"
    events = [json.loads(line) for line in err.splitlines()]
    assert {"event": "call", "operation": "get_domain", "level": "info"}.items() <= events[0].items()
    monkeypatch.setenv("MG_TOOLS_LOG_LEVEL", "warning")
    assert run(capsys, *get_domain)[2] == ""
