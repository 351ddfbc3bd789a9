"""Sandbox: inbound routes (a filter expression and the actions it triggers), account-wide.

Stored as kind ``route``, key ``id``. Expressions are ``match_recipient("regex")``,
``match_header("header", "regex")`` and ``catch_all()``, combined with ``and``; actions are
``forward("url-or-address")``, ``store()``/``store(notify="url")`` and ``stop()``. Patterns match
from the start of the value (``re.match``), recipients case-insensitively. Lower priorities run
first. :func:`matching_routes` is what the inbound pipeline asks; ``/v3/routes/match`` answers with
the first of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mg_tools.sandbox.core import ApiError, Ctx, Router, integer, page_by_skip, rfc2822
from mg_tools.sandbox.state import State

__all__ = ["matching_routes", "parse_action", "parse_expression", "router"]

router = Router()

Call = tuple[str, list[tuple[str | None, str]]]

_FILTERS = {"match_recipient": 1, "match_header": 2, "catch_all": 0}
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_NAME = re.compile(r"[A-Za-z_]+")
_KEYWORD = re.compile(r"([A-Za-z_]+)\s*=")


class _Parser:
    """Reads ``name(arg, key="value")`` calls; strings keep their backslashes (they hold regexes)."""

    def __init__(self, text: str, what: str) -> None:
        self.text, self.pos, self.what = text, 0, what

    def fail(self, problem: str) -> ApiError:
        return ApiError(400, f"Invalid {self.what} '{self.text}': {problem}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def word(self) -> str:
        self.skip_space()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected a name at position {self.pos}")
        self.pos = match.end()
        return match.group()

    def char(self, ch: str) -> bool:
        self.skip_space()
        if self.text.startswith(ch, self.pos):
            self.pos += 1
            return True
        return False

    def string(self) -> str:
        self.skip_space()
        quote = self.text[self.pos : self.pos + 1]
        if quote not in {'"', "'"}:
            raise self.fail(f"expected a quoted string at position {self.pos}")
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.fail("unterminated string")
        value, self.pos = self.text[self.pos + 1 : end], end + 1
        return value

    def call(self) -> Call:
        name = self.word()
        if not self.char("("):
            raise self.fail(f"expected '(' after {name}")
        args: list[tuple[str | None, str]] = []
        if not self.char(")"):
            while True:
                self.skip_space()
                key = None
                keyword = _KEYWORD.match(self.text, self.pos)
                if keyword:
                    key, self.pos = keyword.group(1), keyword.end()
                args.append((key, self.string()))
                if self.char(")"):
                    break
                if not self.char(","):
                    raise self.fail(f"expected ',' or ')' at position {self.pos}")
        return name, args

    def done(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)


def parse_expression(text: str) -> list[Call]:
    """The filters of a route expression, checked (names, argument counts, regexes); 400 if bad."""
    parser = _Parser(text, "expression")
    filters = []
    while True:
        name, args = parser.call()
        if name not in _FILTERS:
            raise parser.fail(f"unknown filter {name}(); use match_recipient, match_header or catch_all")
        if len(args) != _FILTERS[name] or any(key for key, _ in args):
            raise parser.fail(f"{name}() takes {_FILTERS[name]} quoted argument(s)")
        if args:
            pattern = args[-1][1]
            try:
                re.compile(pattern)
            except re.error as exc:
                raise parser.fail(f"bad regular expression {pattern!r}: {exc}") from None
        filters.append((name, args))
        if parser.done():
            return filters
        if parser.word().lower() != "and":
            raise parser.fail("filters are combined with 'and'")


def _http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        return False


def parse_action(text: str) -> Call:
    """One action, checked: forward("url or address"), store(), store(notify="url") or stop()."""
    parser = _Parser(text, "action")
    name, args = parser.call()
    if not parser.done():
        raise parser.fail("one action per value; repeat 'action' for more")
    if name == "forward":
        if len(args) != 1 or args[0][0] or not (_http_url(args[0][1]) or _ADDRESS.match(args[0][1])):
            raise parser.fail('use forward("https://host/path") or forward("someone@example.com")')
    elif name == "store":
        if args and (len(args) != 1 or args[0][0] != "notify" or not _http_url(args[0][1])):
            raise parser.fail('use store() or store(notify="https://host/path")')
    elif name == "stop":
        if args:
            raise parser.fail("stop() takes no arguments")
    else:
        raise parser.fail(f"unknown action {name}(); use forward, store or stop")
    return name, args


def _matches(filters: list[Call], recipient: str, headers: Mapping[str, str]) -> bool:
    for name, args in filters:
        if name == "match_recipient" and not re.match(args[0][1], recipient, re.IGNORECASE):
            return False
        if name == "match_header":
            value = headers.get(args[0][1].lower())
            if value is None or not re.match(args[1][1], value):
                return False
    return True


def _by_priority(state: State) -> list[dict[str, Any]]:
    return sorted(state.list("route"), key=lambda r: r["priority"])  # stable: ties keep creation order


def matching_routes(state: State, recipient: str, headers: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The routes an inbound message to ``recipient`` triggers, in the order they run (lowest
    priority first); ``catch_all()`` only matches when no earlier route did. Header names are
    compared case-insensitively. The caller stops after a route whose actions include stop()."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    found: list[dict[str, Any]] = []
    for route in _by_priority(state):
        filters = parse_expression(route["expression"])
        if any(name == "catch_all" for name, _ in filters) and found:
            continue
        if _matches(filters, recipient, lowered):
            found.append(route)
    return found


# -- endpoints -------------------------------------------------------------------------------------


def _priority(ctx: Ctx, default: int) -> int:
    message = "Invalid 'priority' parameter: expected a non-negative integer"
    return integer(ctx.arg("priority"), default, low=0, not_integer=message, out_of_range=message)


def _actions(ctx: Ctx) -> list[str]:
    actions = [a.strip() for a in ctx.args("action") if a and a.strip()]
    for action in actions:
        parse_action(action)
    return actions


def _load(ctx: Ctx) -> dict[str, Any]:
    return ctx.sb.existing("route", ctx.path["id"], "Route not found")


@router.get("/v3/routes")
async def list_routes(ctx: Ctx) -> dict:
    if ctx.int_arg("limit", 100, low=1) > 1000:
        raise ApiError(400, "The 'limit' parameter can't be larger than 1000")
    return page_by_skip(_by_priority(ctx.state), ctx, default_limit=100, max_limit=1000)


@router.post("/v3/routes")
async def create_route(ctx: Ctx) -> dict:
    expression = ctx.require("expression").strip()
    parse_expression(expression)
    route = {
        "actions": _actions(ctx),
        "created_at": rfc2822(ctx.sb.now()),
        "description": ctx.arg("description") or "",
        "expression": expression,
        "id": ctx.sb.new_id(12),
        "priority": _priority(ctx, 0),
    }
    ctx.state.put("route", route["id"], route)
    return {"message": "Route has been created", "route": route}


# Declared before /v3/routes/{id}, which would otherwise take "match" for an id.
@router.get("/v3/routes/match")
async def match_route(ctx: Ctx) -> dict:
    address = ctx.require("address").strip()
    found = matching_routes(ctx.state, address)
    if not found:
        raise ApiError(404, "Route not found")
    return {"route": found[0]}


@router.get("/v3/routes/{id}")
async def get_route(ctx: Ctx) -> dict:
    return {"route": _load(ctx)}


@router.put("/v3/routes/{id}")
async def update_route(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        route = _load(ctx)
        if ctx.has("expression"):
            route["expression"] = ctx.require("expression").strip()
            parse_expression(route["expression"])
        if ctx.has("action"):
            route["actions"] = _actions(ctx)
        if ctx.has("description"):
            route["description"] = ctx.arg("description") or ""
        route["priority"] = _priority(ctx, route["priority"])
        ctx.state.put("route", route["id"], route)
    return {"message": "Route has been updated", "route": route}


@router.delete("/v3/routes/{id}")
async def delete_route(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        route = _load(ctx)
        ctx.state.delete("route", route["id"])
    return {"message": "Route has been deleted", "id": route["id"]}
