"""Every switch through every entry point: the Python API (``Toolkit.from_env()`` and ``Toolkit()``),
the CLI, and ``mg-tools serve`` over stdio and over HTTP (real subprocesses driven by the MCP client), and
the REST gateway of the HTTP server (``/api/tools``).

Each row sets one variable and states what it must change; each entry point is observed the same
way (the tools it lists, and what some calls answer). A control test shows every row's check fails
without its variable, so no row can pass by accident.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import anyio
import httpx
import pytest
from reliability.support import SEND

from mg_tools import MgToolsError, Toolkit
from mg_tools.cli import main
from mg_tools.mcp_server import http_identities
from mg_tools.sandbox.server import BackgroundSandbox

ROOT = Path(__file__).resolve().parent.parent
KEY = "key-" + "0123456789abcdef" * 2
DOMAIN = {"domain": "mg.example.com"}


@dataclass
class Outcome:
    """What one entry point showed: the tools listed, each call's (ok, text), or why it did not start."""

    names: set[str] = field(default_factory=set)
    calls: dict[str, tuple[bool, str]] = field(default_factory=dict)
    start_error: str = ""
    stderr: str = ""


@dataclass
class Row:
    variable: str
    value: str
    calls: dict[str, tuple[str, dict[str, Any]]]
    expect: Callable[[Outcome, Path], None]
    sandbox: bool = True
    entries: tuple[str, ...] = ("python", "python-direct", "cli", "stdio", "http", "gateway")
    #: Other variables the switch needs to show its effect (kept in the control test).
    extra: dict[str, str] = field(default_factory=dict)
    #: Given as a command-line flag (`tools`, `call`, `serve`) and as a Toolkit argument instead of a variable.
    flag: tuple[str, str] = ("", "")


def hidden(*names: str, refused: str) -> Callable[[Outcome, Path], None]:
    def check(out: Outcome, _: Path) -> None:
        assert not out.start_error, out.start_error
        assert "get_domain" in out.names or "get_domain" in names, "the listing is empty"
        assert not set(names) & out.names, f"{set(names) & out.names} still listed"
        ok, text = out.calls[refused]
        assert not ok, f"{refused} ran: {text}"

    return check


def needs_confirmation(out: Outcome, state: Path) -> None:
    ok, text = out.calls["delete"]
    assert not ok and "needs confirmation" in text and "confirm_token" in text, text
    assert (state / "confirm.key").exists()


def shows_secrets(out: Outcome, _: Path) -> None:
    ok, text = out.calls["template"]
    assert ok and KEY in text, text


def reads_files(out: Outcome, _: Path) -> None:
    ok, text = out.calls["attach"]
    assert ok, text


def refuses_to_start(out: Outcome, _: Path) -> None:
    assert "deny pattern 'dlete_*' matches nothing" in out.start_error, out


def ruled_by_the_policy_file(out: Outcome, _: Path) -> None:
    assert not out.start_error, out.start_error
    assert "get_domain" in out.names and "send_message" in out.names, "reads and sends are listed"
    assert "delete_domain" not in out.names, "no policy can permit it: hidden"
    ok, text = out.calls["get"]
    assert ok and "mg.example.com" in text, text
    for label in ("delete", "send"):
        ok, text = out.calls[label]
        assert not ok and "no policy in policy.cedar" in text and "nothing was sent" in text, text


def refuses_a_bad_policy(out: Outcome, _: Path) -> None:
    assert "policy.cedar:2: unknown tool, area or access 'sned_message'" in out.start_error, out


def uses_base_url(out: Outcome, _: Path) -> None:
    ok, text = out.calls["get"]
    assert ok and "mg.example.com" in text and "local sandbox" not in text, text


def logs_at_info(out: Outcome, _: Path) -> None:
    lines = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "call" and e.get("operation") == "get_domain" for e in lines), out.stderr


def acts_for_the_subaccount(out: Outcome, _: Path) -> None:
    # The sandbox knows no such subaccount: its refusal proves the header reached it.
    ok, text = out.calls["list"]
    assert not ok and f"{UNKNOWN_SUBACCOUNT!r} is not a subaccount of this account" in text, text


def refuses_the_subaccount(out: Outcome, _: Path) -> None:
    assert "MG_TOOLS_SUBACCOUNT='acme' is refused" in out.start_error, out


UNKNOWN_SUBACCOUNT = "0123456789abcdef01234567"


def audited(*, bodies: bool) -> Callable[[Outcome, Path], None]:
    def check(out: Outcome, state: Path) -> None:
        trail = state.parent / AUDIT_FILE
        assert trail.exists(), "no audit trail was written"
        records = [json.loads(line) for line in trail.read_text().splitlines()]
        send = next(r for r in records if r["tool"] == "send_message")
        get = next(r for r in records if r["tool"] == "get_domain")
        assert get["outcome"]["status"] == "ok" and get["resource"] == "domain:mg.example.com"
        assert send["outcome"]["status"] == "ok" and send["decision"]["result"] == "allowed"
        assert send["arguments"]["text"] == ("Hello" if bodies else "<5 characters, not kept>")

    return check


def audited_as(identity: str) -> Callable[[Outcome, Path], None]:
    def check(out: Outcome, state: Path) -> None:
        trail = state.parent / AUDIT_FILE
        assert trail.exists(), "no audit trail was written"
        records = [json.loads(line) for line in trail.read_text().splitlines()]
        assert records and {r["identity"] for r in records} == {identity}, records

    return check


AUDIT_FILE = "audit.jsonl"
AUDITED_CALLS = {"get": ("get_domain", DOMAIN), "send": ("send_message", SEND)}
FILES = "files-elsewhere"
POLICY = (
    'permit (principal == Identity::"local", action in Action::"read", resource);\n'
    'permit (principal, action == Action::"send_message", resource) when { context.recipient_count > 5 };\n'
)
POLICY_CALLS = {"get": ("get_domain", DOMAIN), "delete": ("delete_domain", DOMAIN), "send": ("send_message", SEND)}
ROWS = {
    "read_only": Row(
        "MG_TOOLS_READ_ONLY",
        "1",
        {"delete": ("delete_domain", DOMAIN), "send": ("send_message", SEND)},
        hidden("delete_domain", "send_message", "create_domain", refused="delete"),
    ),
    "grants": Row(
        "MG_TOOLS_GRANTS",
        "*:read",
        {"delete": ("delete_domain", DOMAIN)},
        hidden("delete_domain", "send_message", refused="delete"),
    ),
    "deny_glob": Row(
        "MG_TOOLS_DENY",
        "DELETE_*",
        {"delete": ("delete_domain", DOMAIN)},
        hidden("delete_domain", "delete_bounce", refused="delete"),
    ),
    "block_plugins": Row(
        "MG_TOOLS_BLOCK_PLUGINS",
        "events,domains",
        {"get": ("get_domain", DOMAIN)},
        hidden("get_domain", "list_events", refused="get"),
    ),
    "confirm": Row("MG_TOOLS_CONFIRM", "domains:delete", {"delete": ("delete_domain", DOMAIN)}, needs_confirmation),
    "allow_secrets": Row(
        "MG_TOOLS_ALLOW_SECRETS",
        "1",
        {"template": ("create_template", {"domain": "mg.example.com", "template_name": "t", "description": KEY})},
        shows_secrets,
    ),
    "files_dir": Row(
        "MG_TOOLS_FILES_DIR",
        FILES,
        {"attach": ("send_message", {**SEND, "attachments": [{"path": f"{FILES}/report.txt"}]})},
        reads_files,
    ),
    "bad_pattern": Row("MG_TOOLS_DENY", "delete_*,dlete_*", {}, refuses_to_start),
    "policy": Row("MG_TOOLS_POLICY", POLICY, POLICY_CALLS, ruled_by_the_policy_file),
    "policy_flag": Row("", POLICY, POLICY_CALLS, ruled_by_the_policy_file, flag=("--policy", "policy_file")),
    "bad_policy": Row(
        "MG_TOOLS_POLICY", 'permit (principal, action,\n resource == Action::"sned_message");', {}, refuses_a_bad_policy
    ),
    "base_url": Row(
        "MAILGUN_API_BASE_URL", "SANDBOX_URL", {"get": ("get_domain", DOMAIN)}, uses_base_url, sandbox=False
    ),
    "subaccount": Row(
        "MG_TOOLS_SUBACCOUNT", UNKNOWN_SUBACCOUNT, {"list": ("list_domains", {})}, acts_for_the_subaccount
    ),
    "bad_subaccount": Row("MG_TOOLS_SUBACCOUNT", "acme", {}, refuses_the_subaccount),
    "audit": Row("MG_TOOLS_AUDIT", AUDIT_FILE, AUDITED_CALLS, audited(bodies=False)),
    "audit_bodies": Row(
        "MG_TOOLS_AUDIT_BODIES", "1", AUDITED_CALLS, audited(bodies=True), extra={"MG_TOOLS_AUDIT": AUDIT_FILE}
    ),
    "identity": Row(
        "MG_TOOLS_IDENTITY",
        "helpdesk",
        {"get": ("get_domain", DOMAIN)},
        audited_as("helpdesk"),
        extra={"MG_TOOLS_AUDIT": AUDIT_FILE},
    ),
    "log_level": Row(
        "MG_TOOLS_LOG_LEVEL",
        "info",
        {"get": ("get_domain", DOMAIN)},
        logs_at_info,
        entries=("stdio", "http", "gateway"),
    ),
}


@pytest.fixture(scope="module")
def standalone():
    with BackgroundSandbox() as sandbox:
        yield sandbox


def _env_for(row: Row, tmp_path: Path, standalone: BackgroundSandbox) -> dict[str, str]:
    (tmp_path / "state").mkdir(exist_ok=True)
    env = {"MG_TOOLS_STATE_DIR": str(tmp_path / "state")}
    value = row.value
    if row.variable == "MG_TOOLS_FILES_DIR":
        _files(tmp_path).mkdir(exist_ok=True)
        (_files(tmp_path) / "report.txt").write_text("numbers")
        value = str(_files(tmp_path))
    if row.variable == "MAILGUN_API_BASE_URL":
        value = standalone.url
        env["MAILGUN_API_KEY"] = standalone.api_key
    env.update(row.extra)
    if row.variable == "MG_TOOLS_POLICY" or row.flag[0]:
        value = _policy_file(row, tmp_path)
    if row.variable:
        env[row.variable] = value
    return env


def _policy_file(row: Row, cwd: Path) -> str:
    (cwd / "policy.cedar").write_text(row.value)
    return str(cwd / "policy.cedar")


def _flags(row: Row, cwd: Path) -> list[str]:
    return [row.flag[0], _policy_file(row, cwd)] if row.flag[0] else []


def _files(cwd: Path) -> Path:
    """Where the files row keeps its attachment: beside the working directory, not inside it."""
    return cwd.parent / f"{cwd.name}-{FILES}"


def _calls_with_paths(row: Row, cwd: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    text = json.dumps(row.calls).replace(f'"{FILES}/', f'"{_files(cwd)}/')
    return {k: (v[0], v[1]) for k, v in json.loads(text).items()}


# -- the entry points ----------------------------------------------------------------------------------


def _python(row: Row, env: dict[str, str], cwd: Path, direct: bool) -> Outcome:
    out = Outcome()
    extra = {row.flag[1]: _policy_file(row, cwd)} if row.flag[1] else {}
    with mock.patch.dict(os.environ, env), contextlib.chdir(cwd):
        try:
            if direct:
                base = (
                    {"sandbox": True}
                    if row.sandbox
                    else {"api_key": env["MAILGUN_API_KEY"], "base_url": env["MAILGUN_API_BASE_URL"]}
                )
                toolkit = Toolkit(**base, **extra)
            else:
                toolkit = Toolkit.from_env(**({"sandbox": True} if row.sandbox else {}), **extra)
        except MgToolsError as exc:
            return Outcome(start_error=exc.message)
        with toolkit:
            out.names = {op.name for op in toolkit.operations()}
            for label, (name, args) in _calls_with_paths(row, cwd).items():
                try:
                    out.calls[label] = (True, json.dumps(toolkit.run(toolkit.execute(name, args)).to_dict()))
                except MgToolsError as exc:
                    token = getattr(exc, "token", "")
                    out.calls[label] = (False, exc.message + (f" confirm_token: {token}" if token else ""))
    return out


def _cli(row: Row, env: dict[str, str], cwd: Path) -> Outcome:
    def run(*argv: str) -> tuple[int, str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        with (
            mock.patch.dict(os.environ, env),
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = main(list(argv))
        return code, stdout.getvalue(), stderr.getvalue()

    code, listed, err = run("tools", "--json", *_flags(row, cwd))
    if code:
        return Outcome(start_error=err)
    out = Outcome(names={t["name"] for t in json.loads(listed)})
    target = ("--sandbox", "--sandbox-state", ":memory:") if row.sandbox else ()
    for label, (name, args) in _calls_with_paths(row, cwd).items():
        code, stdout, stderr = run("call", name, *target, *_flags(row, cwd), "--args", json.dumps(args))
        out.calls[label] = (code == 0, stdout if code == 0 else stderr)
    return out


def _child_env(env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MG_TOOLS_", "MAILGUN_"))}
    return {**base, **env}


async def _mcp_session(client_factory: Any, row: Row, cwd: Path) -> Outcome:
    from mcp import Client

    out = Outcome()
    async with Client(client_factory) as client:
        out.names = {t.name for t in (await client.list_tools()).tools}
        for label, (name, args) in _calls_with_paths(row, cwd).items():
            try:
                result = await client.call_tool(name, args)
            except Exception as exc:
                out.calls[label] = (False, str(exc))
            else:
                out.calls[label] = (not result.is_error, result.content[0].text if result.content else "")
    return out


def _serve_args(row: Row, cwd: Path) -> list[str]:
    return [sys.executable, "-m", "mg_tools", "serve", *(["--sandbox"] if row.sandbox else []), *_flags(row, cwd)]


async def _stdio(row: Row, env: dict[str, str], cwd: Path) -> Outcome:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    argv = _serve_args(row, cwd)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=_child_env(env), cwd=str(cwd))
    with open(cwd / "stdio.err", "w+") as errlog:
        try:
            out = await _mcp_session(stdio_client(params, errlog=errlog), row, cwd)
        except Exception:
            out = None
        errlog.flush()
        errlog.seek(0)
        stderr = errlog.read()
    if out is None:
        return Outcome(start_error=stderr, stderr=stderr)
    out.stderr = stderr
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def _served(row: Row, env: dict[str, str], cwd: Path, name: str) -> AsyncIterator[tuple[str, Path]]:
    """``mg-tools serve --transport http`` for ``row`` in a child process: its base URL ("" when it did not
    start) and the file its stderr goes to."""
    port = _free_port()
    errpath = cwd / f"{name}.err"
    with open(errpath, "w") as errfile:
        proc = subprocess.Popen(
            [*_serve_args(row, cwd), "--transport", "http", "--port", str(port)],
            cwd=cwd,
            env=_child_env(env),
            stdout=subprocess.DEVNULL,
            stderr=errfile,
        )
    try:
        deadline = time.monotonic() + 60
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            while True:
                if proc.poll() is not None:
                    url = ""
                    break
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the HTTP server did not start"
                await anyio.sleep(0.05)
        yield url, errpath
    finally:
        proc.terminate()
        proc.wait(10)


async def _http(row: Row, env: dict[str, str], cwd: Path) -> Outcome:
    async with _served(row, env, cwd, "http") as (url, errpath):
        if not url:
            return Outcome(start_error=errpath.read_text())
        out = await _mcp_session(f"{url}/mcp", row, cwd)
    out.stderr = errpath.read_text()
    return out


async def _gateway(row: Row, env: dict[str, str], cwd: Path) -> Outcome:
    """The REST gateway of the HTTP server: ``GET /api/tools`` and ``POST /api/tools/{name}``."""
    async with _served(row, env, cwd, "gateway") as (url, errpath):
        if not url:
            return Outcome(start_error=errpath.read_text())
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            listed = await http.get("/api/tools")
            out = Outcome(names={t["name"] for t in listed.json()["tools"]})
            for label, (name, args) in _calls_with_paths(row, cwd).items():
                answer = await http.post(f"/api/tools/{name}", json=args)
                out.calls[label] = (answer.status_code == 200, answer.text)
    out.stderr = errpath.read_text()
    return out


def observe(entry: str, row: Row, tmp_path: Path, standalone: BackgroundSandbox) -> Outcome:
    cwd = tmp_path / entry
    cwd.mkdir()
    env = _env_for(row, cwd, standalone)
    if entry.startswith("python"):
        return _python(row, env, cwd, direct=entry == "python-direct")
    if entry == "cli":
        return _cli(row, env, cwd)
    return anyio.run({"stdio": _stdio, "http": _http, "gateway": _gateway}[entry], row, env, cwd)


# -- the table ------------------------------------------------------------------------------------------

CASES = [(row_name, entry) for row_name, row in ROWS.items() for entry in row.entries]


@pytest.mark.parametrize("row_name, entry", CASES, ids=[f"{r}-{e}" for r, e in CASES])
def test_switch_through_entry_point(row_name, entry, tmp_path, standalone):
    row = ROWS[row_name]
    row.expect(observe(entry, row, tmp_path, standalone), tmp_path / entry / "state")


@pytest.mark.parametrize("row_name", [r for r, row in ROWS.items() if "python" in row.entries])
def test_without_the_switch_the_check_fails(row_name, tmp_path, standalone):
    row = ROWS[row_name]
    control = Row(row.variable, row.value, row.calls, row.expect, sandbox=True)
    cwd = tmp_path / "python"
    cwd.mkdir()
    env = {k: v for k, v in _env_for(row, cwd, standalone).items() if k == "MG_TOOLS_STATE_DIR" or k in row.extra}
    with pytest.raises(AssertionError):
        row.expect(_python(control, env, cwd, direct=False), cwd / "state")


def test_the_http_token_and_allowed_hosts_come_from_the_environment(tmp_path):
    env = {
        "MG_TOOLS_HTTP_TOKEN": "tok-" + "x" * 20,
        "MG_TOOLS_HTTP_ALLOWED_HOSTS": "mail.proxy.test",
        "MG_TOOLS_STATE_DIR": str(tmp_path),
    }
    with _served_over_http(env) as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        headers = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-11-25"}
        assert httpx.post(f"{url}/mcp", json=body, headers=headers).status_code == 401
        authed = {**headers, "Authorization": "Bearer tok-" + "x" * 20}
        assert httpx.post(f"{url}/mcp", json=body, headers=authed).status_code == 200
        proxied = httpx.post(f"{url}/mcp", json=body, headers={**authed, "Host": "mail.proxy.test"})
        elsewhere = httpx.post(f"{url}/mcp", json=body, headers={**authed, "Host": "other.test"})
        assert proxied.status_code == 200 and elsewhere.status_code == 421


@contextlib.contextmanager
def _served_over_http(env: dict[str, str]) -> Iterator[str]:
    """``mg-tools serve --sandbox --transport http`` in a child process with ``env``: its base URL, once
    it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mg_tools", "serve", "--sandbox", "--transport", "http", "--port", str(port)],
        env=_child_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_attachment_content_needs_no_file_access(tmp_path):
    # The files row relies on reading a path outside the working directory being refused; content
    # given as base64 must still work there, with no MG_TOOLS_FILES_DIR.
    with mock.patch.dict(os.environ, {}), contextlib.chdir(tmp_path), Toolkit(sandbox=True) as mg:
        data = base64.b64encode(b"attached bytes").decode()
        sent = mg.call("send_message", **SEND, attachments=[{"content": data, "filename": "x.txt"}])
        with pytest.raises(MgToolsError, match="outside the allowed file directories"):
            mg.call("send_message", **SEND, attachments=[{"path": str(tmp_path.parent / "elsewhere.txt")}])
    assert sent["message"].startswith("Queued")


def _identities_file(path: Path, token: str) -> Path:
    digest = hashlib.sha256(token.encode()).hexdigest()
    path.write_text(f'[identities.helpdesk]\ntoken_sha256 = "{digest}"\ngrants = "suppressions:*"\n')
    return path


def test_the_identities_come_from_the_environment(tmp_path):
    token = "tok-helpdesk-" + "h" * 16
    ids = _identities_file(tmp_path / "identities.toml", token)
    env = {"MG_TOOLS_IDENTITIES": str(ids), "MG_TOOLS_STATE_DIR": str(tmp_path)}
    with mock.patch.dict(os.environ, env):  # the Python API
        assert [i.name for i in http_identities(Toolkit.from_env(sandbox=True))] == ["helpdesk"]
    with _served_over_http(env) as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        headers = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-11-25"}
        assert httpx.post(f"{url}/mcp", json=body, headers=headers).status_code == 401
        listed = httpx.post(f"{url}/mcp", json=body, headers={**headers, "Authorization": f"Bearer {token}"})
        names = {t["name"] for t in listed.json()["result"]["tools"]}
        assert "delete_bounce" in names and "get_domain" not in names and "send_message" not in names


def test_a_bad_identities_file_stops_serve_with_one_line(tmp_path, capsys):
    (tmp_path / "ids.toml").write_text('[identities.helpdesk]\ntoken_sha256 = "abc"\n')
    env = {"MG_TOOLS_IDENTITIES": str(tmp_path / "ids.toml"), "MG_TOOLS_STATE_DIR": str(tmp_path)}
    with mock.patch.dict(os.environ, env):
        assert main(["serve", "--sandbox", "--transport", "http", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'ids.toml'}:2: token_sha256" in err and "64 hex digits" in err
