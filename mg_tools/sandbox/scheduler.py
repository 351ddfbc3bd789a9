"""Scheduled mail in the sandbox: a send with ``o:deliverytime`` in the future is only ``accepted``;
its copies wait (kind ``schedule``) until the first request after their time delivers them."""

from __future__ import annotations

from typing import Any

from mg_tools.sandbox.core import Sandbox
from mg_tools.sandbox.delivery import outcome, record
from mg_tools.sandbox.webhook_dispatch import fire_all

__all__ = ["cancel_scheduled", "deliver_due", "schedule"]

SCHEDULE_KIND = "schedule"


def schedule(sb: Sandbox, domain: str, key: str, due: float) -> None:
    """Keep the stored copy ``domain/key`` for delivery at ``due`` (a unix timestamp)."""
    sb.state.put(SCHEDULE_KIND, f"{domain}/{key}", {"domain": domain, "key": key, "due": due})


async def deliver_due(sb: Sandbox) -> int:
    """Deliver every scheduled copy whose time has come; returns how many copies were delivered.

    Cheap until the earliest copy is due (no query while the state is unchanged); safe under
    concurrent requests (each copy is claimed once).
    """
    now = sb.now()
    earliest = sb.state.cached(SCHEDULE_KIND, lambda: _earliest_due(sb))
    if earliest is None or earliest > now:
        return 0
    done = 0
    for entry in sb.state.list(SCHEDULE_KIND):
        if entry["due"] > now:
            continue
        key = f"{entry['domain']}/{entry['key']}"
        events: list[dict[str, Any]] = []
        with sb.state.transaction():
            if not sb.state.delete(SCHEDULE_KIND, key):
                continue  # another request claimed it
            stored = sb.state.get("message", key)
            if stored is None or stored.get("_status") != "scheduled":
                continue
            for recipient in stored["_recipients"]:
                event = outcome(sb, entry["domain"], stored["event_base"], recipient, entry["due"])
                events.append(record(sb, entry["domain"], event))
            stored["_status"] = "delivered"
            sb.state.put("message", key, stored)
        done += 1
        await fire_all(sb, entry["domain"], events)
    return done


def _earliest_due(sb: Sandbox) -> float | None:
    return min((entry["due"] for entry in sb.state.list(SCHEDULE_KIND)), default=None)


def cancel_scheduled(sb: Sandbox, domain: str) -> int:
    """Drop a domain's scheduled, undelivered copies (``DELETE /v3/{domain}/envelopes``)."""
    cancelled = 0
    with sb.state.transaction():
        for entry in sb.state.list(SCHEDULE_KIND, f"{domain}/"):
            key = f"{domain}/{entry['key']}"
            sb.state.delete(SCHEDULE_KIND, key)
            if sb.state.delete("message", key):
                cancelled += 1
    return cancelled
