"""The MCP HTTP transport under hostile requests: no token, foreign Host or Origin, oversize bodies
(declared or streamed), and a scan of every log line for the token.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

mcp_server = pytest.importorskip("mg_tools.mcp_server")

from mg_tools import Toolkit  # noqa: E402
from mg_tools.sandbox.server import serve_in_background  # noqa: E402

from .conftest import configure_logs  # noqa: E402
from .support import REGISTRY  # noqa: E402

TOKEN = "canary-http-token-5f2c9a71e3b04d68"
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "reliability", "version": "1"},
    },
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def serving(app) -> contextlib.AbstractContextManager[str]:
    return serve_in_background(
        app, name="HTTP transport", log_config=mcp_server.UVICORN_LOG_CONFIG, access_log=True, lifespan="on"
    )


@pytest.fixture(scope="module")
def logs() -> Iterator[io.StringIO]:
    """Everything logged while the module runs: our structured logs, uvicorn's, the MCP SDK's."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    # The test's own HTTP client logs its requests to the server (URL included) in this process:
    # those lines are not the server's. The server's own requests (to the sandbox) are kept.
    handler.addFilter(
        lambda record: not (record.name.startswith(("httpx", "httpcore")) and "127.0.0.1" in record.getMessage())
    )
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
    configure_logs("debug", buffer)
    yield buffer
    configure_logs()
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).removeHandler(handler)


@pytest.fixture(scope="module")
def server(logs) -> Iterator[str]:
    with Toolkit(sandbox=True, registry=REGISTRY) as toolkit:
        with serving(mcp_server.http_app(toolkit, host="127.0.0.1", token=TOKEN)) as url:
            yield url
    HTTP.close()


HTTP = httpx.Client(timeout=20)  # one client: each new one builds an SSL context


def post(url: str, body: object = LIST, **headers: str) -> httpx.Response:
    return HTTP.post(f"{url}/mcp", json=body, headers={**MCP_HEADERS, **headers})


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_the_token_opens_the_transport(server):
    assert post(server, INITIALIZE, **AUTH).status_code == 200
    assert post(server, LIST, **AUTH).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"bearer {TOKEN}",
        f"Bearer  {TOKEN}",
        f"Basic {base64.b64encode(f'api:{TOKEN}'.encode()).decode()}",
        TOKEN,
        f"Token {TOKEN}",
        f"Bearer {TOKEN.upper()}",
        f"Bearer {TOKEN},Bearer {TOKEN}",
    ],
)
def test_without_the_exact_token_every_path_is_401(server, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for response in (
        post(server, INITIALIZE, **headers),
        post(server, LIST, **headers),
        HTTP.get(f"{server}/mcp", headers=headers),
        HTTP.delete(f"{server}/mcp", headers=headers),
        HTTP.get(f"{server}/mcp/", headers=headers),
        HTTP.get(f"{server}/%6Dcp", headers=headers),
    ):
        assert response.status_code == 401, (authorization, response.request.url, response.status_code)
        assert TOKEN not in response.text


def test_the_token_in_the_query_string_does_not_count(server):
    response = HTTP.post(f"{server}/mcp?token={TOKEN}&access_token={TOKEN}", json=LIST, headers=MCP_HEADERS)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:80",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
        "evil.example#127.0.0.1",
        "127.0.0.2",
        "0.0.0.0",
        "[::2]",
        "LOCALHOST.evil.example",
    ],
)
def test_a_foreign_host_is_refused_even_with_the_token(server, host):
    response = post(server, LIST, Host=host, **AUTH)
    assert response.status_code in (400, 403, 421), (host, response.status_code)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example:8000",
        "http://evil.example/?http://127.0.0.1",
        "file://",
        "http://127.0.0.1@evil.example",
    ],
)
def test_a_foreign_origin_is_refused_even_with_the_token(server, origin):
    response = post(server, LIST, Origin=origin, **AUTH)
    assert response.status_code in (400, 403), (origin, response.status_code)


@pytest.mark.parametrize("origin", [None, "http://localhost:6274", "http://127.0.0.1:9999"])
def test_local_origins_are_accepted(server, origin):
    headers = {"Origin": origin} if origin else {}
    assert post(server, LIST, **headers, **AUTH).status_code == 200


def _oversize() -> bytes:
    return json.dumps({**LIST, "params": {"pad": "x" * (mcp_server.MAX_BODY + 1024)}}).encode()


def test_an_oversize_body_is_413(server):
    response = HTTP.post(f"{server}/mcp", content=_oversize(), headers={**MCP_HEADERS, **AUTH})
    assert response.status_code == 413


def test_an_oversize_body_without_a_length_is_413_too(server):
    """A chunked body declares no length: the cap must hold while it streams in."""
    body = _oversize()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    try:
        response = HTTP.post(f"{server}/mcp", content=chunks(), headers={**MCP_HEADERS, **AUTH})
    except httpx.TransportError:
        return  # the server cut the upload off: refused as well
    assert response.status_code == 413


def test_an_oversize_body_without_the_token_is_refused_before_it_is_read(server):
    started = time.monotonic()
    response = HTTP.post(f"{server}/mcp", content=_oversize(), headers=MCP_HEADERS)
    assert response.status_code in (401, 413) and time.monotonic() - started < 10


def test_the_token_is_never_logged(server, logs):
    post(server, INITIALIZE, **AUTH)
    post(server, LIST, **AUTH)
    post(
        server,
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "get_domain", "arguments": {"domain": "nope.example.com"}},
        },
        **AUTH,
    )
    post(
        server,
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "no_such_tool", "arguments": {}}},
        **AUTH,
    )
    post(server, LIST, Authorization=f"Bearer {TOKEN}x")
    post(server, LIST, Host="evil.example", **AUTH)
    HTTP.post(f"{server}/mcp", content=b"{not json", headers={**MCP_HEADERS, **AUTH})
    text = logs.getvalue()
    assert text, "nothing was logged: the scan would prove nothing"
    for form in (TOKEN, base64.b64encode(TOKEN.encode()).decode(), f"Bearer {TOKEN}"):
        assert form not in text, f"the token was logged: {text[:2000]}"
