"""Helpers shared by the MCP tests: connecting the SDK's client, reading results, running uvicorn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client

from mg_tools import Toolkit
from mg_tools.mcp_server import UVICORN_LOG_CONFIG, build_server
from mg_tools.sandbox.server import serve_in_background

ROOT = Path(__file__).resolve().parents[2]
#: Both protocol eras the server must speak: 2026-07-28 (the client's default) and 2025-11-25.
PROTOCOLS = ("auto", "legacy")


@asynccontextmanager
async def connect(toolkit: Toolkit, *, mode: str = "all", protocol: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client connected in memory to a fresh server for ``toolkit``."""
    async with Client(build_server(toolkit, mode), mode=protocol) as client:
        yield client


def wire(tools: Any) -> list[dict[str, Any]]:
    """The tools of a tools/list answer as they travel (camelCase, unset fields left out)."""
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools.tools]


def payload(result: Any) -> dict[str, Any]:
    """The JSON a tool result carries in its text content."""
    return json.loads(result.content[0].text)


def error_of(result: Any) -> dict[str, Any]:
    """The error an error result carries: ``to_dict()`` as JSON text, and no structured content (which
    clients would check against the tool's output schema)."""
    assert result.is_error, result
    assert result.structured_content is None, result.structured_content
    assert len(result.content) == 1
    return payload(result)


@dataclass
class HttpServer:
    """A running HTTP transport: its base URL, bearer token (or None) and toolkit."""

    url: str
    token: str | None
    toolkit: Toolkit

    @property
    def mcp(self) -> str:
        return f"{self.url}/mcp"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra} if self.token else dict(extra)


def run_http(app: Any) -> AbstractContextManager[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; the context gives the base URL."""
    return serve_in_background(app, name="HTTP server", log_config=UVICORN_LOG_CONFIG, access_log=False, lifespan="on")
