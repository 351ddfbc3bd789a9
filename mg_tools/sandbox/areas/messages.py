"""Sandbox: messages (send, send MIME, stored messages, sending queues, scheduled mail).

Requests are validated here with Mailgun's error messages and turned into a
:class:`~mg_tools.sandbox.pipeline.Submission`; what a send then does lives in ``pipeline``.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any

from mg_tools.sandbox import mime, pipeline, scheduler, scope
from mg_tools.sandbox.core import ApiError, Ctx, Router, Sandbox, json_object, loads_json, public
from mg_tools.sandbox.delivery import parse_addresses
from mg_tools.sandbox.pipeline import QUEUED, Submission

router = Router()

MAX_RECIPIENTS = 1000
MAX_OPTIONS_BYTES = 16 * 1024
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_OPTION_PREFIXES = ("o:", "h:", "v:")
#: A header field name (RFC 5322): printable ASCII except the colon.
_HEADER_NAME = re.compile(r"[!-9;-~]+")


async def before_request(sb: Sandbox) -> None:
    """Run before every API request: deliver scheduled mail whose time has come."""
    await scheduler.deliver_due(sb)


def _sending_domain(ctx: Ctx) -> str:
    name = ctx.path["domain"]
    doc = scope.sending_domain(ctx, name)
    if doc.get("is_disabled") or doc.get("state") == "disabled":
        raise ApiError(403, f"Domain {name} is disabled")
    return name


def _checked(name: str, value: str) -> str:
    """``value`` of parameter ``name``, which becomes a MIME header; 400 when it cannot."""
    problem = mime.header_problem(value)
    if problem:
        raise ApiError(400, f"'{name}' parameter must not contain {problem}")
    return value


def _header_text(ctx: Ctx, name: str) -> str | None:
    """A text parameter that becomes a MIME header, None when absent or empty."""
    value = ctx.text(name)
    return _checked(name, value) if value else None


def _recipients(ctx: Ctx, name: str) -> list[str]:
    values = [_checked(name, v) for v in ctx.args(name) if v.strip()]
    for _display, addr in parse_addresses(values):
        if not _ADDRESS.match(addr):
            raise ApiError(400, f"'{name}' parameter is not a valid address. please check documentation")
    return values


def _count(values: list[str]) -> int:
    return sum(1 for _n, addr in parse_addresses(values) if addr)


def _json_object(ctx: Ctx, name: str) -> dict[str, Any]:
    return (
        json_object(
            ctx.arg(name),
            f"'{name}' parameter is not a valid JSON",
            not_object=f"'{name}' parameter must be a JSON object",
        )
        or {}
    )


def _options(ctx: Ctx) -> tuple[dict[str, str], dict[str, Any]]:
    """The ``h:`` headers and ``v:`` variables, checking that all ``o:``/``h:``/``v:`` options stay
    within Mailgun's 16 KB."""
    headers: dict[str, str] = {}
    variables: dict[str, Any] = {}
    size = 0
    for key, value in ctx.form.multi_items():
        if not key.startswith(_OPTION_PREFIXES):
            continue
        size += len(key.encode()) + len(str(value).encode())
        name = key[2:]
        if key.startswith("h:"):
            if not _HEADER_NAME.fullmatch(name):
                raise ApiError(400, f"Header name must be printable ASCII without spaces or colons: {name!r}")
            problem = mime.header_problem(value)
            if problem:
                raise ApiError(400, f"Header value of {name} must not contain {problem}")
            headers[name] = value
        elif key.startswith("v:"):
            variables[name] = _maybe_json(value)
    if size > MAX_OPTIONS_BYTES:
        raise ApiError(400, "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total")
    return headers, variables


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return loads_json(value)
        except ValueError:
            pass
    return value


def _delivery_time(ctx: Ctx) -> float | None:
    return ctx.date_arg("o:deliverytime", "'o:deliverytime' parameter is not a valid RFC 2822 date")


def _common(ctx: Ctx, domain: str, sender: str, to: list[str]) -> Submission:
    cc, bcc = _recipients(ctx, "cc"), _recipients(ctx, "bcc")
    if _count(to) + _count(cc) + _count(bcc) > MAX_RECIPIENTS:
        raise ApiError(400, f"Too many recipients, max is {MAX_RECIPIENTS}")
    headers, variables = _options(ctx)
    recipient_variables = _json_object(ctx, "recipient-variables")
    if any(not isinstance(v, dict) for v in recipient_variables.values()):
        raise ApiError(400, "'recipient-variables' parameter must map each address to a JSON object")
    return Submission(
        domain=domain,
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        template=_header_text(ctx, "template"),
        template_version=_header_text(ctx, "t:version"),
        template_text=bool(ctx.bool_arg("t:text", False)),
        template_variables=_json_object(ctx, "t:variables"),
        tags=[_checked("o:tag", t) for t in ctx.args("o:tag")],
        headers=headers,
        variables=variables,
        recipient_variables=recipient_variables,
        deliver_at=_delivery_time(ctx),
        test_mode=bool(ctx.bool_arg("o:testmode", False)),
    )


@router.post("/v3/{domain}/messages")
async def send_message(ctx: Ctx) -> dict:
    domain = _sending_domain(ctx)
    sender = _header_text(ctx, "from")
    if sender is None:
        raise ApiError(400, "'from' parameter is missing")
    if not _ADDRESS.match(parseaddr(sender)[1]):
        raise ApiError(400, "'from' parameter is not a valid address. please check documentation")
    to = _recipients(ctx, "to")
    if not to:
        raise ApiError(400, "'to' parameter is missing")
    template = _header_text(ctx, "template")
    subject = _header_text(ctx, "subject")
    if not subject and not template:
        raise ApiError(400, "'subject' parameter is missing")
    text, html, amp = (ctx.text(f) or None for f in ("text", "html", "amp-html"))
    if not any((text, html, amp, template)):
        raise ApiError(400, "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified")
    if html and template:
        raise ApiError(400, "Only one parameters 'html' or 'template' is allowed")
    sub = _common(ctx, domain, sender, to)
    sub.subject, sub.text, sub.html, sub.amp_html = subject, text, html, amp
    sub.attachments = _files(ctx, "attachment")
    sub.inline = _files(ctx, "inline")
    return {"id": await pipeline.submit(ctx, sub), "message": QUEUED}


def _files(ctx: Ctx, name: str) -> list[mime.Part]:
    """The uploaded files of field ``name``; their names and types become MIME headers."""
    for filename, _content, content_type in ctx.files.get(name, []):
        for what, value in (("file name", filename), ("content type", content_type)):
            problem = mime.header_problem(value)
            if problem:
                raise ApiError(400, f"'{name}' {what} must not contain {problem}")
    return list(ctx.files.get(name, []))


@router.post("/v3/{domain}/messages.mime")
async def send_mime_message(ctx: Ctx) -> dict:
    domain = _sending_domain(ctx)
    to = _recipients(ctx, "to")
    if not to:
        raise ApiError(400, "'to' parameter is missing")
    files = ctx.files.get("message")
    if not files:
        if ctx.has("message"):
            raise ApiError(400, "'message' parameter is not a file")
        raise ApiError(400, "'message' parameter is missing")
    raw = files[0][1]
    sender = _mime_header(raw, "from") or f"postmaster@{domain}"
    sub = _common(ctx, domain, sender, to)
    sub.mime = raw
    sub.subject = _mime_header(raw, "subject")
    return {"id": await pipeline.submit(ctx, sub), "message": QUEUED}


def _mime_header(raw: bytes, name: str) -> str | None:
    try:
        value = BytesHeaderParser(policy=policy.default).parsebytes(raw).get(name)
        return str(value) if value is not None else None
    except Exception as exc:  # the email package raises many kinds of error on malformed headers
        raise ApiError(
            400, f"'message' parameter has a {name} header that cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


@router.get("/v3/domains/{domain}/messages/{storage_key}")
async def get_stored_message(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    doc = ctx.sb.existing("message", f"{domain}/{ctx.path['storage_key']}", "Message not found")
    body = public(doc)
    if "message/rfc2822" in ctx.request.headers.get("accept", ""):
        body["body-mime"] = mime.mime_text(doc)
    return body


@router.get("/v3/domains/{domain}/sending_queues")
async def get_sending_queues(ctx: Ctx) -> dict:
    ctx.sb.domain(ctx.path["domain"])
    running = {"is_disabled": False, "disabled": {"until": "", "reason": ""}}
    return {"regular": dict(running), "scheduled": dict(running)}


@router.delete("/v3/{domain}/envelopes")
async def delete_scheduled_messages(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    scheduler.cancel_scheduled(ctx.sb, domain)
    return {"message": "done"}
