"""One flat shape for every webhook event, whether Mailgun posted it as JSON or in the legacy form shape.

=================  ===============================================================================
key                value
=================  ===============================================================================
``id``             the event's id (legacy posts have none: ``legacy-`` and the post's token)
``event``          ``accepted``, ``delivered``, ``failed``, ``opened``, ``clicked``,
                   ``unsubscribed``, ``complained``, ... (legacy ``bounced``/``dropped``: ``failed``)
``timestamp``      seconds since the epoch (float); ``time``: the same as ISO 8601, UTC
``domain``         the sending domain
``recipient``      the address the event is about
``message_id``     the message's ``Message-Id``, without angle brackets
``severity``       ``permanent`` or ``temporary`` for failures, else null
``reason``         why a message failed (``bounce``, ``suppress-bounce``, ...), else null
``status_code``    the delivery status code (SMTP), ``status_message`` its text, when given
``url``            the link clicked (``clicked``)
``ip``             the client's address (opens, clicks, unsubscribes)
``tags``           the message's tags (a list)
``user_variables`` the message's custom variables (``v:`` fields)
``storage_url``    where the stored message can be fetched
``raw``            the event as posted, only when asked for
=================  ===============================================================================
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LEGACY_EVENTS", "normalize"]

#: Legacy event names and what they are now: (event, severity).
LEGACY_EVENTS = {"bounced": ("failed", "permanent"), "dropped": ("failed", "permanent")}
#: Legacy form fields that are not custom variables.
_LEGACY_FIELDS = frozenset(
    {
        "event", "recipient", "domain", "message-id", "Message-Id", "message-headers", "ip", "url", "tag",
        "X-Mailgun-Tag", "code", "error", "notification", "reason", "description", "city", "country", "region",
        "client-name", "client-os", "client-type", "device-type", "user-agent", "campaign-id", "campaign-name",
        "mailing-list", "X-Mailgun-Sid", "attachment-count", "body-plain", "timestamp",
    }
)  # fmt: skip


def normalize(event: dict[str, Any], *, legacy: bool = False, token: str = "", raw: bool = False) -> dict[str, Any]:
    """``event`` (the ``event-data`` of a JSON post, or the event fields of a legacy form post when
    ``legacy``) in the flat shape of this module; ``token`` names a legacy event, ``raw`` keeps the
    event as posted under ``raw``."""
    flat = _legacy(event, token) if legacy else _current(event)
    flat["time"] = _iso(flat["timestamp"])
    flat["message_id"] = (flat["message_id"] or "").strip("<>") or None
    if raw:
        flat["raw"] = event
    return dict(sorted(flat.items()))


def _current(event: dict[str, Any]) -> dict[str, Any]:
    status = _dict(event.get("delivery-status"))
    message = _dict(event.get("message"))
    storage = _dict(event.get("storage"))
    return {
        "id": event.get("id"),
        "event": event.get("event"),
        "timestamp": _number(event.get("timestamp")),
        "domain": _domain(event.get("domain"), storage.get("url")),
        "recipient": event.get("recipient"),
        "message_id": _dict(message.get("headers")).get("message-id"),
        "severity": event.get("severity"),
        "reason": event.get("reason"),
        "status_code": status.get("code"),
        "status_message": status.get("message") or status.get("description") or None,
        "url": event.get("url"),
        "ip": event.get("ip"),
        "tags": _list(event.get("tags")),
        "user_variables": _dict(event.get("user-variables")),
        "storage_url": storage.get("url"),
    }


def _legacy(fields: dict[str, Any], token: str) -> dict[str, Any]:
    event, severity = LEGACY_EVENTS.get(fields.get("event", ""), (fields.get("event"), None))
    code = fields.get("code")
    return {
        "id": f"legacy-{token}" if token else None,
        "event": event,
        "timestamp": _number(fields.get("timestamp")),
        "domain": fields.get("domain") or None,
        "recipient": fields.get("recipient"),
        "message_id": fields.get("Message-Id") or fields.get("message-id") or _header(fields, "Message-Id"),
        "severity": severity,
        "reason": fields.get("reason") or (fields.get("event") if severity else None),
        "status_code": int(code) if str(code or "").isdigit() else None,
        "status_message": fields.get("error") or fields.get("notification") or fields.get("description") or None,
        "url": fields.get("url"),
        "ip": fields.get("ip"),
        "tags": [t for t in (fields.get("tag") or fields.get("X-Mailgun-Tag") or "").split(",") if t],
        "user_variables": {k: v for k, v in fields.items() if k not in _LEGACY_FIELDS},
        "storage_url": None,
    }


def _header(fields: dict[str, Any], name: str) -> str | None:
    try:
        headers = json.loads(fields.get("message-headers") or "[]")
        return next((v for k, v in headers if str(k).lower() == name.lower()), None)
    except (ValueError, TypeError):
        return None


def _domain(value: Any, storage_url: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str) and value:
        return value
    # Mailgun's event data names the domain only in the storage URL: .../domains/<domain>/messages/<key>
    parts = urlsplit(storage_url).path.split("/") if isinstance(storage_url, str) else []
    return parts[parts.index("domains") + 1] if "domains" in parts[:-1] else None


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
