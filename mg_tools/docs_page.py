"""The gateway's ``/docs`` page: its OpenAPI document as one HTML page.

Tools are grouped by area, each with its method and path, description, a table of its parameters and
an example ``curl`` call. The page is plain HTML with inline CSS: no scripts, no outside assets.
"""

from __future__ import annotations

import json
from html import escape
from itertools import groupby
from typing import Any

__all__ = ["render"]

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 2rem;color:#222}
h2{border-bottom:2px solid #ddd;margin-top:2.5rem}
section{border:1px solid #e3e3e3;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}
code,pre{font:13px ui-monospace,monospace;background:#f5f5f5;border-radius:4px}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #eee;padding:.25rem .5rem;text-align:left;vertical-align:top}
.method{font-weight:bold;color:#0a6}
.deprecated{color:#b00}
nav a{margin-right:.6rem}
"""


def render(document: dict[str, Any], *, base_url: str) -> str:
    """The page of ``document`` (from :func:`mg_tools.openapi.build_document`), its curl examples
    calling ``base_url``."""
    operations = [(path, op["post"]) for path, op in document["paths"].items()]
    operations.sort(key=lambda item: (item[1]["tags"][0], item[1]["operationId"]))
    bearer = "security" in document
    areas = [(area, list(group)) for area, group in groupby(operations, key=lambda item: item[1]["tags"][0])]
    nav = " ".join(f'<a href="#area-{escape(area)}">{escape(area)}</a>' for area, _ in areas)
    body = [
        f"<h1>{escape(document['info']['title'])}</h1>",
        f"<p>{escape(document['info']['description'])} {len(operations)} tools; the machine-readable "
        'document is <a href="openapi.json">openapi.json</a>.</p>',
        f"<nav>{nav}</nav>",
    ]
    for area, group in areas:
        body.append(f'<h2 id="area-{escape(area)}">{escape(area)}</h2>')
        body += [_tool(path, op, base_url=base_url, bearer=bearer) for path, op in group]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(document['info']['title'])}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


def _tool(path: str, op: dict[str, Any], *, base_url: str, bearer: bool) -> str:
    name = op["operationId"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    deprecated = ' <span class="deprecated">deprecated</span>' if op.get("deprecated") else ""
    return (
        f'<section id="{escape(name)}"><h3>{escape(name)}{deprecated}</h3>'
        f'<p><span class="method">POST</span> <code>{escape(path)}</code></p>'
        f"<p>{escape(op['description'])}</p>{_parameters(schema)}"
        f"<pre>{escape(_curl(base_url + path, schema, bearer=bearer))}</pre></section>"
    )


def _parameters(schema: dict[str, Any]) -> str:
    properties = schema.get("properties", {})
    if not properties:
        return "<p>No parameters.</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(key)}</code></td><td>{escape(_type(prop))}</td>"
        f"<td>{'yes' if key in required else ''}</td><td>{escape(prop.get('description', ''))}</td></tr>"
        for key, prop in properties.items()
    )
    return f"<table><tr><th>Parameter</th><th>Type</th><th>Required</th><th>Description</th></tr>{rows}</table>"


def _type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop or "oneOf" in prop:
        return " or ".join(_type(p) for p in prop.get("anyOf", prop.get("oneOf", [])))
    kind = prop.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"array of {_type(prop['items'])}"
    return f"{kind} ({prop['format']})" if "format" in prop else kind


def _curl(url: str, schema: dict[str, Any], *, bearer: bool) -> str:
    properties = schema.get("properties", {})
    example = {key: _example(properties[key]) for key in schema.get("required", []) if key in properties}
    auth = ' -H "Authorization: Bearer $MG_TOOLS_HTTP_TOKEN"' if bearer else ""
    return f"curl -X POST {url}{auth} -H 'Content-Type: application/json' -d '{json.dumps(example)}'"


def _example(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "array":
        return [_example(prop.get("items", {}))]
    if kind == "object":
        return {}
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "...")
