"""MIME in the sandbox: header values a message may carry, building a stored message's MIME and
reading the bodies and files of an uploaded one."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

__all__ = [
    "Part",
    "bare",
    "build_mime",
    "content_type",
    "estimated_size",
    "header_problem",
    "message_bodies",
    "message_files",
    "mime_text",
    "stored_header",
]

Part = tuple[str, bytes, str]  # (filename, content, content type)

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
    kind = (
        "line breaks"
        if char in _LINE_BREAKS
        else "unpaired surrogates"
        if "\ud800" <= char <= "\udfff"
        else "control characters"
    )
    return f"{kind} (U+{ord(char):04X} at position {match.start()})"


@lru_cache(maxsize=256)
def bare(address: str) -> str:
    """The address part of ``Name <address>`` (parsing is slow; a batch repeats its sender 1000 times)."""
    return parseaddr(address)[1] or address


def _split_type(content_type: str) -> tuple[str, str]:
    main, _, subtype = (content_type or "application/octet-stream").partition(";")[0].strip().partition("/")
    return (main or "application"), (subtype or "octet-stream")


def build_mime(
    headers: list[tuple[str, str]],
    text: str | None,
    html: str | None,
    amp: str | None,
    inline: list[Part],
    attachments: list[Part],
) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    bodies = [
        (body, subtype) for body, subtype in ((text, "plain"), (amp, "x-amp-html"), (html, "html")) if body is not None
    ] or [("", "plain")]
    msg.set_content(bodies[0][0], subtype=bodies[0][1])
    for body, subtype in bodies[1:]:
        msg.add_alternative(body, subtype=subtype)
    html_part = None
    if html is not None:
        html_part = msg if len(bodies) == 1 else msg.get_payload()[-1]
    for filename, content, ctype in inline:
        maintype, subtype = _split_type(ctype)
        (html_part if html_part is not None else msg).add_related(
            content, maintype=maintype, subtype=subtype, cid=f"<{filename}>", filename=filename, disposition="inline"
        )
    for filename, content, ctype in attachments:
        maintype, subtype = _split_type(ctype)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def content_type(
    text: str | None, html: str | None, amp: str | None, inline: list[Part], attachments: list[Part]
) -> str:
    """The top-level Content-Type ``build_mime`` gives these parts (without its boundary)."""
    bodies = [b for b in (text, amp, html) if b is not None] or [""]
    if attachments:
        return "multipart/mixed"
    if inline:
        return "multipart/alternative" if len(bodies) > 1 else "multipart/related"
    if len(bodies) > 1:
        return "multipart/alternative"
    subtype = "html" if html is not None else "x-amp-html" if amp is not None else "plain"
    return f'text/{subtype}; charset="utf-8"'


def estimated_size(
    headers: list[tuple[str, str]], text: str | None, html: str | None, amp: str | None, files: list[Part]
) -> int:
    """About the size of the MIME rendering: headers, bodies, base64-encoded files and part headers."""
    size = sum(len(name) + len(value.encode()) + 4 for name, value in headers)
    size += sum(len(b.encode()) + 120 for b in (text, html, amp) if b is not None)
    return size + sum(len(c) * 4 // 3 + 200 for _n, c, _t in files)


def message_bodies(msg: EmailMessage) -> tuple[str | None, str | None]:
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


def message_files(msg: EmailMessage) -> tuple[list[Part], list[Part]]:
    attachments: list[Part] = []
    inline: list[Part] = []
    for part in msg.walk():
        disposition = part.get_content_disposition()
        if part.is_multipart() or disposition not in {"attachment", "inline"} or not part.get_filename():
            continue
        payload = part.get_payload(decode=True) or b""
        (inline if disposition == "inline" else attachments).append(
            (part.get_filename(), payload, part.get_content_type())
        )
    return attachments, inline


def mime_text(doc: dict[str, Any]) -> str:
    """The full MIME rendering of a stored message (``body-mime``)."""
    if "_mime_b64" in doc:
        return base64.b64decode(doc["_mime_b64"]).decode("utf-8", "replace")
    parts = doc.get("_parts") or {}

    def files(name: str) -> list[Part]:
        return [(n, base64.b64decode(c), t) for n, t, c in parts.get(name) or []]

    msg = build_mime(
        [(n, v) for n, v in doc.get("_headers") or []],
        parts.get("text"),
        parts.get("html"),
        parts.get("amp"),
        files("inline"),
        files("attachments"),
    )
    return msg.as_string()


def stored_header(doc: dict[str, Any], name: str, default: str = "") -> str:
    """A top-level header of a stored message, by case-insensitive name."""
    for key, value in doc.get("message-headers", []):
        if key.lower() == name.lower():
            return value
    return default
