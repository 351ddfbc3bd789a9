"""Sandbox: the Events API (``GET /v3/{domain}/events``) over the stored events.

Time range (``begin``, ``end``, ``ascending``), ``limit`` (at most 300) and Mailgun's filter
expressions on every filter field: ``foo bar`` / ``foo AND bar``, ``foo OR bar``, ``NOT foo``,
``"a phrase"``, parentheses, and ``>N <M`` numeric ranges; matching ignores case. Pages link to each
other like Mailgun's do: ``paging.next`` / ``previous`` are always present and are URLs
``/v3/{domain}/events/<token>`` whose token holds the query and the position; an empty page ends a
traversal (polling the last ``next`` URL later returns the newer events).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from mg_tools.sandbox.core import ApiError, Ctx, Router, public
from mg_tools.sandbox.state import State

router = Router()

DEFAULT_LIMIT = 100
MAX_LIMIT = 300

Event = dict[str, Any]
Params = list[tuple[str, str]]


def parse_date(raw: Any, name: str) -> float:
    """A Mailgun date parameter: RFC 2822 or unix epoch seconds; 400 when it is neither."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        pass
    try:
        dt = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        raise ApiError(400, f"Invalid '{name}' parameter: expected an RFC 2822 date or unix timestamp") from None
    if dt.tzinfo is None:  # "-0000" means UTC with no zone information
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def domain_events(state: State, domain: str | None = None) -> list[tuple[int, str, Event]]:
    """(sequence, domain, event) of one domain (or all domains), oldest first; ties keep insertion
    order. The domain comes from the event's key (``domain/sequence``)."""
    prefix = f"{domain}/" if domain else ""
    with state.transaction():
        keys = state.keys("event", prefix)
        docs = state.list("event", prefix)
    triples = [(_seq(k), k.rpartition("/")[0], d) for k, d in zip(keys, docs, strict=True)]
    triples.sort(key=lambda t: (float(t[2].get("timestamp", 0)), t[0]))
    return triples


def _seq(key: str) -> int:
    tail = key.rpartition("/")[2]
    return int(tail) if tail.isdigit() else 0


# -- filter expressions ---------------------------------------------------------------------------

_TOKENS = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|([^\s()"]+))')


@dataclass
class _Node:
    kind: str  # term | phrase | range | and | or | not
    value: Any = None
    children: tuple[_Node, ...] = ()


def parse_filter(text: str) -> _Node:
    """Parse one filter expression; raises ApiError(400) on a malformed one."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKENS.match(text, pos)
        if not match or match.end() == pos:
            raise ApiError(400, f"Invalid filter expression: {text!r}")
        pos = match.end()
        opening, closing, phrase, word = match.groups()
        if opening:
            tokens.append(("(", "("))
        elif closing:
            tokens.append((")", ")"))
        elif phrase is not None:
            tokens.append(("phrase", phrase))
        elif word:
            tokens.append((word if word in {"AND", "OR", "NOT"} else "word", word))
    parser = _Parser(tokens, text)
    node = parser.expression()
    if parser.pos != len(tokens):
        raise ApiError(400, f"Invalid filter expression: {text!r}")
    return node


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def _fail(self) -> ApiError:
        return ApiError(400, f"Invalid filter expression: {self.text!r}")

    def expression(self) -> _Node:
        children = [self._conjunction()]
        while self._peek() == "OR":
            self.pos += 1
            children.append(self._conjunction())
        return children[0] if len(children) == 1 else _Node("or", children=tuple(children))

    def _conjunction(self) -> _Node:
        children = [self._negation()]
        while self._peek() not in (None, ")", "OR"):
            if self._peek() == "AND":
                self.pos += 1
            children.append(self._negation())
        return children[0] if len(children) == 1 else _Node("and", children=tuple(children))

    def _negation(self) -> _Node:
        if self._peek() == "NOT":
            self.pos += 1
            return _Node("not", children=(self._negation(),))
        return self._atom()

    def _atom(self) -> _Node:
        kind = self._peek()
        if kind is None:
            raise self._fail()
        self.pos += 1
        value = self.tokens[self.pos - 1][1]
        if kind == "(":
            node = self.expression()
            if self._peek() != ")":
                raise self._fail()
            self.pos += 1
            return node
        if kind == "phrase":
            return _Node("phrase", value.lower())
        if kind == "word":
            return _word(value)
        raise self._fail()


def _word(value: str) -> _Node:
    if value[:1] in "<>" and len(value) > 1:
        try:
            return _Node("range", (value[0], float(value[1:])))
        except ValueError:
            pass
    return _Node("term", value.lower())


def _contains(haystack: str, needle: str) -> bool:
    # A term matches a whole word/address: "news" must not match "newsletter".
    return re.search(rf"(?<![\w.@+-]){re.escape(needle)}(?![\w.@+-])", haystack, re.I) is not None


def evaluate(node: _Node, values: list[str], number: float | None = None) -> bool:
    """Whether a field with these string values (and numeric value, for ``size``) matches."""
    if node.kind == "and":
        return all(evaluate(c, values, number) for c in node.children)
    if node.kind == "or":
        return any(evaluate(c, values, number) for c in node.children)
    if node.kind == "not":
        return not evaluate(node.children[0], values, number)
    if node.kind == "range":
        op, bound = node.value
        return number is not None and (number > bound if op == ">" else number < bound)
    needle = node.value.strip("<>") if node.kind == "term" else node.value
    if number is not None and node.kind == "term":
        try:
            return math.isclose(number, float(needle))
        except ValueError:
            return False
    return any(v.lower() == needle or _contains(v, needle) for v in values)


def _headers(e: Event) -> dict[str, Any]:
    return (e.get("message") or {}).get("headers") or {}


_FIELDS: dict[str, Callable[[Event], list[Any]]] = {
    "event": lambda e: [e.get("event")],
    "list": lambda e: [(e.get("mailing-list") or {}).get("address")],
    "attachment": lambda e: [a.get("filename") for a in (e.get("message") or {}).get("attachments") or []],
    "from": lambda e: [_headers(e).get("from")],
    "message-id": lambda e: [_headers(e).get("message-id")],
    "subject": lambda e: [_headers(e).get("subject")],
    "to": lambda e: [_headers(e).get("to")],
    "recipient": lambda e: [e.get("recipient")],
    "recipients": lambda e: list((e.get("message") or {}).get("recipients") or []),
    "tags": lambda e: list(e.get("tags") or []),
    "severity": lambda e: [e.get("severity")],
}
FILTER_FIELDS = (*_FIELDS, "size")


def _compile(params: Params) -> list[tuple[str, _Node]]:
    return [(name, parse_filter(value)) for name, value in params if name in FILTER_FIELDS and value.strip()]


def _matches(event: Event, filters: list[tuple[str, _Node]]) -> bool:
    for name, node in filters:
        if name == "size":
            size = (event.get("message") or {}).get("size")
            if not evaluate(node, [], float(size) if size is not None else None):
                return False
        elif not evaluate(node, [str(v) for v in _FIELDS[name](event) if v is not None]):
            return False
    return True


# -- range and paging -----------------------------------------------------------------------------


def _get(params: Params, name: str) -> str | None:
    return next((v for k, v in params if k == name and v != ""), None)


def _direction(params: Params) -> tuple[bool, float, float]:
    """(ascending, low, high) of the requested time range."""
    begin = _get(params, "begin")
    end = _get(params, "end")
    b = parse_date(begin, "begin") if begin is not None else None
    e = parse_date(end, "end") if end is not None else None
    raw = _get(params, "ascending")
    if raw is not None and raw.lower() not in {"yes", "no", "true", "false"}:
        raise ApiError(400, "Invalid 'ascending' parameter: expected yes or no")
    asked = None if raw is None else raw.lower() in {"yes", "true"}
    if b is not None and e is not None:
        ascending = e >= b
        if asked is not None and asked != ascending:
            raise ApiError(400, "'ascending' contradicts the range given by 'begin' and 'end'")
    else:
        ascending = bool(asked)
    start, stop = (b, e) if ascending else (e, b)
    return ascending, (start if start is not None else -math.inf), (stop if stop is not None else math.inf)


def _encode(params: Params, pivot: list[Any] | None, side: str) -> str:
    raw = json.dumps({"q": params, "p": pivot, "s": side}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[Params, list[Any] | None, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        params = [(str(k), str(v)) for k, v in data["q"]]
        pivot = data.get("p")
        side = data.get("s", "next")
        if pivot is not None:
            pivot = [float(pivot[0]), int(pivot[1])]
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error):
        raise ApiError(400, "Invalid page token") from None
    return params, pivot, side


def _page(ctx: Ctx, params: Params, pivot: list[Any] | None, side: str) -> dict[str, Any]:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    limit_raw = ctx.query.get("limit") or _get(params, "limit")
    try:
        limit = int(limit_raw) if limit_raw else DEFAULT_LIMIT
    except ValueError:
        raise ApiError(400, "Invalid 'limit' parameter: expected an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Invalid 'limit' parameter: must be between 1 and {MAX_LIMIT}")
    ascending, low, high = _direction(params)
    filters = _compile(params)
    order = [
        (float(e.get("timestamp", 0)), seq, e)
        for seq, _d, e in domain_events(ctx.state, domain)
        if low <= float(e.get("timestamp", 0)) <= high and _matches(e, filters)
    ]
    if not ascending:
        order.reverse()

    def after(item: tuple[float, int, Event]) -> bool:
        key = [item[0], item[1]]
        return key > pivot if ascending else key < pivot

    if side == "prev" and pivot is None:
        selected = []  # before the very first page there is nothing
    elif side == "prev":
        selected = [it for it in order if not after(it) and [it[0], it[1]] != pivot][-limit:]
    elif pivot is not None:
        selected = [it for it in order if after(it)][:limit]
    else:
        selected = order[:limit]
    if selected:
        first, last = [selected[0][0], selected[0][1]], [selected[-1][0], selected[-1][1]]
    else:
        first = last = pivot
        if pivot is not None:
            # Nothing past the pivot: the way back must include the pivot event itself.
            back = 1 if ascending else -1
            if side == "next":
                first = [pivot[0], pivot[1] + back]
            else:
                last = [pivot[0], pivot[1] - back]
    base = f"/v3/{quote(domain, safe='')}/events"
    return {
        "items": [public(it[2]) for it in selected],
        "paging": {
            "next": ctx.url(f"{base}/{_encode(params, last, 'next')}"),
            "previous": ctx.url(f"{base}/{_encode(params, first, 'prev')}"),
        },
    }


@router.get("/v3/{domain}/events")
async def list_events(ctx: Ctx) -> dict:
    return _page(ctx, [(k, v) for k, v in ctx.query.multi_items()], None, "next")


@router.get("/v3/{domain}/events/{page_token}")
async def list_events_page(ctx: Ctx) -> dict:
    params, pivot, side = _decode(ctx.path["page_token"])
    return _page(ctx, params, pivot, side)
