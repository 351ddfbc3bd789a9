"""Every code block in README.md and docs/ runs as written (or, for configuration, is accepted by the
program it configures).

- ``python``: executed in a scratch directory, with ``MAILGUN_API_BASE_URL`` and ``MAILGUN_API_KEY``
  pointing at a standalone sandbox; functions named ``test_*`` it defines are called; a block that
  defines ``register_operations`` is loaded as a plugin beside the built-in ones.
- ``sh``: each command runs. ``mg-tools`` commands run as the CLI (``serve`` and ``sandbox`` are started
  and kept running until the block ends, on free ports standing in for the documented ones); ``curl``
  runs against them or the sandbox; the install and test commands are what CI itself runs, checked
  against ``.ci/run``; other programs' ``mg-tools ...`` arguments are parsed by the CLI.
- ``json``/``toml``: parsed; MCP client configurations' ``mg-tools`` arguments are parsed and their
  policy patterns checked against the registry. ``js``: syntax-checked with node.
Blocks without a language are output or shapes, not code.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import types
from pathlib import Path
from unittest import mock

import httpx
import pytest

from mg_tools.cli import _policy, build_parser, main
from mg_tools.registry import Registry, make_plugin_manager
from mg_tools.sandbox.server import BackgroundSandbox

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
VENV_BIN = Path(sys.executable).parent
SANDBOX_PORT, SERVE_PORT = 8025, 8000
#: What CI itself runs (install and test): checked against .ci/run instead of being run here.
CI_COMMANDS = ("python3", "pip", "pytest")
REGISTRY = Registry.from_plugins(make_plugin_manager())


def blocks() -> list[tuple[str, int, str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            if match.group(1):
                line = text[: match.start()].count("\n") + 1
                found.append((doc.relative_to(ROOT).as_posix(), line, match.group(1), match.group(2)))
    return found


BLOCKS = blocks()
IDS = [f"{doc}:{line}:{lang}" for doc, line, lang, _ in BLOCKS]


@pytest.fixture(scope="module")
def sandbox():
    with BackgroundSandbox() as running:
        yield running


@pytest.fixture
def scratch(tmp_path, sandbox, monkeypatch):
    """A working directory with the files the docs mention, and the environment of a user whose
    MAILGUN_API_BASE_URL points at a standalone sandbox."""
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 test")
    (tmp_path / "people.csv").write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\n")
    (tmp_path / "message.json").write_text(
        json.dumps(
            {
                "domain": "mg.example.com",
                "sender": "me@mg.example.com",
                "to": ["bob@example.com"],
                "subject": "Hi",
                "text": "Hello",
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILGUN_API_BASE_URL", sandbox.url)
    monkeypatch.setenv("MAILGUN_API_KEY", sandbox.api_key)
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path


def test_the_docs_have_code_blocks_of_every_kind_we_check():
    assert {"python", "sh", "json", "toml"} <= {lang for *_, lang, _ in BLOCKS}


@pytest.mark.parametrize("doc, line, lang, code", BLOCKS, ids=IDS)
def test_code_block_runs(doc, line, lang, code, scratch, sandbox):
    runner = {
        "python": run_python,
        "sh": run_sh,
        "json": check_json,
        "toml": tomllib.loads,
        "js": check_js,
        "cedar": check_cedar,
    }.get(lang)
    assert runner is not None, f"{doc}:{line}: no way to check a {lang!r} block; add one here"
    ports = {SANDBOX_PORT: sandbox.url.rsplit(":", 1)[1]}
    runner(_ported(code, ports), *(() if lang in {"toml"} else (ports,)))


def _ported(code: str, ports: dict[int, str]) -> str:
    for documented, actual in ports.items():
        code = code.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{actual}")
    return code


def check_cedar(code: str, ports: dict[int, str]) -> None:
    """A Cedar policy validates against the registry's schema, for the identities it names."""
    from mg_tools.rules import Rules

    Rules(Path("policy.cedar"), code, REGISTRY, ["local", *re.findall(r'Identity::"([^"]+)"', code)])


# -- python ---------------------------------------------------------------------------------------------

_MODULES: dict[str, types.ModuleType] = {}


def run_python(code: str, ports: dict[int, str]) -> None:
    module = types.ModuleType("doc_block")
    # A plugin module shown before its test is importable under the name the test imports.
    with mock.patch.dict(
        sys.modules, {"acme_mailgun": types.ModuleType("acme_mailgun"), **_MODULES, "doc_block": module}
    ):
        exec(compile(code, "<doc block>", "exec"), module.__dict__)
        if "register_operations" in module.__dict__:
            _MODULES["acme_mailgun.plugin"] = module
            registry = Registry.from_plugins(make_plugin_manager(plugins=[module]))
            assert len(registry) > len(REGISTRY), "the plugin registered nothing"
        for name, value in list(module.__dict__.items()):
            if name.startswith("test_") and callable(value):
                value()


# -- sh -------------------------------------------------------------------------------------------------


def commands(code: str) -> list[list[str]]:
    """The commands of a shell block: prompts (``$ ``) mark commands when present, continuation
    lines and quotes spanning lines are joined, ``&&`` separates commands, comments are dropped."""
    lines = code.splitlines()
    if any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    out, pending = [], ""
    for line in lines:
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        pending = ""
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if command:
                    out.append(command)
                command = []
            else:
                command.append(word)
    assert not pending, f"unfinished command: {pending}"
    return out


def run_sh(code: str, ports: dict[int, str]) -> None:
    started: list[subprocess.Popen] = []
    env = dict(os.environ)
    try:
        for argv in commands(code):
            program = Path(argv[0]).name
            if program == "export":
                name, _, value = argv[1].partition("=")
                env[name] = "doc-" + "t" * 24 if value.startswith("$(") or "$" in value else value
            elif program == "mg-tools":
                _mg_tools(argv[1:], ports, started, env)
            elif program == "curl":
                _curl(argv, ports, env)
            elif program == "which":
                assert all(shutil.which(name, path=env["PATH"]) for name in argv[1:]), argv
            elif program in CI_COMMANDS or argv[1:3] == ["-m", "pytest"]:
                _ci_runs(argv)
            elif program.startswith("python") and argv[1].startswith("bench/"):
                # Benchmarks take minutes: the script must exist and take the documented options.
                done = subprocess.run(
                    [sys.executable, str(ROOT / argv[1]), "--help"], capture_output=True, text=True, timeout=60
                )
                assert done.returncode == 0 and all(o in done.stdout for o in argv[2:] if o.startswith("--")), argv
            elif "--" in argv:
                # Another program's configuration of mg-tools: the CLI must accept those arguments.
                assert Path(argv[argv.index("--") + 1]).name == "mg-tools", argv
                build_parser().parse_args(argv[argv.index("--") + 2 :])
            else:
                # Another program pointed at the HTTP transport.
                assert any(re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", a) for a in argv), argv
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(10)


def _ci_runs(argv: list[str]) -> None:
    text = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    test_command = '.venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest'
    assert test_command in readme and test_command in text, "the README's test command is what CI runs"
    assert Path(argv[0]).name in {"python", "python3", "pip"}, argv


def _long_running(args: list[str]) -> bool:
    return bool(args) and (args[0] in {"serve", "sandbox"} or args[:2] == ["webhooks", "listen"])


def _mg_tools(args: list[str], ports: dict[int, str], started: list, env: dict[str, str]) -> None:
    if _long_running(args):
        started.append(_start(args, ports, env))
        return
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(args)
    assert code == 0, f"mg-tools {' '.join(args)}: {stderr.getvalue()}"


def _free_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


#: The port each long-running command documents when it names none, and where it answers once up.
DEFAULT_PORTS = {"serve": SERVE_PORT, "sandbox": SANDBOX_PORT, "webhooks": 8090}
HEALTH = {"serve": "/healthz", "sandbox": "/v4/domains", "webhooks": "/healthz"}


def _start(args: list[str], ports: dict[int, str], env: dict[str, str]) -> subprocess.Popen:
    documented = DEFAULT_PORTS[args[0]]
    if "--port" in args:
        documented = int(args[args.index("--port") + 1])
        args = args[: args.index("--port")] + args[args.index("--port") + 2 :]
    port = ports[documented] = _free_port()
    args = [_ported(a, ports) for a in args]  # e.g. a webhook URL naming the listener's own port
    stdio = args[0] == "serve" and "http" not in args
    proc = subprocess.Popen(
        [str(VENV_BIN / "mg-tools"), *args, *([] if stdio else ["--port", port])],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The start-up notice (a command may say what it did first, e.g. the webhooks it registered).
    lines: list[str] = []
    while proc.poll() is None and len(lines) < 3:
        lines.append(proc.stderr.readline())
        if not lines[-1] or any(word in lines[-1] for word in ("serving", "sandbox", "webhooks listen on")):
            break
    assert proc.poll() is None and lines and lines[-1], f"mg-tools {args}: {lines}"
    if not stdio:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{HEALTH[args[0]]}", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"mg-tools {args} did not answer"
                time.sleep(0.05)
    return proc


def _curl(argv: list[str], ports: dict[int, str], env: dict[str, str]) -> None:
    curl = shutil.which("curl")
    if curl is None:
        if os.environ.get("CI"):
            pytest.fail("curl is needed to check the docs' curl commands (.ci/run installs it)")
        pytest.skip("curl is not installed")
    argv = [_ported(a, ports) for a in argv]
    done = subprocess.run(
        [curl, "--fail", "--silent", "--show-error", *argv[1:]], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"


# -- configuration --------------------------------------------------------------------------------------


def check_json(code: str, ports: dict[int, str]) -> None:
    data = json.loads(code)
    servers = data.get("mcpServers") or data.get("servers") or {}
    for server in servers.values():
        if Path(server.get("command", "")).name == "mg-tools":
            args = build_parser().parse_args(server["args"])
            _policy(args).check(REGISTRY)


def check_js(code: str, ports: dict[int, str]) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to check the docs' JavaScript (.ci/run installs it)")
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--check", "--input-type=module"], input=code, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
