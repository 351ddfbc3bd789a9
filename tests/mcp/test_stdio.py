"""The stdio transport: `python server.py --sandbox` as a subprocess, driven by the SDK's client."""

from __future__ import annotations

import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_support import PROTOCOLS, ROOT, wire

pytestmark = pytest.mark.anyio


async def test_stdio_in_both_protocol_eras(tmp_path):
    params = StdioServerParameters(
        command=sys.executable, args=["server.py", "--sandbox", "--exclude-tools", "delete_domain"], cwd=ROOT
    )
    seen: dict[str, dict] = {}

    async def session(protocol: str) -> None:
        with open(tmp_path / f"{protocol}.err", "w+") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode=protocol) as client:
                names = {t["name"] for t in wire(await client.list_tools())}
                result = await client.call_tool("get_domain", {"domain": "mg.example.com"})
                sent = await client.call_tool(
                    "send_message",
                    {
                        "domain": "mg.example.com",
                        "sender": "ann@mg.example.com",
                        "to": ["bob@example.com"],
                        "subject": "Hi",
                        "text": "Hello",
                    },
                )
                seen[protocol] = {"names": names, "result": result, "sent": sent, "version": client.protocol_version}
            errlog.seek(0)
            seen[protocol]["stderr"] = errlog.read()

    # Both sessions start together: the start-up (imports) is most of the cost.
    async with anyio.create_task_group() as tg:
        for protocol in PROTOCOLS:
            tg.start_soon(session, protocol)

    assert seen["auto"]["version"] == "2026-07-28" and seen["legacy"]["version"] == "2025-11-25"
    for protocol in PROTOCOLS:
        got = seen[protocol]
        assert "get_domain" in got["names"] and "delete_domain" not in got["names"]
        assert got["result"].structured_content["result"]["domain"]["name"] == "mg.example.com"
        assert not got["sent"].is_error, got["sent"].content[0].text
        # stdout is the protocol channel (any stray output would have broken the session); notes go to stderr.
        assert "no real mail is sent" in got["stderr"] and "over stdio" in got["stderr"]
