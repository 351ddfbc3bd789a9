"""What a send does in the sandbox: render, expand, store, decide, record events, fire webhooks.

A send (see :class:`Submission`, built by ``areas.messages``) becomes one stored message per copy
(kind ``message``, key ``domain/storage_key``) and events per recipient (kind ``event``, key
``domain/<12-digit sequence>``) in the exact event-data shape of Mailgun's Events API:

* ``accepted`` for every recipient, then
* ``delivered``, or ``failed`` (permanent, reason ``suppress-bounce`` / ``suppress-unsubscribe`` /
  ``suppress-complaint``) when the recipient is on the domain's suppression lists. As on Mailgun,
  the allowlist only keeps addresses from being added to the bounce list; it does not lift a bounce
  that is already there.

Scheduled messages (``o:deliverytime`` in the future) are only ``accepted``; :func:`deliver_due`
delivers them on the first request after their time. Test mode gives ``accepted`` and ``delivered``
with ``flags.is-test-mode`` and checks nothing else. Every event is posted, signed like Mailgun
does, to the domain's webhook URLs for that event, but only to loopback URLs; every attempt is
recorded in ``Sandbox.webhook_deliveries``.
"""

from __future__ import annotations

import base64
import html as htmllib
import json
import re
import secrets
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from mg_tools.sandbox.core import ApiError, Ctx, Sandbox, is_loopback_host, public

__all__ = [
    "QUEUED",
    "Part",
    "Submission",
    "cancel_scheduled",
    "deliver_due",
    "fire_webhooks",
    "header_problem",
    "is_loopback_url",
    "mime_text",
    "render_template",
    "submit",
    "substitute_recipient",
]

QUEUED = "Queued. Thank you."
#: Tags kept per message (Mailgun's current documented limit; extra tags are ignored).
MAX_TAGS_PER_MESSAGE = 10
MAX_TAG_LENGTH = 128
#: Unique tags per domain (Mailgun's documented default); new tags beyond it are not recorded.
DOMAIN_TAG_LIMIT = 20000
WEBHOOK_TIMEOUT = 3.0
#: Webhook attempts kept in memory for ``/_sandbox/webhook-deliveries``.
MAX_DELIVERY_RECORDS = 1000
SCHEDULE_KIND = "schedule"  # private to the pipeline: pending scheduled copies

_SUPPRESSIONS = (
    ("bounce", "suppress-bounce", "Not delivering to previously bounced address"),
    ("unsubscribe", "suppress-unsubscribe", "Not delivering to unsubscribed address"),
    ("complaint", "suppress-complaint", "Not delivering to a user who marked your messages as spam"),
)
_PROVIDERS = {
    "gmail.com": "Gmail", "googlemail.com": "Gmail", "yahoo.com": "Yahoo", "ymail.com": "Yahoo",
    "outlook.com": "Microsoft", "hotmail.com": "Microsoft", "live.com": "Microsoft", "msn.com": "Microsoft",
    "icloud.com": "Apple", "me.com": "Apple", "mac.com": "Apple", "aol.com": "AOL",
}
_WEBHOOK_OF_EVENT = {
    "accepted": "accepted", "delivered": "delivered", "opened": "opened", "clicked": "clicked",
    "unsubscribed": "unsubscribed", "complained": "complained",
}

Part = tuple[str, bytes, str]  # (filename, content, content type)


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


@dataclass
class _Recipient:
    address: str
    to_header: str
    variables: dict[str, Any]
    mailing_list: dict[str, Any] | None = None


@dataclass
class _Content:
    subject: str
    text: str | None
    html: str | None
    template: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: What ``str.splitlines`` (and so the email package) takes for the end of a line.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_UNSAFE_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be a MIME header value, or None: it must hold no line break, no control
    character (a tab aside) and no unpaired surrogate."""
    match = _UNSAFE_IN_HEADER.search(value)
    if match is None:
        return None
    char = match.group()
    kind = ("line breaks" if char in _LINE_BREAKS else
            "unpaired surrogates" if "\ud800" <= char <= "\udfff" else "control characters")
    return f"{kind} (U+{ord(char):04X} at position {match.start()})"


@lru_cache(maxsize=256)
def _bare(address: str) -> str:
    """The address part of ``Name <address>`` (parsing is slow; a batch repeats its sender 1000 times)."""
    return parseaddr(address)[1] or address


# -- rendering ------------------------------------------------------------------------------------

_BLOCK = re.compile(r"\{\{#(if|unless)\s+([^}]+?)\s*\}\}((?:(?!\{\{#(?:if|unless)\s).)*?)\{\{/\1\}\}", re.S)
_VAR = re.compile(r"\{\{\{\s*([^{}]+?)\s*\}\}\}|\{\{\s*([^{}#/!>^][^{}]*?)\s*\}\}")
_RECIPIENT_VAR = re.compile(r"%recipient\.([A-Za-z0-9_.\-]+)%")


def _lookup(variables: dict[str, Any], path: str) -> Any:
    value: Any = variables
    for part in path.strip().removeprefix("this.").lstrip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def render_template(source: str, variables: dict[str, Any]) -> str:
    """Render the handlebars subset Mailgun templates mostly use: ``{{var}}`` (HTML-escaped),
    ``{{{var}}}`` (raw), ``{{obj.field}}``, ``{{#if x}}..{{else}}..{{/if}}`` and ``#unless``;
    missing values render empty."""

    def block(match: re.Match) -> str:
        kind, name, body = match.groups()
        yes, _, no = body.partition("{{else}}")
        truthy = bool(_lookup(variables, name))
        return yes if truthy == (kind == "if") else no

    previous = None
    while previous != source:
        previous, source = source, _BLOCK.sub(block, source)

    def var(match: re.Match) -> str:
        raw, escaped = match.groups()
        if raw is not None:
            return _text(_lookup(variables, raw))
        return htmllib.escape(_text(_lookup(variables, escaped)))

    return _VAR.sub(var, source)


def substitute_recipient(text: str | None, variables: dict[str, Any]) -> str | None:
    """Replace ``%recipient.<name>%`` with this recipient's value (empty when missing)."""
    if not text:
        return text
    return _RECIPIENT_VAR.sub(lambda m: _text(_lookup(variables, m.group(1))), text)


def _html_to_text(source: str) -> str:
    source = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", source)
    source = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", source)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", source)).strip()


# -- templates ------------------------------------------------------------------------------------


def _template_version(sb: Sandbox, domain: str, name: str, tag: str | None) -> tuple[dict, dict]:
    doc = sb.state.get("template", f"{domain}/{name}") or sb.state.get("template", f"{domain}/{name.lower()}")
    if doc is None:
        raise ApiError(400, f"template '{name}' not found")
    versions = doc.get("versions") or {}
    if tag:
        version = versions.get(tag) or versions.get(tag.lower())
        if version is None:
            raise ApiError(400, f"template '{name}' has no version '{tag}'")
        return doc, version
    active = [v for v in versions.values() if v.get("active")]
    if not active:
        raise ApiError(400, f"template '{name}' has no active version")
    return doc, active[0]


def _content(sb: Sandbox, sub: Submission) -> _Content:
    subject = sub.subject or ""
    if not sub.template:
        return _Content(subject, sub.text, sub.html)
    doc, version = _template_version(sb, sub.domain, sub.template, sub.template_version)
    variables = {**sub.variables, **sub.template_variables}
    html = render_template(version.get("template") or "", variables)
    headers = {k: render_template(str(v), variables) for k, v in (version.get("headers") or {}).items()}
    if not subject:
        subject = next((v for k, v in headers.items() if k.lower() == "subject"), "")
    text = sub.text
    if sub.template_text:
        text = _html_to_text(html)
    meta = {"name": doc.get("name", sub.template), "version": version.get("tag", ""), "is-text": sub.template_text}
    headers = {k: v for k, v in headers.items() if k.lower() != "subject"}
    return _Content(subject, text, html, meta, headers)


# -- recipients -----------------------------------------------------------------------------------


def _addresses(values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(display header, name, address) for each address in repeated / comma-separated fields."""
    out = []
    for name, addr in getaddresses(list(values)):
        if addr:
            out.append((f"{name} <{addr}>" if name else addr, name, addr))
    return out


def _mailing_list(sb: Sandbox, address: str) -> dict[str, Any] | None:
    return sb.state.get("list", address) or sb.state.get("list", address.lower())


def _expand(sb: Sandbox, sub: Submission) -> tuple[list[_Recipient], bool]:
    """The recipients (mailing lists expanded to subscribed members) and whether the send is a
    batch, where every recipient gets their own copy."""
    recipients: list[_Recipient] = []
    seen: set[str] = set()
    batch = bool(sub.recipient_variables)
    for header, _name, addr in _addresses([*sub.to, *sub.cc, *sub.bcc]):
        mlist = _mailing_list(sb, addr)
        if mlist is not None:
            batch = True
            list_address = mlist.get("address", addr)
            for member in sb.state.list("member", f"{list_address}/"):
                if member.get("subscribed", True) is False or member["address"].lower() in seen:
                    continue
                seen.add(member["address"].lower())
                variables = {**(member.get("vars") or {}), **sub.recipient_variables.get(member["address"], {})}
                recipients.append(_Recipient(member["address"], header, variables, mlist))
            continue
        if addr.lower() in seen:
            continue
        seen.add(addr.lower())
        recipients.append(_Recipient(addr, header, dict(sub.recipient_variables.get(addr, {}))))
    return recipients, batch


# -- MIME -----------------------------------------------------------------------------------------


def _split_type(content_type: str) -> tuple[str, str]:
    main, _, subtype = (content_type or "application/octet-stream").partition(";")[0].strip().partition("/")
    return (main or "application"), (subtype or "octet-stream")


def _build_mime(headers: list[tuple[str, str]], text: str | None, html: str | None, amp: str | None,
                inline: list[Part], attachments: list[Part]) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    bodies = [(body, subtype) for body, subtype in ((text, "plain"), (amp, "x-amp-html"), (html, "html"))
              if body is not None] or [("", "plain")]
    msg.set_content(bodies[0][0], subtype=bodies[0][1])
    for body, subtype in bodies[1:]:
        msg.add_alternative(body, subtype=subtype)
    html_part = None
    if html is not None:
        html_part = msg if len(bodies) == 1 else msg.get_payload()[-1]
    for filename, content, ctype in inline:
        maintype, subtype = _split_type(ctype)
        (html_part if html_part is not None else msg).add_related(
            content, maintype=maintype, subtype=subtype, cid=f"<{filename}>", filename=filename,
            disposition="inline")
    for filename, content, ctype in attachments:
        maintype, subtype = _split_type(ctype)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg


# -- the send -------------------------------------------------------------------------------------


def _message_id(domain: str, now: float) -> str:
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d%H%M%S")
    return f"{stamp}.{secrets.token_hex(8).upper()}@{domain}"


def _storage_key() -> str:
    return secrets.token_urlsafe(24)


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        # Mailgun strips non-ASCII characters and drops a tag left empty.
        tag = tag.encode("ascii", "ignore").decode()[:MAX_TAG_LENGTH]
        if tag and tag not in out:
            out.append(tag)
    return out[:MAX_TAGS_PER_MESSAGE]


async def submit(ctx: Ctx, sub: Submission) -> str:
    """Accept a send: store its copies, record its events, fire webhooks; returns ``<message-id>``."""
    sb = ctx.sb
    now = sb.now()
    message_id = _message_id(sub.domain, now)
    content = _content(sb, sub)
    recipients, batch = _expand(sb, sub)
    sub.tags = _clean_tags(sub.tags)
    scheduled = sub.deliver_at is not None and sub.deliver_at > now and not sub.test_mode
    groups = [[r] for r in recipients] if batch else [recipients]
    events: list[dict[str, Any]] = []
    with sb.state.transaction():
        for group in groups:
            if group:
                events += _store_copy(ctx, sub, content, message_id, group, batch, now, scheduled)
        _record_tags(sb, sub.domain, sub.tags, now)
    await _fire_all(sb, sub.domain, events)
    return f"<{message_id}>"


def _store_copy(ctx: Ctx, sub: Submission, content: _Content, message_id: str, group: list[_Recipient],
                batch: bool, now: float, scheduled: bool) -> list[dict[str, Any]]:
    sb = ctx.sb
    key = _storage_key()
    url = ctx.url(f"/v3/domains/{quote(sub.domain, safe='')}/messages/{key}")
    if sub.mime is not None:
        stored = _stored_from_mime(sub, group, message_id)
    else:
        stored = _stored_from_fields(sub, content, message_id, group, batch, now)
    stored.update({
        "_domain": sub.domain, "_storage_key": key, "_url": url, "_message_id": message_id, "_created": now,
        "_recipients": [{"address": r.address, "list": _list_info(r.mailing_list) if r.mailing_list else None}
                        for r in group],
        "_status": "scheduled" if scheduled else "delivered",
        "_scheduled_for": sub.deliver_at if scheduled else None,
    })
    base = _event_base(sub, content, message_id, stored, key, url)
    stored["_event_base"] = base
    sb.state.put("message", f"{sub.domain}/{key}", stored)
    events = [_record(sb, sub.domain, _accepted(base, r, now, sub.deliver_at if scheduled else None))
              for r in group]
    if scheduled:
        sb.state.put(SCHEDULE_KIND, f"{sub.domain}/{key}", {"domain": sub.domain, "key": key, "due": sub.deliver_at})
        return events
    for recipient in stored["_recipients"]:
        events.append(_record(sb, sub.domain, _outcome(sb, sub.domain, base, recipient, now)))
    return events


def _stored_from_fields(sub: Submission, content: _Content, message_id: str, group: list[_Recipient],
                        batch: bool, now: float) -> dict[str, Any]:
    """The stored copy of a form send; its MIME is only built when asked for (``mime_text``), so
    a batch of 1000 stays fast."""
    variables = group[0].variables if batch else {}
    subject = substitute_recipient(content.subject, variables) or ""
    text = substitute_recipient(content.text, variables)
    html = substitute_recipient(content.html, variables)
    to_header = group[0].to_header if batch else ", ".join(h for h, _n, _a in _addresses(sub.to))
    cc_header = "" if batch else ", ".join(h for h, _n, _a in _addresses(sub.cc))
    headers = _headers(sub, content, message_id, subject, to_header, cc_header, now)
    _check_headers(headers)
    ctype = _content_type(text, html, sub.amp_html, sub.inline, sub.attachments)
    stored = _stored_doc(sub, [*headers, ("Content-Type", ctype)], text, html, sub.attachments, sub.inline, group)
    stored["_headers"] = headers
    stored["_parts"] = {
        "text": text, "html": html, "amp": sub.amp_html,
        "attachments": [[n, t, base64.b64encode(c).decode()] for n, c, t in sub.attachments],
        "inline": [[n, t, base64.b64encode(c).decode()] for n, c, t in sub.inline],
    }
    stored["_size"] = _estimated_size(headers, text, html, sub.amp_html, [*sub.attachments, *sub.inline])
    return stored


def _check_headers(headers: list[tuple[str, str]]) -> None:
    """400 when a copy's MIME could not be built. The request's own fields were checked as they
    arrived; what is left is what template rendering and recipient variables put in."""
    for name, value in headers:
        problem = header_problem(value)
        if problem:
            raise ApiError(400, f"The {name} header of this message would contain {problem}: check the template "
                                "and the variables (t:variables, v:, recipient-variables) that fill it")


def _content_type(text: str | None, html: str | None, amp: str | None, inline: list[Part],
                  attachments: list[Part]) -> str:
    """The top-level Content-Type ``_build_mime`` gives these parts (without its boundary)."""
    bodies = [b for b in (text, amp, html) if b is not None] or [""]
    if attachments:
        return "multipart/mixed"
    if inline:
        return "multipart/alternative" if len(bodies) > 1 else "multipart/related"
    if len(bodies) > 1:
        return "multipart/alternative"
    subtype = "html" if html is not None else "x-amp-html" if amp is not None else "plain"
    return f'text/{subtype}; charset="utf-8"'


def _estimated_size(headers: list[tuple[str, str]], text: str | None, html: str | None, amp: str | None,
                    files: list[Part]) -> int:
    """About the size of the MIME rendering: headers, bodies, base64-encoded files and part headers."""
    size = sum(len(name) + len(value.encode()) + 4 for name, value in headers)
    size += sum(len(b.encode()) + 120 for b in (text, html, amp) if b is not None)
    return size + sum(len(c) * 4 // 3 + 200 for _n, c, _t in files)


def _headers(sub: Submission, content: _Content, message_id: str, subject: str, to_header: str,
             cc_header: str, now: float) -> list[tuple[str, str]]:
    headers = [("Mime-Version", "1.0"), ("From", sub.sender), ("To", to_header)]
    if cc_header:
        headers.append(("Cc", cc_header))
    headers += [("Subject", subject), ("Date", format_datetime(datetime.fromtimestamp(now, tz=UTC))),
                ("Message-Id", f"<{message_id}>")]
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


def _bodies(msg: EmailMessage) -> tuple[str | None, str | None]:
    text = html = None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            text = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
    return text, html


def _files(msg: EmailMessage) -> tuple[list[Part], list[Part]]:
    attachments: list[Part] = []
    inline: list[Part] = []
    for part in msg.walk():
        disposition = part.get_content_disposition()
        if part.is_multipart() or disposition not in {"attachment", "inline"} or not part.get_filename():
            continue
        payload = part.get_payload(decode=True) or b""
        (inline if disposition == "inline" else attachments).append(
            (part.get_filename(), payload, part.get_content_type()))
    return attachments, inline


def _stored_doc(sub: Submission, header_pairs: list[tuple[str, str]], text: str | None, html: str | None,
                attachments: list[Part], inline: list[Part], group: list[_Recipient]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, value in header_pairs:
        doc[name] = f"{doc[name]}, {value}" if name in doc else value  # repeated headers (X-Mailgun-Tag)
    doc.update({
        "sender": _bare(sub.sender),
        "recipients": ", ".join(r.address for r in group),
        "body-plain": text or "",
        "body-html": html or "",
        "stripped-text": (text or "").strip(),
        "stripped-html": html or "",
        "stripped-signature": "",
        "message-headers": [[name, value] for name, value in header_pairs],
        "attachments": [{"name": n, "content-type": t, "size": len(c)} for n, c, t in attachments],
        "content-id-map": {f"<{n}>": {"name": n, "content-type": t, "size": len(c)} for n, c, t in inline},
    })
    return doc


def mime_text(doc: dict[str, Any]) -> str:
    """The full MIME rendering of a stored message (``body-mime``)."""
    if "_mime_b64" in doc:
        return base64.b64decode(doc["_mime_b64"]).decode("utf-8", "replace")
    parts = doc.get("_parts") or {}

    def files(name: str) -> list[Part]:
        return [(n, base64.b64decode(c), t) for n, t, c in parts.get(name) or []]

    msg = _build_mime([(n, v) for n, v in doc.get("_headers") or []], parts.get("text"), parts.get("html"),
                      parts.get("amp"), files("inline"), files("attachments"))
    return msg.as_string()


def _header(doc: dict[str, Any], name: str, default: str = "") -> str:
    """A top-level header of a stored message, by case-insensitive name."""
    for key, value in doc.get("message-headers", []):
        if key.lower() == name.lower():
            return value
    return default


def _stored_from_mime(sub: Submission, group: list[_Recipient], message_id: str) -> dict[str, Any]:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(sub.mime or b"")
        if msg["Message-Id"] is None:
            msg["Message-Id"] = f"<{message_id}>"
        for tag in sub.tags:
            msg["X-Mailgun-Tag"] = tag
        text, html = _bodies(msg)
        attachments, inline = _files(msg)
        raw = msg.as_bytes()
        header_pairs = [(n, str(v)) for n, v in msg.items()]
    except Exception as exc:  # the email package raises many kinds of error on malformed input
        raise ApiError(400, f"'message' parameter is not a MIME message that can be read and stored "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from None
    stored = _stored_doc(sub, header_pairs, text, html, attachments, inline, group)
    stored.update({"_mime_b64": base64.b64encode(raw).decode(), "_size": len(raw)})
    return stored


def _event_base(sub: Submission, content: _Content, message_id: str, stored: dict[str, Any], key: str,
                url: str) -> dict[str, Any]:
    attachments = [{"filename": a["name"], "content-type": a["content-type"], "size": a["size"]}
                   for a in stored.get("attachments", [])]
    base: dict[str, Any] = {
        "envelope": {"sender": _bare(sub.sender), "transport": "smtp"},
        "message": {
            "headers": {"to": _header(stored, "To"), "message-id": message_id,
                        "from": _header(stored, "From", sub.sender), "subject": _header(stored, "Subject")},
            "attachments": attachments,
            "size": stored["_size"],
        },
        "storage": {"key": key, "url": url},
        "tags": list(sub.tags),
        "user-variables": dict(sub.variables),
        "flags": {"is-authenticated": True, "is-system-test": False, "is-routed": False,
                  "is-amp": bool(sub.amp_html), "is-test-mode": sub.test_mode, "is-delayed-bounce": False,
                  "is-callback": False, "is-encrypted": False},
    }
    if content.template:
        base["template"] = dict(content.template)
    return base


def _event(base: dict[str, Any], name: str, recipient: str, now: float, level: str) -> dict[str, Any]:
    domain = recipient.rpartition("@")[2].lower()
    event = {"id": secrets.token_urlsafe(16), "event": name, "timestamp": round(now, 6), "log-level": level,
             "recipient": recipient, "recipient-domain": domain, "recipient-provider": _PROVIDERS.get(domain, "Other")}
    # Only the parts an event changes are copied; the rest is shared and only ever read.
    event.update(base, envelope=dict(base["envelope"]), message=dict(base["message"]))
    event["envelope"]["targets"] = recipient
    return event


def _accepted(base: dict[str, Any], recipient: _Recipient, now: float, scheduled_for: float | None) -> dict[str, Any]:
    event = _event(base, "accepted", recipient.address, now, "info")
    event["method"] = "http"
    # Only the event's own recipient: listing all 1000 of a batch on each of its events would make
    # a batch's events grow with the square of its size.
    event["message"]["recipients"] = [recipient.address]
    if scheduled_for is not None:
        event["message"]["scheduled-for"] = int(scheduled_for)
    if recipient.mailing_list:
        event["mailing-list"] = _list_info(recipient.mailing_list)
    return event


def _list_info(mlist: dict[str, Any]) -> dict[str, Any]:
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


def _outcome(sb: Sandbox, domain: str, base: dict[str, Any], recipient: dict[str, Any], now: float) -> dict[str, Any]:
    """The delivered or failed event of one recipient (``{"address", "list"}``) of a stored copy."""
    address = recipient["address"]
    test_mode = base["flags"]["is-test-mode"]
    blocked = None if test_mode else _suppression(sb, domain, address, base.get("tags", []))
    if blocked is None:
        event = _event(base, "delivered", address, now, "info")
        event["envelope"]["sending-ip"] = "127.0.0.1"
        event["delivery-status"] = {
            "tls": True, "mx-host": "mx.sandbox.invalid", "code": 250, "description": "",
            "session-seconds": 0.0, "utf8": True, "attempt-no": 1, "message": "OK",
            "certificate-verified": True,
        }
    else:
        reason, description = blocked
        event = _event(base, "failed", address, now, "error")
        event.update({"severity": "permanent", "reason": reason})
        event["delivery-status"] = {"attempt-no": 1, "message": "", "code": 605, "description": description,
                                    "session-seconds": 0.0}
    if recipient.get("list"):
        event["mailing-list"] = recipient["list"]
    return event


def _record(sb: Sandbox, domain: str, event: dict[str, Any]) -> dict[str, Any]:
    seq = sb.state.next_id("event")
    sb.state.put("event", f"{domain}/{seq:012d}", event)
    return event


def _record_tags(sb: Sandbox, domain: str, tags: list[str], now: float) -> None:
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


# -- scheduled delivery ---------------------------------------------------------------------------


async def deliver_due(sb: Sandbox) -> int:
    """Deliver every scheduled copy whose time has come; returns how many copies were delivered.

    Cheap when nothing is scheduled; safe under concurrent requests (each copy is claimed once).
    """
    if not sb.state.count(SCHEDULE_KIND):
        return 0
    now = sb.now()
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
                event = _outcome(sb, entry["domain"], stored["_event_base"], recipient, entry["due"])
                events.append(_record(sb, entry["domain"], event))
            stored["_status"] = "delivered"
            sb.state.put("message", key, stored)
        done += 1
        await _fire_all(sb, entry["domain"], events)
    return done


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


# -- webhooks -------------------------------------------------------------------------------------


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


async def _fire_all(sb: Sandbox, domain: str, events: list[dict[str, Any]]) -> None:
    if not events or not sb.state.count("webhook", f"{domain}/"):
        return
    async with _webhook_client() as client:
        for event in events:
            await fire_webhooks(sb, domain, event, client=client)


async def fire_webhooks(sb: Sandbox, domain: str, event: dict[str, Any], *,
                        client: httpx.AsyncClient | None = None) -> list[dict[str, Any]]:
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


async def _post(sb: Sandbox, client: httpx.AsyncClient, url: str, webhook: str, domain: str,
                event: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"url": url, "webhook": webhook, "domain": domain, "event": event.get("event"),
                              "event_id": event.get("id"), "timestamp": sb.now(), "status": None,
                              "error": None, "skipped": False}
    if not is_loopback_url(url):
        record.update(skipped=True, error="not a loopback URL; the sandbox never contacts other hosts")
    else:
        timestamp = str(int(sb.now()))
        token = secrets.token_hex(25)
        payload = {"signature": {"timestamp": timestamp, "token": token, "signature": sb.sign(timestamp, token)},
                   "event-data": public(event)}
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
