"""Secrets: canary secrets go through every path, and a scan finds none of them anywhere.

The canaries are an API key, an SMTP password, a webhook signing key and a DKIM private key (PEM).
The scan looks for each one plain, URL-encoded (``%XX`` and ``+`` forms), base64-encoded (also as
Basic auth ``api:KEY``) and JSON-escaped. Paths: debug logs (as the CLI writes them, and as an
application's own logging set-up gets them), errors (Mailgun error bodies echoing the secrets), dry
runs, results, the CLI, the MCP server, cassettes (recorded and checked in) and MCP snapshots.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus

import httpx
import pytest
import vcr
import yaml

from mg_tools import Access, MailgunError, Operation, Policy, Registry, Toolkit, log
from mg_tools.executor import Executor
from mg_tools.request import PreparedRequest, build_request
from mg_tools.sandbox import DEFAULT_API_KEY, DEFAULT_DOMAIN, create_app
from mg_tools.types import Domain, Params

from .conftest import configure_logs, serve_sandbox
from .support import ALL_ALLOWED, BASE_URL, OPERATIONS, REGISTRY, constructed, quiet

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "key-canary+API/9f8e7d6c5b4a=3921"
SMTP_PASSWORD = "Canary smtp/p@ss+wd=1"
SIGNING_KEY = "canary-signing+key/0a1b2c3d4e5f="
PEM_BODY = ["MIIEcanaryPEMlineONE+AAAABBBBCCCCDDDDEEEEFFFF/0123", "canaryPEMlineTWO+GGGGHHHHIIIIJJJJKKKK/4567=="]
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
CANARIES = {"api key": API_KEY, "smtp password": SMTP_PASSWORD, "signing key": SIGNING_KEY, "private key": PRIVATE_KEY}


def forms(secret: str) -> set[str]:
    """Every way a secret can be written down."""
    b64 = base64.b64encode(secret.encode()).decode()
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        b64,
        b64.rstrip("="),
        base64.b64encode(f"api:{secret}".encode()).decode(),
        json.dumps(secret)[1:-1],
    }


LEAKS = {form: name for name, secret in CANARIES.items() for form in forms(secret)}
LEAKS.update(dict.fromkeys(PEM_BODY, "private key"))


def assert_clean(text: str, where: str) -> None:
    found = sorted({name for form, name in LEAKS.items() if form in text})
    assert not found, f"{', '.join(found)} leaked into {where}: {text[:2000]}"


# -- a plugin whose operations take and return every kind of secret -----------------------------------------


class SetSecrets(Params):
    """Store the secrets of a domain."""

    domain: Domain
    smtp_password: str
    signing_key: str
    private_key: str


class GetSecrets(Params):
    """Read the secrets of a domain."""

    domain: Domain


SECRET_OPS = (
    Operation("set_secrets", "PUT", "/v3/{domain}/secrets", SetSecrets, Access.WRITE, area="custom"),
    Operation(
        "get_secrets",
        "GET",
        "/v3/{domain}/secrets",
        GetSecrets,
        Access.READ,
        area="custom",
        secret_fields=("smtp_password", "signing_key", "private_key"),
    ),
)
SECRET_ARGS = {
    "domain": DEFAULT_DOMAIN,
    "smtp_password": SMTP_PASSWORD,
    "signing_key": SIGNING_KEY,
    "private_key": PRIVATE_KEY,
}
ECHO = " | ".join(sorted(LEAKS))
#: The calls that send an SMTP password to Mailgun.
PASSWORD_CALLS = tuple(
    (name, {"domain": DEFAULT_DOMAIN, "login": "ann", "password": SMTP_PASSWORD})
    for name in ("create_credentials", "update_credentials", "update_mailbox")
)  # every form of every canary, as a careless server might echo them


def echoing_server(request: httpx.Request) -> httpx.Response:
    """Answers with every canary: in error bodies for writes, in the data for reads."""
    if request.method == "GET":
        secrets = {"smtp_password": SMTP_PASSWORD, "signing_key": SIGNING_KEY, "private_key": PRIVATE_KEY}
        return httpx.Response(200, json={**secrets, "items": [secrets], "note": f"key {API_KEY} / {PRIVATE_KEY}"})
    return httpx.Response(400, json={"message": f"rejected: {ECHO}"})


@pytest.fixture
def secret_kit():
    registry = Registry([*SECRET_OPS, *OPERATIONS])
    toolkit = Toolkit(
        api_key=API_KEY,
        base_url=BASE_URL,
        registry=registry,
        transport=httpx.MockTransport(echoing_server),
        policy=ALL_ALLOWED,
    )
    yield toolkit
    toolkit.close()


def test_errors_and_debug_logs_never_show_a_secret(secret_kit, debug_logs):
    for name, args in (
        ("set_secrets", SECRET_ARGS),
        ("update_domain", {"domain": DEFAULT_DOMAIN, "smtp_password": SMTP_PASSWORD}),
        *PASSWORD_CALLS,
    ):
        with pytest.raises(MailgunError) as info:
            secret_kit.call(name, **args)
        assert "rejected" in info.value.message, "the test needs Mailgun's message to come through"
        assert_clean(str(info.value), f"the {name} error")
        assert_clean(json.dumps(info.value.to_dict()), f"the {name} error as JSON")
    logs = debug_logs()
    assert '"mailgun.response"' in logs and '"mailgun.error"' in logs, "debug logs were not captured"
    assert_clean(logs, "the debug logs")


def test_a_log_event_carrying_secrets_is_redacted(secret_kit, debug_logs):
    """Whatever a future log line carries (an argument, a header, an exception), the toolkit's
    redactor redacts it by key name and by value before it is logged."""
    secret_kit.dry_run("set_secrets", **SECRET_ARGS)  # registers the secret arguments
    log.get_logger("mg_tools.test", secret_kit.redactor).info(
        "anything",
        smtp_password=SMTP_PASSWORD,
        headers={"Authorization": f"Basic {API_KEY}"},
        detail=f"failed with {ECHO}",
        nested=[{"signing_key": SIGNING_KEY}],
    )
    logs = debug_logs()
    assert '"anything"' in logs
    assert_clean(logs, "a log line")


@pytest.fixture
def app_logging():
    """Logging as an embedding application sets it up: its own handler on the root logger, every
    attribute of every record written out (structured handlers copy them all), and nothing of ours."""
    buffer = io.StringIO()

    class Everything(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return super().format(record) + " " + json.dumps(record.__dict__, default=str)

    handler = logging.StreamHandler(buffer)
    handler.setFormatter(Everything())
    root, ours = logging.getLogger(), logging.getLogger("mg_tools")
    saved = (root.level, ours.level, list(ours.handlers))
    ours.handlers[:] = [h for h in ours.handlers if isinstance(h, logging.NullHandler)]
    ours.setLevel(logging.NOTSET)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer.getvalue
    root.removeHandler(handler)
    root.setLevel(saved[0])
    ours.setLevel(saved[1])
    ours.handlers[:] = saved[2]


def test_an_application_logging_setup_never_sees_a_secret(secret_kit, app_logging):
    secret_kit.dry_run("set_secrets", **SECRET_ARGS)
    for name, args in (("set_secrets", SECRET_ARGS), ("get_secrets", {"domain": DEFAULT_DOMAIN})):
        try:
            secret_kit.call(name, **args)
        except MailgunError:
            pass
    log.get_logger("mg_tools.test", secret_kit.redactor).debug("anything", detail=f"failed with {ECHO}")
    logs = app_logging()
    assert '"mailgun.response"' in logs and '"mailgun.error"' in logs and "anything" in logs, logs[:500]
    assert_clean(logs, "an application's own logs")


def test_registering_one_private_key_does_not_weaken_redaction_of_another(secret_kit):
    secret_kit.dry_run("set_secrets", **SECRET_ARGS)  # registers PRIVATE_KEY, line by line too
    other = "-----BEGIN RSA PRIVATE KEY-----\nMIIEotherKeyBody0123456789\n-----END RSA PRIVATE KEY-----"
    redactor = secret_kit.redactor
    for redacted in (redactor.redact_text(f"x {other} y"), redactor.redact_known({"k": other})["k"]):
        assert "MIIEotherKeyBody" not in redacted and "PRIVATE KEY" not in redacted


def test_results_redact_secrets_unless_the_policy_grants_them(secret_kit):
    result = secret_kit.run(secret_kit.execute("get_secrets", {"domain": DEFAULT_DOMAIN}))
    assert_clean(json.dumps(result.to_dict()), "a result")
    granted = Toolkit(
        api_key=API_KEY,
        base_url=BASE_URL,
        registry=secret_kit.registry,
        transport=httpx.MockTransport(echoing_server),
        policy=Policy(allow_secrets=True),
    )
    with granted:
        data = granted.call("get_secrets", domain=DEFAULT_DOMAIN)
    assert data["signing_key"] == SIGNING_KEY and data["items"][0]["private_key"] == PRIVATE_KEY


def test_dry_runs_never_show_a_secret(secret_kit):
    for name, args in (
        ("set_secrets", SECRET_ARGS),
        ("update_domain", {"domain": DEFAULT_DOMAIN, "smtp_password": SMTP_PASSWORD}),
        ("create_domain", {"domain": "new.example.com", "smtp_password": SMTP_PASSWORD}),
        *PASSWORD_CALLS,
    ):
        data = secret_kit.dry_run(name, **args)
        assert data["method"] and data["url"].startswith(BASE_URL)
        assert_clean(json.dumps(data), f"the {name} dry run")


SECRET_NAMED = re.compile(r"password|passwd|secret|signing_key|private_key|api_key", re.I)
SECRET_ARG_FIELDS = [(op, name) for op in OPERATIONS for name in op.params.model_fields if SECRET_NAMED.search(name)]


@pytest.mark.parametrize(("op", "field"), SECRET_ARG_FIELDS, ids=[f"{op.name}.{f}" for op, f in SECRET_ARG_FIELDS])
def test_every_secret_argument_is_redacted_in_what_a_dry_run_shows(op, field):
    req = quiet(build_request, op, constructed(op, {**dict.fromkeys(op.path_params, "x"), field: SMTP_PASSWORD}))
    assert SMTP_PASSWORD in json.dumps(req.describe(BASE_URL)) or req.files, "the value must reach the request"
    assert_clean(json.dumps(log.Redactor().redact(req.describe(BASE_URL))), f"the {op.name} dry run")


SECRET_RESULT_OPS = [op for op in OPERATIONS if op.secret_fields] + [SECRET_OPS[1]]


@pytest.mark.parametrize("op", SECRET_RESULT_OPS, ids=lambda op: op.name)
def test_every_operation_with_secret_fields_redacts_them_unless_granted(op):
    """Over every registered operation that declares secret_fields (and one declared here, so the
    rule is exercised even before any plugin declares one)."""
    canary = f"never-registered-{op.name}-{id(op)}"  # only secret_fields can hide this one
    body = dict.fromkeys(op.secret_fields, canary)
    body = {**body, "items": [dict(body)], "nested": {"deeper": [dict(body)]}}
    response = httpx.Response(200, json=body, headers={"content-type": "application/json"})
    request = PreparedRequest(op.method, "/x")
    for allow, visible in ((False, False), (True, True)):
        executor = Executor(Registry([op]), Policy(allow_secrets=allow), None)
        shown = json.dumps(executor.shape(op, request, response).to_dict())
        assert (canary in shown) is visible, f"allow_secrets={allow}: {shown[:500]}"


def test_a_trimmed_result_read_in_chunks_shows_no_secret(secret_kit):
    big = {"items": [{"signing_key": SIGNING_KEY, "text": "x" * 300} for _ in range(200)]}
    op = SECRET_OPS[1]
    executor = Executor(Registry([op]), Policy(), None, budget=2000)
    result = executor.shape(
        op, PreparedRequest("GET", "/x"), httpx.Response(200, json=big, headers={"content-type": "application/json"})
    )
    assert result.truncated
    offset, chunks = 0, []
    while offset is not None:
        chunk = executor.read_result(result.truncated["result_id"], offset)
        chunks.append(chunk["chunk"])
        offset = chunk["next_offset"]
    assert_clean("".join(chunks), "the chunks of a trimmed result")


# -- the CLI, against a real server that echoes the secrets in its errors -----------------------------------


@pytest.fixture(scope="module")
def canary_server():
    with serve_sandbox(api_key=API_KEY) as live:
        yield live


@pytest.fixture
def cli(monkeypatch, capsys, canary_server):
    from mg_tools import cli as cli_module

    monkeypatch.setenv("MAILGUN_API_KEY", API_KEY)
    monkeypatch.setenv("MAILGUN_API_BASE_URL", canary_server.url)
    monkeypatch.setenv("MG_TOOLS_LOG_LEVEL", "debug")
    monkeypatch.setenv("MG_TOOLS_GRANTS", "*:*,credentials")
    canary_server.reset()
    logs = io.StringIO()  # the CLI's stderr logs (in one process, logging is set up once)
    configure_logs("debug", logs)

    def run(*argv: str) -> tuple[int, str]:
        code = cli_module.main(list(argv))
        out, err = capsys.readouterr()
        return code, out + err + logs.getvalue()

    yield run
    canary_server.reset()
    configure_logs()


def test_the_cli_never_prints_a_secret(cli, canary_server):
    outputs = []
    set_password = json.dumps({"domain": DEFAULT_DOMAIN, "smtp_password": SMTP_PASSWORD})
    for argv in (
        ("call", "get_domain", "--args", json.dumps({"domain": DEFAULT_DOMAIN})),
        ("call", "update_domain", "--args", set_password),
        ("call", "update_domain", "--args", set_password, "--dry-run"),
        ("tools", "--json"),
        ("describe", "update_domain"),
        *(
            ("call", name, "--args", json.dumps(args), *dry)
            for name, args in PASSWORD_CALLS
            for dry in (("--dry-run",), ())
        ),
    ):
        code, output = cli(*argv)
        assert code == 0, output
        outputs.append(output)
    # The server echoes what this process sent it; each process knows only its own secrets.
    sent = " | ".join(sorted(form for form, name in LEAKS.items() if name in ("api key", "smtp password")))
    canary_server.fault(method="*", path="^/v4/domains", status=400, message=f"rejected: {sent}", times=5)
    code, output = cli("call", "update_domain", "--args", set_password)
    assert code == 4 and "rejected" in output, output
    outputs.append(output)
    text = "\n".join(outputs)
    assert '"mailgun.response"' in text, "debug logs were not captured"
    assert_clean(text, "the CLI's output")


# -- the MCP server ---------------------------------------------------------------------------------------


def test_mcp_tool_results_and_errors_never_show_a_secret(secret_kit):
    pytest.importorskip("mg_tools.mcp_server")
    from mcp import Client

    from mg_tools.mcp_server import build_server

    async def run() -> list[str]:
        texts = []
        async with Client(build_server(secret_kit, "all")) as client:
            for name, args in (
                ("set_secrets", SECRET_ARGS),
                ("get_secrets", {"domain": DEFAULT_DOMAIN}),
                ("update_domain", {"domain": DEFAULT_DOMAIN, "smtp_password": SMTP_PASSWORD}),
                *PASSWORD_CALLS,
            ):
                result = await client.call_tool(name, args)
                texts.append(json.dumps(result.model_dump(mode="json")))
        return texts

    texts = secret_kit.run(run())
    assert any("rejected" in t for t in texts), "the error must come through"
    assert_clean("\n".join(texts), "MCP tool results")


# -- what is stored on disk: cassettes and snapshots ------------------------------------------------------

STORED = sorted(
    p
    for d in (ROOT / "cassettes", ROOT / "tests" / "mcp" / "snapshots")
    if d.is_dir()
    for p in d.rglob("*")
    if p.is_file()
)
KNOWN_KEYS = [API_KEY, DEFAULT_API_KEY, "fake-test-key-0000"]
SHAPES = re.compile(r"Basic [A-Za-z0-9+/=]{8,}|Bearer [A-Za-z0-9._~+/=-]{8,}|key-[0-9a-f]{32}|PRIVATE KEY-----\s*\S")


def scan_stored(path: Path) -> None:
    text = path.read_text(errors="replace")
    assert_clean(text, str(path))
    for key in KNOWN_KEYS:
        for form in forms(key):
            assert form not in text, f"an API key ({key}) is stored in {path}"
    assert not SHAPES.search(text), f"a credential is stored in {path}: {SHAPES.search(text).group(0)[:40]}"
    if path.suffix not in (".yaml", ".yml"):
        return
    for interaction in (yaml.safe_load(text) or {}).get("interactions", []):
        request = interaction["request"]
        assert not {h.lower() for h in request.get("headers", {})} & {"authorization", "cookie"}, path
        body = request.get("body") or ""
        body = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        for key, value in parse_qsl(body, keep_blank_values=True):
            if SECRET_NAMED.search(key):
                assert value in ("", log.REDACTED), f"{key} is stored in {path}"
        for match in re.finditer(r'"([^"]*(?:password|secret|signing_key|private_key)[^"]*)"\s*:\s*"([^"]*)"', body):
            assert match.group(2) in ("", log.REDACTED), f"{match.group(1)} is stored in {path}"
    for match in re.finditer(r'"credentials"\s*:\s*\{([^}]*)\}', text):
        generated = re.findall(r'"[^"]+"\s*:\s*"([^"]*)"', match.group(1))
        assert all(value == log.REDACTED for value in generated), f"a generated SMTP password is stored in {path}"


@pytest.mark.parametrize("path", STORED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_cassette_or_snapshot_stores_a_secret(path):
    scan_stored(path)


def test_recording_a_cassette_stores_no_secret(vcr_config, tmp_path):
    """Record with the suite's own recording settings, with canary secrets, and scan the result."""
    app = create_app(api_key=API_KEY)
    cassette = tmp_path / "canary.yaml"
    recorder = vcr.VCR(**vcr_config)
    with recorder.use_cassette(str(cassette), record_mode="all"):
        with Toolkit(
            api_key=API_KEY, base_url=BASE_URL, registry=REGISTRY, transport=httpx.ASGITransport(app=app)
        ) as mg:
            mg.call("create_domain", domain="canary.example.com", smtp_password=SMTP_PASSWORD)
            mg.call("update_domain", domain="canary.example.com", smtp_password=SMTP_PASSWORD)
            mg.call("get_domain", domain="canary.example.com")
    assert cassette.read_text().count("uri:") == 3, "the recording must hold the three calls"
    scan_stored(cassette)


# -- the tools that return secrets, through every entry point ---------------------------------------------

SECRET_GRANTS = "*:*,keys,credentials,account"
#: Each tool whose answer holds a secret, with arguments that make Mailgun generate one.
SECRET_TOOL_CALLS = {
    "create_key": {"role": "sending", "kind": "domain", "domain": DEFAULT_DOMAIN},
    "regenerate_public_key": {},
    "create_credentials": {"domain": DEFAULT_DOMAIN, "login": "fresh"},
    "update_credentials": {"domain": DEFAULT_DOMAIN, "login": "ann"},
    "update_mailbox": {"domain": DEFAULT_DOMAIN, "login": "ann"},
    "regenerate_webhook_signing_key": {},
    "get_webhook_signing_key": {},
}
#: Tools that show a secret the sandbox already holds rather than making one.
READ_SECRET_TOOLS = {"get_webhook_signing_key"}


def sandbox_secrets(live) -> set[str]:
    """Every secret the sandbox holds: API keys, the public key, SMTP passwords, the webhook signing key."""
    state = live.app.state.sandbox.state
    account = state.get("account", "main") or {}
    return (
        {k["_secret"] for k in state.list("api_key")}
        | {c["_password"] for c in state.list("credential")}
        | ({account["_public_key"]} if account.get("_public_key") else set())
        | {live.app.state.sandbox.signing_key}
    )


def test_every_tool_returning_a_secret_is_covered():
    assert {op.name for op in OPERATIONS if op.secret_fields} == set(SECRET_TOOL_CALLS)


@pytest.fixture
def entry_points(canary_server, monkeypatch, capsys):
    """Call a tool as the Python API, the CLI and the MCP server do: each returns what it showed and
    what it logged at debug level."""
    from mcp import Client

    from mg_tools import cli as cli_module
    from mg_tools.mcp_server import build_server

    logs = io.StringIO()

    def toolkit(allow: bool) -> Toolkit:
        policy = Policy.build(grants=SECRET_GRANTS, allow_secrets=allow)
        return Toolkit(api_key=API_KEY, base_url=canary_server.url, policy=policy)

    def logged() -> str:
        text = logs.getvalue()
        logs.seek(0)
        logs.truncate()
        return text

    def python(name: str, args: dict, allow: bool) -> tuple[str, str]:
        with toolkit(allow) as kit:
            return json.dumps(kit.call(name, **args)), logged()

    def cli(name: str, args: dict, allow: bool) -> tuple[str, str]:
        monkeypatch.setenv("MAILGUN_API_KEY", API_KEY)
        monkeypatch.setenv("MAILGUN_API_BASE_URL", canary_server.url)
        monkeypatch.setenv("MG_TOOLS_GRANTS", SECRET_GRANTS)
        monkeypatch.setenv("MG_TOOLS_LOG_LEVEL", "debug")
        code = cli_module.main(["call", name, "--args", json.dumps(args), *(["--allow-secrets"] if allow else [])])
        out, err = capsys.readouterr()
        assert code == 0, err
        configure_logs("debug", logs)  # the CLI pointed the logs at its own stderr
        return out, err

    def mcp(name: str, args: dict, allow: bool) -> tuple[str, str]:
        async def run(kit: Toolkit) -> str:
            async with Client(build_server(kit, "all")) as client:
                result = await client.call_tool(name, args)
                assert not result.is_error, result
                return json.dumps(result.model_dump(mode="json"))

        with toolkit(allow) as kit:
            return kit.run(run(kit)), logged()

    configure_logs("debug", logs)
    yield {"python": python, "cli": cli, "mcp": mcp}
    configure_logs()


@pytest.mark.parametrize("name", SECRET_TOOL_CALLS)
def test_a_returned_secret_is_redacted_unless_allowed_and_never_logged(name, entry_points, canary_server):
    pytest.importorskip("mg_tools.mcp_server")
    for entry, call in entry_points.items():
        for allow in (False, True):
            canary_server.reset()
            canary_server.http.post(
                f"/v3/domains/{DEFAULT_DOMAIN}/credentials", data={"login": "ann", "password": "1st-pw"}
            )
            before = sandbox_secrets(canary_server)
            shown, logs = call(name, SECRET_TOOL_CALLS[name], allow)
            new = sandbox_secrets(canary_server) - before
            if name in READ_SECRET_TOOLS:
                new = {canary_server.app.state.sandbox.signing_key}
            assert new, f"{name} made no secret"
            leaked = {s for s in new | before if s in shown}
            assert leaked == (new if allow else set()), f"{entry}, allow_secrets={allow}: {shown[:600]}"
            if not allow:
                assert "grant it with MG_TOOLS_ALLOW_SECRETS" in shown, shown[:600]
            assert '"mailgun.response"' in logs, f"the debug logs of {entry} were not captured"
            assert not {s for s in new | before if s in logs}, f"{entry} logged a secret"
