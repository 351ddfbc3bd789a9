"""Every operation is tested, recorded and documented; the reference is generated, not written."""

import ast
from pathlib import Path

import pytest

from mg_tools import Toolkit, hookspecs
from mg_tools.docs import tools_markdown

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = list(Toolkit().registry)


def _test_names(path: Path) -> set[str]:
    if not path.exists():
        return set()
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_operation_has_a_test_and_a_cassette(op):
    module = op.plugin
    assert f"test_{op.name}" in _test_names(ROOT / "tests" / "plugins" / f"test_{module}.py")
    assert (ROOT / "cassettes" / module / f"test_{op.name}.yaml").exists()


def test_tools_reference_is_current():
    expected = tools_markdown(OPERATIONS)
    actual = (ROOT / "docs" / "tools.md").read_text()
    assert actual == expected, "regenerate it: mg-tools tools --markdown > docs/tools.md"


def test_every_hook_is_documented():
    specs = [name for name in dir(hookspecs) if name.startswith("register_")]
    text = (ROOT / "docs" / "plugins.md").read_text()
    assert specs and all(f"`{name}" in text for name in specs)


def test_cassettes_hold_no_credentials():
    for path in (ROOT / "cassettes").rglob("*.yaml"):
        text = path.read_text().lower()
        assert "authorization" not in text, path
        assert "basic " not in text, path


def test_every_package_is_shipped():
    import tomllib

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mg_tools").rglob("__init__.py")}
    assert found <= declared
