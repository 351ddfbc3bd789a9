"""Sandbox: the account itself: API keys, subaccounts, users, account settings, the webhook signing
key, sandbox authorized recipients, custom monthly sending limits and the IP allowlist.

The account (kind ``account``, key ``main``) and two users (the owner and a developer) are created
on first use. Generated secrets start with ``sandbox-`` and are returned once, when created.
Simulated: an invited sandbox recipient confirms ``CONFIRM_SECONDS`` (sandbox clock) after the
invitation; a limit's ``current`` counts this calendar month's ``accepted`` events.
"""

from __future__ import annotations

import ipaddress
import math
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from mg_tools.sandbox.core import ApiError, Ctx, Router, Sandbox, json_object, public, skip_limit

router = Router()

CONFIRM_SECONDS = 5
MAX_API_KEYS = 100
MAX_SANDBOX_RECIPIENTS = 5
MIN_MONTHLY_LIMIT = 1000
WEB_KEY_SECONDS = 86400
_KINDS = ("domain", "user", "web")
_ROLES = ("admin", "basic", "sending", "developer")
_USER_ROLES = ("basic", "billing", "support", "developer", "admin")
_FEATURES = ("email_preview", "inbox_placement", "sending", "validations", "validations_bulk")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _iso(ts: float, *, micro: bool = False) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S" + (".%f" if micro else ""))


def _gmt(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC), usegmt=True)


def sandbox_secret(label: str = "") -> str:
    """A fresh secret that is recognisably fake: ``sandbox-[label-]<hex>``."""
    return f"sandbox-{label + '-' if label else ''}{secrets.token_hex(16)}"


# -- the account and its users --------------------------------------------------------------------


def account(sb: Sandbox) -> dict[str, Any]:
    """The account document, created with its two users on first use."""
    with sb.state.transaction():
        doc = sb.state.get("account", "main")
        if doc is None:
            doc = {
                "id": sb.new_id(),
                "name": "Sandbox Account",
                "inactive_session_timeout": 3600,
                "absolute_session_timeout": 86400,
                "logout_redirect_url": "",
                "_created_at": sb.now(),
            }
            sb.state.put("account", "main", doc)
            _seed_users(sb, doc["id"])
    if doc.get("_http_signing_key") and doc["_http_signing_key"] != sb.signing_key:
        sb.signing_key = doc["_http_signing_key"]  # a regenerated key survives a restart
    return doc


def account_id(sb: Sandbox) -> str:
    return account(sb)["id"]


def _seed_users(sb: Sandbox, acct: str) -> None:
    for name, email, role, master in (
        ("Sandbox Owner", "owner@example.com", "admin", True),
        ("Dev Teammate", "dev@example.com", "developer", False),
    ):
        user = _new_user(sb, acct, name, email, role, master)
        sb.state.put("user", user["id"], user)


def _new_user(sb: Sandbox, acct: str, name: str, email: str, role: str, master: bool) -> dict[str, Any]:
    local, _, domain = email.partition("@")
    return {
        "id": sb.new_id(),
        "name": name,
        "activated": True,
        "is_disabled": False,
        "email": email,
        "email_details": {"address": email, "is_valid": True, "parts": {"local_part": local, "domain": domain}},
        "role": role,
        "account_id": acct,
        "opened_ip": "192.0.2.1",
        "is_master": master,
        "metadata": {},
        "tfa_enabled": False,
        "tfa_active": False,
        "tfa_created_at": None,
        "password_updated_at": _iso(sb.now(), micro=True),
        "preferences": {"programming_language": "curl", "time_format": "%m/%d/%y %I:%M %p", "time_zone": "UTC"},
        "auth": {"method": "mailgun", "prior_details": {}, "prior_method": ""},
        "github_user_id": None,
        "salesforce_user_id": None,
        "migration_status": "done",
        "_orgs": [],
    }


def owner(sb: Sandbox) -> dict[str, Any]:
    account(sb)
    return next(u for u in sb.state.list("user") if u["is_master"])


@contextmanager
def _editing(ctx: Ctx) -> Iterator[dict[str, Any]]:
    """The account document, saved when the block ends without an error (in one transaction)."""
    with ctx.state.transaction():
        doc = account(ctx.sb)
        yield doc
        ctx.state.put("account", "main", doc)


@router.put("/v5/accounts")
async def update_account(ctx: Ctx) -> dict:
    """Change the account name, session timeouts or logout redirect URL."""
    names = ("name", "inactive_session_timeout", "absolute_session_timeout", "logout_redirect_url")
    if not any(ctx.arg(n) not in (None, "") for n in names):
        raise ApiError(
            400,
            "Either `name`, `absolute_timeout`, `inactive_timeout`, or `logout_redirect_url` "
            "must be provided to update account info.",
        )
    with _editing(ctx) as doc:
        if ctx.arg("name"):
            doc["name"] = ctx.arg("name")
        for name in ("inactive_session_timeout", "absolute_session_timeout"):
            if ctx.arg(name) not in (None, ""):
                doc[name] = ctx.int_arg(name, 0, low=1)
        url = ctx.arg("logout_redirect_url")
        if url not in (None, ""):
            if not re.match(r"^https?://[^\s/]+", url):
                raise ApiError(400, "logout_redirect_url must be an http or https URL")
            doc["logout_redirect_url"] = url
    return {"message": "Account info has been updated"}


@router.get("/v5/accounts/http_signing_key")
async def get_signing_key(ctx: Ctx) -> dict:
    """The key that signs webhook payloads (the sandbox's webhooks use it)."""
    account(ctx.sb)
    return {"http_signing_key": ctx.sb.signing_key}


@router.post("/v5/accounts/http_signing_key")
async def regenerate_signing_key(ctx: Ctx) -> dict:
    """Replace the webhook signing key; webhooks sent from now on are signed with the new one."""
    with _editing(ctx) as doc:
        doc["_http_signing_key"] = ctx.sb.signing_key = sandbox_secret("signing")
    return {"message": "regenerated HTTP signing key for account", "http_signing_key": ctx.sb.signing_key}


@router.post("/v5/accounts/resend_activation_email")
async def resend_activation_email(ctx: Ctx) -> dict:
    """Send the owner the account activation email again (counted, never sent)."""
    with _editing(ctx) as doc:
        doc["_activation_emails_sent"] = doc.get("_activation_emails_sent", 0) + 1
    return {"success": True}


# -- sandbox authorized recipients ----------------------------------------------------------------


def _recipient_view(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    return {"email": doc["email"], "activated": ctx.sb.now() >= doc["_invited_at"] + CONFIRM_SECONDS}


def _email(value: str | None) -> str:
    if not value or not _EMAIL.match(value.strip()):
        raise ApiError(400, "Invalid email address.")
    return value.strip().lower()


@router.get("/v5/sandbox/auth_recipients")
async def list_auth_recipients(ctx: Ctx) -> dict:
    """Addresses that sandbox domains may send to, and whether each has confirmed."""
    return {"recipients": [_recipient_view(ctx, d) for d in ctx.state.list("auth_recipient")]}


@router.post("/v5/sandbox/auth_recipients")
async def add_auth_recipient(ctx: Ctx) -> dict:
    """Invite an address (at most five) to receive mail from sandbox domains."""
    email = _email(ctx.arg("email"))
    with ctx.state.transaction():
        ctx.sb.absent("auth_recipient", email, "Recipient already exists.")
        if ctx.state.count("auth_recipient") >= MAX_SANDBOX_RECIPIENTS:
            raise ApiError(400, f"Only {MAX_SANDBOX_RECIPIENTS} sandbox recipients are allowed")
        doc = ctx.state.put("auth_recipient", email, {"email": email, "_invited_at": ctx.sb.now()})
    return {"recipient": _recipient_view(ctx, doc)}


@router.delete("/v5/sandbox/auth_recipients/{address}")
async def delete_auth_recipient(ctx: Ctx) -> dict:
    """Stop allowing sandbox domains to send to an address."""
    email = _email(ctx.path["address"])
    if not ctx.state.delete("auth_recipient", email):
        raise ApiError(404, "Sandbox recipient not found.")
    return {"message": "Sandbox recipient deleted."}


# -- API keys -------------------------------------------------------------------------------------


def _key_view(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    view = public(doc)
    expires = doc.get("_expires_ts")
    if expires is not None and ctx.sb.now() >= expires:
        view.update(is_disabled=True, disabled_reason="expired")
    return view


def _choice(ctx: Ctx, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = ctx.arg(name) or default
    if value is not None and value not in choices:
        absent = " or absent" if name == "kind" else ""
        raise ApiError(400, f"expected `{name}` param to be one of [{' '.join(choices)}]{absent}")
    return value


def primary_key(sb: Sandbox) -> dict[str, Any]:
    """The listing of the sandbox's own key: the account's primary key, an admin key of the owner."""
    acct, user = account(sb), owner(sb)
    created = _iso(acct["_created_at"])
    return {
        "id": f"{acct['id'][:8]}-{acct['id'][8:16]}",
        "description": "primary account key",
        "kind": "user",
        "role": "admin",
        "created_at": created,
        "updated_at": created,
        "expires_at": None,
        "requestor": user["email"],
        "user_name": user["name"],
        "domain_name": None,
        "is_disabled": False,
    }


@router.get("/v1/keys")
async def list_keys(ctx: Ctx) -> dict:
    """The account's API keys, its primary key first (never their secrets), filtered by kind or domain."""
    kind = _choice(ctx, "kind", _KINDS)
    domain = ctx.arg("domain_name")
    items = [
        doc
        for doc in [primary_key(ctx.sb), *(_key_view(ctx, d) for d in ctx.state.list("api_key"))]
        if (not kind or doc["kind"] == kind) and (not domain or doc["domain_name"] == domain)
    ]
    return {"total_count": len(items), "items": items}


def _expiration(ctx: Ctx, kind: str) -> int | None:
    seconds = ctx.int_arg("expiration", 0) if ctx.arg("expiration") not in (None, "") else None
    if seconds is not None and seconds <= 0:
        raise ApiError(400, "expiration must be greater than 0")
    if kind == "web":
        seconds = min(seconds or WEB_KEY_SECONDS, WEB_KEY_SECONDS)
    return seconds


@router.post("/v1/keys")
async def create_key(ctx: Ctx) -> dict:
    """Create an API key; its ``secret`` is in this answer only."""
    role = ctx.arg("role")
    if role in (None, ""):
        raise ApiError(400, "'role' parameter is missing")
    _choice(ctx, "role", _ROLES)
    kind = _choice(ctx, "kind", _KINDS, "user")
    domain = ctx.arg("domain_name") or None
    if kind == "domain" and not domain:
        raise ApiError(400, "keys of kind `domain` need a `domain_name`")
    if role == "sending" and kind != "domain":
        raise ApiError(400, "role `sending` is only for keys of kind `domain`")
    if kind == "web" and not (ctx.arg("user_id") and ctx.arg("email")):
        raise ApiError(400, "keys of kind `web` need `user_id` and `email`")
    seconds = _expiration(ctx, kind)
    with ctx.state.transaction():
        if domain:
            ctx.sb.domain(domain)
        if ctx.state.count("api_key") >= MAX_API_KEYS:
            raise ApiError(403, "could not create key, account limit reached")
        now = ctx.sb.now()
        key_id = f"{secrets.token_hex(4)}-{secrets.token_hex(4)}"
        doc = {
            "id": key_id,
            "description": ctx.arg("description") or "",
            "kind": kind,
            "role": role,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "expires_at": _iso(now + seconds) if seconds else None,
            "disabled_reason": None,
            "is_disabled": False,
            "domain_name": domain,
            "requestor": ctx.arg("email") or owner(ctx.sb)["email"],
            "user_name": ctx.arg("user_name") or None,
            "_expires_ts": now + seconds if seconds else None,
            "_secret": sandbox_secret(),
            "_user_id": ctx.arg("user_id"),
        }
        ctx.state.put("api_key", key_id, doc)
    return {"message": "great success", "key": {**_key_view(ctx, doc), "secret": doc["_secret"]}}


@router.delete("/v1/keys/{key_id}")
async def delete_key(ctx: Ctx) -> dict:
    """Revoke an API key (not the account's primary key, which the sandbox runs on)."""
    if ctx.path["key_id"] == primary_key(ctx.sb)["id"]:
        raise ApiError(400, "the account's primary key cannot be deleted")
    if not ctx.state.delete("api_key", ctx.path["key_id"]):
        raise ApiError(404, "no key matching id")
    return {"message": "key deleted"}


@router.post("/v1/keys/public")
async def regenerate_public_key(ctx: Ctx) -> dict:
    """Replace the account's public (validation) key and return the new one."""
    with _editing(ctx) as doc:
        doc["_public_key"] = sandbox_secret("pubkey")
    return {"key": doc["_public_key"], "message": "The public API key has been successfully regenerated."}


# -- IP allowlist ---------------------------------------------------------------------------------


def _address(value: str | None) -> str:
    if value in (None, ""):
        raise ApiError(400, "IP address can not be blank")
    try:
        if "/" in value:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ApiError(400, "Invalid IP Address or CIDR") from None


async def _addresses(ctx: Ctx) -> dict:
    return {"addresses": ctx.state.list("ip_allowlist")}


@router.get("/v2/ip_whitelist")
async def list_allowlist(ctx: Ctx) -> dict:
    """The IPs and networks allowed to use the account's API keys."""
    return await _addresses(ctx)


@router.post("/v2/ip_whitelist")
async def add_allowlist_entry(ctx: Ctx) -> dict:
    """Allow an IP address or CIDR network."""
    address = _address(ctx.text("address"))
    with ctx.state.transaction():
        ctx.sb.absent("ip_allowlist", address, "IP already exists")
        ctx.state.put("ip_allowlist", address, {"ip_address": address, "description": ctx.arg("description") or ""})
    return await _addresses(ctx)


@router.put("/v2/ip_whitelist")
async def update_allowlist_entry(ctx: Ctx) -> dict:
    """Change the description of an allowed address."""
    address = _address(ctx.text("address"))
    with ctx.state.transaction():
        doc = ctx.sb.existing("ip_allowlist", address, "IP not found", status=400)
        doc["description"] = ctx.arg("description") or ""
        ctx.state.put("ip_allowlist", address, doc)
    return await _addresses(ctx)


@router.delete("/v2/ip_whitelist")
async def delete_allowlist_entry(ctx: Ctx) -> dict:
    """Stop allowing an address."""
    if not ctx.state.delete("ip_allowlist", _address(ctx.text("address"))):
        raise ApiError(400, "IP not found")
    return await _addresses(ctx)


# -- subaccounts ----------------------------------------------------------------------------------


def _subaccount(ctx: Ctx, sub_id: str | None = None) -> dict[str, Any]:
    return ctx.sb.existing("subaccount", sub_id if sub_id is not None else ctx.path["subaccount_id"], "Not Found")


def _sub_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"subaccount": public(doc)}


def _touch(ctx: Ctx, doc: dict[str, Any]) -> None:
    doc["updated_at"] = _gmt(ctx.sb.now())
    ctx.state.put("subaccount", doc["id"], doc)


@router.get("/v5/accounts/subaccounts")
async def list_subaccounts(ctx: Ctx) -> dict:
    """Subaccounts, filtered by name, enabled or closed, sorted by name, ``skip``/``limit`` paged."""
    items = [public(d) for d in ctx.state.list("subaccount")]
    text = (ctx.arg("filter") or "").lower()
    enabled, closed = ctx.bool_arg("enabled"), ctx.bool_arg("closed")
    items = [d for d in items if text in d["name"].lower()]
    if enabled is not None:
        items = [d for d in items if d["status"] == ("open" if enabled else "disabled")]
    if closed is not None:
        items = [d for d in items if (d["status"] == "closed") == closed]
    sort = ctx.arg("sort")
    if sort not in (None, "", "asc", "desc"):
        raise ApiError(400, "sort must be asc or desc")
    if sort:
        items.sort(key=lambda d: d["name"].lower(), reverse=sort == "desc")
    return {"subaccounts": skip_limit(items, ctx, default_limit=10), "total": len(items)}


@router.post("/v5/accounts/subaccounts")
async def create_subaccount(ctx: Ctx) -> dict:
    """Create an open subaccount named ``name``."""
    name = (ctx.arg("name") or "").strip()
    if not name:
        raise ApiError(400, "'name' parameter is missing")
    now = _gmt(ctx.sb.now())
    doc = {
        "id": ctx.sb.new_id(),
        "name": name,
        "created_at": now,
        "updated_at": now,
        "status": "open",
        "features": {f: {"enabled": f == "sending"} for f in _FEATURES},
    }
    ctx.state.put("subaccount", doc["id"], doc)
    return _sub_view(doc)


@router.get("/v5/accounts/subaccounts/{subaccount_id}")
async def get_subaccount(ctx: Ctx) -> dict:
    """One subaccount."""
    return _sub_view(_subaccount(ctx))


@router.delete("/v5/accounts/subaccounts")
async def delete_subaccount(ctx: Ctx) -> dict:
    """Close the subaccount named by the ``X-Mailgun-On-Behalf-Of`` header."""
    sub_id = ctx.request.headers.get("x-mailgun-on-behalf-of", "").strip()
    if not sub_id:
        raise ApiError(400, "the X-Mailgun-On-Behalf-Of header must name the subaccount")
    with ctx.state.transaction():
        doc = _subaccount(ctx, sub_id)
        if doc["status"] == "closed":
            raise ApiError(400, "subaccount is already closed")
        doc["status"] = "closed"
        doc.pop("_limit", None)
        _touch(ctx, doc)
    return {"message": "Subaccount successfully deleted"}


@router.post("/v5/accounts/subaccounts/{subaccount_id}/disable")
async def disable_subaccount(ctx: Ctx) -> dict:
    """Disable an open subaccount, with an optional reason and note."""
    with ctx.state.transaction():
        doc = _subaccount(ctx)
        if doc["status"] != "open":
            raise ApiError(400, f"subaccount is already {doc['status']}")
        doc.update(status="disabled", _reason=ctx.arg("reason"), _note=ctx.arg("note"))
        _touch(ctx, doc)
    return _sub_view(doc)


@router.post("/v5/accounts/subaccounts/{subaccount_id}/enable")
async def enable_subaccount(ctx: Ctx) -> dict:
    """Re-open a disabled subaccount."""
    with ctx.state.transaction():
        doc = _subaccount(ctx)
        if doc["status"] == "closed":
            raise ApiError(400, "subaccount is closed")
        if doc["status"] == "open":
            raise ApiError(400, "subaccount is already enabled")
        doc.update(status="open", _reason=None, _note=None)
        _touch(ctx, doc)
    return _sub_view(doc)


def _feature(ctx: Ctx, name: str) -> dict[str, bool] | None:
    message = f"'{name}' must be a JSON object like {{\"enabled\": true}}"
    value = json_object(ctx.arg(name), message)
    if value is None:
        return None
    if not isinstance(value.get("enabled"), bool):
        raise ApiError(400, message)
    return {"enabled": value["enabled"]}


@router.put("/v5/accounts/subaccounts/{subaccount_id}/features")
async def update_subaccount_features(ctx: Ctx) -> dict:
    """Turn subaccount features on or off (urlencoded, each value JSON: ``sending={"enabled":true}``)."""
    changes = {name: value for name in _FEATURES if (value := _feature(ctx, name)) is not None}
    with ctx.state.transaction():
        doc = _subaccount(ctx)
        if not changes:
            raise ApiError(400, "No valid updates provided")
        doc["features"].update(changes)
        _touch(ctx, doc)
    return {"features": doc["features"]}


# -- custom monthly sending limits ----------------------------------------------------------------


def _sent_this_month(ctx: Ctx) -> int:
    now = datetime.fromtimestamp(ctx.sb.now(), tz=UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    return sum(1 for e in ctx.state.list("event") if e.get("event") == "accepted" and e.get("timestamp", 0) >= start)


def _month(ctx: Ctx) -> str:
    return datetime.fromtimestamp(ctx.sb.now(), tz=UTC).strftime("%Y-%m")


def _limit_arg(ctx: Ctx) -> int:
    raw = ctx.arg("limit")
    if raw in (None, ""):
        raise ApiError(400, "'limit' parameter is missing")
    try:
        limit = float(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid 'limit' parameter: expected a number") from None
    if not math.isfinite(limit):
        raise ApiError(400, "Invalid 'limit' parameter: expected a number")
    if limit < MIN_MONTHLY_LIMIT:
        raise ApiError(400, f"The limit parameter minumum is {MIN_MONTHLY_LIMIT}")
    return int(limit)


def _limit_view(doc: dict[str, Any], current: int) -> dict[str, Any]:
    if not doc.get("_limit"):
        raise ApiError(404, "No threshold for account")
    return {"limit": doc["_limit"]["limit"], "current": current, "period": "1m"}


@router.get("/v5/accounts/limit/custom/monthly")
async def get_account_limit(ctx: Ctx) -> dict:
    """The account's monthly sending limit and this month's count."""
    return _limit_view(account(ctx.sb), _sent_this_month(ctx))


@router.put("/v5/accounts/limit/custom/monthly")
async def set_account_limit(ctx: Ctx) -> dict:
    """Set the account's monthly sending limit (at least 1000)."""
    limit = _limit_arg(ctx)
    with _editing(ctx) as doc:
        doc["_limit"] = {"limit": limit}
    return {"success": True}


@router.delete("/v5/accounts/limit/custom/monthly")
async def delete_account_limit(ctx: Ctx) -> dict:
    """Remove the account's monthly sending limit."""
    with _editing(ctx) as doc:
        if not doc.pop("_limit", None):
            raise ApiError(400, "Could not delete threshold for account")
    return {"success": True}


@router.put("/v5/accounts/limit/custom/enable")
async def reenable_account(ctx: Ctx) -> dict:
    """Let an account that hit its monthly limit send again for the rest of the month."""
    with _editing(ctx) as doc:
        limit = doc.get("_limit")
        hit = bool(limit) and _sent_this_month(ctx) >= limit["limit"] and limit.get("reenabled") != _month(ctx)
        if not hit:
            raise ApiError(400, "Unable to re-enable account: it is not disabled for hitting its sending limit")
        limit["reenabled"] = _month(ctx)
    return {"success": True}


@router.get("/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly")
async def get_subaccount_limit(ctx: Ctx) -> dict:
    """A subaccount's monthly sending limit (the sandbox does not count a subaccount's sends: ``current`` is 0)."""
    return _limit_view(ctx.sb.existing("subaccount", ctx.path["subaccount_id"], "Not a subaccount", status=400), 0)


@router.put("/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly")
async def set_subaccount_limit(ctx: Ctx) -> dict:
    """Set a subaccount's monthly sending limit (at least 1000)."""
    limit = _limit_arg(ctx)
    with ctx.state.transaction():
        doc = ctx.state.get("subaccount", ctx.path["subaccount_id"])
        if doc is None or doc["status"] == "closed":
            raise ApiError(400, "Invalid subaccount ID")
        doc["_limit"] = {"limit": limit}
        ctx.state.put("subaccount", doc["id"], doc)
    return {"success": True}


@router.delete("/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly")
async def delete_subaccount_limit(ctx: Ctx) -> dict:
    """Remove a subaccount's monthly sending limit."""
    with ctx.state.transaction():
        doc = ctx.state.get("subaccount", ctx.path["subaccount_id"])
        if doc is None or not doc.pop("_limit", None):
            raise ApiError(400, "Could not delete threshold for account")
        ctx.state.put("subaccount", doc["id"], doc)
    return {"success": True}


# -- users ----------------------------------------------------------------------------------------


def _user(ctx: Ctx) -> dict[str, Any]:
    account(ctx.sb)
    return ctx.sb.existing("user", ctx.path["user_id"], "No such user exists")


@router.get("/v5/users")
async def list_users(ctx: Ctx) -> dict:
    """The account's users, optionally of one role, ``skip``/``limit`` paged."""
    role = ctx.arg("role")
    if role and role not in _USER_ROLES:
        raise ApiError(400, f"Invalid role '{role}': expected one of {', '.join(_USER_ROLES)}")
    account(ctx.sb)
    users = [public(u) for u in ctx.state.list("user") if not role or u["role"] == role]
    limit = ctx.int_arg("limit", 100, low=0, high=1000) or 100  # Mailgun takes 0 for "not given"
    skip = ctx.int_arg("skip", 0, low=0)
    return {"users": users[skip : skip + limit], "total": len(users)}


@router.get("/v5/users/me")
async def get_me(ctx: Ctx) -> dict:
    """The user the API key belongs to: in the sandbox, the account owner."""
    return public(owner(ctx.sb))


@router.get("/v5/users/{user_id}")
async def get_user(ctx: Ctx) -> dict:
    """One user of the account."""
    return public(_user(ctx))


def _org(ctx: Ctx) -> str:
    org = ctx.path["org_id"]
    sub = ctx.state.get("subaccount", org)
    if sub is None or sub["status"] == "closed":
        raise ApiError(400, f"user's account is not in org {org}")
    return org


@router.put("/v5/users/{user_id}/org/{org_id}")
async def add_user_to_org(ctx: Ctx) -> dict:
    """Give a user access to an organization (a subaccount of this account)."""
    with ctx.state.transaction():
        user, org = _user(ctx), _org(ctx)
        if org not in user["_orgs"]:
            user["_orgs"].append(org)
            ctx.state.put("user", user["id"], user)
    return {"message": "success"}


@router.delete("/v5/users/{user_id}/org/{org_id}")
async def remove_user_from_org(ctx: Ctx) -> dict:
    """Take a user's access to an organization away."""
    with ctx.state.transaction():
        user = _user(ctx)
        org = ctx.path["org_id"]
        if org not in user["_orgs"]:
            raise ApiError(404, f"user is not a member of org {org}")
        user["_orgs"].remove(org)
        ctx.state.put("user", user["id"], user)
    return {"message": "success"}
