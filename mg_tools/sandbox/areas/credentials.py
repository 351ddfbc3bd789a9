"""Sandbox: SMTP credentials of a domain (``/v3/domains/{d}/credentials`` and the legacy
``/v3/{d}/mailboxes/{login}``).

Passwords are kept in state (``_password``) but never returned, except a generated one, once, in
the answer that created it. Every domain has the system credential ``postmaster@<domain>``, which
cannot be deleted.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from mg_tools.sandbox.core import ApiError, Ctx, Router, domain_docs, public

router = Router()

_MIN_PASSWORD, _MAX_PASSWORD = 5, 32
_NOTE = "Generated passwords are shown only once; store them now."


def _date(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC))


def generated_password() -> str:
    """A password for a credential created without one (recognisably a sandbox value)."""
    return f"sandbox-{secrets.token_urlsafe(12)}"


def _new(ctx: Ctx, domain: dict[str, Any], login: str, password: str, *, system: bool = False) -> dict[str, Any]:
    doc = {
        "mailbox": login,
        "login": login,
        "created_at": _date(ctx.sb.now()),
        "size_bytes": None,
        "_domain_id": domain["id"],
        "_password": password,
        "_system": system,
    }
    ctx.state.put("credential", f"{domain['name']}/{login}", doc)
    return doc


def credentials(ctx: Ctx, domain: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain's credentials, starting with its system ``postmaster``; those left behind by a
    deleted domain of the same name are dropped."""
    found = domain_docs(ctx.state, "credential", domain, "login")
    postmaster = domain.get("smtp_login") or f"postmaster@{domain['name']}"
    if not any(d["login"] == postmaster for d in found):
        found.insert(0, _new(ctx, domain, postmaster, generated_password(), system=True))
    return found


def _login(value: str, domain: str) -> str:
    login = value.strip().lower()
    if "@" not in login:
        login = f"{login}@{domain}"
    local, _, host = login.partition("@")
    if not local or host != domain or any(c.isspace() for c in login):
        raise ApiError(400, f"Invalid login '{value}': it must be an address at {domain}")
    return login


def _password(value: str | None) -> tuple[str, bool]:
    """The password to store and whether it was generated."""
    if value in (None, ""):
        return generated_password(), True
    if not _MIN_PASSWORD <= len(value) <= _MAX_PASSWORD:
        raise ApiError(400, f"Password length must be between {_MIN_PASSWORD} and {_MAX_PASSWORD} characters")
    return value, False


def _find(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    domain = ctx.sb.domain(ctx.path["domain"])
    login = ctx.path["login"].strip().lower()
    login = login if "@" in login else f"{login}@{domain['name']}"
    doc = next((d for d in credentials(ctx, domain) if d["login"] == login), None)
    if doc is None:
        raise ApiError(404, "Credentials not found")
    return domain, doc


@router.get("/v3/domains/{domain}/credentials")
async def list_credentials(ctx: Ctx) -> dict:
    """The domain's SMTP logins (no passwords), ``skip``/``limit`` paged."""
    limit = ctx.int_arg("limit", 100, low=1)
    if limit > 1000:
        raise ApiError(400, "Limit parameter can't be larger than 1000")
    skip = ctx.int_arg("skip", 0, low=0)
    with ctx.state.transaction():
        items = [public(d) for d in credentials(ctx, ctx.sb.domain(ctx.path["domain"]))]
    return {"items": items[skip : skip + limit], "total_count": len(items)}


@router.post("/v3/domains/{domain}/credentials")
async def create_credentials(ctx: Ctx) -> dict:
    """Create one or more logins; ``password`` values pair with ``login`` values by position."""
    logins = ctx.args("login") or ctx.args("mailbox")
    if not logins:
        raise ApiError(400, "Parameter 'login' is missing")
    passwords = ctx.args("password")
    if len(passwords) > len(logins):
        raise ApiError(400, "More passwords than logins were given")
    system = bool(ctx.bool_arg("system", False))
    generated: dict[str, str] = {}
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        existing = {d["login"] for d in credentials(ctx, domain)}
        wanted = [_login(v, domain["name"]) for v in logins]
        for i, login in enumerate(wanted):
            if login in existing or login in wanted[:i]:
                raise ApiError(400, f"Credentials for {login} already exist")
            password, was_generated = _password(passwords[i] if i < len(passwords) else None)
            _new(ctx, domain, login, password, system=system)
            if was_generated:
                generated[login] = password
    answer: dict[str, Any] = {"message": f"Created {len(wanted)} credentials pair(s)"}
    if generated:
        answer.update(note=_NOTE, credentials=generated)
    return answer


@router.delete("/v3/domains/{domain}/credentials")
async def delete_all_credentials(ctx: Ctx) -> dict:
    """Delete every login of the domain except the system ones."""
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        doomed = [d for d in credentials(ctx, domain) if not d["_system"]]
        for doc in doomed:
            ctx.state.delete("credential", f"{domain['name']}/{doc['login']}")
    return {"message": "All domain credentials have been deleted", "count": len(doomed)}


@router.put("/v3/domains/{domain}/credentials/{login}")
@router.put("/v3/{domain}/mailboxes/{login}")
async def update_credentials(ctx: Ctx) -> dict:
    """Set a login's password (a generated one, shown once, when ``password`` is omitted); the legacy
    mailboxes path is another spelling of the same."""
    with ctx.state.transaction():
        domain, doc = _find(ctx)
        password, was_generated = _password(ctx.text("password"))
        doc["_password"] = password
        ctx.state.put("credential", f"{domain['name']}/{doc['login']}", doc)
    answer: dict[str, Any] = {"message": "Password changed"}
    if was_generated:
        answer.update(note=_NOTE, credentials={doc["login"]: password})
    return answer


@router.delete("/v3/domains/{domain}/credentials/{login}")
async def delete_credentials(ctx: Ctx) -> dict:
    """Delete one login (system logins stay)."""
    with ctx.state.transaction():
        domain, doc = _find(ctx)
        if doc["_system"]:
            raise ApiError(400, f"Cannot delete system mailbox: {doc['login']}")
        ctx.state.delete("credential", f"{domain['name']}/{doc['login']}")
    return {"message": "Credentials have been deleted", "spec": doc["login"]}
