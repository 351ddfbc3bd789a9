"""The listener as an ASGI app: each post is read, checked, normalized and handed to a sink.

When Mailgun hears back:

* 200 once the event was delivered, or written to the dead-letter file because the target would
  not take it: either way it is not lost, and Mailgun must not send it again;
* 503 when not even the dead-letter file could be written: the token is forgotten, so Mailgun's
  next try of the same post is accepted;
* 400/401/403/409/413 for a post refused as malformed, forged, stale, replayed or too large
  (``{"error": reason, "message": ...}``), counted by reason.

``GET /healthz`` shows the counts. Events are handled one at a time, in the order they arrive.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mg_tools.log import Redactor, get_logger
from mg_tools.triggers.normalize import normalize
from mg_tools.triggers.sinks import DeadLetters, Sink, StdoutSink
from mg_tools.triggers.tokens import Tokens
from mg_tools.triggers.verify import DEFAULT_MAX_AGE, REASONS, Refusal, parse_post, verify

__all__ = ["DEFAULT_MAX_BODY", "Listener", "listener_app"]

#: The largest post accepted, in bytes.
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass
class Listener:
    """What the listener app needs: the signing key, the sink, the dead-letter file and the used tokens.

    ``raw`` keeps each event as posted under ``raw``; ``clock`` is the time the age of a post is
    measured against."""

    signing_key: str
    sink: Sink = field(default_factory=StdoutSink)
    dead_letters: DeadLetters | None = None
    tokens: Tokens = field(default_factory=Tokens)
    max_age: float = DEFAULT_MAX_AGE
    max_body: int = DEFAULT_MAX_BODY
    raw: bool = False
    clock: Callable[[], float] | None = None
    redactor: Redactor = field(default_factory=Redactor)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.redactor.add_secret(self.signing_key)
        self.log = get_logger(__name__, self.redactor)
        self._lock = asyncio.Lock()

    def health(self) -> dict[str, Any]:
        """The counts: events ``delivered`` and ``dead_lettered``, ``unhandled`` (answered 503), refusals by reason."""
        outcomes = {name: self.counts[name] for name in ("delivered", "dead_lettered", "unhandled")}
        return {"status": "ok", **outcomes, "refused": {reason: self.counts[reason] for reason in REASONS}}

    async def receive(self, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        """Handle one post; the status and JSON body to answer it with."""
        try:
            post = self._check(body, content_type)
        except Refusal as refusal:
            self.counts[refusal.reason] += 1
            self.log.warning("webhook_refused", reason=refusal.reason, detail=refusal.message)
            return refusal.status, {"error": refusal.reason, "message": refusal.message}
        event = normalize(post.event, legacy=post.legacy, token=post.token, raw=self.raw)
        async with self._lock:
            outcome = await self._hand_over(event)
        if outcome == "unhandled":
            self.tokens.release(post.token)
            return 503, {"error": "unhandled", "message": "the event could not be delivered nor kept; send it again"}
        return 200, {"status": outcome, "id": event["id"]}

    def _check(self, body: bytes, content_type: str) -> Any:
        if len(body) > self.max_body:
            raise Refusal("too_large", f"the body is over {self.max_body} bytes")
        post = parse_post(body, content_type)
        now = self.clock() if self.clock else None
        verify(self.signing_key, post.timestamp, post.token, post.signature, max_age=self.max_age, now=now)
        if not self.tokens.claim(post.token, float(post.timestamp) + self.max_age):
            raise Refusal("replayed", "this token was already accepted; each post is accepted once")
        return post

    async def _hand_over(self, event: dict[str, Any]) -> str:
        reason = await self.sink.deliver(event)
        if reason is None:
            self.counts["delivered"] += 1
            self.log.info("webhook_delivered", id=event["id"], webhook_event=event["event"], target=self.sink.name)
            return "delivered"
        try:
            if self.dead_letters is None:
                raise OSError("no dead-letter file")
            self.dead_letters.write(event, target=self.sink.name, reason=reason)
        except OSError as exc:
            self.counts["unhandled"] += 1
            self.log.error("webhook_unhandled", id=event["id"], reason=reason, dead_letter_error=str(exc))
            return "unhandled"
        self.counts["dead_lettered"] += 1
        self.log.warning("webhook_dead_lettered", id=event["id"], reason=reason, file=str(self.dead_letters.path))
        return "dead_lettered"


async def _read(request: Request, limit: int) -> bytes:
    """The body, up to one byte past ``limit`` (enough to tell it is too large without reading it all)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


def listener_app(listener: Listener) -> Starlette:
    """An ASGI app receiving Mailgun webhooks at any path (POST) for ``listener``, its counts at ``GET /healthz``."""

    async def receive(request: Request) -> JSONResponse:
        body = await _read(request, listener.max_body)
        status, answer = await listener.receive(body, request.headers.get("content-type", ""))
        return JSONResponse(answer, status_code=status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(listener.health())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await listener.sink.aclose()

    routes = [Route("/healthz", health, methods=["GET"]), Route("/{path:path}", receive, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)
