"""The sandbox's building blocks: the Sandbox object, request context, router, errors and paging.

Area modules live in ``mg_tools.sandbox.areas`` and are listed in ``mg_tools.sandbox.app.AREAS``;
each defines ``router = Router()`` and decorates async handlers
``async def handler(ctx: Ctx) -> dict | list | Response``. A dict or list becomes a JSON 200 answer;
``raise ApiError(status, message)`` gives Mailgun's error shape. A route's path is the path template
of the tool it serves, placeholders included (``/v3/{domain}/templates/{template_name}``); where no
tool has it yet, placeholders take the names of the vocabulary in docs/plugins.md, else Mailgun's.

State kinds and keys shared between areas (documents are stored in Mailgun's own response shape,
private fields start with ``_``):

=============  ===============================  =================================================
kind           key                              document
=============  ===============================  =================================================
domain         ``name``                         v4 domain object (``name``, ``state``, ...)
message        ``domain/storage_key``           stored message (see areas.messages)
event          ``domain/000000000042``          event-data, as the events API returns it
bounce         ``domain/address``               ``address, code, error, created_at``
unsubscribe    ``domain/address``               ``address, tags, created_at``
complaint      ``domain/address``               ``address, created_at``
allowlist      ``domain/value``                 ``value, type (address|domain), reason, createdAt``
webhook        ``domain/event_id``              ``{"urls": [...]}``
template       ``domain/name``                  template with ``versions`` keyed by tag
list           ``list_address``                 mailing list
member         ``list_address/member_address``  list member
route          ``id``                           route
tag            ``domain/tag``                   tag with description, first-seen, last-seen
credential     ``domain/login``                 SMTP credential (``login, mailbox, created_at``)
dkim_key       ``signing_domain/selector``      DKIM key (``signing_domain, selector, active``)
ip             ``address``                      account IP (``ip, dedicated, rdns``)
ip_pool        ``pool_id``                      dedicated IP pool (DIPP)
dynamic_pool   ``pool name``                    dynamic IP pool (``dynamic_good`` ...)
dynamic_event  ``000000000042``                 dynamic IP pool history record
warmup         ``address``                      IP warmup plan
api_key        ``id``                           API key (``/v1/keys``)
ip_allowlist   ``address``                      account IP allowlist entry
account        ``main``                         the account's settings and sending limit
subaccount     ``id``                           subaccount
user           ``id``                           account user
auth_recipient ``email``                        authorized recipient of sandbox domains
=============  ===============================  =================================================

Domain documents also carry private (``_``) fields owned by other areas: ``_tracking``, ``_x509``,
``_dkim_rotation``, ``_dkim_authority`` (areas.tracking, areas.domain_keys), ``_ips``,
``_pool_id``, ``_dynamic`` (areas.ips).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from starlette.datastructures import MultiDict, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mg_tools.sandbox.state import State

if TYPE_CHECKING:
    from mg_tools.sandbox.faults import FaultRule

__all__ = [
    "ApiError",
    "Ctx",
    "Router",
    "Sandbox",
    "check_page",
    "described",
    "domain_docs",
    "integer",
    "is_loopback_host",
    "json_object",
    "loads_json",
    "page_by_skip",
    "page_by_token",
    "page_by_urls",
    "public",
    "rfc2822",
    "skip_limit",
]

Handler = Callable[["Ctx"], Awaitable[Any]]


class ApiError(Exception):
    """An error answer in Mailgun's shape: ``{"message": ...}`` unless ``body`` is given."""

    def __init__(self, status: int, message: str, *, body: Any = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        body = self.body if self.body is not None else {"message": self.message}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def described(status: int, message: str) -> ApiError:
    """An error in the shape of Mailgun's newer APIs (IP pools, tracking certificates, DKIM
    management): ``{"Description": message}``."""
    return ApiError(status, message, body={"Description": message})


def rfc2822(ts: float | None = None) -> str:
    """Mailgun's date format: ``Thu, 13 Oct 2011 18:02:00 UTC``."""
    dt = datetime.fromtimestamp(ts if ts is not None else time.time(), tz=UTC)
    return format_datetime(dt, usegmt=False).replace("+0000", "UTC")


@dataclass
class Sandbox:
    """Everything a handler may need: the state, the keys, the clock (and how to wait: injected
    delays sleep with ``sleep``)."""

    state: State
    api_key: str
    signing_key: str
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    faults: list[FaultRule] = field(default_factory=list)
    webhook_deliveries: list[dict[str, Any]] = field(default_factory=list)

    def now(self) -> float:
        return self.clock()

    def new_id(self, nbytes: int = 12) -> str:
        return secrets.token_hex(nbytes)

    def sign(self, timestamp: str, token: str) -> str:
        """Mailgun's webhook signature: hex HMAC-SHA256 of ``timestamp + token`` with the signing key."""
        return hmac.new(self.signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()

    def existing(
        self, kind: str, key: str, missing: str, *, status: int = 404, error: Callable[[int, str], ApiError] = ApiError
    ) -> dict[str, Any]:
        """The stored document, or ``error(status, missing)`` when there is none."""
        doc = self.state.get(kind, key)
        if doc is None:
            raise error(status, missing)
        return doc

    def absent(self, kind: str, key: str, taken: str, *, status: int = 400) -> None:
        """``ApiError(status, taken)`` when a document is stored under ``key``."""
        if self.state.get(kind, key) is not None:
            raise ApiError(status, taken)

    def domain(self, name: str) -> dict[str, Any]:
        """The domain document, or Mailgun's 404."""
        return self.existing("domain", name, "Domain not found")


# -- stored documents and request values shared by the areas --------------------------------------


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without its private (``_``-prefixed) fields."""
    return {k: v for k, v in doc.items() if k[:1] != "_"}


def domain_docs(state: State, kind: str, domain: dict[str, Any], id_field: str) -> list[dict[str, Any]]:
    """The ``kind`` documents (keyed ``name/<doc[id_field]>``) of this domain document; those left
    behind by a deleted domain of the same name (another ``_domain_id``) are deleted."""
    name = domain["name"]
    found = []
    for doc in state.list(kind, f"{name}/"):
        if doc["_domain_id"] == domain["id"]:
            found.append(doc)
        else:
            state.delete(kind, f"{name}/{doc[id_field]}")
    return found


def loads_json(raw: str | bytes) -> Any:
    """``json.loads`` for text from a request; ``ValueError`` also for JSON nested too deeply, and for
    an unpaired surrogate escape (``"\\ud800"``): stored, it could never be answered as UTF-8 again."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ValueError("an unpaired surrogate escape (\\ud800-\\udfff must come in pairs)") from None
    return value


def json_object(raw: Any, message: str, *, not_object: str | None = None) -> dict[str, Any] | None:
    """A JSON object given as text or already decoded (a JSON body); None when absent.

    ``ApiError(400, message)`` when it is not JSON, and ``not_object`` (default ``message``) when
    it is JSON but not an object.
    """
    if raw in (None, ""):
        return None
    try:
        value = loads_json(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ApiError(400, message) from None
    if not isinstance(value, dict):
        raise ApiError(400, not_object or message)
    return value


def integer(
    raw: Any, default: int, *, low: int | None = None, high: int | None = None, not_integer: str, out_of_range: str
) -> int:
    """``raw`` as an int, ``default`` when absent; ``ApiError(400, not_integer)`` when it is no integer
    and ``ApiError(400, out_of_range)`` when it is below ``low`` or above ``high``."""
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, not_integer) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(400, out_of_range)
    return value


class Ctx:
    """One request: decoded path params, query, form/multipart fields, uploaded files and JSON."""

    def __init__(self, request: Request, sb: Sandbox, path: dict[str, str]) -> None:
        self.request = request
        self.sb = sb
        self.state = sb.state
        self.path = path
        self.query: MultiDict = MultiDict(request.query_params.multi_items() if request.scope["query_string"] else ())
        self.form: MultiDict = MultiDict()
        self.files: dict[str, list[tuple[str, bytes, str]]] = {}
        self.json: Any = None
        self.body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        """The first value of the request header ``name`` (lower case), ``default`` when absent."""
        values = self.request.headers.getlist(name)  # no KeyError raised and caught on a miss, as get() does
        return values[0] if values else default

    async def load(self) -> None:
        ctype = self.header("content-type")
        if not ctype and not self.header("content-length") and not self.header("transfer-encoding"):
            return  # HTTP/1.1 frames every body with one of these: there is none to read
        if "multipart/form-data" in ctype or "application/x-www-form-urlencoded" in ctype:
            items = []
            # The context manager closes uploaded files' temporary spools.
            async with self.request.form(max_files=1000, max_fields=5000) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        data = await value.read()
                        self.files.setdefault(key, []).append(
                            (value.filename or key, data, value.content_type or "application/octet-stream")
                        )
                    else:
                        items.append((key, value))
            self.form = MultiDict(items)
        else:
            self.body = await self.request.body()
            if self.body and ("json" in ctype or self.body[:1] in (b"{", b"[")):
                try:
                    self.json = loads_json(self.body)
                except ValueError as exc:
                    raise ApiError(400, f"Invalid JSON body: {str(exc)[:200]}") from None

    # -- arguments (form first, then query, as Mailgun reads them) --------------------------------

    def arg(self, name: str, default: Any = None) -> Any:
        if name in self.form:
            return self.form[name]
        if isinstance(self.json, dict) and name in self.json:
            return self.json[name]
        return self.query.get(name, default)

    def args(self, name: str) -> list[str]:
        """Every value of a repeatable field (repeated keys, or comma-separated in one value); 400
        when a JSON body gives something else than strings."""
        values = self.form.getlist(name) + self.query.getlist(name)
        if isinstance(self.json, dict) and self.json.get(name) is not None:
            value = self.json[name]
            given = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in given):
                raise ApiError(400, f"'{name}' parameter must be a string or a list of strings")
            values += given
        return values

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text parameter, ``default`` when absent; 400 when a JSON body gives something else."""
        value = self.arg(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ApiError(400, f"'{name}' parameter must be a string")
        return value

    def has(self, name: str) -> bool:
        return name in self.form or name in self.query or (isinstance(self.json, dict) and name in self.json)

    def url(self, path: str, query: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        """An absolute URL on the host this request came to (paging links, storage URLs)."""
        q = f"?{urlencode(query)}" if query else ""
        return f"{str(self.request.base_url).rstrip('/')}{path}{q}"

    def require(self, name: str) -> str:
        """A text parameter that must be given: ``'<name>' parameter is missing`` otherwise, and 400
        when a JSON body gives something else than a string."""
        value = self.arg(name)
        if value in (None, ""):
            raise ApiError(400, f"'{name}' parameter is missing")
        if not isinstance(value, str):
            raise ApiError(400, f"'{name}' parameter must be a string")
        return value

    def int_arg(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        bounds = (
            f"between {low} and {high}"
            if low is not None and high is not None
            else f"at least {low}"
            if low is not None
            else f"at most {high}"
        )
        return integer(
            self.arg(name),
            default,
            low=low,
            high=high,
            not_integer=f"Invalid '{name}' parameter: expected an integer",
            out_of_range=f"Invalid '{name}' parameter: must be {bounds}",
        )

    def date_arg(self, name: str, message: str) -> float | None:
        """An optional RFC 2822 date as a unix timestamp; ``ApiError(400, message)`` when unreadable."""
        raw = self.arg(name)
        if raw in (None, ""):
            return None
        if not isinstance(raw, str):
            raise ApiError(400, message)
        try:
            return parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError):
            raise ApiError(400, message) from None

    def bool_arg(self, name: str, default: bool | None = None) -> bool | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in {"yes", "true", "1", "on"}:
            return True
        if text in {"no", "false", "0", "off"}:
            return False
        raise ApiError(400, f"Invalid '{name}' parameter: expected yes/no or true/false")


class Router:
    """Collects an area's routes: ``@router.get("/v3/{domain}/bounces")``."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, Handler]] = []

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.entries.append((method, path, handler))
            return handler

        return decorate

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path)

    def starlette_routes(self, sb: Sandbox) -> list[Route]:
        return [Route(path, _endpoint(handler, sb), methods=[method]) for method, path, handler in self.entries]


def _endpoint(handler: Handler, sb: Sandbox) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Routing runs on the raw path, so an encoded "/" stays inside its segment; decode here.
        params = {k: unquote(v) for k, v in request.path_params.items()}
        ctx = Ctx(request, sb, params)
        try:
            await ctx.load()
            result = await handler(ctx)
        except ApiError as exc:
            return exc.response()
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    endpoint.__name__ = handler.__name__
    return endpoint


# -- pagination in Mailgun's styles ---------------------------------------------------------------


def skip_limit(items: list[Any], ctx: Ctx, *, default_limit: int = 100, max_limit: int = 1000) -> list[Any]:
    """The page of ``items`` that the query's ``skip`` and ``limit`` select."""
    skip = ctx.int_arg("skip", 0, low=0)
    limit = ctx.int_arg("limit", default_limit, low=1, high=max_limit)
    return items[skip : skip + limit]


def page_by_skip(
    items: list[Any], ctx: Ctx, *, default_limit: int = 100, max_limit: int = 1000, total_key: str = "total_count"
) -> dict[str, Any]:
    """skip/limit paging: ``{"total_count": N, "items": [...]}``."""
    return {total_key: len(items), "items": skip_limit(items, ctx, default_limit=default_limit, max_limit=max_limit)}


_URL_PAGES = {"next": "next", "prev": "prev", "previous": "prev", "last": "last"}


def check_page(ctx: Ctx, message: str) -> None:
    """``ApiError(400, message)`` when the query's ``page`` is given and not one :func:`page_by_urls` reads."""
    page = ctx.arg("page")
    if page and page != "first" and page not in _URL_PAGES:
        raise ApiError(400, message)


def page_by_urls(
    items: list[dict[str, Any]],
    ctx: Ctx,
    *,
    pivot: str,
    key: Callable[[dict[str, Any]], str],
    default_limit: int = 100,
    max_limit: int = 1000,
) -> dict[str, Any]:
    """v3 URL paging: ``{"items": [...], "paging": {"first", "next", "previous", "last"}}``.

    ``items`` must be sorted by ``key``; the query's ``page`` (first|last|next|prev) and the pivot
    parameter (``address`` for suppressions, ``p`` for templates, ...) select the page.
    """
    limit = ctx.int_arg("limit", default_limit, low=1, high=max_limit)
    direction = _URL_PAGES.get(ctx.arg("page") or "first", "first")
    value = ctx.arg(pivot) or ""
    if direction in {"next", "prev"} and not value:
        direction = "first"  # nothing to page from
    selected = _select(items, key, direction, value, limit)
    path = ctx.request.url.path
    base = [(k, v) for k, v in ctx.query.multi_items() if k not in {"page", pivot, "limit"}]

    def link(which: str, at: str | None) -> str:
        q = base + [("page", which)] + ([(pivot, at)] if at is not None else []) + [("limit", limit)]
        return ctx.url(path, q)

    last_key = key(selected[-1]) if selected else value
    first_key = key(selected[0]) if selected else value
    return {
        "items": selected,
        "paging": {
            "first": link("first", None),
            "last": link("last", None),
            "next": link("next", last_key),
            "previous": link("prev", first_key),
        },
    }


def page_by_token(
    items: list[dict[str, Any]],
    ctx: Ctx,
    *,
    key: Callable[[dict[str, Any]], str],
    default_limit: int = 10,
    max_limit: int = 100,
    min_limit: int = 1,
    limit_name: str = "limit",
    names: tuple[str, str, str, str] = ("first", "last", "next", "previous"),
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Opaque-cursor paging (``?page=<token>``): the selected items and their paging links.

    ``items`` must be sorted by ``key``; ``names`` spells the link keys (first, last, next,
    previous), e.g. capitalised for the dynamic IP pools API.
    """
    limit = ctx.int_arg(limit_name, default_limit, low=min_limit, high=max_limit)
    direction, value = _decode_page(ctx.arg("page"))
    selected = _select(items, key, direction, value, limit)
    path = ctx.request.url.path
    base = [(k, v) for k, v in ctx.query.multi_items() if k not in {"page", limit_name}]

    def link(direction: str | None, at: str = "") -> str:
        page = [("page", _encode_page(direction, at))] if direction else []
        return ctx.url(path, base + page + [(limit_name, limit)])

    first_key = key(selected[0]) if selected else value
    last_key = key(selected[-1]) if selected else value
    links = (link(None), link("last"), link("next", last_key), link("prev", first_key))
    return selected, dict(zip(names, links))


def _select(
    items: list[dict[str, Any]], key: Callable[[dict[str, Any]], str], direction: str, pivot: str, limit: int
) -> list[dict[str, Any]]:
    """The page of sorted ``items``: right after ``pivot`` (next), right before it (prev), the last or the first."""
    if direction == "next":
        return [it for it in items if key(it) > pivot][:limit]
    if direction == "prev":
        return [it for it in items if key(it) < pivot][-limit:]
    if direction == "last":
        return items[-limit:]
    return items[:limit]


def _encode_page(direction: str, at: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([direction, at]).encode()).decode().rstrip("=")


def _decode_page(token: str | None) -> tuple[str, str]:
    if not token:
        return "first", ""
    try:
        direction, at = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        raise ApiError(400, "Invalid 'page' parameter") from None
    if direction not in {"first", "last", "next", "prev"} or not isinstance(at, str):
        raise ApiError(400, "Invalid 'page' parameter")
    return direction, at


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (also in brackets or IPv4-mapped): addresses
    only this machine can reach."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)
