import importlib
import json
import sys

import pytest

from mg_tools import schema
from mg_tools.mcp_server import McpTools
from mg_tools.schema_cache import CACHE_FILE, cache_path, warm
from mg_tools.toolkit import Toolkit

PLUGIN = '''
from mg_tools.types import Params


class ProbeParams(Params):
    """Probe the cache."""

    domain: str
'''


@pytest.fixture
def fresh(monkeypatch):
    """No schema built in this process yet, as at a server's start."""
    monkeypatch.setattr(schema, "_SCHEMAS", {})


@pytest.fixture
def models():
    return list(dict.fromkeys(op.params for op in Toolkit().registry))


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A plugin package of its own on the path, with one params model."""
    package = tmp_path / "cache_probe_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    sys.modules.pop("cache_probe_plugin", None)


def test_a_second_start_takes_every_schema_from_the_file(fresh, models, tmp_path, monkeypatch):
    path = tmp_path / CACHE_FILE
    warm(models, path)
    stored = json.loads(path.read_text())["schemas"]
    assert len(stored) == len(models)
    generated = {model: json.dumps(schema.input_schema(model)) for model in models}

    monkeypatch.setattr(schema, "_SCHEMAS", {})
    monkeypatch.setattr(schema, "_build", lambda model: pytest.fail(f"{model.__name__} generated again"))
    warm(models, path)
    for model in models:
        # Identical to what generating gives, key order included: the tools/list answer stays byte-identical.
        assert json.dumps(schema.input_schema(model)) == generated[model]


def test_a_changed_plugin_is_generated_again(fresh, probe, tmp_path):
    path = tmp_path / CACHE_FILE
    module = importlib.import_module("cache_probe_plugin")
    warm([module.ProbeParams], path)
    before = json.loads(path.read_text())
    assert list(before["schemas"]["cache_probe_plugin:ProbeParams"]["properties"]) == ["domain"]

    (probe / "__init__.py").write_text(PLUGIN + "    limit: int = 10\n")
    module = importlib.reload(module)
    warm([module.ProbeParams], path)
    after = json.loads(path.read_text())
    assert after["fingerprint"] != before["fingerprint"]
    assert list(after["schemas"]["cache_probe_plugin:ProbeParams"]["properties"]) == ["domain", "limit"]
    assert list(schema.input_schema(module.ProbeParams)["properties"]) == ["domain", "limit"]


def test_a_schema_stored_under_another_fingerprint_is_not_used(fresh, probe, tmp_path, monkeypatch):
    path = tmp_path / CACHE_FILE
    module = importlib.import_module("cache_probe_plugin")
    warm([module.ProbeParams], path)
    data = json.loads(path.read_text())
    data["schemas"]["cache_probe_plugin:ProbeParams"]["properties"] = {"stale": {"type": "string"}}
    path.write_text(json.dumps({**data, "fingerprint": "another"}))
    monkeypatch.setattr(schema, "_SCHEMAS", {})
    warm([module.ProbeParams], path)
    assert list(schema.input_schema(module.ProbeParams)["properties"]) == ["domain"]
    assert json.loads(path.read_text())["fingerprint"] == data["fingerprint"]


@pytest.mark.parametrize("content", ["not json", "[]", '{"fingerprint": 1, "schemas": []}'])
def test_a_damaged_file_is_replaced(fresh, probe, tmp_path, content):
    path = tmp_path / CACHE_FILE
    path.write_text(content)
    module = importlib.import_module("cache_probe_plugin")
    warm([module.ProbeParams], path)
    assert "cache_probe_plugin:ProbeParams" in json.loads(path.read_text())["schemas"]
    assert not list(tmp_path.glob(f".{CACHE_FILE}.*"))  # no temporary file left behind


def test_models_made_inside_a_function_are_not_stored(fresh, tmp_path):
    from mg_tools.types import Params

    class Local(Params):
        """Made here."""

        domain: str

    path = tmp_path / CACHE_FILE
    warm([Local], path)
    assert not path.exists() and schema.input_schema(Local)["required"] == ["domain"]


def test_an_all_mode_server_keeps_its_schemas_in_the_state_directory(fresh):
    toolkit = Toolkit()
    tools = McpTools(toolkit)
    path = cache_path(toolkit.settings)
    assert path is not None and path.parent == toolkit.settings.state_path
    assert path.stat().st_mode & 0o077 == 0
    stored = json.loads(path.read_text())["schemas"]
    for op in tools.exposed.values():
        assert stored[f"{op.params.__module__}:{op.params.__qualname__}"] == schema.input_schema(op.params)
