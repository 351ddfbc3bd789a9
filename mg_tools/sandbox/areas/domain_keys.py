"""Sandbox: DKIM domain keys (``/v1/dkim/keys``, ``/v4/domains/{d}/keys``), DKIM authority and
selector, and Automatic Sender Security key rotation (``/v1/dkim_management``).

Simulated: key material is fake (``k=rsa; p=`` plus bytes derived from a hash, never a usable key)
and the sandbox's DNS is always right once a domain is verified, so a key's record is ``valid``
exactly when its domain is ``active``. Every domain gets its primary key (selector
``dkim_selector``, default ``mx``) the first time its keys are used. Automatic rotation flips the
active ``pdk1``/``pdk2`` selector once per elapsed ``rotation_interval`` of the sandbox clock.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from mg_tools.sandbox.areas.account import account_id
from mg_tools.sandbox.areas.domains import dns_records
from mg_tools.sandbox.core import ApiError, Ctx, Router, described, domain_docs, page_by_token, public, rfc2822

router = Router()

DEFAULT_SELECTOR = "mx"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SELECTOR = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_KEY_BYTES = {1024: 162, 2048: 294}  # DER length of an RSA SubjectPublicKeyInfo of that size
_INTERVAL = re.compile(r"^(\d+)([dh])$")
_MIN_ROTATION_HOURS = 5 * 24
# Mailgun imports RSA keys in PKCS #1 only: not PKCS #8 ("BEGIN PRIVATE KEY"), EC or any other kind.
_PEM = re.compile(r"-----BEGIN RSA PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END RSA PRIVATE KEY-----")
_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_BAD_PEM = "invalid PEM: expected an RSA private key in PKCS #1 format (-----BEGIN RSA PRIVATE KEY-----)"


# -- keys -----------------------------------------------------------------------------------------


def _fake_public_key(seed: str, bits: int) -> str:
    return base64.b64encode(hashlib.shake_256(seed.encode()).digest(_KEY_BYTES[bits])).decode()


def _new_key(
    ctx: Ctx, domain: dict[str, Any], selector: str, *, bits: int = 2048, seed: str = "", active: bool = False
) -> dict[str, Any]:
    name = domain["name"]
    key = {
        "signing_domain": name,
        "selector": selector,
        "active": active,
        "bits": bits,
        "created_at": rfc2822(ctx.sb.now()),
        "_domain_id": domain["id"],
        "_public": _fake_public_key(seed or f"{name}/{selector}/{ctx.sb.new_id()}", bits),
    }
    ctx.state.put("dkim_key", f"{name}/{selector}", key)
    return key


def domain_keys(ctx: Ctx, domain: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain's keys, creating its primary key on first use and dropping keys left behind by a
    deleted domain of the same name."""
    keys = domain_docs(ctx.state, "dkim_key", domain, "selector")
    if not domain.get("_dkim_primary"):
        selector = domain.get("dkim_selector") or DEFAULT_SELECTOR
        if not any(k["selector"] == selector for k in keys):
            keys.append(_new_key(ctx, domain, selector, active=True))
        domain["_dkim_primary"] = True
        ctx.state.put("domain", domain["name"], domain)
    return keys


def _dns_record(key: dict[str, Any], domain: dict[str, Any]) -> dict[str, Any]:
    return {
        "is_active": key["active"],
        "cached": [],
        "name": f"{key['selector']}._domainkey.{key['signing_domain']}",
        "record_type": "TXT",
        "valid": "valid" if domain["state"] == "active" else "unknown",
        "value": f"k=rsa; p={key['_public']}",
    }


def _public_key(key: dict[str, Any], domain: dict[str, Any]) -> dict[str, Any]:
    return {
        "signing_domain": key["signing_domain"],
        "selector": key["selector"],
        "dns_record": _dns_record(key, domain),
    }


def _selector(value: str | None, name: str = "selector") -> str:
    if value in (None, ""):
        raise ApiError(400, f"'{name}' parameter is missing")
    if not _SELECTOR.match(value):
        raise ApiError(400, f"'{value}' is not a valid selector: it must be a dot-atom")
    return value


def _find_key(ctx: Ctx, domain_name: str, selector: str) -> tuple[dict[str, Any], dict[str, Any]]:
    domain = ctx.state.get("domain", domain_name)
    key = None
    if domain is not None:
        key = next((k for k in domain_keys(ctx, domain) if k["selector"] == selector), None)
    if key is None:
        raise ApiError(404, "domain key not found")
    return domain, key


def _bits(ctx: Ctx) -> int:
    bits = ctx.int_arg("bits", 2048)
    if bits not in _KEY_BYTES:
        raise ApiError(400, "bits must be 1024 or 2048")
    return bits


def _pem(ctx: Ctx) -> str | None:
    uploaded = ctx.files.get("pem")
    pem = uploaded[0][1].decode("utf-8", "replace") if uploaded else ctx.arg("pem")
    if pem in (None, ""):
        return None
    if not _PEM.fullmatch(pem.strip()):
        label = _PEM_LABEL.search(pem)
        given = label.group(1) if label else ""
        raise ApiError(400, f"{_BAD_PEM}, not {given}" if given and given != "RSA PRIVATE KEY" else _BAD_PEM)
    return pem


@router.get("/v1/dkim/keys")
async def list_all_keys(ctx: Ctx) -> dict:
    """Every domain's keys, filtered by signing domain and selector, in pages of ``limit``."""
    signing_domain, selector = ctx.text("signing_domain"), ctx.text("selector")
    items = []
    with ctx.state.transaction():
        for domain in ctx.state.list("domain"):
            if signing_domain and domain["name"] != signing_domain:
                continue
            items += [(k, domain) for k in domain_keys(ctx, domain) if not selector or k["selector"] == selector]
    rows = sorted(
        ({"_k": f"{k['signing_domain']}/{k['selector']}", **_public_key(k, d)} for k, d in items), key=lambda r: r["_k"]
    )
    page, paging = page_by_token(rows, ctx, key=lambda r: r["_k"], default_limit=10, max_limit=100)
    return {"items": [public(r) for r in page], "paging": paging}


@router.post("/v1/dkim/keys")
async def create_key(ctx: Ctx) -> dict:
    """Create (or import from ``pem``) an inactive key for an account domain."""
    name = ctx.text("signing_domain")
    if name in (None, ""):
        raise ApiError(400, "'signing_domain' parameter is missing")
    selector = _selector(ctx.text("selector"))
    bits, pem = _bits(ctx), _pem(ctx)
    with ctx.state.transaction():
        domain = ctx.sb.domain(name)
        if any(k["selector"] == selector for k in domain_keys(ctx, domain)):
            raise ApiError(400, f"a domain key with selector '{selector}' already exists for {name}")
        seed = hashlib.sha256(pem.encode()).hexdigest() if pem else ""
        key = _new_key(ctx, domain, selector, bits=bits, seed=seed)
    return _public_key(key, domain)


@router.delete("/v1/dkim/keys")
async def delete_key(ctx: Ctx) -> dict:
    """Delete a key for good; the last active key of a domain cannot go."""
    name = ctx.require("signing_domain")
    selector = ctx.require("selector")
    with ctx.state.transaction():
        domain, key = _find_key(ctx, name, selector)
        active = [k for k in domain_keys(ctx, domain) if k["active"]]
        if key["active"] and len(active) == 1:
            raise ApiError(400, "cannot delete domain key: must have at least one active domain key")
        ctx.state.delete("dkim_key", f"{name}/{selector}")
    return {"message": "success"}


@router.get("/v4/domains/{domain}/keys")
async def list_domain_keys(ctx: Ctx) -> dict:
    """All keys of one signing domain, active or not."""
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        keys = domain_keys(ctx, domain)
    return {"items": [_public_key(k, domain) for k in keys]}


async def _set_active(ctx: Ctx, active: bool) -> dict:
    with ctx.state.transaction():
        domain, key = _find_key(ctx, ctx.path["domain"], ctx.path["selector"])
        if active and domain["state"] != "active":
            raise ApiError(400, "domain key DNS record is not valid: verify the domain first")
        key["active"] = active
        ctx.state.put("dkim_key", f"{domain['name']}/{key['selector']}", key)
    word = "activated" if active else "deactivated"
    return {"message": f"domain key {word}", "authority": domain["name"], "selector": key["selector"], "active": active}


@router.put("/v4/domains/{domain}/keys/{selector}/activate")
async def activate_key(ctx: Ctx) -> dict:
    """Sign mail with this key (its DNS record must be valid)."""
    return await _set_active(ctx, True)


@router.put("/v4/domains/{domain}/keys/{selector}/deactivate")
async def deactivate_key(ctx: Ctx) -> dict:
    """Stop signing mail with this key."""
    return await _set_active(ctx, False)


# -- authority and selector -----------------------------------------------------------------------


def _root_domain(ctx: Ctx, name: str) -> str | None:
    labels = name.split(".")
    for i in range(1, len(labels) - 1):
        parent = ".".join(labels[i:])
        if ctx.state.get("domain", parent) is not None:
            return parent
    return None


def sending_records(domain: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain's sending DNS records, with its DKIM record under its authority and selector."""
    authority = domain.get("_dkim_authority") or domain["name"]
    selector = domain.get("dkim_selector") or DEFAULT_SELECTOR
    records = dns_records(domain)["sending_dns_records"]
    for record in records:
        if "._domainkey." in record.get("name", ""):
            record["name"] = f"{selector}._domainkey.{authority}"
    return records


@router.put("/v3/domains/{domain}/dkim_authority")
async def update_dkim_authority(ctx: Ctx) -> dict:
    """Sign with the domain's own keys (``self=true``) or with those of its parent domain."""
    own = ctx.bool_arg("self")
    if own is None:
        raise ApiError(400, "'self' parameter is missing")
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        before = domain.get("_dkim_authority") or domain["name"]
        authority = domain["name"] if own else _root_domain(ctx, domain["name"])
        if authority is None:
            raise ApiError(400, f"{domain['name']} has no parent domain on this account to take DKIM authority from")
        domain["_dkim_authority"] = authority
        ctx.state.put("domain", domain["name"], domain)
    return {
        "message": "Domain DKIM authority has been changed",
        "sending_dns_records": sending_records(domain),
        "changed": authority != before,
    }


@router.put("/v3/domains/{domain}/dkim_selector")
async def update_dkim_selector(ctx: Ctx) -> dict:
    """Rename the selector of the domain's primary key (no change when omitted)."""
    raw = ctx.text("dkim_selector")
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        if raw in (None, ""):
            return {"message": "DKIM selector changed"}
        selector = _selector(raw, "dkim_selector")
        keys = {k["selector"]: k for k in domain_keys(ctx, domain)}
        old = domain.get("dkim_selector") or DEFAULT_SELECTOR
        if selector != old:
            if selector in keys:
                raise ApiError(400, f"selector '{selector}' is already used by another key of {domain['name']}")
            if old in keys:
                ctx.state.delete("dkim_key", f"{domain['name']}/{old}")
                ctx.state.put("dkim_key", f"{domain['name']}/{selector}", {**keys[old], "selector": selector})
        domain["dkim_selector"] = selector
        ctx.state.put("domain", domain["name"], domain)
    return {"message": "DKIM selector changed"}


# -- Automatic Sender Security rotation -----------------------------------------------------------


def _reason(message: str) -> ApiError:
    return ApiError(400, message, body={"Reason": message})


def _managed(ctx: Ctx, name: str) -> dict[str, Any]:
    """A domain under Automatic Sender Security (others are unknown to this API)."""
    domain = ctx.state.get("domain", name)
    if domain is None or not domain.get("use_automatic_sender_security"):
        raise described(404, "domain not found")
    domain.setdefault(
        "_dkim_rotation",
        {"rotation_enabled": False, "rotation_interval": "", "base_selector": "pdk1", "rotated_at": ctx.sb.now()},
    )
    return domain


def _hours(interval: str) -> int:
    count, unit = _INTERVAL.match(interval).groups()
    return int(count) * (24 if unit == "d" else 1)


def _active_selector(ctx: Ctx, rotation: dict[str, Any]) -> str:
    base = rotation["base_selector"]
    if not rotation["rotation_enabled"]:
        return base
    flips = int((ctx.sb.now() - rotation["rotated_at"]) // (_hours(rotation["rotation_interval"]) * 3600))
    return base if flips % 2 == 0 else ("pdk2" if base == "pdk1" else "pdk1")


def _asd_view(ctx: Ctx, domain: dict[str, Any]) -> dict[str, Any]:
    rotation = domain["_dkim_rotation"]
    sid = domain["id"][-7:]
    return {
        "id": domain["id"],
        "account_id": account_id(ctx.sb),
        "sid": sid,
        "name": domain["name"],
        "state": "enabled" if domain["state"] == "active" else "wait_verify",
        "active_selector": _active_selector(ctx, rotation),
        "rotation_enabled": "true" if rotation["rotation_enabled"] else "false",
        "rotation_interval": rotation["rotation_interval"],
        "records": [
            {
                "name": f"{s}._domainkey.{domain['name']}",
                "type": "CNAME",
                "identifier": "DKIM",
                "value": f"{s}._domainkey.{sid}.service.mailgun.com",
                "comment": "Customer DKIM CNAME Record",
            }
            for s in ("pdk1", "pdk2")
        ],
    }


@router.put("/v1/dkim_management/domains/{domain}/rotation")
async def update_rotation(ctx: Ctx) -> dict:
    """Turn automatic DKIM key rotation on or off, with an interval of at least 5 days."""
    enabled = ctx.bool_arg("rotation_enabled")
    interval = ctx.text("rotation_interval") or ""
    with ctx.state.transaction():
        domain = _managed(ctx, ctx.path["domain"])
        if enabled is None:
            raise _reason("rotation_enabled is required")
        if interval and not enabled:
            raise _reason("rotation_interval is not allowed unless also enabling DKIM rotation")
        if interval and not _INTERVAL.match(interval):
            raise _reason("rotation_interval must look like '5d' or '120h'")
        if interval and _hours(interval) < _MIN_ROTATION_HOURS:
            raise _reason("rotation_interval must be at least 5 days")
        rotation = domain["_dkim_rotation"]
        rotation["base_selector"] = _active_selector(ctx, rotation)
        rotation["rotated_at"] = ctx.sb.now()
        rotation["rotation_enabled"] = enabled
        rotation["rotation_interval"] = f"{_hours(interval or '30d')}h" if enabled else ""
        ctx.state.put("domain", domain["name"], domain)
    return {"domain": _asd_view(ctx, domain)}


@router.post("/v1/dkim_management/domains/{domain}/rotate")
async def rotate_now(ctx: Ctx) -> dict:
    """Switch to the other DKIM key now, whether or not automatic rotation is on."""
    with ctx.state.transaction():
        domain = _managed(ctx, ctx.path["domain"])
        view = _asd_view(ctx, domain)
        if view["state"] != "enabled":
            raise _reason(f"only domains in enabled can rotate their keys. Current state: {view['state']}")
        rotation = domain["_dkim_rotation"]
        rotation["base_selector"] = "pdk2" if view["active_selector"] == "pdk1" else "pdk1"
        rotation["rotated_at"] = ctx.sb.now()
        ctx.state.put("domain", domain["name"], domain)
    return {"message": "ok"}
