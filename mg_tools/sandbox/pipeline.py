"""What a send does in the sandbox: render, expand, store one message per copy, record events, fire
webhooks.

A send (see :class:`Submission`, built by ``areas.messages``) becomes one stored message per copy
(kind ``message``, key ``domain/storage_key``) and its events (see :mod:`~mg_tools.sandbox.delivery`).
The parts live in their own modules: :mod:`~mg_tools.sandbox.rendering` (templates, variables),
:mod:`~mg_tools.sandbox.mime`, :mod:`~mg_tools.sandbox.delivery` (recipients, suppressions, events),
:mod:`~mg_tools.sandbox.scheduler` (``o:deliverytime``) and :mod:`~mg_tools.sandbox.webhook_dispatch`.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from mg_tools.sandbox import scheduler
from mg_tools.sandbox.core import ApiError, Ctx
from mg_tools.sandbox.delivery import (
    Recipient,
    accepted,
    addresses,
    clean_tags,
    event_base,
    expand,
    list_info,
    outcome,
    record,
    record_tags,
)
from mg_tools.sandbox.mime import (
    Part,
    bare,
    content_type,
    estimated_size,
    header_problem,
    message_bodies,
    message_files,
)
from mg_tools.sandbox.rendering import Content, message_content, substitute_recipient
from mg_tools.sandbox.webhook_dispatch import fire_all

__all__ = ["QUEUED", "Submission", "submit"]

QUEUED = "Queued. Thank you."


@dataclass
class Submission:
    """A validated send request, independent of how it arrived (form fields or a MIME upload)."""

    domain: str
    sender: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    amp_html: str | None = None
    attachments: list[Part] = field(default_factory=list)
    inline: list[Part] = field(default_factory=list)
    template: str | None = None
    template_version: str | None = None
    template_text: bool = False
    template_variables: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    recipient_variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliver_at: float | None = None
    test_mode: bool = False
    mime: bytes | None = None


def _message_id(domain: str, now: float) -> str:
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d%H%M%S")
    return f"{stamp}.{secrets.token_hex(8).upper()}@{domain}"


def _storage_key() -> str:
    return secrets.token_urlsafe(24)


async def submit(ctx: Ctx, sub: Submission) -> str:
    """Accept a send: store its copies, record its events, fire webhooks; returns ``<message-id>``."""
    sb = ctx.sb
    now = sb.now()
    message_id = _message_id(sub.domain, now)
    content = message_content(sb, sub)
    recipients, batch = expand(sb, sub)
    sub.tags = clean_tags(sub.tags)
    scheduled = sub.deliver_at is not None and sub.deliver_at > now and not sub.test_mode
    groups = [[r] for r in recipients] if batch else [recipients]
    events: list[dict[str, Any]] = []
    with sb.state.transaction():
        for group in groups:
            if group:
                events += _store_copy(ctx, sub, content, message_id, group, batch, now, scheduled)
        record_tags(sb, sub.domain, sub.tags, now)
    await fire_all(sb, sub.domain, events)
    return f"<{message_id}>"


def _store_copy(
    ctx: Ctx,
    sub: Submission,
    content: Content,
    message_id: str,
    group: list[Recipient],
    batch: bool,
    now: float,
    scheduled: bool,
) -> list[dict[str, Any]]:
    sb = ctx.sb
    key = _storage_key()
    url = ctx.url(f"/v3/domains/{quote(sub.domain, safe='')}/messages/{key}")
    if sub.mime is not None:
        stored = _stored_from_mime(sub, group, message_id)
    else:
        stored = _stored_from_fields(sub, content, message_id, group, batch, now)
    stored.update(
        {
            "_domain": sub.domain,
            "_storage_key": key,
            "_url": url,
            "_message_id": message_id,
            "_created": now,
            "_recipients": [
                {"address": r.address, "list": list_info(r.mailing_list) if r.mailing_list else None} for r in group
            ],
            "_status": "scheduled" if scheduled else "delivered",
            "_scheduled_for": sub.deliver_at if scheduled else None,
        }
    )
    base = event_base(sub, content, message_id, stored, key, url)
    stored["event_base"] = base
    sb.state.put("message", f"{sub.domain}/{key}", stored)
    events = [record(sb, sub.domain, accepted(base, r, now, sub.deliver_at if scheduled else None)) for r in group]
    if scheduled:
        scheduler.schedule(sb, sub.domain, key, sub.deliver_at)
        return events
    for recipient in stored["_recipients"]:
        events.append(record(sb, sub.domain, outcome(sb, sub.domain, base, recipient, now)))
    return events


def _stored_from_fields(
    sub: Submission, content: Content, message_id: str, group: list[Recipient], batch: bool, now: float
) -> dict[str, Any]:
    """The stored copy of a form send; its MIME is only built when asked for (``mime_text``), so
    a batch of 1000 stays fast."""
    variables = group[0].variables if batch else {}
    subject = substitute_recipient(content.subject, variables) or ""
    text = substitute_recipient(content.text, variables)
    html = substitute_recipient(content.html, variables)
    to_header = group[0].to_header if batch else ", ".join(h for h, _n, _a in addresses(sub.to))
    cc_header = "" if batch else ", ".join(h for h, _n, _a in addresses(sub.cc))
    headers = _headers(sub, content, message_id, subject, to_header, cc_header, now)
    _check_headers(headers)
    ctype = content_type(text, html, sub.amp_html, sub.inline, sub.attachments)
    stored = _stored_doc(sub, [*headers, ("Content-Type", ctype)], text, html, sub.attachments, sub.inline, group)
    stored["_headers"] = headers
    stored["_parts"] = {
        "text": text,
        "html": html,
        "amp": sub.amp_html,
        "attachments": [[n, t, base64.b64encode(c).decode()] for n, c, t in sub.attachments],
        "inline": [[n, t, base64.b64encode(c).decode()] for n, c, t in sub.inline],
    }
    stored["_size"] = estimated_size(headers, text, html, sub.amp_html, [*sub.attachments, *sub.inline])
    return stored


def _check_headers(headers: list[tuple[str, str]]) -> None:
    """400 when a copy's MIME could not be built. The request's own fields were checked as they
    arrived; what is left is what template rendering and recipient variables put in."""
    for name, value in headers:
        problem = header_problem(value)
        if problem:
            raise ApiError(
                400,
                f"The {name} header of this message would contain {problem}: check the template "
                "and the variables (t:variables, v:, recipient-variables) that fill it",
            )


def _headers(
    sub: Submission, content: Content, message_id: str, subject: str, to_header: str, cc_header: str, now: float
) -> list[tuple[str, str]]:
    headers = [("Mime-Version", "1.0"), ("From", sub.sender), ("To", to_header)]
    if cc_header:
        headers.append(("Cc", cc_header))
    headers += [
        ("Subject", subject),
        ("Date", format_datetime(datetime.fromtimestamp(now, tz=UTC))),
        ("Message-Id", f"<{message_id}>"),
    ]
    headers += [("X-Mailgun-Tag", tag) for tag in sub.tags]
    if sub.variables:
        headers.append(("X-Mailgun-Variables", json.dumps(sub.variables)))
    if content.template:
        headers.append(("X-Mailgun-Template-Name", content.template["name"]))
        if sub.template_variables:
            headers.append(("X-Mailgun-Template-Variables", json.dumps(sub.template_variables)))
    reserved = {name.lower() for name, _ in headers}
    for name, value in {**content.headers, **sub.headers}.items():
        if name.lower() not in reserved:
            headers.append((name, value))
    return headers


def _stored_doc(
    sub: Submission,
    header_pairs: list[tuple[str, str]],
    text: str | None,
    html: str | None,
    attachments: list[Part],
    inline: list[Part],
    group: list[Recipient],
) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, value in header_pairs:
        doc[name] = f"{doc[name]}, {value}" if name in doc else value  # repeated headers (X-Mailgun-Tag)
    doc.update(
        {
            "sender": bare(sub.sender),
            "recipients": ", ".join(r.address for r in group),
            "body-plain": text or "",
            "body-html": html or "",
            "stripped-text": (text or "").strip(),
            "stripped-html": html or "",
            "stripped-signature": "",
            "message-headers": [[name, value] for name, value in header_pairs],
            "attachments": [{"name": n, "content-type": t, "size": len(c)} for n, c, t in attachments],
            "content-id-map": {f"<{n}>": {"name": n, "content-type": t, "size": len(c)} for n, c, t in inline},
        }
    )
    return doc


def _stored_from_mime(sub: Submission, group: list[Recipient], message_id: str) -> dict[str, Any]:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(sub.mime or b"")
        if msg["Message-Id"] is None:
            msg["Message-Id"] = f"<{message_id}>"
        for tag in sub.tags:
            msg["X-Mailgun-Tag"] = tag
        text, html = message_bodies(msg)
        attachments, inline = message_files(msg)
        raw = msg.as_bytes()
        header_pairs = [(n, str(v)) for n, v in msg.items()]
    except Exception as exc:  # the email package raises many kinds of error on malformed input
        raise ApiError(
            400,
            f"'message' parameter is not a MIME message that can be read and stored "
            f"({type(exc).__name__}: {str(exc)[:200]})",
        ) from None
    stored = _stored_doc(sub, header_pairs, text, html, attachments, inline, group)
    stored.update({"_mime_b64": base64.b64encode(raw).decode(), "_size": len(raw)})
    return stored
