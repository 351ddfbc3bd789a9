"""Fixtures for the MCP tests: toolkits on the embedded sandbox, and HTTP servers (uvicorn on a
free loopback port, in a background thread)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from mcp_support import PROTOCOLS, HttpServer, run_http

from mg_tools import Toolkit
from mg_tools.mcp_server import http_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=PROTOCOLS)
def protocol(request) -> str:
    return request.param


@pytest.fixture
async def toolkit(tmp_path) -> AsyncIterator[Toolkit]:
    """A toolkit on a fresh in-process sandbox, exposing everything."""
    tk = Toolkit(sandbox=True, file_roots=[tmp_path])
    yield tk
    await tk.aclose()


@pytest.fixture(scope="module")
def http_server(tmp_path_factory) -> Iterator[HttpServer]:
    """The HTTP transport in mode all with a bearer token, on a sandbox toolkit."""
    token = "test-" + secrets.token_hex(12)
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path_factory.mktemp("files")])
    with run_http(http_app(toolkit, mode="all", token=token)) as url:
        yield HttpServer(url, token, toolkit)


@pytest.fixture(scope="module")
def open_http_server(tmp_path_factory) -> Iterator[HttpServer]:
    """The HTTP transport in mode discover without a token (loopback only)."""
    toolkit = Toolkit(sandbox=True, file_roots=[tmp_path_factory.mktemp("files")])
    with run_http(http_app(toolkit, mode="discover")) as url:
        yield HttpServer(url, None, toolkit)
