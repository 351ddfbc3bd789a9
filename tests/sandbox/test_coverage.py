"""Every operation of operations.tsv is routed by the sandbox (not answered by Starlette's own 404/405)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from starlette.routing import Match

from mg_tools.sandbox import create_app
from mg_tools.toolkit import Toolkit

OPERATIONS = Path(__file__).resolve().parent.parent / "data" / "operations.tsv"


def _operations() -> list[tuple[str, str, str]]:
    with OPERATIONS.open(newline="") as f:
        return [(row["group"], row["method"], row["path"]) for row in csv.DictReader(f, delimiter="\t")]


def _scope(method: str, template: str) -> dict:
    path = re.sub(r"\{[^}]+\}", "sample-value", template)
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}


def _routed(routes: list, method: str, template: str) -> bool:
    scope = _scope(method, template)
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def test_operations_file_is_complete():
    operations = _operations()
    assert len(operations) >= 196
    assert all(method in {"GET", "POST", "PUT", "PATCH", "DELETE"} for _, method, _ in operations)


def test_every_operation_is_routed():
    routes = create_app().app.routes
    missing = [
        f"{group}: {method} {path}" for group, method, path in _operations() if not _routed(routes, method, path)
    ]
    assert not missing, f"{len(missing)} operations have no sandbox route:\n" + "\n".join(missing)


def test_route_check_tells_unrouted_paths_apart():
    routes = create_app().app.routes
    assert _routed(routes, "GET", "/v3/ips/{ip}")
    assert not _routed(routes, "PATCH", "/v3/ips/{ip}")
    assert not _routed(routes, "GET", "/v9/nothing/here")


def _route_templates() -> set[tuple[str, str]]:
    return {(method, route.path) for route in create_app().app.routes for method in route.methods or ()}


def test_every_tool_path_is_a_route_path():
    """A tool and the sandbox route that serves it spell the path identically, placeholders included,
    so one search for a path finds both."""
    routes = _route_templates()
    operations = [op for op in Toolkit().operations() if op.path]
    assert len(operations) >= 70
    missing = [f"{op.name}: {op.method} {op.path}" for op in operations if (op.method, op.path) not in routes]
    assert not missing, "tools whose path template no sandbox route has:\n" + "\n".join(missing)


def test_route_paths_are_compared_verbatim():
    routes = _route_templates()
    assert ("GET", "/v3/{domain}/templates/{template_name}") in routes
    assert ("GET", "/v3/{domain}/templates/{name}") not in routes
