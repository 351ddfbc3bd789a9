"""Sandbox: a domain's webhooks, one per event id, each with up to three URLs.

Stored as kind ``webhook``, key ``domain/event_id``, document ``{"urls": [...]}``; the message
pipeline reads them to post signed events.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mg_tools.sandbox.core import ApiError, Ctx, Router
from mg_tools.sandbox.state import State

__all__ = ["EVENT_IDS", "MAX_URLS", "router", "webhooks_of"]

router = Router()

EVENT_IDS = (
    "accepted",
    "clicked",
    "opened",
    "unsubscribed",
    "delivered",
    "permanent_fail",
    "temporary_fail",
    "complained",
)
MAX_URLS = 3


def _event_id(raw: str | None) -> str:
    if raw in (None, ""):
        raise ApiError(400, "'id' parameter is missing")
    if raw not in EVENT_IDS:
        raise ApiError(400, f"Invalid webhook id '{raw}': use one of {', '.join(EVENT_IDS)}")
    return raw


def _urls(ctx: Ctx) -> list[str]:
    urls = [u.strip() for u in ctx.args("url") if u and u.strip()]
    if not urls:
        raise ApiError(400, "'url' parameter is missing")
    if len(urls) > MAX_URLS:
        raise ApiError(400, f"Too many URLs: a webhook takes at most {MAX_URLS}")
    for url in urls:
        try:
            parts = urlsplit(url)
            valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            raise ApiError(400, f"{url} is not a valid url")
    return list(dict.fromkeys(urls))


def _key(ctx: Ctx, event_id: str) -> str:
    return f"{ctx.path['domain']}/{event_id}"


def _existing(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx.sb.domain(ctx.path["domain"])
    event_id = _event_id(ctx.path["event"])
    return event_id, ctx.sb.existing("webhook", _key(ctx, event_id), "Webhook not found")


@router.get("/v3/domains/{domain}/webhooks")
async def list_webhooks(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    return {"webhooks": webhooks_of(ctx.state, domain)}


@router.post("/v3/domains/{domain}/webhooks")
async def create_webhook(ctx: Ctx) -> dict:
    ctx.sb.domain(ctx.path["domain"])
    event_id = _event_id(ctx.arg("id"))
    doc = {"urls": _urls(ctx)}
    with ctx.state.transaction():
        ctx.sb.absent(
            "webhook", _key(ctx, event_id), f"Webhook with the id '{event_id}' already exists: update it instead"
        )
        ctx.state.put("webhook", _key(ctx, event_id), doc)
    return {"message": "Webhook has been created", "webhook": doc}


@router.get("/v3/domains/{domain}/webhooks/{event}")
async def get_webhook(ctx: Ctx) -> dict:
    _, doc = _existing(ctx)
    return {"webhook": doc}


@router.put("/v3/domains/{domain}/webhooks/{event}")
async def update_webhook(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        event_id, _ = _existing(ctx)
        doc = {"urls": _urls(ctx)}
        ctx.state.put("webhook", _key(ctx, event_id), doc)
    return {"message": "Webhook has been updated", "webhook": doc}


@router.delete("/v3/domains/{domain}/webhooks/{event}")
async def delete_webhook(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        event_id, doc = _existing(ctx)
        ctx.state.delete("webhook", _key(ctx, event_id))
    return {"message": "Webhook has been deleted", "webhook": doc}


def webhooks_of(state: State, domain: str) -> dict[str, dict[str, Any]]:
    """Every webhook of ``domain``: ``{event_id: {"urls": [...]}}``."""
    prefix = f"{domain}/"
    found = {key.removeprefix(prefix): state.get("webhook", key) for key in state.keys("webhook", prefix)}
    return {event_id: doc for event_id, doc in found.items() if doc is not None}
