"""Prefix routing picks the route that trying every route in order would pick."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
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


async def _named(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"]})


async def _teapot(request: Request) -> JSONResponse:
    raise HTTPException(418, "short and stout")


async def _gone(request: Request) -> JSONResponse:
    raise HTTPException(404)


async def _broken(request: Request) -> JSONResponse:
    raise RuntimeError("a bug")


async def _not_found(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"message": f"no {request.url.path}"}, status_code=exc.status_code, headers=exc.headers)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"message": type(exc).__name__}, status_code=500)


_ROUTES = [
    Route("/v3/{id}/named", _named, methods=["GET"]),
    Route("/v3/x/teapot", _teapot),
    Route("/v3/x/gone", _gone),
    Route("/v3/x/broken", _broken, methods=["POST"]),
]
_HANDLERS = {404: _not_found, 405: _not_found, Exception: _internal}


async def _answers(app) -> list[tuple[int, list, bytes]]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        requests = [
            ("GET", "/v3/a%20b/named"),
            ("HEAD", "/v3/a/named"),
            ("POST", "/v3/a/named"),
            ("GET", "/v3/a/named/"),
            ("GET", "/v3/x/teapot"),
            ("GET", "/v3/x/gone"),
            ("POST", "/v3/x/broken"),
            ("GET", "/nowhere"),
        ]
        responses = [await client.request(method, path, follow_redirects=False) for method, path in requests]
    return [(r.status_code, sorted(r.headers.multi_items()), r.content) for r in responses]


def test_endpoints_called_directly_answer_as_starlette_does():
    router = PrefixRouter(_ROUTES, exception_handlers=_HANDLERS)
    scope = {"type": "http", "method": "GET", "path": "/v3/a/named", "root_path": ""}
    assert router._group_of(router._key(scope["path"])).full_match(scope) is _ROUTES[0]  # the direct path
    expected = asyncio.run(_answers(Starlette(routes=_ROUTES, exception_handlers=_HANDLERS)))
    assert asyncio.run(_answers(router)) == expected
    assert [status for status, _, _ in expected] == [200, 200, 405, 307, 418, 404, 500, 404]
