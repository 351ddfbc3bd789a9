"""The one module that speaks HTTP to Mailgun."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from mg_tools.errors import (
    ConfigurationError,
    MailgunError,
    MgToolsError,
    RateLimited,
    Redirected,
    ServerError,
    TransportError,
    _one_line,
    error_for_status,
)
from mg_tools.log import Redactor, get_logger
from mg_tools.regions import REGIONS, base_url_for  # re-exported: they were defined here
from mg_tools.request import PreparedRequest

__all__ = ["REGIONS", "MailgunClient", "RetryPolicy", "base_url_for", "parse_retry_after", "retryable"]

USER_AGENT = "mg-tools/0.1"
#: Storage URLs in events name hosts of this domain (itself or a subdomain): besides the configured
#: base URL, the API key goes only to these, over https on the default port.
TRUSTED_DOMAIN = "mailgun.net"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
#: The most of an upstream explanation an error quotes: counted after redaction and escaping.
ERROR_TEXT_LIMIT = 500
#: How much of an error body is scanned for secrets; redacting a huge hostile body can take minutes.
ERROR_SCAN_LIMIT = 16_384
#: A secret split by the scan limit is not recognised: this much of the scanned tail is dropped.
_LONGEST_SECRET = 256
_LOCATION = "mg_tools.location"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry. Only requests safe to repeat are retried on 5xx and timeouts;
    a request that may have reached Mailgun and is not idempotent (a send, a create) never is."""

    attempts: int = 4
    deadline: float = 30.0
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    #: The longest a call may take, all attempts included, however the server behaves (an answer
    #: trickling in byte by byte keeps each read within the timeout, forever). Generous for uploads.
    max_call: float = 300.0

    def should_retry(self, error: MgToolsError, *, idempotent: bool, attempt: int) -> bool:
        """Whether to try again after try number ``attempt`` ended in ``error``: attempts are left,
        and repeating the request is safe (``retryable``)."""
        return attempt < self.attempts and retryable(error, idempotent=idempotent)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after try number ``attempt``: what the server asked for (``retry_after``,
        at most ``max_retry_after``), else a jittered exponential backoff of at most ``max_backoff``."""
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_retry_after)
        cap = min(self.max_backoff, self.backoff * 2**attempt)
        return random.uniform(cap / 2, cap)

    def in_time(self, elapsed: float, delay: float) -> bool:
        """Whether a retry after ``delay`` more seconds, ``elapsed`` seconds into the call, starts within
        the deadline and before ``max_call``."""
        return elapsed + delay <= self.deadline and elapsed + delay < self.max_call


def retryable(error: MgToolsError, *, idempotent: bool) -> bool:
    """Whether the request that failed with ``error`` is safe to repeat and may then succeed.

    A request that never left (connection refused) and a 429 (refused before anything is accepted)
    always are; a 5xx, a timeout or a dropped connection only when the request is idempotent, as it
    may have been processed. Other answers (3xx, 4xx) would only come again.
    """
    if isinstance(error, TransportError):
        return idempotent or not error.maybe_sent
    return isinstance(error, RateLimited) or (idempotent and isinstance(error, ServerError))


def _maybe_processed(error: MgToolsError) -> bool:
    """Whether the request that failed with ``error`` may have been processed though no success came
    back: it was sent and its answer lost, or Mailgun failed (5xx) part way."""
    return isinstance(error, ServerError) or (isinstance(error, TransportError) and error.maybe_sent)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or ``X-RateLimit-Reset`` (epoch
    seconds); None when absent or unreadable (a garbled header must not turn a 429 into a crash)."""
    value, reset = headers.get("retry-after"), headers.get("x-ratelimit-reset")
    try:
        if value:
            try:
                seconds = float(value)
            except ValueError:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        elif reset:
            seconds = float(reset) - time.time()
        else:
            return None
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    # httpx takes repeated form keys as a mapping of lists.
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _explanation(response: httpx.Response) -> str:
    """The explanation in an error body, whichever of Mailgun's shapes it uses; unredacted, uncut."""
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        return response.text
    if isinstance(body, dict):
        for key in ("message", "Message", "Reason", "Description", "error"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else str(value)
        if "Field" in body:
            return f"invalid {body.get('Field')}: {body.get('Value')}"
    if isinstance(body, str) and body:
        return body
    return response.text


def _quoted(text: str, redactor: Redactor, limit: int = ERROR_TEXT_LIMIT) -> str:
    """Upstream ``text`` fit to quote in an error: secrets redacted first (so no cut can leave a piece
    of one behind), then control and invisible characters escaped, then cut to ``limit`` characters."""
    text = text.strip()
    redacted = redactor.redact_text(text[:ERROR_SCAN_LIMIT])
    if len(text) > ERROR_SCAN_LIMIT:
        redacted = redacted[:-_LONGEST_SECRET]
    return _one_line(redacted.strip(), limit)


def error_message(response: httpx.Response, redactor: Redactor) -> str:
    """Mailgun's explanation from an error body (or the status's reason), ready to quote: redacted,
    one line, at most ``ERROR_TEXT_LIMIT`` characters."""
    return (
        _quoted(_explanation(response), redactor) or _quoted(response.reason_phrase, redactor) or "no explanation given"
    )


async def _set_location_aside(response: httpx.Response) -> None:
    # httpx parses a redirect's Location to prepare the next request even when it will not follow
    # it, and a malformed one raises an error that reads as a lost answer. The answer did come: the
    # Location is set aside, unparsed, for the Redirected error to show.
    if response.is_redirect and "location" in response.headers:
        response.extensions[_LOCATION] = response.headers.pop("location")


def _location(response: httpx.Response) -> str:
    return response.extensions.get(_LOCATION, response.headers.get("location", "")).strip()


def _redirect_target(response: httpx.Response, redactor: Redactor) -> str | None:
    """Where a redirect points, resolved against the request's URL, without user info, query or
    fragment (they may carry secrets), redacted and quotable; None when it is no usable http(s) URL."""
    location = _location(response)
    if not location:
        return None
    try:
        url = response.request.url.join(location)
        path = url.raw_path.partition(b"?")[0].decode("ascii")
    except (httpx.InvalidURL, ValueError):
        return None
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        return None
    return _quoted(f"{_origin_of(url)}{path}", redactor, 300)


def _origin_of(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _endpoint(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of ``url``, the scheme's default port filled in; None when it has
    user info or a port that is not a number."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if "@" in parts.netloc or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, _DEFAULT_PORTS.get(scheme) if port is None else port


def _is_mailgun_host(host: str) -> bool:
    """``host`` is ``mailgun.net`` or a subdomain of it: plain labels, none empty, no trailing dot."""
    if host == TRUSTED_DOMAIN:
        return True
    suffix = "." + TRUSTED_DOMAIN
    return host.endswith(suffix) and all(_LABEL.fullmatch(label) for label in host[: -len(suffix)].split("."))


#: Connections to Mailgun at most, and kept open between calls, over all pools.
MAX_CONNECTIONS, KEEP_ALIVE = 96, 48
#: The pools those connections are spread over, each call on the least busy. httpcore walks every connection of a
#: pool on each request and each release (counting the idle ones inside that walk), so under 50 calls at
#: once one pool costs more CPU per call than the call's own work; several small pools keep each walk short.
#: An injected transport (a mock, the in-process sandbox) gets one pool.
POOLS = 8


class _Pools:
    """The httpx clients one :class:`MailgunClient` spreads its calls over, each call on the least busy."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.busy = [0] * len(clients)

    @contextlib.contextmanager
    def lease(self) -> Iterator[httpx.AsyncClient]:
        index = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            yield self.clients[index]
        finally:
            self.busy[index] -= 1

    async def aclose(self) -> None:
        for client in self.clients:
            try:
                await client.aclose()
            except RuntimeError:  # its loop is already closed
                pass


class MailgunClient:
    """Async Mailgun HTTP client: Basic auth ``api:KEY``, pooling, timeouts, retries, typed errors.

    ``transport`` is injectable (``httpx.MockTransport``, the in-process sandbox's ASGI transport).
    ``redactor`` (its own by default) learns the API key and redacts errors and logs.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        extra_headers: dict[str, str] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._auth = httpx.BasicAuth("api", api_key)
        self._timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        self._transport = transport
        self._headers = {"User-Agent": USER_AGENT, **(extra_headers or {})}
        self._pools: _Pools | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add_secret(api_key)
        self._log = get_logger(__name__, self.redactor)

    def _client(self) -> _Pools:
        loop = asyncio.get_running_loop()
        if self._pools is None or self._loop is not loop:
            # A pool belongs to one event loop; a new loop gets new pools.
            count = POOLS if self._transport is None else 1
            self._pools = _Pools([self._pool(count) for _ in range(count)])
            self._loop = loop
        return self._pools

    def _pool(self, count: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            auth=self._auth,
            timeout=self._timeout,
            transport=self._transport,
            headers=self._headers,
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS // count, max_keepalive_connections=KEEP_ALIVE // count
            ),
            follow_redirects=False,
            event_hooks={"response": [_set_location_aside]},
        )

    async def aclose(self) -> None:
        pools, self._pools = self._pools, None
        if pools is not None:
            await pools.aclose()

    def url_for(self, req: PreparedRequest) -> str:
        origin = req.origin or self.base_url
        if req.origin and not self._trusted(req.origin):
            raise ConfigurationError(
                f"refusing to send the API key to {req.origin}: only Mailgun hosts and the configured "
                "base URL are trusted"
            )
        return origin + req.path

    def _trusted(self, origin: str) -> bool:
        """Whether the API key may go to ``origin``: the base URL's own scheme, host and port, or an
        https Mailgun host (``mailgun.net`` or a subdomain) on port 443. Any other port of the base
        host may be another service; a lookalike name (``evilmailgun.net``) is another owner."""
        target = _endpoint(origin)
        if target is None:
            return False
        if target == _endpoint(self.base_url):
            return True
        scheme, host, port = target
        return scheme == "https" and port == 443 and _is_mailgun_host(host)

    async def send(self, req: PreparedRequest, *, idempotent: bool) -> httpx.Response:
        """Send ``req``; return the 2xx response or raise a typed error for anything else.

        Redirects are not followed: a 3xx raises :class:`Redirected` (the request was not processed).
        Retries connection failures before any byte was sent, 429 (honouring Retry-After) and,
        for idempotent requests only, 5xx, read timeouts and dropped connections.
        """
        url = self.url_for(req)
        started = time.monotonic()
        attempt = 0
        answer_lost = False  # an earlier attempt may have been processed, its answer lost
        while True:
            attempt += 1
            try:
                response = await self._attempt(
                    req, url, idempotent=idempotent, timeout=self.retry.max_call - (time.monotonic() - started)
                )
            except TransportError as exc:
                error: MgToolsError = exc
            else:
                self._log.debug(
                    "mailgun.response",
                    method=req.method,
                    path=req.path,
                    status=response.status_code,
                    attempt=attempt,
                    ms=round((time.monotonic() - started) * 1000, 1),
                )
                if response.is_success:
                    return response
                error = self._error(req, response, idempotent=idempotent, answer_lost=answer_lost)
            answer_lost = answer_lost or _maybe_processed(error)
            elapsed = time.monotonic() - started
            delay = self.retry.delay(attempt, error.retry_after if isinstance(error, RateLimited) else None)
            if not (
                self.retry.should_retry(error, idempotent=idempotent, attempt=attempt)
                and self.retry.in_time(elapsed, delay)
            ):
                self._log.info("mailgun.error", method=req.method, path=req.path, error=str(error), attempt=attempt)
                raise error
            self._log.info("mailgun.retry", method=req.method, path=req.path, attempt=attempt, delay=round(delay, 3))
            await asyncio.sleep(delay)

    async def _attempt(self, req: PreparedRequest, url: str, *, idempotent: bool, timeout: float) -> httpx.Response:
        """One try: the answer, whatever its status; a :class:`TransportError` when none came within
        ``timeout`` seconds, saying whether the request may have reached Mailgun."""
        try:
            async with asyncio.timeout(timeout):
                with self._client().lease() as http:
                    return await http.request(
                        req.method,
                        url,
                        params=req.query or None,
                        data=_grouped(req.form) or None,
                        files=req.files or None,
                        json=req.json,
                        headers=req.headers or None,
                    )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: repeating it cannot duplicate anything.
            error = TransportError(
                f"could not connect to {urlsplit(url).netloc}: {type(exc).__name__}", maybe_sent=False
            )
        except (httpx.TransportError, TimeoutError) as exc:
            error = TransportError(
                f"{req.method} {req.path} failed after the request was sent ({type(exc).__name__}); "
                + (
                    "it may have reached Mailgun: check events or logs before repeating it"
                    if not idempotent
                    else "no answer from Mailgun"
                ),
                maybe_sent=True,
            )
        raise error  # outside the handlers, so it does not chain httpx's exception (which holds the request)

    def _error(
        self, req: PreparedRequest, response: httpx.Response, *, idempotent: bool = True, answer_lost: bool = False
    ) -> MailgunError:
        """The typed error for a non-2xx ``response``, with Mailgun's explanation and, when the request
        may have been processed already, a warning against repeating it blindly."""
        status = response.status_code
        cls = error_for_status(status)
        kwargs: dict[str, Any] = {"status": status, "method": req.method, "path": req.path}
        if cls is Redirected:
            kwargs["location"] = _redirect_target(response, self.redactor)
            target = kwargs["location"] or ("an unusable location" if _location(response) else "no location")
            message = f"{_origin_of(response.request.url)} answered with a redirect to {target}."
        else:
            message = error_message(response, self.redactor)
        if not idempotent and (status >= 500 or status < 200):
            message += "; the request may still have been processed: check events or logs before repeating it"
        elif answer_lost and status != 429:
            # e.g. a retried DELETE answered 404: the first attempt may have deleted it.
            message += "; an earlier attempt whose answer was lost may already have done it"
        if cls is RateLimited:
            kwargs["retry_after"] = parse_retry_after(response.headers)
        return cls(message, **kwargs)
