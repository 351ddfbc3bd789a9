"""The floor: a bare low-level MCP server with one tool, on the same SDK entry points as mg-tools.

    python bench/floor_server.py                          # stdio, one tool `ping`
    python bench/floor_server.py --tools N                # stdio, N dummy tools (start-up floor)
    python bench/floor_server.py --proxy URL              # stdio, one tool `get_domain`
    python bench/floor_server.py --proxy URL --http PORT  # the same over streamable HTTP

With ``--proxy`` its one tool, ``get_domain``, forwards ``domain`` to ``GET URL/v4/domains/{domain}``
(Basic auth ``api:sandbox-key``) and answers as mg-tools does (the JSON as text and as structured
content): it is what any MCP server in front of the sandbox pays, so the benches can tell the SDK's
cost from what mg-tools adds. ``bench/startup.py`` uses ``--tools``: as many tools as mg-tools lists,
each with a one-line description and a small input schema, built when the server starts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server

PING = types.Tool(name="ping", description="Answer pong.", input_schema={"type": "object", "properties": {}})
GET_DOMAIN = types.Tool(
    name="get_domain",
    description="Show a domain.",
    input_schema={"type": "object", "properties": {"domain": {"type": "string"}}, "required": ["domain"]},
)


def dummy_tools(count: int) -> list[types.Tool]:
    """``count`` tools shaped like small operation tools: a name, a sentence, two typed arguments."""
    return [
        types.Tool(
            name=f"operation_{n:03d}",
            description=f"Run dummy operation {n} on a domain and answer what it found.",
            input_schema={
                "type": "object",
                "properties": {"domain": {"type": "string"}, "limit": {"type": "integer", "default": 100}},
                "required": ["domain"],
            },
        )
        for n in range(count)
    ]


def build(proxy: Any = None, tools: int = 0) -> Server:
    """The floor server; ``proxy`` is an ``httpx.AsyncClient`` for the sandbox, or None for ``ping``
    (and ``tools`` dummy tools when given)."""
    listed = [GET_DOMAIN] if proxy is not None else dummy_tools(tools) if tools else [PING]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if proxy is None:
            return types.CallToolResult(content=[types.TextContent(text="pong")])
        response = await proxy.get(f"/v4/domains/{(params.arguments or {})['domain']}")
        data = {"result": response.json()}
        return types.CallToolResult(content=[types.TextContent(text=json.dumps(data))], structured_content=data)

    return Server("floor", on_list_tools=list_tools, on_call_tool=call_tool)


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def main() -> None:
    proxy_url, http_port = _option("--proxy"), _option("--http")
    proxy = None
    if proxy_url:
        import httpx

        proxy = httpx.AsyncClient(base_url=proxy_url, auth=("api", "sandbox-key"))
    server = build(proxy, int(_option("--tools") or 0))
    if http_port:
        import uvicorn

        app = server.streamable_http_app(stateless_http=True, json_response=True, host="127.0.0.1")
        uvicorn.run(app, host="127.0.0.1", port=int(http_port), access_log=False, log_level="warning")
        return
    from mcp.server.stdio import stdio_server

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


if __name__ == "__main__":
    main()
