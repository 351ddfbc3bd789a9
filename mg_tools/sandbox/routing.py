"""Routing by path prefix: each request is tried only against the routes that could match it.

Starlette tries routes one by one; with some 200 of them, finding one cost about as much as
answering. :class:`PrefixRouter` groups the routes by their first two path segments (a segment with
a placeholder matches any), keeps one Starlette app per group with the group's routes in their
original order, and hands each request to its group's app: the same route wins as among all routes,
and a path no route serves gets the same 404 or 405 (and the same redirect for a trailing slash).

A request that fully matches a route of its group (path and method) is answered by the route's
endpoint without the layers of a Starlette app around it (its error middleware, exception
middleware and router), with the same exception handlers: they cost as much as the endpoint of a
small read.
"""

from __future__ import annotations

import inspect
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route

__all__ = ["PrefixRouter"]

_Key = tuple[str | None, str | None]
_DEPTH = 2
#: Paths whose group is remembered; past it the memory starts over (paths come from clients).
_KEYS_KEPT = 4096


def _segments(path: str) -> list[str]:
    parts = path.split("?", 1)[0].split("/")[1 : _DEPTH + 1]
    return parts + [""] * (_DEPTH - len(parts))


def _pattern(route: BaseRoute) -> _Key:
    """A route's first two segments; None where a placeholder makes a segment match anything."""
    path = route.path if isinstance(route, Route) else ""
    first, second = (None if "{" in part else part for part in _segments(path))
    return first, second


class _Group:
    """The routes of one prefix: a Starlette app serving them, and those whose endpoint can be called directly."""

    def __init__(self, routes: list[BaseRoute], options: dict[str, Any], state: State) -> None:
        self.app = Starlette(routes=routes, **options)
        self.app.state = state
        handlers = options.get("exception_handlers") or {}
        direct = set(options) <= {"exception_handlers"} and (500 in handlers or Exception in handlers)
        self.direct = [
            route
            for route in routes
            if direct and isinstance(route, Route) and inspect.iscoroutinefunction(route.endpoint)
        ]
        self.partial = len(self.direct) < len(routes)

    def full_match(self, scope: Any) -> Route | None:
        """The route the app's router would hand ``scope`` to when it is a full match, else None.

        Its path params go into ``scope`` as the router puts them there.
        """
        if self.partial or scope.get("root_path"):
            return None
        path = scope["path"]
        for route in self.direct:
            if route.path_regex.match(path) is None:
                continue
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                return route
        return None


class PrefixRouter:
    """An ASGI app serving ``routes`` like ``Starlette(routes=routes, **options)``, faster.

    ``routes`` and ``state`` are those of the app with every route (``state`` is shared by all groups).
    """

    def __init__(self, routes: list[BaseRoute], **options: Any) -> None:
        self._options = options
        self._all = Starlette(routes=routes, **options)
        self._patterns = [(_pattern(route), route) for route in routes]
        self._known = [{p[i] for p, _ in self._patterns if p[i] is not None} for i in range(_DEPTH)]
        self._groups: dict[_Key, _Group] = {}
        self._keys: dict[str, _Key] = {}
        handlers = options.get("exception_handlers") or {}
        self._error_handler = handlers.get(500) or handlers.get(Exception)  # groups without one are not direct
        self._status_handlers = {key: value for key, value in handlers.items() if isinstance(key, int)}
        # Starlette's own answer to an HTTPException no handler is given for.
        self._http_exception = ExceptionMiddleware(self._all).http_exception

    @property
    def routes(self) -> list[BaseRoute]:
        return self._all.routes

    @property
    def state(self) -> State:
        return self._all.state

    def _key(self, path: str) -> _Key:
        key = self._keys.get(path)
        if key is None:
            # Segments no route names literally share one group, so the number of groups stays bounded.
            first, second = (part if part in known else None for part, known in zip(_segments(path), self._known))
            key = first, second
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            self._keys[path] = key
        return key

    def _group(self, key: _Key) -> Starlette:
        return self._group_of(key).app

    def _group_of(self, key: _Key) -> _Group:
        group = self._groups.get(key)
        if group is None:
            routes = [
                route for pattern, route in self._patterns if all(p is None or p == k for p, k in zip(pattern, key))
            ]
            group = self._groups[key] = _Group(routes, self._options, self._all.state)
        return group

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._all(scope, receive, send)
            return
        group = self._group_of(self._key(scope["path"]))
        route = group.full_match(scope)
        if route is None:
            await group.app(scope, receive, send)
            return
        scope["app"] = group.app
        await self._answer(route, scope, receive, send)

    async def _answer(self, route: Route, scope: Any, receive: Any, send: Any) -> None:
        """What the Starlette app does for a full match, from its error middleware to the endpoint."""
        started = False

        async def sender(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        request = Request(scope, receive, send)
        try:
            try:
                response = await route.endpoint(request)
            except HTTPException as exc:
                handler = self._status_handlers.get(exc.status_code) or self._http_exception
                response = await handler(request, exc)
            await response(scope, receive, sender)
        except Exception as exc:
            if not started:
                await (await self._error_handler(request, exc))(scope, receive, send)
            raise
