"""Webhook dispatch in the sandbox: every event is posted, signed like Mailgun does, to the domain's
webhook URLs for that event, but only to loopback URLs; every attempt is recorded in
``Sandbox.webhook_deliveries``."""

from __future__ import annotations

import secrets
import ssl
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx

from mg_tools.sandbox.core import Sandbox, is_loopback_host, public

__all__ = ["fire_all", "fire_webhooks", "is_loopback_url"]

WEBHOOK_TIMEOUT = 3.0
#: Webhook attempts kept in memory for ``/_sandbox/webhook-deliveries``.
MAX_DELIVERY_RECORDS = 1000
_WEBHOOK_OF_EVENT = {
    "accepted": "accepted",
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "unsubscribed": "unsubscribed",
    "complained": "complained",
}


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs on ``localhost``, 127.0.0.0/8 or ::1 (the only ones the sandbox calls)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or not host:
        return False
    return is_loopback_host(host)


def _webhook_id(event: dict[str, Any]) -> str | None:
    if event.get("event") == "failed":
        return "permanent_fail" if event.get("severity") == "permanent" else "temporary_fail"
    return _WEBHOOK_OF_EVENT.get(event.get("event", ""))


def _urls(doc: dict[str, Any] | None) -> list[str]:
    if not doc:
        return []
    urls = doc.get("urls") or ([doc["url"]] if doc.get("url") else [])
    return [u for u in urls if isinstance(u, str)]


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()  # costly (~0.1 s); built once, not per send


def _webhook_client() -> httpx.AsyncClient:
    # No proxies from the environment and no redirects: a loopback URL must stay on loopback.
    return httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, trust_env=False, follow_redirects=False, verify=_tls())


async def fire_all(sb: Sandbox, domain: str, events: list[dict[str, Any]]) -> None:
    if not events or not sb.state.count("webhook", f"{domain}/"):
        return
    async with _webhook_client() as client:
        for event in events:
            await fire_webhooks(sb, domain, event, client=client)


async def fire_webhooks(
    sb: Sandbox, domain: str, event: dict[str, Any], *, client: httpx.AsyncClient | None = None
) -> list[dict[str, Any]]:
    """POST ``event`` (signed, Mailgun's JSON webhook shape) to the domain's URLs for its webhook
    type; only loopback URLs are contacted, others are recorded as skipped. Returns the records."""
    webhook = _webhook_id(event)
    urls = _urls(sb.state.get("webhook", f"{domain}/{webhook}")) if webhook else []
    if not urls:
        return []
    own = client is None
    client = client or _webhook_client()
    try:
        return [await _post(sb, client, url, webhook or "", domain, event) for url in urls]
    finally:
        if own:
            await client.aclose()


async def _post(
    sb: Sandbox, client: httpx.AsyncClient, url: str, webhook: str, domain: str, event: dict[str, Any]
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "url": url,
        "webhook": webhook,
        "domain": domain,
        "event": event.get("event"),
        "event_id": event.get("id"),
        "timestamp": sb.now(),
        "status": None,
        "error": None,
        "skipped": False,
    }
    if not is_loopback_url(url):
        record.update(skipped=True, error="not a loopback URL; the sandbox never contacts other hosts")
    else:
        timestamp = str(int(sb.now()))
        token = secrets.token_hex(25)
        payload = {
            "signature": {"timestamp": timestamp, "token": token, "signature": sb.sign(timestamp, token)},
            "event-data": public(event),
        }
        started = time.monotonic()
        try:
            response = await client.post(url, json=payload)
            record["status"] = response.status_code
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        record["seconds"] = round(time.monotonic() - started, 3)
    sb.webhook_deliveries.append(record)
    del sb.webhook_deliveries[:-MAX_DELIVERY_RECORDS]
    return record
