"""Prompts for repeated jobs, through the SDK's client: listed and filled in, in both modes."""

from __future__ import annotations

import re

import pytest
from mcp.shared.exceptions import MCPError
from mcp_support import connect

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import McpTools
from mg_tools.prompts import PROMPTS

pytestmark = pytest.mark.anyio

EXPECTED = {"diagnose_delivery", "set_up_sending_domain", "clean_bounced_members", "report_campaign"}
ARGUMENTS = {
    "recipient": "ann@example.com",
    "domain": "mg.example.com",
    "list_address": "news@mg.example.com",
    "tag": "spring",
}


async def test_every_tool_a_prompt_names_is_a_registered_tool(toolkit):
    for prompt in PROMPTS:
        assert prompt.tools and all(tool in toolkit.registry for tool in prompt.tools), prompt.name
        text = prompt.text(ARGUMENTS)
        assert all(tool in text for tool in prompt.tools)
        assert not re.search(r"\{\w+\}", text), f"{prompt.name}: an argument left unfilled"


async def test_prompts_are_listed_with_their_arguments(toolkit):
    async with connect(toolkit) as client:
        listed = (await client.list_prompts()).prompts
    assert {p.name for p in listed} == EXPECTED
    diagnose = next(p for p in listed if p.name == "diagnose_delivery")
    assert [(a.name, a.required) for a in diagnose.arguments] == [("recipient", True), ("domain", True)]


@pytest.mark.parametrize("mode", ["all", "discover"])
async def test_a_prompt_names_the_tools_in_order_with_the_arguments(toolkit, mode):
    async with connect(toolkit, mode=mode) as client:
        got = await client.get_prompt("diagnose_delivery", {"recipient": "ann@example.com", "domain": "mg.example.com"})
    text = got.messages[0].content.text
    steps = [text.index(f"{n}. {tool}:") for n, tool in enumerate(PROMPTS[0].tools, 1)]
    assert steps == sorted(steps) and "recipient=ann@example.com" in text
    assert ("call_operation" in text) is (mode == "discover")


async def test_a_prompt_needs_its_required_arguments_and_a_known_name(toolkit):
    async with connect(toolkit) as client:
        with pytest.raises(MCPError, match="needs: list_address"):
            await client.get_prompt("clean_bounced_members", {"domain": "mg.example.com"})
        with pytest.raises(MCPError, match="Unknown prompt"):
            await client.get_prompt("diagnose_everything", {})


@pytest.mark.parametrize("mode", ["all", "discover"])
async def test_prompts_naming_hidden_tools_are_left_out(tmp_path, mode):
    with Toolkit(sandbox=True, policy=Policy.build(read_only=True), file_roots=[tmp_path]) as read_only:
        exposed = McpTools(read_only, mode).exposed
        async with connect(read_only, mode=mode) as client:
            listed = {p.name for p in (await client.list_prompts()).prompts}
            with pytest.raises(MCPError, match="Unknown prompt"):
                await client.get_prompt("set_up_sending_domain", {"domain": "mg.example.com"})
    assert listed == {"diagnose_delivery", "report_campaign"}
    assert all(tool in exposed for p in PROMPTS if p.name in listed for tool in p.tools)
