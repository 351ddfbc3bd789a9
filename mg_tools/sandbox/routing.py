"""Routing by path prefix: each request is tried only against the routes that could match it.

Starlette tries routes one by one; with some 200 of them, finding one cost about as much as
answering. :class:`PrefixRouter` groups the routes by their first two path segments (a segment with
a placeholder matches any), keeps one Starlette app per group with the group's routes in their
original order, and hands each request to its group's app: the same route wins as among all routes,
and a path no route serves gets the same 404 or 405.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import BaseRoute, Route

__all__ = ["PrefixRouter"]

_Key = tuple[str | None, str | None]
_DEPTH = 2


def _segments(path: str) -> list[str]:
    parts = path.split("?", 1)[0].split("/")[1 : _DEPTH + 1]
    return parts + [""] * (_DEPTH - len(parts))


def _pattern(route: BaseRoute) -> _Key:
    """A route's first two segments; None where a placeholder makes a segment match anything."""
    path = route.path if isinstance(route, Route) else ""
    first, second = (None if "{" in part else part for part in _segments(path))
    return first, second


class PrefixRouter:
    """An ASGI app serving ``routes`` like ``Starlette(routes=routes, **options)``, faster.

    ``routes`` and ``state`` are those of the app with every route (``state`` is shared by all groups).
    """

    def __init__(self, routes: list[BaseRoute], **options: Any) -> None:
        self._options = options
        self._all = Starlette(routes=routes, **options)
        self._patterns = [(_pattern(route), route) for route in routes]
        self._known = [{p[i] for p, _ in self._patterns if p[i] is not None} for i in range(_DEPTH)]
        self._groups: dict[_Key, Starlette] = {}

    @property
    def routes(self) -> list[BaseRoute]:
        return self._all.routes

    @property
    def state(self) -> State:
        return self._all.state

    def _key(self, path: str) -> _Key:
        # Segments no route names literally share one group, so the number of groups stays bounded.
        first, second = (part if part in known else None for part, known in zip(_segments(path), self._known))
        return first, second

    def _group(self, key: _Key) -> Starlette:
        app = self._groups.get(key)
        if app is None:
            routes = [
                route for pattern, route in self._patterns if all(p is None or p == k for p, k in zip(pattern, key))
            ]
            app = Starlette(routes=routes, **self._options)
            app.state = self._all.state
            self._groups[key] = app
        return app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._all(scope, receive, send)
            return
        await self._group(self._key(scope["path"]))(scope, receive, send)
