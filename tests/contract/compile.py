"""Compile Mailgun's OpenAPI description into ``tests/data/contract.json``, the response contract the
test suite checks every sandbox answer against.

Run by hand after the spec changes (``python tests/contract/compile.py [SPEC]``); the spec is read from
``shared/reference/mailgun-openapi.yaml`` beside the checkout (or beside a folder holding it) unless a
path is given. The tests use
only the JSON file.

Only facts are kept: per operation (``METHOD /path/{template}``) and success status, the JSON types,
property names, required keys and the nesting of objects and arrays, as JSON Schema. Descriptions,
examples, formats, patterns and enums are dropped. ``oneOf`` becomes ``anyOf``: with the dropped
keywords, several branches can match the same answer. Shared schemas stay shared under ``$defs``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path("shared") / "reference" / "mailgun-openapi.yaml"
OUT = ROOT / "tests" / "data" / "contract.json"
METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"
_KEPT_PREFIX = "github.com-mailgun-"


def _def_name(ref: str) -> str:
    return ref.removeprefix(REF_PREFIX).removeprefix(_KEPT_PREFIX)


class Compiler:
    """Turns spec schemas into the contract's JSON Schema subset, collecting the shared ones used."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas = spec["components"]["schemas"]
        self.defs: dict[str, Any] = {}

    def schema(self, node: Any) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        if "$ref" in node:
            return {"$ref": self._ref(node["$ref"])}
        out: dict[str, Any] = {}
        if "type" in node:
            out["type"] = node["type"]
        if "properties" in node:
            out["properties"] = {name: self.schema(sub) for name, sub in node["properties"].items()}
        if node.get("required"):
            out["required"] = sorted(node["required"])
        if "items" in node:
            out["items"] = self.schema(node["items"])
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self.schema(node["additionalProperties"])
        for combinator, target in (("allOf", "allOf"), ("anyOf", "anyOf"), ("oneOf", "anyOf")):
            if node.get(combinator):
                out[target] = [self.schema(sub) for sub in node[combinator]]
        if node.get("allOf") and all("$ref" in sub for sub in node["allOf"]):
            out.pop("type", None)  # the referenced schema says the type; the spec's own is often "object"
        return out

    def _ref(self, ref: str) -> str:
        name = _def_name(ref)
        if name not in self.defs:
            self.defs[name] = {}  # placeholder first: schemas may refer to themselves
            self.defs[name] = self.schema(self.schemas[ref.removeprefix(REF_PREFIX)])
        return f"#/$defs/{name}"


def compile_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The contract: ``{"operations": {"GET /v3/{domain_name}/bounces": {"200": schema}}, "$defs": ...}``."""
    compiler = Compiler(spec)
    operations: dict[str, dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            answers = {}
            for status, response in (item.get(method) or {}).get("responses", {}).items():
                media = (response.get("content") or {}).get("application/json")
                if str(status).startswith("2") and media and "schema" in media:
                    answers[str(status)] = compiler.schema(media["schema"])
            if answers:
                operations[f"{method.upper()} {path}"] = answers
    return {
        "source": f"Mailgun OpenAPI {spec['info'].get('version', '')}".strip(),
        "operations": dict(sorted(operations.items())),
        "$defs": dict(sorted(compiler.defs.items())),
    }


def _default_spec() -> Path:
    for folder in ROOT.parents:
        if (folder / SPEC).exists():
            return folder / SPEC
    return ROOT.parent / SPEC


def main(argv: list[str]) -> int:
    spec_path = Path(argv[1]) if len(argv) > 1 else _default_spec()
    if not spec_path.exists():
        print(f"no spec at {spec_path}: pass its path", file=sys.stderr)
        return 2
    contract = compile_spec(yaml.safe_load(spec_path.read_text()))
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    contract["exceptions"] = previous.get("exceptions", [])
    contract["sandbox_gaps"] = previous.get("sandbox_gaps", [])
    OUT.write_text(json.dumps(contract, indent=1, sort_keys=False) + "\n")
    print(f"{len(contract['operations'])} operations, {len(contract['$defs'])} shared schemas -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
