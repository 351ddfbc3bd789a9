"""Plain tool definitions: ``mg-tools tools --format openai|anthropic`` and their Python API."""

from __future__ import annotations

import json
import re
import sys

import pytest
from agents.models.chatcmpl_converter import Converter
from jsonschema import Draft202012Validator
from openai.types.chat import ChatCompletionFunctionToolParam
from pydantic import TypeAdapter

from mg_tools import Toolkit
from mg_tools.adapters.openai_agents import openai_agents_tools
from mg_tools.adapters.plain import anthropic_tools, openai_tools
from mg_tools.cli import main
from mg_tools.operation import Access

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture
def every_tool(tmp_path):
    with Toolkit(settings=_settings(tmp_path)) as toolkit:
        yield toolkit


def _settings(tmp_path):
    from mg_tools import Settings

    return Settings.from_env({"MG_TOOLS_STATE_DIR": str(tmp_path)})


def well_formed(name: str, description: str, schema: dict) -> None:
    assert NAME.match(name) and description.strip(), name
    assert schema["type"] == "object", name
    Draft202012Validator.check_schema(schema)


def test_openai_definitions_are_what_the_sdk_sends(every_tool):
    tools = openai_tools(every_tool)
    assert len(tools) == len(every_tool.operations()) + 1  # and read_result
    adapter = TypeAdapter(ChatCompletionFunctionToolParam)
    sent = {t.name: Converter.tool_to_openai(t) for t in openai_agents_tools(every_tool)}
    for tool in tools:
        function = tool["function"]
        well_formed(function["name"], function["description"], function["parameters"])
        assert adapter.validate_python(tool) == tool
        assert sent[function["name"]] == {**tool, "function": {**function, "strict": False}}


def test_anthropic_definitions_are_well_formed(every_tool):
    tools = anthropic_tools(every_tool, areas=["messages", "templates"])
    assert {"send_message", "create_template", "read_result"} <= {t["name"] for t in tools}
    for tool in tools:
        assert set(tool) == {"name", "description", "input_schema"}
        well_formed(tool["name"], tool["description"], tool["input_schema"])


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys):
    for var in ("MAILGUN_API_KEY", "MG_TOOLS_GRANTS", "MG_TOOLS_READ_ONLY", "MG_TOOLS_DENY", "MG_TOOLS_CONFIRM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MG_TOOLS_STATE_DIR", str(tmp_path))

    def run(*argv: str) -> str:
        assert main(list(argv)) == 0
        return capsys.readouterr().out

    return run


def test_cli_formats_respect_the_policy_flags(cli, every_tool):
    openai = json.loads(cli("tools", "--format", "openai", "--read-only"))
    names = {t["function"]["name"] for t in openai} - {"read_result"}
    assert names and all(every_tool.operation(n).access is Access.READ for n in names)
    anthropic = json.loads(cli("tools", "--format", "anthropic", "--toolsets", "tags", "--confirm", "tags:delete"))
    by_name = {t["name"]: t for t in anthropic}
    assert all(every_tool.operation(n).area == "tags" for n in by_name if n != "read_result")
    assert "confirm_token" in by_name["delete_tag"]["input_schema"]["properties"]
    assert "confirm_token" not in by_name["list_tags"]["input_schema"]["properties"]


def test_cli_old_flags_are_aliases_of_format(cli):
    assert cli("tools", "--json") == cli("tools", "--format", "json")
    assert cli("tools", "--markdown") == cli("tools", "--format", "markdown")
    assert cli("tools") == cli("tools", "--format", "text")


def test_a_missing_framework_names_the_extra(monkeypatch, every_tool):
    from mg_tools.adapters.langchain import langchain_tools

    monkeypatch.setitem(sys.modules, "langchain_core.tools", None)
    with pytest.raises(ImportError, match=r"pip install 'mg-tools\[langchain\]'"):
        langchain_tools(every_tool)
