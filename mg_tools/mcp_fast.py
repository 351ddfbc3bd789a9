"""A direct path through the HTTP transport for the MCP requests that need no session.

In stateless mode the SDK's streamable HTTP transport builds, for every POST, a transport, its memory
streams, a JSON-RPC dispatcher and a task group, only to carry one request to the server and one answer
back. :class:`FastPath` sits in front of it and answers the common requests in the request's own task:
a POST to ``/mcp`` carrying one JSON-RPC request of ``tools/call``, ``tools/list`` or ``ping``, at a
handshake-era protocol version (or none). It runs them through the SDK's own single-exchange driver
(``serve_one``: the same kernel, parameter validation, middleware, handlers and result shaping the
transport's dispatcher runs) and writes the answer exactly as the transport does.

Everything else goes to the SDK unchanged: other paths and methods, ``initialize``, notifications,
responses, batches, 2026-07-28 requests (the SDK already serves those in one exchange), requests with a
progress token, and any request that fails a check (Host, Origin, Content-Type, Accept, JSON, envelope),
so that every refusal is the SDK's own. The checks here only ever accept a subset of what the SDK accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.runner import serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecurityMiddleware
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data, progress_token_from_params
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from mg_tools import log

if TYPE_CHECKING:
    from mcp.server import Server
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mg_tools.log import Redactor

__all__ = ["FAST_METHODS", "FastPath"]

#: The methods answered here: none of them needs a session, and none sends anything but its answer.
FAST_METHODS = frozenset({"tools/call", "tools/list", "ping"})
_VERSION_HEADER = b"mcp-protocol-version"
_JSON = "application/json"


@dataclass
class _Exchange:
    """The dispatch context of one request answered with one JSON body.

    As in the SDK's transport in JSON-response mode, nothing but the answer has a wire: notifications
    about the request (progress, log messages) are dropped and requests to the client are refused.
    """

    transport: TransportContext
    request_id: RequestId
    message_metadata: MessageMetadata
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    can_send_request: bool = False

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        return None

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None


class FastPath:
    """ASGI middleware answering the session-free MCP requests at ``path`` through ``server`` directly,
    and passing everything else to ``app`` (the SDK's streamable HTTP app for ``server``, stateless,
    JSON responses) with the request body intact."""

    def __init__(
        self,
        app: ASGIApp,
        server: Server,
        security: TransportSecuritySettings,
        *,
        max_body: int,
        redactor: Redactor,
        path: str = "/mcp",
    ) -> None:
        self.app = app
        self.server = server
        self.security = TransportSecurityMiddleware(security)
        self.path = path
        self._limited = RequestBodyLimitMiddleware(self._answer, max_body)
        self._log = log.get_logger(__name__, redactor)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        version = next((v.decode("latin-1") for k, v in scope["headers"] if k == _VERSION_HEADER), None)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await self.app(scope, receive, send)
            return
        await self._limited(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request here when it qualifies; else replay its body to the SDK."""
        request = Request(scope, receive)
        body = await request.body()
        message = await self._qualifying(request, body)
        if message is None:
            await self.app(scope, _replay(body, receive), send)
            return
        answer = await self._run(request, message, scope["headers"])
        await Response(
            answer.model_dump_json(by_alias=True, exclude_unset=True), status_code=200, headers={"Content-Type": _JSON}
        )(scope, receive, send)

    async def _qualifying(self, request: Request, body: bytes) -> JSONRPCRequest | None:
        """The request's one JSON-RPC request if it passes every check and needs no session, else None."""
        if await self.security.validate_request(request, is_post=True) is not None:
            return None
        if request.headers.get("content-type", "").split(";")[0].strip() != _JSON:
            return None
        if not check_accept_headers(request)[0]:
            return None
        try:
            message = jsonrpc_message_adapter.validate_python(pydantic_core.from_json(body), by_name=False)
        except (ValueError, ValidationError):
            return None
        if not isinstance(message, JSONRPCRequest) or message.method not in FAST_METHODS:
            return None
        if progress_token_from_params(message.params) is not None:
            return None
        return message

    async def _run(
        self, request: Request, message: JSONRPCRequest, headers: list[tuple[bytes, bytes]]
    ) -> JSONRPCResponse | JSONRPCError:
        """Run one request as the transport's dispatcher would, its exceptions mapped the same way."""
        version = next((v.decode("latin-1") for k, v in headers if k == _VERSION_HEADER), DEFAULT_NEGOTIATED_VERSION)
        exchange = _Exchange(
            transport=TransportContext(kind="streamable-http", can_send_request=False),
            request_id=message.id,
            message_metadata=ServerMessageMetadata(request_context=request, can_send_request=False),
        )
        connection = Connection.from_envelope(version, None, None)
        try:
            result = await serve_one(
                self.server, exchange, message.method, message.params, connection=connection, lifespan_state={}
            )
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            if error is None:
                self._log.error("handler_failed", method=message.method, error=repr(exc))
                # The code the SDK's dispatcher answers an unexpected exception with.
                error = ErrorData(code=0, message=str(exc))
            return JSONRPCError(jsonrpc="2.0", id=message.id, error=error)
        return JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the body already read once, then the connection's further messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
