"""Sandbox: domains (list, create, read, update, verify, delete), on the v4 routes and on the older v3
routes the official SDKs still call (``/v3/domains``, ``/v3/domains/{domain}``, ``.../verify``,
``.../connection``, ``.../web_prefix``), which read and change the same domain documents."""

from __future__ import annotations

import re
from typing import Any

from mg_tools.sandbox import scope
from mg_tools.sandbox.core import ApiError, Ctx, Router, Sandbox, page_by_skip, public, rfc2822

router = Router()

_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SPAM_ACTIONS = {"disabled", "block", "tag"}
_BOOL_FIELDS = (
    "require_tls",
    "skip_verification",
    "wildcard",
    "encrypt_incoming_message",
    "use_automatic_sender_security",
    "force_dkim_authority",
    "force_root_dkim_host",
)
_STATES = {"active", "unverified", "disabled"}
# Kinds whose keys start with "<domain>/" and go when the domain goes. Mailing lists stay: they belong
# to the account, and a list address under a deleted domain is still a list.
_DOMAIN_KINDS = (
    "message", "event", "bounce", "unsubscribe", "complaint", "allowlist", "webhook", "template", "tag", "dkim_key",
)  # fmt: skip


def new_domain(sb: Sandbox, name: str, **settings: Any) -> dict[str, Any]:
    """A fresh (unverified) domain document with Mailgun's default settings."""
    doc = {
        "created_at": rfc2822(sb.now()),
        "id": sb.new_id(),
        "is_disabled": False,
        "name": name,
        "require_tls": False,
        "skip_verification": False,
        "smtp_login": f"postmaster@{name}",
        "spam_action": "disabled",
        "state": "unverified",
        "type": "custom",
        "use_automatic_sender_security": False,
        "web_prefix": "email",
        "web_scheme": "http",
        "wildcard": False,
        "message_ttl": 259200,
    }
    doc.update(settings)
    return doc


def dns_records(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    valid = "valid" if doc["state"] == "active" else "unknown"
    name = doc["name"]
    return {
        "receiving_dns_records": [
            {"is_active": True, "cached": [], "priority": "10", "record_type": "MX", "valid": valid, "value": host}
            for host in ("mxa.mailgun.org", "mxb.mailgun.org")
        ],
        "sending_dns_records": [
            {
                "is_active": True,
                "cached": [],
                "name": name,
                "record_type": "TXT",
                "valid": valid,
                "value": "v=spf1 include:mailgun.org ~all",
            },
            {
                "is_active": True,
                "cached": [],
                "name": f"mx._domainkey.{name}",
                "record_type": "TXT",
                "valid": valid,
                "value": "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
            },
            {
                "is_active": True,
                "cached": [],
                "name": f"{doc['web_prefix']}.{name}",
                "record_type": "CNAME",
                "valid": valid,
                "value": "mailgun.org",
            },
        ],
    }


def _apply_settings(ctx: Ctx, doc: dict[str, Any]) -> None:
    for field in _BOOL_FIELDS:
        value = ctx.bool_arg(field)
        if value is not None:
            doc[field] = value
    spam = ctx.arg("spam_action")
    if spam is not None:
        if spam not in _SPAM_ACTIONS:
            raise ApiError(400, "spam_action must be one of: disabled, block, tag")
        doc["spam_action"] = spam
    scheme = ctx.arg("web_scheme")
    if scheme is not None:
        if scheme not in {"http", "https"}:
            raise ApiError(400, "web_scheme must be http or https")
        doc["web_scheme"] = scheme
    for field in ("web_prefix", "archive_to", "mailfrom_host", "pool_id", "ips", "dkim_selector", "dkim_host_name"):
        value = ctx.arg(field)
        if value is not None:
            doc[field] = value
    if ctx.has("message_ttl"):
        doc["message_ttl"] = ctx.int_arg("message_ttl", 259200, low=1, high=604800)
    password = ctx.arg("smtp_password")
    if password is not None:
        if not 5 <= len(password) <= 32:
            raise ApiError(400, "Password is too short. It must be between 5 and 32 characters.")
        doc["_smtp_password_set"] = True
    key_size = ctx.arg("dkim_key_size")
    if key_size is not None and key_size not in {"1024", "2048"}:
        raise ApiError(400, "dkim_key_size must be 1024 or 2048")


@router.get("/v4/domains")
@router.get("/v3/domains")
async def list_domains(ctx: Ctx) -> dict:
    items = [public(d) for d in scope.visible(ctx, ctx.state.list("domain"))]
    state = ctx.arg("state")
    if state:
        if state not in _STATES:
            raise ApiError(400, "state must be one of: active, unverified, disabled")
        items = [d for d in items if d["state"] == state]
    search = ctx.arg("search")
    if search:
        items = [d for d in items if search.lower() in d["name"]]
    authority = ctx.arg("authority")
    if authority:
        items = [d for d in items if d["name"] == authority or d["name"].endswith("." + authority)]
    sort = ctx.arg("sort") or "name:asc"
    if sort not in {"name", "name:asc", "name:desc"}:
        raise ApiError(400, "sort must be name:asc or name:desc")
    items.sort(key=lambda d: d["name"], reverse=sort == "name:desc")
    return page_by_skip(items, ctx, default_limit=100, max_limit=1000)


def _created(ctx: Ctx) -> dict[str, Any]:
    """A new domain named by the request, with the request's settings, stored."""
    name = ctx.require("name").strip().lower()
    if not _NAME.match(name):
        raise ApiError(400, f"'{name}' is not a valid domain name")
    ctx.sb.absent("domain", name, "This domain name is already taken")
    doc = scope.claim(ctx, new_domain(ctx.sb, name))
    _apply_settings(ctx, doc)
    ctx.state.put("domain", name, doc)
    return doc


@router.post("/v4/domains")
async def create_domain(ctx: Ctx) -> dict:
    doc = _created(ctx)
    return {"message": "Domain DNS records have been created", "domain": public(doc), **dns_records(doc)}


@router.post("/v3/domains")
async def create_domain_v3(ctx: Ctx) -> dict:
    doc = _created(ctx)
    return {"message": "Domain has been created", "domain": public(doc), **dns_records(doc)}


@router.get("/v4/domains/{domain}")
@router.get("/v3/domains/{domain}")
async def get_domain(ctx: Ctx) -> dict:
    doc = scope.domain(ctx, ctx.path["domain"])
    return {"domain": public(doc), **dns_records(doc)}


@router.put("/v4/domains/{domain}")
@router.put("/v3/domains/{domain}")
async def update_domain(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = scope.domain(ctx, ctx.path["domain"])
        _apply_settings(ctx, doc)
        ctx.state.put("domain", doc["name"], doc)
    return {"message": "Domain has been updated", "domain": public(doc), **dns_records(doc)}


@router.put("/v4/domains/{domain}/verify")
@router.put("/v3/domains/{domain}/verify")
async def verify_domain(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = scope.domain(ctx, ctx.path["domain"])
        if doc["state"] != "disabled":
            doc["state"] = "active"  # the sandbox's DNS is always right
        ctx.state.put("domain", doc["name"], doc)
    return {"message": "Domain DNS records have been updated", "domain": public(doc), **dns_records(doc)}


@router.delete("/v3/domains/{domain}")
async def delete_domain(ctx: Ctx) -> dict:
    name = ctx.path["domain"]
    with ctx.state.transaction():
        doc = scope.domain(ctx, name)
        if doc["state"] == "disabled":
            raise ApiError(400, "a disabled domain cannot be deleted")
        dependants = sorted(d["name"] for d in ctx.state.list("domain") if d.get("_dkim_authority") == doc["name"])
        if dependants:
            raise ApiError(400, f"{doc['name']} is the DKIM authority of {', '.join(dependants)}: it cannot be deleted")
        ctx.state.delete("domain", name)
        for kind in _DOMAIN_KINDS:
            ctx.state.clear(kind, f"{name}/")
    return {"message": "Domain will be deleted in the background"}


@router.get("/v3/domains/{domain}/connection")
async def get_connection(ctx: Ctx) -> dict:
    doc = scope.domain(ctx, ctx.path["domain"])
    return {"connection": {"require_tls": doc["require_tls"], "skip_verification": doc["skip_verification"]}}


@router.put("/v3/domains/{domain}/connection")
async def update_connection(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = scope.domain(ctx, ctx.path["domain"])
        for field in ("require_tls", "skip_verification"):
            value = ctx.bool_arg(field)
            if value is not None:
                doc[field] = value
        ctx.state.put("domain", doc["name"], doc)
    return {
        "message": "Domain connection settings have been updated, may take 10 minutes to fully propagate",
        "require-tls": doc["require_tls"],
        "skip-verification": doc["skip_verification"],
    }


@router.put("/v3/domains/{domain}/web_prefix")
async def update_web_prefix(ctx: Ctx) -> dict:
    prefix = ctx.require("web_prefix").strip().lower()
    if not _LABEL.match(prefix):
        raise ApiError(400, f"'{prefix}' is not a valid web prefix: use one DNS label (letters, digits, hyphens)")
    with ctx.state.transaction():
        doc = scope.domain(ctx, ctx.path["domain"])
        doc["web_prefix"] = prefix
        ctx.state.put("domain", doc["name"], doc)
    return {"message": "Domain web prefix updated", "domain": public(doc), **dns_records(doc)}
