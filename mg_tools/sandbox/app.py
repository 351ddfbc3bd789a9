"""The sandbox application: Basic auth, the sandbox marker header, fault injection, admin endpoints,
and the routes of every area module listed in :data:`AREAS`."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mg_tools.sandbox import DEFAULT_API_KEY, DEFAULT_DOMAIN, DEFAULT_SIGNING_KEY, SANDBOX_HEADER, auth, faults, observe
from mg_tools.sandbox.areas.messages import before_request
from mg_tools.sandbox.core import ApiError, Sandbox
from mg_tools.sandbox.routing import PrefixRouter
from mg_tools.sandbox.state import State

__all__ = ["DEFAULT_API_KEY", "DEFAULT_DOMAIN", "DEFAULT_SIGNING_KEY", "SANDBOX_HEADER", "create_app"]

FAULT_HEADER = "x-sandbox-fault"

#: The area modules whose ``router`` the app serves, in routing order (the first matching route wins).
AREAS = tuple(
    import_module(f"mg_tools.sandbox.areas.{name}")
    for name in (
        "account",
        "analytics",
        "bounce_classification",
        "credentials",
        "domain_keys",
        "domains",
        "events",
        "ips",
        "lists",
        "messages",
        "routes",
        "stats",
        "suppressions",
        "templates",
        "tracking",
        "webhooks",
    )
)
#: Mailgun products the sandbox does not emulate, by path prefix: they answer 403, as Mailgun answers
#: an account that lacks the product.
UNEMULATED = (
    ("/v4/address", "Validations"),
    ("/v3/address", "Validations"),
    ("/v1/thresholds", "Alerts"),
    ("/v1/alerts", "Alerts"),
    ("/v4/inbox", "Inbox Placement"),
    ("/v1/inboxready", "InboxReady"),
    ("/v1/preview", "Email Preview"),
    ("/v2/preview", "Email Preview"),
    ("/v1/dmarc", "DMARC reports"),
    ("/v1/inspect", "Inspect"),
    ("/v1/maverick-score", "Optimize"),
    ("/v1/monitoring", "Optimize"),
    ("/v1/reputationanalytics", "Optimize"),
    ("/v2/reputationanalytics", "Optimize"),
    ("/v1/spamtraps", "Optimize"),
    ("/v2/spamtraps", "Optimize"),
)
#: Awaited with the :class:`Sandbox` before every authenticated request: scheduled mail whose time has
#: come is delivered first.
BEFORE_REQUEST = (before_request,)


def create_app(
    *,
    api_key: str = DEFAULT_API_KEY,
    state_path: str | None = None,
    signing_key: str = DEFAULT_SIGNING_KEY,
    seed: bool = True,
) -> Any:
    """A Mailgun-compatible ASGI app with its own state (in memory, or SQLite at ``state_path``).

    ``app.state.sandbox`` is the :class:`Sandbox` (state, keys, clock, faults) for tests.
    """
    sb = Sandbox(state=State(state_path), api_key=api_key, signing_key=signing_key)
    endpoints: list[Route] = [
        Route("/_sandbox/health", _health, methods=["GET"]),
        Route("/_sandbox/reset", _admin(sb, _reset), methods=["POST"]),
        Route("/_sandbox/faults", _admin(sb, _faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/messages", _admin(sb, _messages), methods=["GET"]),
        Route("/_sandbox/webhook-deliveries", _admin(sb, _deliveries), methods=["GET"]),
    ]
    for area in AREAS:
        endpoints += area.router.starlette_routes(sb)
    app = PrefixRouter(endpoints, exception_handlers={404: _no_route, 405: _no_route, Exception: _internal_error})
    app.state.sandbox = sb
    if seed:
        _seed(sb)
    return _Middleware(app, sb, list(BEFORE_REQUEST))


def _seed(sb: Sandbox) -> None:
    from mg_tools.sandbox.areas.domains import new_domain

    if sb.state.get("domain", DEFAULT_DOMAIN) is None:
        doc = new_domain(sb, DEFAULT_DOMAIN)
        doc["state"] = "active"
        sb.state.put("domain", DEFAULT_DOMAIN, doc)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "sandbox": True})


def _admin(sb: Sandbox, fn):
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await fn(sb, request))
        except ApiError as exc:
            return exc.response()

    return endpoint


async def _reset(sb: Sandbox, request: Request) -> dict:
    sb.state.reset()
    sb.faults.clear()
    sb.webhook_deliveries.clear()
    _seed(sb)
    return {"message": "sandbox reset"}


async def _faults(sb: Sandbox, request: Request) -> Any:
    if request.method == "DELETE":
        sb.faults.clear()
        return {"message": "faults cleared"}
    if request.method == "POST":
        try:
            rule = faults.parse_rule(await request.body() or b"{}")
        except faults.FaultError as exc:
            raise ApiError(400, exc.message) from None
        sb.faults.append(rule)
        return {"message": "fault added", "fault": rule.listed()}
    return {"items": [rule.listed() for rule in sb.faults]}


async def _messages(sb: Sandbox, request: Request) -> dict:
    items = sb.state.list("message", request.query_params.get("domain", ""))
    return {"total_count": len(items), "items": items}


async def _deliveries(sb: Sandbox, request: Request) -> dict:
    return {"items": sb.webhook_deliveries}


class _Middleware:
    """Raw-path routing, auth, the sandbox header, fault injection and answer observers, as plain ASGI."""

    def __init__(self, app: PrefixRouter, sb: Sandbox, hooks: list[Any] | None = None) -> None:
        self.app = app
        self.sb = sb
        self.state = app.state
        self.hooks = hooks or []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path")
        if raw:
            # Route on the still-encoded path: an encoded "/" must not split a segment.
            scope = dict(scope, path=raw.decode("latin-1").split("?", 1)[0])
        answer = _Answer(observe.watched(scope, send))
        try:
            await self._serve(scope, receive, answer, *_read_headers(scope))
        except Exception as exc:
            # Mailgun's error shape even for the sandbox's own failures; the exception goes on to the
            # server, which logs it.
            if not answer.started:
                response = await _internal_error(None, exc)
                await response(scope, receive, answer.marked)
            raise

    async def _serve(self, scope, receive, answer: _Answer, authorization: str, fault_header: str | None) -> None:
        send_marked = answer.marked
        refused = scope["path"] != "/_sandbox/health" and auth.refusal(
            self.sb, authorization, scope["method"], scope["path"]
        )
        if refused:
            await refused(scope, receive, send_marked)
            return
        try:
            fault = self._fault(scope, fault_header)
        except faults.FaultError as exc:
            await JSONResponse({"message": exc.message}, status_code=400)(scope, receive, send_marked)
            return
        if fault:
            if fault.delay:
                await self.sb.sleep(fault.delay)
            if fault.drop == "before":
                await _drop(answer.send)
                return
            if fault.status:
                message = fault.message or _STATUS_TEXT.get(fault.status, "Injected fault")
                await JSONResponse({"message": message}, status_code=fault.status, headers=fault.retry_after_header())(
                    scope, receive, send_marked
                )
                return
            if fault.drop == "after":
                await self._before_request()
                await self.app(scope, receive, _swallow)
                await _drop(answer.send)
                return
        await self._before_request()
        await self.app(scope, receive, send_marked)

    async def _before_request(self) -> None:
        for hook in self.hooks:
            await hook(self.sb)

    def _fault(self, scope, header: str | None) -> faults.Fault | None:
        """The fault this request gets: its header's, else the first matching rule's (which is used up
        once its ``times`` are); ``FaultError`` for a malformed header."""
        if scope["path"].startswith("/_sandbox/"):
            return None
        if header is not None:
            return faults.parse_header(header)
        for index, rule in enumerate(self.sb.faults):
            if not rule.matches(scope["method"], scope["path"]):
                continue
            rule.times -= 1
            if rule.times <= 0:
                del self.sb.faults[index]
            return rule
        return None


class _Answer:
    """The server's ``send``, noting whether the answer has started; :meth:`marked` also adds the
    sandbox header to it."""

    __slots__ = ("send", "started")

    def __init__(self, send) -> None:
        self.send = self._tracked(send)
        self.started = False

    def _tracked(self, send):
        async def tracked(message) -> None:
            self.started = self.started or message["type"] == "http.response.start"
            await send(message)

        return tracked

    async def marked(self, message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message, headers=[*message.get("headers", []), _MARK])
        await self.send(message)


_MARK = (SANDBOX_HEADER.encode(), b"true")
_AUTHORIZATION = b"authorization"
_FAULT = FAULT_HEADER.encode()


def _read_headers(scope) -> tuple[str, str | None]:
    """The request's Authorization header ("" when absent) and fault header (None when absent); the
    last one given wins."""
    authorization, fault = "", None
    for name, value in scope.get("headers", ()):
        name = name.lower()
        if name == _AUTHORIZATION:
            authorization = value.decode("latin-1")
        elif name == _FAULT:
            fault = value.decode("latin-1")
    return authorization, fault


def unemulated(path: str) -> str | None:
    """The product of :data:`UNEMULATED` that ``path`` belongs to, or None."""
    return next((name for prefix, name in UNEMULATED if path == prefix or path.startswith(prefix + "/")), None)


async def _no_route(request: Request, exc: HTTPException) -> JSONResponse:
    """Mailgun's error shape for a path no route serves (404) or a method its route does not (405), and
    403 for a product the sandbox does not emulate."""
    product = unemulated(request.url.path)
    if product:
        message = f"Forbidden - this account has no access to {product}: the sandbox does not emulate it"
        return JSONResponse({"message": message}, status_code=403)
    if exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = f"Not found: no endpoint {request.method} {request.url.path}"
    return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request | None, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"message": f"Internal server error ({type(exc).__name__}); the sandbox logged it"}, status_code=500
    )


_STATUS_TEXT = {
    429: "Too many requests, try again later",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


async def _swallow(message) -> None:
    return None


async def _drop(send) -> None:
    # Promise a body, send part of it, then fail: the server closes the connection mid-response,
    # which a client sees exactly like a dropped connection.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        }
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise ConnectionAbortedError("sandbox fault: connection dropped")
