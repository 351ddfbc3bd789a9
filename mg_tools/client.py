"""The one module that speaks HTTP to Mailgun."""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from mg_tools import log
from mg_tools.errors import ConfigurationError, MailgunError, RateLimited, TransportError, error_for_status
from mg_tools.regions import REGIONS, base_url_for  # re-exported: they were defined here
from mg_tools.request import PreparedRequest

__all__ = ["REGIONS", "MailgunClient", "RetryPolicy", "base_url_for"]

USER_AGENT = "mg-tools/0.1"
# Storage hosts named in events' storage URLs; the API key is sent to no other host.
TRUSTED_HOST_SUFFIXES = (".mailgun.net",)


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

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_retry_after)
        cap = min(self.max_backoff, self.backoff * 2**attempt)
        return random.uniform(cap / 2, cap)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or ``X-RateLimit-Reset`` (epoch
    seconds); None when absent or unreadable (a garbled header must not turn a 429 into a crash)."""
    value = response.headers.get("retry-after")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError, OverflowError, IndexError):
                return None
        return max(0.0, seconds) if math.isfinite(seconds) else None
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            seconds = float(reset) - time.time()
        except ValueError:
            return None
        return max(0.0, seconds) if math.isfinite(seconds) else None
    return None


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    # httpx takes repeated form keys as a mapping of lists.
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def error_message(response: httpx.Response) -> str:
    """Mailgun's explanation from an error body, whichever of its shapes it uses."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "Message", "Reason", "Description", "error"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else str(value)
        if "Field" in body:
            return f"invalid {body.get('Field')}: {body.get('Value')}"
    if isinstance(body, str) and body:
        return body
    return response.text.strip()[:500] or response.reason_phrase


class MailgunClient:
    """Async Mailgun HTTP client: Basic auth ``api:KEY``, pooling, timeouts, retries, typed errors.

    ``transport`` is injectable (``httpx.MockTransport``, the in-process sandbox's ASGI transport).
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._auth = httpx.BasicAuth("api", api_key)
        self._timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        self._transport = transport
        self._headers = {"User-Agent": USER_AGENT, **(extra_headers or {})}
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._log = log.get_logger("mg_tools.client")
        log.add_secret(api_key)

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            # A pool belongs to one event loop; a new loop gets a new pool.
            self._http = httpx.AsyncClient(
                auth=self._auth,
                timeout=self._timeout,
                transport=self._transport,
                headers=self._headers,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                follow_redirects=False,
            )
            self._loop = loop
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            try:
                await self._http.aclose()
            except RuntimeError:  # its loop is already closed
                pass
            self._http = None

    def url_for(self, req: PreparedRequest) -> str:
        origin = req.origin or self.base_url
        if req.origin and not self._trusted(req.origin):
            raise ConfigurationError(
                f"refusing to send the API key to {req.origin}: only Mailgun hosts and the configured "
                "base URL are trusted"
            )
        return origin + req.path

    def _trusted(self, origin: str) -> bool:
        host = urlsplit(origin).hostname or ""
        base = urlsplit(self.base_url)
        if urlsplit(origin).scheme == base.scheme and host == base.hostname:
            return True
        return urlsplit(origin).scheme == "https" and host.endswith(TRUSTED_HOST_SUFFIXES)

    async def send(self, req: PreparedRequest, *, idempotent: bool) -> httpx.Response:
        """Send ``req``; return the successful response or raise a typed error.

        Retries connection failures before any byte was sent, 429 (honouring Retry-After) and,
        for idempotent requests only, 5xx, read timeouts and dropped connections.
        """
        url = self.url_for(req)
        started = time.monotonic()
        attempt = 0
        answer_lost = False  # an earlier attempt may have been processed, its answer lost
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                async with asyncio.timeout(self.retry.max_call - (time.monotonic() - started)):
                    response = await self._client().request(
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
                error: Exception = TransportError(
                    f"could not connect to {urlsplit(url).netloc}: {type(exc).__name__}", maybe_sent=False
                )
                retryable = True
            except (httpx.TransportError, TimeoutError) as exc:
                answer_lost = True
                error = TransportError(
                    f"{req.method} {req.path} failed after the request was sent ({type(exc).__name__}); "
                    + ("it may have reached Mailgun: check events or logs before repeating it"
                       if not idempotent else "no answer from Mailgun"),
                    maybe_sent=True,
                )
                retryable = idempotent
            else:
                self._log.debug(
                    "mailgun.response", method=req.method, path=req.path, status=response.status_code,
                    attempt=attempt, ms=round((time.monotonic() - started) * 1000, 1),
                )
                if response.status_code < 400:
                    return response
                error = self._error(req, response, idempotent=idempotent, answer_lost=answer_lost)
                if isinstance(error, RateLimited):
                    retry_after = error.retry_after
                    retryable = True  # a 429 is refused before anything is accepted
                else:
                    retryable = idempotent and response.status_code >= 500
                    answer_lost = answer_lost or response.status_code >= 500
            elapsed = time.monotonic() - started
            delay = self.retry.delay(attempt, retry_after)
            if (not retryable or attempt >= self.retry.attempts or elapsed + delay > self.retry.deadline
                    or elapsed + delay >= self.retry.max_call):
                self._log.info("mailgun.error", method=req.method, path=req.path, error=str(error), attempt=attempt)
                raise error
            self._log.info("mailgun.retry", method=req.method, path=req.path, attempt=attempt, delay=round(delay, 3))
            await asyncio.sleep(delay)

    def _error(
        self, req: PreparedRequest, response: httpx.Response, *, idempotent: bool = True, answer_lost: bool = False
    ) -> MailgunError:
        cls = error_for_status(response.status_code)
        message = log.redact_text(error_message(response))
        if response.status_code >= 500 and not idempotent:
            message += "; the request may still have been processed: check events or logs before repeating it"
        elif answer_lost and response.status_code != 429:
            # e.g. a retried DELETE answered 404: the first attempt may have deleted it.
            message += "; an earlier attempt whose answer was lost may already have done it"
        kwargs: dict[str, Any] = {"status": response.status_code, "method": req.method, "path": req.path}
        if cls is RateLimited:
            kwargs["retry_after"] = _retry_after(response)
        return cls(message, **kwargs)
