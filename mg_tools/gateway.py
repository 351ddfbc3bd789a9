"""The REST gateway: the caller's tools as plain HTTP endpoints, beside MCP on the same server.

- ``GET /api/tools``: the tools the caller may use (name, description, access, area, input schema,
  whether a call may need confirmation).
- ``POST /api/tools/{name}``: the body is a JSON object of the arguments; the call runs through
  :meth:`Toolkit.execute <mg_tools.toolkit.Toolkit.execute>` like an MCP tool call (validation, policy,
  rules, quotas, audit), as the identity of the bearer token. 200 answers the result envelope
  (``Result.to_dict()``); an error answers its ``to_dict()`` with the status of :data:`STATUSES`.
  A call that needs confirmation answers 409 with a ``confirm_token``: repeat the same call, with
  ``"confirm_token": "<token>"`` added to the body, once a person approved it.
- ``GET /openapi.json``: an OpenAPI 3.1 document of those tools (:mod:`mg_tools.openapi`).
- ``GET /docs``: the same document as one HTML page, without scripts or outside assets.

A tool hidden from the caller is answered 404 with the policy's reason, as MCP answers it; a name that
is no tool is answered 404 with the close names the caller may use (never a hidden one). The Host and
Origin checks of ``/mcp`` apply here too.
"""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any

from mg_tools import __version__, log
from mg_tools.errors import (
    ConfigurationError,
    ConfirmationRequired,
    InvalidArguments,
    MailgunError,
    MgToolsError,
    PolicyDenied,
    RateLimited,
    StateUnavailable,
    TransportError,
    UnknownOperation,
)
from mg_tools.openapi import build_document, tool_path

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from mg_tools.mcp_server import McpTools
    from mg_tools.operation import Operation

__all__ = ["STATUSES", "Gateway", "status_of"]

#: The HTTP status of each error, most specific first.
STATUSES: tuple[tuple[type[MgToolsError], int], ...] = (
    (InvalidArguments, 400),
    (PolicyDenied, 403),
    (UnknownOperation, 404),
    (ConfirmationRequired, 409),
    (RateLimited, 429),
    (MailgunError, 502),
    (StateUnavailable, 503),
    (TransportError, 504),
    (ConfigurationError, 500),
)


def status_of(exc: MgToolsError) -> int:
    """The HTTP status the gateway answers ``exc`` with."""
    return next((status for cls, status in STATUSES if isinstance(exc, cls)), 500)


class _BodyError(Exception):
    def __init__(self, status: int, detail: dict[str, Any]) -> None:
        super().__init__(detail["message"])
        self.status = status
        self.detail = detail


class Gateway:
    """The gateway's routes for the tools of one server (``tools``), each request seen as its caller."""

    def __init__(self, tools: McpTools, security: TransportSecuritySettings, *, bearer: bool) -> None:
        from mcp.server.transport_security import TransportSecurityMiddleware

        self.tools = tools
        self.toolkit = tools.toolkit
        self.bearer = bearer
        self._security = TransportSecurityMiddleware(security)
        self._log = log.get_logger(__name__, tools.toolkit.redactor)
        self._documents: dict[Any, dict[str, Any]] = {}
        self._pages: dict[Any, str] = {}

    def routes(self) -> list[Route]:
        from starlette.routing import Route

        return [
            Route("/api/tools", self._checked(self.list_tools), methods=["GET"]),
            Route("/api/tools/{name}", self._checked(self.call_tool), methods=["POST"]),
            Route("/openapi.json", self._checked(self.openapi), methods=["GET"]),
            Route("/docs", self._checked(self.docs), methods=["GET"]),
        ]

    def _checked(self, handler: Any) -> Any:
        """``handler`` behind the Host and Origin checks of the MCP endpoint, answering JSON."""

        async def endpoint(request: Request) -> Response:
            refused = await self._security.validate_request(request)
            if refused is not None:
                message = bytes(refused.body).decode() or "refused"
                return _json({"error": "forbidden_request", "message": message}, refused.status_code)
            return await handler(request)

        return endpoint

    # -- the caller's tools ---------------------------------------------------------------------------

    async def list_tools(self, request: Request) -> Response:
        return _json({"tools": [self._describe(op) for op in self.tools.visible().values()]})

    def _describe(self, op: Operation) -> dict[str, Any]:
        from mg_tools.tool_defs import operation_schema

        confirm = self.tools.needs_confirmation(op)
        data: dict[str, Any] = {
            "name": op.name,
            "description": op.description,
            "access": str(op.access),
            "area": op.area,
            "path": tool_path(op.name),
            "needs_confirmation": confirm,
            "input_schema": operation_schema(op, confirm=confirm),
        }
        if op.deprecated:
            data["deprecated"] = True
        return data

    # -- calling --------------------------------------------------------------------------------------

    async def call_tool(self, request: Request) -> Response:
        name = request.path_params["name"]
        op = self.tools.visible().get(name)
        if op is None:
            return self._unknown(name)
        try:
            arguments = await _arguments(request, name)
        except _BodyError as exc:
            return _json(exc.detail, exc.status)
        token = arguments.pop("confirm_token", None) if self.tools.needs_confirmation(op) else None
        try:
            result = await self.toolkit.execute(op.name, arguments, confirm_token=token)
        except MgToolsError as exc:
            return self._error(exc)
        except Exception as exc:
            self._log.error("tool_failed", tool=name, error=repr(exc), traceback=traceback.format_exc())
            return _json({"error": "internal_error", "message": "internal error; see the server log"}, 500)
        return _json(self.tools._result(result).structured_content)

    def _unknown(self, name: str) -> Response:
        """404 for a name that is no tool of this caller's. A tool the policy hides is refused with the
        policy's reason, as over MCP (and in the audit trail); any other name gets the close names the
        caller may use."""
        from mg_tools.mcp_server import _close

        refused = self.tools._hidden(name, calling=True)
        if refused is not None:
            return _json(self.tools.error_detail(refused), 404)
        close = _close(name, self.tools.visible())
        return _json({**UnknownOperation(name, suggestions=tuple(close)).to_dict(), "suggestions": close}, 404)

    def _error(self, exc: MgToolsError) -> Response:
        detail = self.tools.error_detail(exc)
        headers = {}
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers["Retry-After"] = str(max(0, round(exc.retry_after)))
        return _json(detail, status_of(exc), headers)

    # -- the document and its page --------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The OpenAPI document of the current caller's tools (built once per caller view)."""
        from mg_tools.mcp_server import _caller_key
        from mg_tools.tool_defs import operation_schema

        key = _caller_key()
        if key not in self._documents:
            needs = self.tools.needs_confirmation
            self._documents[key] = build_document(
                self.tools.visible().values(),
                schema_of=lambda op: operation_schema(op, confirm=needs(op)),
                confirms=needs,
                bearer=self.bearer,
                version=__version__,
            )
        return self._documents[key]

    async def openapi(self, request: Request) -> Response:
        return _json(self.document())

    async def docs(self, request: Request) -> Response:
        from starlette.responses import HTMLResponse

        from mg_tools.docs_page import render
        from mg_tools.mcp_server import _caller_key

        key = (_caller_key(), str(request.base_url))
        if key not in self._pages:
            self._pages[key] = render(self.document(), base_url=str(request.base_url).rstrip("/"))
        return HTMLResponse(self._pages[key])


async def _arguments(request: Request, name: str) -> dict[str, Any]:
    """The body as the arguments of ``name``: a JSON object of at most ``MAX_BODY`` bytes (empty: none)."""
    from mg_tools.mcp_server import MAX_BODY

    too_large = _BodyError(413, {"error": "payload_too_large", "message": f"the body exceeds {MAX_BODY} bytes"})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large
    if not body.strip():
        return {}
    try:
        arguments = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _BodyError(400, _invalid(name, f"the body is not JSON ({exc})")) from None
    if not isinstance(arguments, dict):
        raise _BodyError(400, _invalid(name, f"the body must be a JSON object of arguments, not {_kind(arguments)}"))
    return arguments


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a JSON number")


def _invalid(name: str, problem: str) -> dict[str, Any]:
    return InvalidArguments(name, [("", problem)]).to_dict()


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import Response

    # Lone surrogates (valid in JSON text, not in UTF-8) go out as JSON escapes, never as an error.
    text = json.dumps(content, ensure_ascii=False, default=str)
    return Response(text.encode("utf-8", "backslashreplace"), status, headers=headers, media_type="application/json")
