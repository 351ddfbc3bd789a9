"""A hostile upstream on loopback: redirects, echoed credentials, control characters, huge bodies.

A real HTTP server on 127.0.0.1 answers each request as the test says. Through the Python API and
the CLI, every answer outside 2xx must become an error whose message is one line with no raw control,
bidi or invisible character and no piece of the key; a redirect is never success, never followed and
never retried; a send reaches the server exactly once.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mg_tools import MailgunError, Toolkit
from mg_tools.cli import main
from mg_tools.errors import Redirected

from .support import FAKE_KEY, FAST_RETRY, REGISTRY, SEND, leaked_pieces, unsafe_characters

BASIC = base64.b64encode(f"api:{FAKE_KEY}".encode()).decode()
READ = {"domain": "mg.example.com"}
CALLS = [("send_message", SEND), ("get_domain", READ)]
#: Everything a terminal or a log reader must never receive raw.
HOSTILE = (
    "first line\nmg-tools: forged line\r\n\x1b[31mred\x1b[0m \x1b]0;title\x07 \u202eevil\u202c "
    "zero\u200bwidth\ufeff nul\x00 sep\u2028\u2029 \U000e0041tag"
)


@dataclass
class Seen:
    """One request as it reached the upstream."""

    method: str
    path: str
    authorization: str
    body: bytes


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: object, **headers: str) -> Answer:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})

    @classmethod
    def text(cls, status: int, text: str, **headers: str) -> Answer:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **headers})


class Upstream:
    """The loopback server's script: ``answer`` decides each reply, ``requests`` records what came."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[Seen] = []
        self.answer: Callable[[Seen], Answer] = lambda seen: Answer.json(200, {})

    def reply(self, answer: Answer | Callable[[Seen], Answer]) -> None:
        self.answer = answer if callable(answer) else (lambda seen: answer)

    def toolkit(self) -> Toolkit:
        return Toolkit(api_key=FAKE_KEY, base_url=self.url, registry=REGISTRY, retry=FAST_RETRY, timeout=5.0)


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen(self.command, self.path, self.headers.get("Authorization", ""), body)
            upstream.requests.append(seen)
            answer = upstream.answer(seen)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: object) -> None:  # the test's stderr is under test
            pass

    return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[Upstream]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    upstream = Upstream(f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.RequestHandlerClass = _handler(upstream)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def upstream(server: Upstream) -> Upstream:
    server.requests.clear()
    server.reply(Answer.json(200, {}))
    return server


@pytest.fixture
def cli(upstream: Upstream, monkeypatch, tmp_path, capsys) -> Callable[..., tuple[int, str]]:
    """``cli(name, arguments)``: run ``mg-tools call`` in-process against the upstream; exit code and stderr."""
    for var in (
        "MAILGUN_API_REGION",
        "MG_TOOLS_GRANTS",
        "MG_TOOLS_DENY",
        "MG_TOOLS_READ_ONLY",
        "MG_TOOLS_CONFIRM",
        "MG_TOOLS_TOOLSETS",
        "MG_TOOLS_TOOLS",
        "MG_TOOLS_EXCLUDE_TOOLS",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAILGUN_API_KEY", FAKE_KEY)
    monkeypatch.setenv("MAILGUN_API_BASE_URL", upstream.url)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def run(name: str, arguments: dict) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["call", name, "--args", json.dumps(arguments)])
        return code, capsys.readouterr().err

    return run


def call(upstream: Upstream, name: str, arguments: dict) -> MailgunError:
    with upstream.toolkit() as mg, pytest.raises(MailgunError) as info:
        mg.call(name, **arguments)
    return info.value


def assert_safe(text: str) -> None:
    """One line, nothing a terminal would not show as itself, and no piece of the key in any form."""
    assert "\n" not in text and "\r" not in text, text
    assert unsafe_characters(text) == [], text
    for secret in (FAKE_KEY, BASIC):
        assert leaked_pieces(text, secret) == [], text


def assert_safe_stderr(err: str) -> None:
    assert err.startswith("mg-tools: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert_safe(err[:-1])


# -- redirects ------------------------------------------------------------------------------------------------

LOCATIONS = [
    f"https://evil.example/v3/mg.example.com/messages?api_key={FAKE_KEY}#frag",
    f"/v3/elsewhere/messages?key={FAKE_KEY}",
]


@pytest.mark.parametrize("location", LOCATIONS, ids=["other-host", "same-host"])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_a_redirect_is_an_error_not_followed_nor_retried(upstream, name, arguments, status, location):
    # Had the client followed the redirect to the same host, the second request would have succeeded.
    upstream.reply(
        lambda seen: (
            Answer.json(200, {"id": "<x@y>", "message": "Queued"})
            if "elsewhere" in seen.path
            else Answer.text(status, "moved", Location=location)
        )
    )
    error = call(upstream, name, arguments)
    assert isinstance(error, Redirected) and error.status == status
    assert len(upstream.requests) == 1
    assert "not processed" in error.message and "MAILGUN_API_BASE_URL" in error.message
    assert error.location is not None and "?" not in error.location and "#" not in error.location
    assert error.location.endswith(("evil.example/v3/mg.example.com/messages", "/v3/elsewhere/messages"))
    assert_safe(error.message)


@pytest.mark.parametrize("status", [300, 304])
def test_other_3xx_answers_are_errors_too(upstream, status):
    upstream.reply(Answer(status))
    error = call(upstream, "get_domain", READ)
    assert isinstance(error, Redirected) and error.status == status and len(upstream.requests) == 1


@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_the_cli_reports_a_redirect_in_one_line_with_exit_4(upstream, cli, name, arguments):
    upstream.reply(Answer.text(302, "moved", Location=LOCATIONS[0]))
    code, err = cli(name, arguments)
    assert code == 4 and len(upstream.requests) == 1
    assert "not processed" in err and "https://evil.example/v3/mg.example.com/messages" in err
    assert_safe_stderr(err)


# -- what an error body may carry ------------------------------------------------------------------------------


def _echo(status: int, shape: str) -> Callable[[Seen], Answer]:
    def answer(seen: Seen) -> Answer:
        text = (
            f"rejected {seen.method} {seen.path}: Authorization: {seen.authorization}; key {FAKE_KEY}; "
            f"body {seen.body.decode(errors='replace')}"
        )
        return Answer.json(status, {"message": text}) if shape == "json" else Answer.text(status, text)

    return answer


@pytest.mark.parametrize("shape", ["json", "text"])
@pytest.mark.parametrize("status", [400, 401, 500])
@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_an_echoed_key_never_reaches_the_message(upstream, name, arguments, status, shape):
    upstream.reply(_echo(status, shape))
    error = call(upstream, name, arguments)
    assert error.status == status and "rejected" in error.message
    assert_safe(error.message)
    if name == "send_message":
        assert len(upstream.requests) == 1


@pytest.mark.parametrize("shape", ["json", "text"])
@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_control_and_bidi_characters_are_escaped(upstream, name, arguments, status, shape):
    upstream.reply(Answer.json(status, {"message": HOSTILE}) if shape == "json" else Answer.text(status, HOSTILE))
    error = call(upstream, name, arguments)
    assert "forged line" in error.message and "\\x1b[31m" in error.message and "\\u202e" in error.message
    assert_safe(error.message)
    assert str(error) == error.message and error.to_dict()["message"] == error.message
    if name == "send_message":
        assert len(upstream.requests) == 1


@pytest.mark.parametrize("shape", ["json", "text"])
@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_the_cli_prints_one_escaped_line_without_the_key(upstream, cli, name, arguments, shape):
    hostile = f"{HOSTILE} Authorization: Basic {BASIC} {FAKE_KEY}"
    upstream.reply(Answer.json(400, {"message": hostile}) if shape == "json" else Answer.text(400, hostile))
    code, err = cli(name, arguments)
    assert code == 4 and "forged line" in err and len(upstream.requests) == 1
    assert_safe_stderr(err)


@pytest.mark.parametrize("shape", ["json", "text"])
@pytest.mark.parametrize("filler", ["A", "-----BEGIN A PRIVATE KEY-----"])
def test_a_huge_error_body_gives_a_short_safe_message(upstream, shape, filler):
    # About 1 MB, with the key where a cut at any plausible length would split it.
    text = "".join(filler * (n // len(filler)) + FAKE_KEY for n in (490, 5_000, 16_370, 70_000))
    text += filler * (1_000_000 // len(filler))
    upstream.reply(Answer.json(400, {"message": text}) if shape == "json" else Answer.text(400, text))
    error = call(upstream, "send_message", SEND)
    assert len(error.mailgun_message) <= 500 and len(error.message) < 700
    assert_safe(error.message)
    assert len(upstream.requests) == 1


# -- a success that is not JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "arguments"), CALLS, ids=["send", "read"])
def test_a_200_that_is_not_json_is_returned_as_text(upstream, name, arguments):
    upstream.reply(Answer(200, f"<html>\x1b[31mok {FAKE_KEY}</html>".encode(), {"Content-Type": "text/html"}))
    with upstream.toolkit() as mg:
        data = mg.call(name, **arguments)
    assert data == {"content_type": "text/html", "text": "<html>\x1b[31mok ***</html>"}
    assert len(upstream.requests) == 1
