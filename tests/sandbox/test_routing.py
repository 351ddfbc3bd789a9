"""Prefix routing picks the route that trying every route in order would pick."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match, Route

from mg_tools.sandbox import create_app
from mg_tools.sandbox.routing import PrefixRouter


def _first_match(routes, scope) -> tuple[Route | None, bool]:
    """The route that serves ``scope`` (None: none does), and whether some route has its path."""
    partial = False
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, True
        partial = partial or match is Match.PARTIAL
    return None, partial


def _requests(routes) -> list[dict]:
    paths = {re.sub(r"\{[^}]+\}", "x1", route.path) for route in routes}
    paths |= {"/", "/v3", "/v3/nowhere/at/all", "/v9/domains", "/v3/domains/x1/unknown"}
    return [
        {"type": "http", "method": method, "path": path, "root_path": ""}
        for path in sorted(paths)
        for method in ("GET", "POST", "PUT", "DELETE")
    ]


@pytest.fixture(scope="module")
def router() -> PrefixRouter:
    return create_app().app


def test_every_request_goes_to_the_route_all_routes_would_pick(router):
    for scope in _requests(router.routes):
        key = router._key(scope["path"])
        assert _first_match(router._group(key).routes, scope) == _first_match(router.routes, scope), scope


def test_groups_stay_few_whatever_the_paths(router):
    for n in range(50):
        router._group(router._key(f"/v3/domain-{n}.example.com/bounces"))
    assert len(router._groups) < 60
