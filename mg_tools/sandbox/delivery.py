"""Delivery decisions in the sandbox: who a send reaches (mailing lists expanded to their subscribed
members), whether each recipient is suppressed, and the events and tags recorded for it.

Events have the exact event-data shape of Mailgun's Events API: ``accepted`` for every recipient, then
``delivered``, or ``failed`` (permanent, reason ``suppress-bounce`` / ``suppress-unsubscribe`` /
``suppress-complaint``) when the recipient is on the domain's suppression lists. As on Mailgun, the
allowlist only keeps addresses from being added to the bounce list; it does not lift a bounce that is
already there. Test mode gives ``accepted`` and ``delivered`` with ``flags.is-test-mode`` and checks
nothing else. Events are stored as kind ``event``, key ``domain/<12-digit sequence>``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any

from mg_tools.sandbox.core import Sandbox
from mg_tools.sandbox.mime import bare, stored_header
from mg_tools.sandbox.rendering import Content

if TYPE_CHECKING:
    from mg_tools.sandbox.pipeline import Submission

__all__ = [
    "DOMAIN_TAG_LIMIT",
    "Recipient",
    "accepted",
    "addresses",
    "clean_tags",
    "event_base",
    "expand",
    "list_info",
    "outcome",
    "record",
    "record_tags",
]

#: Tags kept per message (Mailgun's current documented limit; extra tags are ignored).
MAX_TAGS_PER_MESSAGE = 10
MAX_TAG_LENGTH = 128
#: Unique tags per domain (Mailgun's documented default); new tags beyond it are not recorded.
DOMAIN_TAG_LIMIT = 20000

_SUPPRESSIONS = (
    ("bounce", "suppress-bounce", "Not delivering to previously bounced address"),
    ("unsubscribe", "suppress-unsubscribe", "Not delivering to unsubscribed address"),
    ("complaint", "suppress-complaint", "Not delivering to a user who marked your messages as spam"),
)
_PROVIDERS = {
    "gmail.com": "Gmail",
    "googlemail.com": "Gmail",
    "yahoo.com": "Yahoo",
    "ymail.com": "Yahoo",
    "outlook.com": "Microsoft",
    "hotmail.com": "Microsoft",
    "live.com": "Microsoft",
    "msn.com": "Microsoft",
    "icloud.com": "Apple",
    "me.com": "Apple",
    "mac.com": "Apple",
    "aol.com": "AOL",
}


@dataclass
class Recipient:
    address: str
    to_header: str
    variables: dict[str, Any]
    mailing_list: dict[str, Any] | None = None


#: A bare address, which parses as itself: the full RFC 2822 parser is slow for a batch of 1000.
_BARE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")


def parse_addresses(values: Iterable[str]) -> list[tuple[str, str]]:
    """``email.utils.getaddresses`` of ``values``, bare addresses taken as they are."""
    values = list(values)
    if all(_BARE.match(v) for v in values):
        return [("", v) for v in values]
    return getaddresses(values)


def addresses(values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(display header, name, address) for each address in repeated / comma-separated fields."""
    out = []
    for name, addr in parse_addresses(values):
        if addr:
            out.append((f"{name} <{addr}>" if name else addr, name, addr))
    return out


def _mailing_list(sb: Sandbox, address: str) -> dict[str, Any] | None:
    return sb.state.get("list", address) or sb.state.get("list", address.lower())


def expand(sb: Sandbox, sub: Submission) -> tuple[list[Recipient], bool]:
    """The recipients (mailing lists expanded to subscribed members) and whether the send is a
    batch, where every recipient gets their own copy."""
    recipients: list[Recipient] = []
    seen: set[str] = set()
    batch = bool(sub.recipient_variables)
    for header, _name, addr in addresses([*sub.to, *sub.cc, *sub.bcc]):
        mlist = _mailing_list(sb, addr)
        if mlist is not None:
            batch = True
            list_address = mlist.get("address", addr)
            for member in sb.state.list("member", f"{list_address}/"):
                if member.get("subscribed", True) is False or member["address"].lower() in seen:
                    continue
                seen.add(member["address"].lower())
                variables = {**(member.get("vars") or {}), **sub.recipient_variables.get(member["address"], {})}
                recipients.append(Recipient(member["address"], header, variables, mlist))
            continue
        if addr.lower() in seen:
            continue
        seen.add(addr.lower())
        recipients.append(Recipient(addr, header, dict(sub.recipient_variables.get(addr, {}))))
    return recipients, batch


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        # Mailgun strips non-ASCII characters and drops a tag left empty.
        tag = tag.encode("ascii", "ignore").decode()[:MAX_TAG_LENGTH]
        if tag and tag not in out:
            out.append(tag)
    return out[:MAX_TAGS_PER_MESSAGE]


def event_base(
    sub: Submission, content: Content, message_id: str, stored: dict[str, Any], key: str, url: str
) -> dict[str, Any]:
    attachments = [
        {"filename": a["name"], "content-type": a["content-type"], "size": a["size"]}
        for a in stored.get("attachments", [])
    ]
    base: dict[str, Any] = {
        "envelope": {"sender": bare(sub.sender), "transport": "smtp"},
        "message": {
            "headers": {
                "to": stored_header(stored, "To"),
                "message-id": message_id,
                "from": stored_header(stored, "From", sub.sender),
                "subject": stored_header(stored, "Subject"),
            },
            "attachments": attachments,
            "size": stored["_size"],
        },
        "storage": {"key": key, "url": url},
        "tags": list(sub.tags),
        "user-variables": dict(sub.variables),
        "flags": {
            "is-authenticated": True,
            "is-system-test": False,
            "is-routed": False,
            "is-amp": bool(sub.amp_html),
            "is-test-mode": sub.test_mode,
            "is-delayed-bounce": False,
            "is-callback": False,
            "is-encrypted": False,
        },
    }
    if content.template:
        base["template"] = dict(content.template)
    return base


def _event(base: dict[str, Any], name: str, recipient: str, now: float, level: str) -> dict[str, Any]:
    domain = recipient.rpartition("@")[2].lower()
    event = {
        "id": secrets.token_urlsafe(16),
        "event": name,
        "timestamp": round(now, 6),
        "log-level": level,
        "recipient": recipient,
        "recipient-domain": domain,
        "recipient-provider": _PROVIDERS.get(domain, "Other"),
    }
    # Only the parts an event changes are copied; the rest is shared and only ever read.
    event.update(base, envelope=dict(base["envelope"]), message=dict(base["message"]))
    event["envelope"]["targets"] = recipient
    return event


def accepted(base: dict[str, Any], recipient: Recipient, now: float, scheduled_for: float | None) -> dict[str, Any]:
    event = _event(base, "accepted", recipient.address, now, "info")
    event["method"] = "http"
    # Only the event's own recipient: listing all 1000 of a batch on each of its events would make
    # a batch's events grow with the square of its size.
    event["message"]["recipients"] = [recipient.address]
    if scheduled_for is not None:
        event["message"]["scheduled-for"] = int(scheduled_for)
    if recipient.mailing_list:
        event["mailing-list"] = list_info(recipient.mailing_list)
    return event


def list_info(mlist: dict[str, Any]) -> dict[str, Any]:
    info = {"address": mlist.get("address", "")}
    if mlist.get("id"):
        info["list-id"] = mlist["id"]
    return info


def _suppression(sb: Sandbox, domain: str, address: str, tags: list[str]) -> tuple[str, str] | None:
    """The (reason, description) that stops delivery to ``address``, or None."""
    for kind, reason, description in _SUPPRESSIONS:
        doc = _find(sb, kind, domain, address)
        if doc is None:
            continue
        if kind == "unsubscribe" and not _unsubscribed_from(doc, tags):
            continue
        return reason, description
    return None


def _find(sb: Sandbox, kind: str, domain: str, value: str) -> dict[str, Any] | None:
    doc = sb.state.get(kind, f"{domain}/{value}")
    if doc is None and value != value.lower():
        doc = sb.state.get(kind, f"{domain}/{value.lower()}")
    return doc


def _unsubscribed_from(doc: dict[str, Any], tags: list[str]) -> bool:
    scope = doc.get("tags") or ["*"]
    if isinstance(scope, str):
        scope = [scope]
    return "*" in scope or bool({t.lower() for t in scope} & {t.lower() for t in tags})


def outcome(sb: Sandbox, domain: str, base: dict[str, Any], recipient: dict[str, Any], now: float) -> dict[str, Any]:
    """The delivered or failed event of one recipient (``{"address", "list"}``) of a stored copy."""
    address = recipient["address"]
    test_mode = base["flags"]["is-test-mode"]
    blocked = None if test_mode else _suppression(sb, domain, address, base.get("tags", []))
    if blocked is None:
        event = _event(base, "delivered", address, now, "info")
        event["envelope"]["sending-ip"] = "127.0.0.1"
        event["delivery-status"] = {
            "tls": True,
            "mx-host": "mx.sandbox.invalid",
            "code": 250,
            "description": "",
            "session-seconds": 0.0,
            "utf8": True,
            "attempt-no": 1,
            "message": "OK",
            "certificate-verified": True,
        }
    else:
        reason, description = blocked
        event = _event(base, "failed", address, now, "error")
        event.update({"severity": "permanent", "reason": reason})
        event["delivery-status"] = {
            "attempt-no": 1,
            "message": "",
            "code": 605,
            "description": description,
            "session-seconds": 0.0,
        }
    if recipient.get("list"):
        event["mailing-list"] = recipient["list"]
    return event


def record(sb: Sandbox, domain: str, event: dict[str, Any]) -> dict[str, Any]:
    seq = sb.state.next_id("event")
    sb.state.put("event", f"{domain}/{seq:012d}", event)
    return event


def record_tags(sb: Sandbox, domain: str, tags: list[str], now: float) -> None:
    stamp = _tag_time(now)
    for tag in tags:
        key = f"{domain}/{tag}"
        doc = sb.state.get("tag", key)
        if doc is None:
            if sb.state.count("tag", f"{domain}/") >= DOMAIN_TAG_LIMIT:
                continue
            doc = {"tag": tag, "description": "", "first-seen": stamp, "_first": now}
        doc.update({"last-seen": stamp, "_last": now})
        sb.state.put("tag", key, doc)


def _tag_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
