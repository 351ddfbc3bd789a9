"""Reading and checking one webhook post: its signature, its age, and its shape (JSON or legacy form)."""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["DEFAULT_MAX_AGE", "REASONS", "Post", "Refusal", "parse_post", "verify"]

#: How far a post's timestamp may be from the listener's clock, either way, in seconds.
DEFAULT_MAX_AGE = 300.0
#: Why a post is refused, each with the HTTP status it is answered with.
REASONS = {"malformed": 400, "forged": 401, "stale": 403, "replayed": 409, "too_large": 413}
_SIGNATURE_FIELDS = ("timestamp", "token", "signature")


class Refusal(Exception):
    """A webhook post the listener will not act on: ``reason`` is one of :data:`REASONS`, ``message``
    says what was wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def status(self) -> int:
        return REASONS[self.reason]


@dataclass(frozen=True)
class Post:
    """One webhook post, read: its signature fields, its event, and whether it came in the legacy form shape."""

    timestamp: str
    token: str
    signature: str
    event: dict[str, Any]
    legacy: bool = False


def verify(
    signing_key: str,
    timestamp: str,
    token: str,
    signature: str,
    *,
    max_age: float = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> None:
    """Check one webhook signature as Mailgun makes it: the hex HMAC-SHA256 of ``timestamp + token``
    with ``signing_key``, compared in constant time, and ``timestamp`` within ``max_age`` seconds of
    ``now`` (default: the clock), either way. Returns nothing; raises :class:`Refusal` (``forged``,
    ``stale`` or ``malformed``)."""
    expected = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace").lower()):
        raise Refusal("forged", "the signature does not match the signing key")
    try:
        sent = float(timestamp)
    except ValueError:
        raise Refusal("malformed", "the timestamp is not a number of seconds") from None
    skew = (time.time() if now is None else now) - sent
    if abs(skew) > max_age:
        when = "old" if skew > 0 else "in the future"
        raise Refusal("stale", f"the timestamp is {abs(skew):.0f} s {when}; at most {max_age:.0f} s is accepted")


def parse_post(body: bytes, content_type: str) -> Post:
    """The :class:`Post` in a request body: Mailgun's JSON shape (``signature`` and ``event-data``)
    or the legacy form shape (signature and event fields side by side). Raises :class:`Refusal`
    (``malformed``) for anything else."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _json_post(body)
    if kind == "application/x-www-form-urlencoded":
        return _form_post(dict(parse_qsl(_text(body), keep_blank_values=True)))
    if kind == "multipart/form-data":
        return _form_post(_multipart_fields(body, content_type))
    raise Refusal("malformed", f"unsupported content type {kind or 'none'!r}: send JSON or form fields")


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The text fields of a multipart form, as legacy webhooks of stored messages post them; attached
    files (the message's attachments) are not event fields and are left out."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise Refusal("malformed", "the multipart body cannot be read (boundary or parts missing)")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename():
            continue
        value = part.get_payload(decode=True) or b""
        fields[name] = _text(value)
    return fields


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("malformed", "the body is not UTF-8") from None


def _json_post(body: bytes) -> Post:
    try:
        data = json.loads(_text(body))
    except ValueError:
        raise Refusal("malformed", "the body is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("signature"), dict):
        raise Refusal("malformed", "a JSON webhook needs a 'signature' object and an 'event-data' object")
    event = data.get("event-data")
    if not isinstance(event, dict):
        raise Refusal("malformed", "a JSON webhook needs an 'event-data' object")
    return Post(*_signature_fields(data["signature"]), event=event)


def _form_post(form: dict[str, str]) -> Post:
    fields = _signature_fields(form)
    event = {k: v for k, v in form.items() if k not in ("token", "signature")}
    if not event.get("event"):
        raise Refusal("malformed", "a form webhook needs an 'event' field")
    return Post(*fields, event=event, legacy=True)


def _signature_fields(source: dict[str, Any]) -> tuple[str, str, str]:
    values = tuple(source.get(name) for name in _SIGNATURE_FIELDS)
    pairs = zip(_SIGNATURE_FIELDS, values, strict=True)
    missing = [name for name, value in pairs if not isinstance(value, str | int) or value == ""]
    if missing:
        raise Refusal("malformed", f"the signature needs {', '.join(_SIGNATURE_FIELDS)}; missing: {', '.join(missing)}")
    timestamp, token, signature = (str(v) for v in values)
    if len(token) > 200 or len(signature) > 200:
        raise Refusal("malformed", "the token or signature is longer than Mailgun makes them")
    return timestamp, token, signature
