"""Shared fixtures.

Cassette tests use the ``mg`` fixture with ``@pytest.mark.vcr``. Replaying (the default,
``--record-mode=none``) talks to nothing: a request without a recording fails. Recording
(``pytest --record-mode=rewrite tests/plugins/test_x.py``) runs the same test against the
in-process sandbox under the production base URL, so cassettes hold production URLs and never
an Authorization header.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from contract.check import Contract, session_contract
from redis_support import RedisServer

from mg_tools import Policy, Toolkit
from mg_tools.log import REDACTED, Redactor
from mg_tools.sandbox.observe import Answer, observing

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
PRODUCTION = "https://api.mailgun.net"
#: Obviously fake; tests never use a real key.
FAKE_KEY = "fake-test-key-0000"
#: Mailgun's response schemas; every 2xx JSON answer a sandbox gives during the run is checked against them.
CONTRACT = session_contract()
_BOUNDARY = re.compile(rb"boundary=([A-Za-z0-9'()+_,\-./:=?]+)")


# `pem` is Mailgun's name for the private key of an imported DKIM key.
_SECRET_FIELD = re.compile(r"password|secret|signing_key|private_key|api_key|^pem$", re.I)
#: Recordings are scrubbed by key name and by shape (Basic/Bearer credentials, Mailgun and private keys).
redact = Redactor().redact


def _scrub_request(request):
    """Fix the multipart boundary (random per request) so recordings match on replay, and replace
    secret-named fields (passwords, keys) in bodies; the live request is scrubbed the same way
    before matching, so replays still match."""
    ctype = request.headers.get("Content-Type") or request.headers.get("content-type") or ""
    if isinstance(request.body, bytes) and request.body:
        if "x-www-form-urlencoded" in ctype:
            pairs = parse_qsl(request.body.decode(), keep_blank_values=True)
            request.body = urlencode([(k, REDACTED if _SECRET_FIELD.search(k) else v) for k, v in pairs]).encode()
        elif "json" in ctype:
            request.body = json.dumps(redact(json.loads(request.body)), sort_keys=True).encode()
        elif "multipart" in ctype:
            request.body = re.sub(
                rb'(name="(?:[^"]*(?:password|secret|signing_key|private_key)[^"]*|pem)"\r\n\r\n)[^\r]*',
                rb"\1" + REDACTED.encode(),
                request.body,
                flags=re.I,
            )
    match = re.search(r"boundary=([^;\s]+)", ctype)
    if match and isinstance(request.body, bytes):
        boundary = match.group(1)
        request.body = request.body.replace(boundary.encode(), b"mgtoolsboundary")
        for key in ("Content-Type", "content-type"):
            if key in request.headers:
                request.headers[key] = ctype.replace(boundary, "mgtoolsboundary")
    return request


def _generated_passwords(data):
    """SMTP credential answers map each login to its generated password (``credentials``)."""
    if isinstance(data, dict):
        return {
            k: dict.fromkeys(v, REDACTED) if k == "credentials" and isinstance(v, dict) else _generated_passwords(v)
            for k, v in data.items()
        }
    return [_generated_passwords(v) for v in data] if isinstance(data, list) else data


def _scrub_response(response):
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() != "x-mailgun-sandbox"}
    body = response.get("body", {}).get("string")
    if body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return response
        response["body"]["string"] = json.dumps(redact(_generated_passwords(data))).encode()
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return {
        "filter_headers": ["authorization", "user-agent"],
        "before_record_response": _scrub_response,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
        "before_record_request": _scrub_request,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request):
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))


@pytest.fixture
def recording(record_mode) -> bool:
    return record_mode not in (None, "none")


@pytest.fixture(autouse=True)
def _every_recorded_request_is_replayed(vcr, recording):
    """A cassette test fails when some recorded request was never made: a request the code stopped
    sending must not go unnoticed."""
    yield
    if vcr is None or recording:
        return
    if not vcr.all_played:
        unplayed = [f"{req.method} {req.path}" for i, (req, _) in enumerate(vcr.data) if not vcr.play_counts[i]]
        pytest.fail(f"cassette {Path(vcr.path).name}: recorded requests never made: {unplayed}")


def _module_policy(request) -> Policy:
    """``*:*`` and the test module's ``GRANTS``: the sensitive areas it writes to, named, since no
    wildcard grants them."""
    return Policy.build(grants=("*:*", *getattr(request.module, "GRANTS", ())))


@pytest.fixture
def mg(recording, tmp_path, request):
    """A toolkit for cassette tests: the in-process sandbox when recording, a fake key when replaying.
    A test module's ``GRANTS`` are granted besides ``*:*`` (sensitive areas must be named)."""
    policy = _module_policy(request)
    roots = [tmp_path, ROOT / "tests"]
    if recording:
        toolkit = Toolkit(sandbox=True, base_url=PRODUCTION, file_roots=roots, policy=policy)
    else:
        toolkit = Toolkit(api_key=FAKE_KEY, base_url=PRODUCTION, file_roots=roots, policy=policy)
    yield toolkit
    toolkit.close()


@pytest.fixture
def sandbox_mg(tmp_path):
    """A toolkit on a fresh in-process sandbox, for tests that need live state (no cassette)."""
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path, ROOT / "tests"])
    yield toolkit
    toolkit.close()


@pytest.fixture
def dry(tmp_path, request):
    """A toolkit with no account, for dry runs (with the test module's ``GRANTS``, as ``mg``)."""
    policy = _module_policy(request)
    toolkit = Toolkit(api_key=None, base_url=PRODUCTION, policy=policy, file_roots=[tmp_path])
    yield toolkit
    toolkit.close()


@pytest.fixture(autouse=True)
def _isolated_environment(request, monkeypatch, tmp_path_factory):
    """Each test starts with none of the operator's switches set and a state directory of its own,
    so a developer's shell cannot change what the tests see and nothing is written to their home.
    A module's ``GRANTS`` are granted (``MG_TOOLS_GRANTS``), as by the ``mg`` and ``dry`` toolkits."""
    import os

    for name in list(os.environ):
        if name.startswith(("MG_TOOLS_", "MAILGUN_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MG_TOOLS_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    if getattr(request.module, "GRANTS", ()):
        monkeypatch.setenv("MG_TOOLS_GRANTS", ",".join(("*:*", *request.module.GRANTS)))


def _check_answer(answer: Answer) -> None:
    CONTRACT.check(answer.method, answer.path, answer.status, answer.content_type, answer.body)


@pytest.fixture(scope="session", autouse=True)
def _sandbox_answers_follow_the_contract():
    """Every sandbox answer of the run is checked against Mailgun's response schemas."""
    with observing(_check_answer):
        yield


def _contract_report(violations: list[str]) -> str:
    return "sandbox answers leave Mailgun's response schema (tests/data/contract.json):\n" + "\n".join(violations)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test whose sandbox answers (its fixtures' included) leave the contract fails, naming each problem."""
    try:
        result = yield
    except BaseException as exc:
        violations = CONTRACT.take_violations()
        if violations:
            exc.add_note(_contract_report(violations))
        raise
    violations = CONTRACT.take_violations()
    if violations:
        pytest.fail(_contract_report(violations), pytrace=False)
    return result


def _served_operations() -> set[str]:
    rows = (ROOT / "tests" / "data" / "operations.tsv").read_text().splitlines()[1:]
    return {Contract.normal_key(f"{method} {path}") for _, method, path, *_ in (row.split("\t") for row in rows)}


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(CONTRACT.summary(_served_operations()))


def pytest_sessionfinish(session):
    leftover = CONTRACT.take_violations()
    if leftover:
        session.config.get_terminal_writer().line(_contract_report(leftover), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A ``redis-server`` of this test module (:mod:`redis_support`), stopped at its end."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing: .ci/run installs it (Debian package redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server); the shared-state tests need it")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The server's URL, its data wiped before each test."""
    from mg_tools.redis_state import Redis

    if redis_server.process.poll() is not None:
        redis_server.start()
    Redis(redis_server.url).client.flushdb()
    return redis_server.url
