"""Sandbox: account IPs, dedicated IP pools (DIPPs), dynamic IP pools and IP warmups.

The account starts with one shared IP and two dedicated ones (documentation addresses); a domain
sends from the shared IP until it gets its own IPs (``_ips``), a DIPP (``_pool_id``) or a dynamic
pool (``_dynamic``), all kept on the domain document.
Simulated: "background" jobs finish before the answer; a requested IP is handed out at once; a
warmup climbs one stage of ``WARMUP_LIMITS`` per day of the sandbox clock; the dynamic-pool health
check bands a domain by its events (see ``health``) and runs whenever assignments are read.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import UTC, datetime
from typing import Any

from mg_tools.sandbox.areas.account import account
from mg_tools.sandbox.core import ApiError, Ctx, Router, described, page_by_token, public, skip_limit

router = Router()

SHARED_IP = "192.0.2.10"
SEED_DEDICATED = ("198.51.100.1", "198.51.100.2")
MAX_DEDICATED = 5
WARMUP_LIMITS = (100, 200, 400, 1000, 2000, 4000, 8000, 14000, 20000, 30000, 45000, 70000, 100000, 150000, 250000)
DAY = 86400
#: Health-check thresholds: above these rates a domain is poor; below this volume it is new.
MAX_BOUNCE_RATE, MAX_COMPLAINT_RATE, MIN_PROCESSED = 0.05, 0.001, 100
_DYNAMIC = {"good_reputation": "dynamic_good", "poor_reputation": "dynamic_poor", "new_senders": "dynamic_new"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _values(ctx: Ctx, name: str) -> list[str]:
    """A repeatable field, also accepting comma-separated values."""
    out: list[str] = []
    for value in ctx.args(name):
        out += [v.strip() for v in str(value).split(",") if v.strip()]
    return list(dict.fromkeys(out))


# -- account IPs ----------------------------------------------------------------------------------


def _new_ip(address: str, dedicated: bool) -> dict[str, Any]:
    return {"ip": address, "dedicated": dedicated, "rdns": f"ip-{address.replace('.', '-')}.sandbox.mailgun.test"}


def account_ips(ctx: Ctx) -> list[dict[str, Any]]:
    """The account's IPs, seeded on first use."""
    if ctx.state.count("ip") == 0:
        with ctx.state.transaction():
            ctx.state.put("ip", SHARED_IP, _new_ip(SHARED_IP, False))
            for address in SEED_DEDICATED:
                ctx.state.put("ip", address, _new_ip(address, True))
    return ctx.state.list("ip")


def _ip(ctx: Ctx, address: str) -> dict[str, Any]:
    doc = next((i for i in account_ips(ctx) if i["ip"] == address), None)
    if doc is None:
        raise ApiError(404, "IP not found")
    return doc


def _owned_dedicated(ctx: Ctx, address: str) -> dict[str, Any]:
    doc = next((i for i in account_ips(ctx) if i["ip"] == address), None)
    if doc is None:
        raise ApiError(400, f"IP {address} does not belong to the account")
    if not doc["dedicated"]:
        raise ApiError(400, f"IP {address} is not a dedicated IP")
    return doc


def _dipp_of(ctx: Ctx, address: str) -> str | None:
    return next((p["pool_id"] for p in ctx.state.list("ip_pool") if address in p["ips"]), None)


def _dynamic_of(ctx: Ctx, address: str) -> str | None:
    return next((p["name"] for p in ctx.state.list("dynamic_pool") if address in p["ips"]), None)


def _free_dedicated(ctx: Ctx, address: str, *, pool_id: str | None = None, dynamic: str | None = None) -> None:
    """Check that a dedicated IP may join DIPP ``pool_id`` or dynamic pool ``dynamic``."""
    _owned_dedicated(ctx, address)
    other = _dipp_of(ctx, address)
    if other is not None and other != pool_id:
        raise ApiError(400, f"IP {address} already belongs to DIPP {other}")
    named = _dynamic_of(ctx, address)
    if named is not None and named != dynamic:
        raise ApiError(400, f"IP {address} already belongs to dynamic IP pool {named}")


def _changed_ips(
    ctx: Ctx, ips: list[str], add: list[str], remove: list[str], pool: str, *, missing: int = 400, **owner: str
) -> list[str]:
    """``ips`` with ``add`` (each free to join the pool ``owner`` names) and without ``remove``; an
    error with status ``missing`` when an IP to remove is not in ``pool``."""
    for address in add:
        _free_dedicated(ctx, address, **owner)
    for address in remove:
        if address not in ips:
            raise ApiError(missing, f"IP {address} is not in {pool}")
    return [a for a in ips if a not in remove] + [a for a in add if a not in ips]


# -- what a domain sends from ---------------------------------------------------------------------


def _shared(ctx: Ctx) -> str:
    return next(i["ip"] for i in account_ips(ctx) if not i["dedicated"])


def own_ips(ctx: Ctx, domain: dict[str, Any]) -> list[str]:
    """The IPs assigned to the domain itself (ignoring DIPPs and dynamic pools)."""
    if "_ips" in domain:
        return list(domain["_ips"])
    raw = domain.get("ips")
    parsed = [v.strip() for v in raw.split(",")] if isinstance(raw, str) else list(raw or [])
    return [v for v in parsed if v] or [_shared(ctx)]


def linked_pool(ctx: Ctx, domain: dict[str, Any]) -> str | None:
    pool_id = domain["_pool_id"] if "_pool_id" in domain else domain.get("pool_id")
    return pool_id if pool_id and ctx.state.get("ip_pool", pool_id) is not None else None


def domain_ips(ctx: Ctx, domain: dict[str, Any]) -> list[str]:
    """The IPs the domain sends from: its dynamic pool's, its DIPP's or its own."""
    if domain.get("_dynamic"):
        pool = ctx.state.get("dynamic_pool", domain["_dynamic"]["band"])
        return list(pool["ips"]) if pool else []
    pool_id = linked_pool(ctx, domain)
    if pool_id:
        return list(ctx.state.get("ip_pool", pool_id)["ips"])
    return own_ips(ctx, domain)


def _save_domain(ctx: Ctx, domain: dict[str, Any]) -> None:
    ctx.state.put("domain", domain["name"], domain)


@router.get("/v3/ips")
async def list_ips(ctx: Ctx) -> dict:
    """The account's IPs (only dedicated ones with ``dedicated=true``)."""
    dedicated = ctx.bool_arg("dedicated")
    ctx.bool_arg("enabled")  # every sandbox IP is enabled
    ips = [i for i in account_ips(ctx) if not dedicated or i["dedicated"]]
    warming = {w["ip"] for w in _warmups(ctx)}
    return {
        "assignable_to_pools": [
            i["ip"] for i in ips if i["dedicated"] and not _dipp_of(ctx, i["ip"]) and not _dynamic_of(ctx, i["ip"])
        ],
        "details": [{"ip": i["ip"], "is_on_warmup": i["ip"] in warming} for i in ips],
        "items": [i["ip"] for i in ips],
        "total_count": len(ips),
    }


@router.get("/v3/ips/request/new")
async def count_available_ips(ctx: Ctx) -> dict:
    """How many more dedicated IPs the plan allows."""
    dedicated = sum(1 for i in account_ips(ctx) if i["dedicated"])
    return {"allowed": {"dedicated": max(0, MAX_DEDICATED - dedicated), "shared": 0}}


@router.post("/v3/ips/request/new")
async def request_ip(ctx: Ctx) -> dict:
    """Add a dedicated IP to the account, if the plan allows one more."""
    with ctx.state.transaction():
        ips = account_ips(ctx)
        if sum(1 for i in ips if i["dedicated"]) >= MAX_DEDICATED:
            raise ApiError(400, "no more dedicated IPs are available on this plan")
        taken = {i["ip"] for i in ips}
        address = next(str(a) for a in ipaddress.ip_network("198.51.100.0/24").hosts() if str(a) not in taken)
        ctx.state.put("ip", address, _new_ip(address, True))
    return {"message": "success"}


@router.get("/v3/ips/{ip}")
async def get_ip(ctx: Ctx) -> dict:
    """One account IP: dedicated or shared, its reverse DNS and IP band."""
    doc = _ip(ctx, ctx.path["ip"])
    return {**public(doc), **({"ip_band": doc["_band"]} if doc.get("_band") else {})}


@router.get("/v3/ips/{ip}/domains")
async def list_ip_domains(ctx: Ctx) -> dict:
    """Domains that send from an IP, optionally matching ``search`` words, ``skip``/``limit`` paged."""
    address = _ip(ctx, ctx.path["ip"])["ip"]
    words = [w for w in re.split(r"[\W_]+", (ctx.arg("search") or "").lower()) if w]
    items = []
    for domain in ctx.state.list("domain"):
        ips = domain_ips(ctx, domain)
        if address in ips and (not words or any(w in domain["name"] for w in words)):
            items.append({"ips": ips, "domain": domain["name"]})
    return {"items": skip_limit(items, ctx), "total_count": len(items)}


def _job(ctx: Ctx) -> dict:
    return {"message": "started", "reference_id": ctx.sb.new_id()}


@router.post("/v3/ips/{ip}/domains")
async def assign_ip_to_all_domains(ctx: Ctx) -> dict:
    """Add an IP to every domain that manages its own IPs."""
    with ctx.state.transaction():
        address = _ip(ctx, ctx.path["ip"])["ip"]
        for domain in ctx.state.list("domain"):
            if domain.get("_dynamic") or linked_pool(ctx, domain):
                continue
            ips = own_ips(ctx, domain)
            if address not in ips:
                domain["_ips"] = ips + [address]
                _save_domain(ctx, domain)
    return _job(ctx)


@router.delete("/v3/ips/{ip}/domains")
async def remove_ip_from_all_domains(ctx: Ctx) -> dict:
    """Remove an IP from every domain, putting ``alternative`` (or the shared IP) in its place."""
    with ctx.state.transaction():
        address = _ip(ctx, ctx.path["ip"])["ip"]
        alternative = ctx.arg("alternative")
        if alternative and not any(i["ip"] == alternative for i in account_ips(ctx)):
            raise ApiError(400, f"alternative IP {alternative} does not belong to the account")
        for domain in ctx.state.list("domain"):
            ips = own_ips(ctx, domain)
            if address not in ips or domain.get("_dynamic") or linked_pool(ctx, domain):
                continue
            ips.remove(address)
            if alternative and alternative not in ips:
                ips.append(alternative)
            domain["_ips"] = ips or [_shared(ctx)]
            _save_domain(ctx, domain)
    return _job(ctx)


@router.post("/v3/ips/{ip}/ip_band")
async def set_ip_band(ctx: Ctx) -> dict:
    """Place a dedicated IP into a named IP band."""
    band = ctx.arg("ip_band")
    if band in (None, ""):
        raise ApiError(400, "'ip_band' parameter is missing")
    with ctx.state.transaction():
        doc = _ip(ctx, ctx.path["ip"])
        _owned_dedicated(ctx, doc["ip"])
        doc["_band"] = band
        ctx.state.put("ip", doc["ip"], doc)
    return {"message": "success"}


@router.delete("/v3/domains/{domain}/ips/{ip}")
@router.delete("/v3/domains/{domain}/pool/{ip}")
async def remove_domain_ip(ctx: Ctx) -> dict:
    """Remove an IP from a domain, drop its own IPs (``all``) or unlink its DIPP (``ip_pool``, replaced
    by the query's ``ip`` or ``pool_id``); ``/pool/{ip}`` is another spelling of the same."""
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        target = ctx.path["ip"]
        if target == "all":
            domain["_ips"], domain["_pool_id"] = [_shared(ctx)], None
        elif target == "ip_pool":
            _unlink_domain_pool(ctx, domain)
        else:
            _remove_own_ip(ctx, domain, target)
        _save_domain(ctx, domain)
    return {"message": "success"}


def _unlink_domain_pool(ctx: Ctx, domain: dict[str, Any]) -> None:
    if not linked_pool(ctx, domain):
        raise ApiError(400, f"no DIPP is linked to {domain['name']}")
    ip, pool_id = ctx.query.get("ip"), ctx.query.get("pool_id")
    if bool(ip) == bool(pool_id):
        raise ApiError(400, "give exactly one of 'ip' and 'pool_id' to replace the DIPP")
    if pool_id:
        _pool(ctx, pool_id, status=400)
        domain["_pool_id"] = pool_id
        return
    if ip != "shared":
        _free_dedicated(ctx, ip)
    domain["_ips"], domain["_pool_id"] = [_shared(ctx) if ip == "shared" else ip], None


def _remove_own_ip(ctx: Ctx, domain: dict[str, Any], address: str) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ApiError(400, f"'{address}' is not an IP address, 'all' or 'ip_pool'") from None
    if linked_pool(ctx, domain) or domain.get("_dynamic"):
        raise ApiError(400, "the domain's IPs come from a pool; change the pool instead")
    ips = own_ips(ctx, domain)
    if address not in ips:
        raise ApiError(404, f"IP {address} is not assigned to {domain['name']}")
    ips.remove(address)
    if not ips and address == _shared(ctx):
        raise ApiError(400, "cannot remove the last IP of the domain")
    domain["_ips"] = ips or [_shared(ctx)]


# -- dedicated IP pools (DIPPs) -------------------------------------------------------------------


def _pool(ctx: Ctx, pool_id: str | None = None, *, status: int = 404) -> dict[str, Any]:
    pool_id = pool_id if pool_id is not None else ctx.path["pool_id"]
    return ctx.sb.existing("ip_pool", pool_id, f"IP pool {pool_id} not found", status=status)


def _linked(ctx: Ctx, pool_id: str) -> list[dict[str, Any]]:
    return [d for d in ctx.state.list("domain") if not d.get("_dynamic") and linked_pool(ctx, d) == pool_id]


def _pool_view(ctx: Ctx, pool: dict[str, Any]) -> dict[str, Any]:
    return {**public(pool), "is_linked": bool(_linked(ctx, pool["pool_id"]))}


def _find_domain(ctx: Ctx, ref: str) -> dict[str, Any]:
    """A domain by id (as Mailgun expects) or by name."""
    doc = ctx.state.get("domain", ref) or next((d for d in ctx.state.list("domain") if d["id"] == ref), None)
    if doc is None:
        raise ApiError(400, f"domain {ref} not found")
    return doc


@router.get("/v3/ip_pools")
async def list_ip_pools(ctx: Ctx) -> dict:
    """The account's DIPPs with their IPs and whether domains use them."""
    return {"ip_pools": [_pool_view(ctx, p) for p in ctx.state.list("ip_pool")], "message": "success"}


@router.post("/v3/ip_pools")
async def create_ip_pool(ctx: Ctx) -> dict:
    """Create a DIPP from dedicated IPs that are in no other pool."""
    name, description = ctx.arg("name"), ctx.arg("description")
    for field, value in (("name", name), ("description", description)):
        if value in (None, ""):
            raise ApiError(400, f"'{field}' parameter is missing")
    with ctx.state.transaction():
        if any(p["name"] == name for p in ctx.state.list("ip_pool")):
            raise ApiError(400, f"a DIPP named '{name}' already exists")
        ips = _values(ctx, "ip")
        for address in ips:
            _free_dedicated(ctx, address)
        pool_id = ctx.sb.new_id()
        ctx.state.put(
            "ip_pool",
            pool_id,
            {"pool_id": pool_id, "name": name, "description": description, "ips": ips, "is_inherited": False},
        )
    return {"message": "success", "pool_id": pool_id}


@router.get("/v3/ip_pools/{pool_id}")
async def get_ip_pool(ctx: Ctx) -> dict:
    """One DIPP and the domains linked to it."""
    pool = _pool(ctx)
    linked = [d["name"] for d in _linked(ctx, pool["pool_id"])]
    return {"details": {**_pool_view(ctx, pool), "linked_domains": linked}, "message": "success"}


@router.delete("/v3/ip_pools/{pool_id}")
async def delete_ip_pool(ctx: Ctx) -> dict:
    """Delete a DIPP, moving its domains to the replacement DIPP (``pool_id``) or IP (``ip``)."""
    with ctx.state.transaction():
        pool = _pool(ctx)
        ip, replacement = ctx.query.get("ip"), ctx.query.get("pool_id")
        if ip and replacement:
            raise ApiError(400, "give either 'ip' or 'pool_id' as the replacement, not both")
        if pool["ips"] and not (ip or replacement):
            raise ApiError(400, "the DIPP has IPs: give a replacement 'ip' or 'pool_id'")
        if replacement:
            other = _pool(ctx, replacement, status=400)
            if other["pool_id"] == pool["pool_id"] or not other["ips"]:
                raise ApiError(400, "the replacement DIPP must be another pool with at least one IP")
        elif ip and ip != "shared":
            _free_dedicated(ctx, ip, pool_id=pool["pool_id"])
        for domain in _linked(ctx, pool["pool_id"]):
            domain["_pool_id"] = replacement or None
            if not replacement:
                domain["_ips"] = [_shared(ctx) if ip in (None, "shared") else ip]
            _save_domain(ctx, domain)
        ctx.state.delete("ip_pool", pool["pool_id"])
    return {"message": "started"}


def _edit_ips(ctx: Ctx, pool: dict[str, Any], add: list[str], remove: list[str], *, missing: int = 400) -> bool:
    ips = _changed_ips(ctx, pool["ips"], add, remove, "the DIPP", missing=missing, pool_id=pool["pool_id"])
    if not ips and _linked(ctx, pool["pool_id"]):
        raise ApiError(400, "a DIPP linked to domains must keep at least one IP")
    changed = ips != pool["ips"]
    pool["ips"] = ips
    return changed


def _edit_links(ctx: Ctx, pool: dict[str, Any], link: list[str], unlink: list[str]) -> bool:
    changed = False
    for ref in link:
        domain = _find_domain(ctx, ref)
        if domain.get("_dynamic"):
            raise ApiError(400, f"{domain['name']} is enrolled in dynamic IP pools")
        if linked_pool(ctx, domain) != pool["pool_id"]:
            domain["_pool_id"], changed = pool["pool_id"], True
            _save_domain(ctx, domain)
    for ref in unlink:
        domain = _find_domain(ctx, ref)
        if linked_pool(ctx, domain) != pool["pool_id"]:
            raise ApiError(400, f"{domain['name']} is not linked to the DIPP")
        domain["_pool_id"], changed = None, True
        _save_domain(ctx, domain)
    return changed


@router.route("PATCH", "/v3/ip_pools/{pool_id}")
async def update_ip_pool(ctx: Ctx) -> dict:
    """Rename a DIPP, change its description, add or remove IPs, link or unlink domains."""
    with ctx.state.transaction():
        pool = _pool(ctx)
        changed = False
        for field in ("name", "description"):
            value = ctx.arg(field)
            if value not in (None, "") and value != pool[field]:
                pool[field], changed = value, True
        changed |= _edit_ips(ctx, pool, _values(ctx, "add_ip"), _values(ctx, "remove_ip"))
        ctx.state.put("ip_pool", pool["pool_id"], pool)
        changed |= _edit_links(ctx, pool, _values(ctx, "link_domain"), _values(ctx, "unlink_domain"))
        if not changed:
            raise ApiError(400, "nothing to change: the parameters leave the DIPP as it is")
    return {"message": "success"}


@router.get("/v3/ip_pools/{pool_id}/domains")
async def list_ip_pool_domains(ctx: Ctx) -> dict:
    """Domains linked to a DIPP, in pages of ``limit`` (10 to 500)."""
    pool = _pool(ctx)
    rows = sorted(({"id": d["id"], "name": d["name"]} for d in _linked(ctx, pool["pool_id"])), key=lambda r: r["name"])
    page, paging = page_by_token(rows, ctx, key=lambda r: r["name"], default_limit=10, max_limit=500, min_limit=10)
    return {"domains": page, "paging": paging}


def _change_pool_ips(ctx: Ctx, add: list[str], remove: list[str], *, missing: int = 400) -> dict:
    with ctx.state.transaction():
        pool = _pool(ctx)
        _edit_ips(ctx, pool, add, remove, missing=missing)
        ctx.state.put("ip_pool", pool["pool_id"], pool)
    return {"message": "started"}


@router.put("/v3/ip_pools/{pool_id}/ips/{ip}")
async def add_ip_to_pool(ctx: Ctx) -> dict:
    """Add a dedicated IP to a DIPP."""
    return _change_pool_ips(ctx, [ctx.path["ip"]], [])


@router.delete("/v3/ip_pools/{pool_id}/ips/{ip}")
async def remove_ip_from_pool(ctx: Ctx) -> dict:
    """Remove an IP from a DIPP."""
    return _change_pool_ips(ctx, [], [ctx.path["ip"]], missing=404)


@router.post("/v3/ip_pools/{pool_id}/ips.json")
async def add_ips_to_pool(ctx: Ctx) -> dict:
    """Add several dedicated IPs to a DIPP (JSON ``{"ips": [...]}``); all or none are added."""
    ips = ctx.json.get("ips") if isinstance(ctx.json, dict) else None
    if not isinstance(ips, list) or not ips or not all(isinstance(i, str) for i in ips):
        raise ApiError(400, "'ips' must be a non-empty JSON list of IP addresses")
    return _change_pool_ips(ctx, list(dict.fromkeys(ips)), [])


# -- dynamic IP pools -----------------------------------------------------------------------------


def _dynamic_pools(ctx: Ctx) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in ctx.state.list("dynamic_pool")}


def _configured(ctx: Ctx) -> dict[str, dict[str, Any]]:
    pools = _dynamic_pools(ctx)
    if not pools:
        raise ApiError(400, "dynamic IP pools are not configured: set their IPs with POST /v3/dynamic_pools/all")
    return pools


def _dynamic_pool(ctx: Ctx) -> dict[str, Any]:
    name = ctx.path["pool_name"]
    return ctx.sb.existing("dynamic_pool", name, f"dynamic IP pool {name} not found", error=described)


def _check_not_all_warming(ctx: Ctx, name: str, ips: list[str]) -> None:
    warming = {w["ip"] for w in _warmups(ctx)}
    if not [a for a in ips if a not in warming]:
        raise ApiError(400, f"dynamic IP pool {name} needs at least one IP that is not warming up")


def _by_band(pools: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    return {field: pools[name]["ips"] if name in pools else [] for field, name in _DYNAMIC.items()}


@router.get("/v3/dynamic_pools")
async def list_dynamic_pools(ctx: Ctx) -> dict:
    """The IPs of each dynamic IP pool."""
    pools = _dynamic_pools(ctx)
    return {**_by_band(pools), "pools": list(pools.values())}


@router.post("/v3/dynamic_pools/all")
async def set_dynamic_pools(ctx: Ctx) -> dict:
    """Set the IPs of all three dynamic pools at once, replacing what they had."""
    wanted = {field: _values(ctx, field) for field in _DYNAMIC}
    for field, ips in wanted.items():
        if not ips:
            raise ApiError(400, f"'{field}' parameter is missing")
    everything = [a for ips in wanted.values() for a in ips]
    if len(everything) != len(set(everything)):
        raise ApiError(400, "an IP can belong to one dynamic IP pool only")
    with ctx.state.transaction():
        existing = _dynamic_pools(ctx)
        for field, ips in wanted.items():
            for address in ips:
                _owned_dedicated(ctx, address)
                if _dipp_of(ctx, address):
                    raise ApiError(400, f"IP {address} already belongs to DIPP {_dipp_of(ctx, address)}")
            _check_not_all_warming(ctx, _DYNAMIC[field], ips)
        acct = account(ctx.sb)["id"]
        for field, ips in wanted.items():
            name = _DYNAMIC[field]
            pool_id = existing[name]["id"] if name in existing else ctx.sb.new_id()
            ctx.state.put(
                "dynamic_pool", name, {"account_id": acct, "enabled": True, "id": pool_id, "ips": ips, "name": name}
            )
    return wanted


@router.delete("/v3/dynamic_pools/all")
async def delete_dynamic_pools(ctx: Ctx) -> dict:
    """Remove the dynamic IP pools (no domain may still be enrolled)."""
    with ctx.state.transaction():
        if not _dynamic_pools(ctx):
            raise described(404, "dynamic IP pools are not configured")
        if any(d.get("_dynamic") for d in ctx.state.list("domain")):
            raise ApiError(400, "remove every domain from dynamic IP pools before removing the pools")
        ctx.state.clear("dynamic_pool")
    return {"message": "success"}


@router.post("/v3/dynamic_pools/{pool_name}/{ip}")
async def add_ip_to_dynamic_pool(ctx: Ctx) -> dict:
    """Add a dedicated IP to one dynamic pool."""
    with ctx.state.transaction():
        pool = _dynamic_pool(ctx)
        address = ctx.path["ip"]
        _free_dedicated(ctx, address, dynamic=pool["name"])
        if address not in pool["ips"]:
            pool["ips"].append(address)
            ctx.state.put("dynamic_pool", pool["name"], pool)
    return {"message": "success"}


@router.route("PATCH", "/v3/dynamic_pools/{pool_name}")
async def update_dynamic_pool(ctx: Ctx) -> dict:
    """Add and remove IPs of one dynamic pool; it must keep an IP that is not warming up."""
    add, remove = _values(ctx, "add_ip"), _values(ctx, "remove_ip")
    if not add and not remove:
        raise ApiError(400, "give 'add_ip' or 'remove_ip'")
    with ctx.state.transaction():
        pool = _dynamic_pool(ctx)
        ips = _changed_ips(ctx, pool["ips"], add, remove, f"dynamic IP pool {pool['name']}", dynamic=pool["name"])
        _check_not_all_warming(ctx, pool["name"], ips)
        pool["ips"] = ips
        ctx.state.put("dynamic_pool", pool["name"], pool)
    return {"message": "success"}


# -- domains in dynamic pools: health checks and history ------------------------------------------


def _metric(value: float, good: bool, otherwise: str) -> dict[str, Any]:
    return {"value": value, "band": "dynamic_good" if good else otherwise}


def health(ctx: Ctx, domain: dict[str, Any]) -> dict[str, Any]:
    """Band a domain by its events: poor above ``MAX_BOUNCE_RATE`` permanent failures or
    ``MAX_COMPLAINT_RATE`` complaints per accepted message, new below ``MIN_PROCESSED``, else good."""
    processed = bounced = complained = 0
    for event in ctx.state.list("event", f"{domain['name']}/"):
        kind = event.get("event")
        processed += kind == "accepted"
        bounced += kind == "failed" and event.get("severity") == "permanent"
        complained += kind == "complained"
    bounce_rate = bounced / processed if processed else 0.0
    complaint_rate = complained / processed if processed else 0.0
    results = {
        "bounce_rate": _metric(bounce_rate, bounce_rate <= MAX_BOUNCE_RATE, "dynamic_poor"),
        "complaint_rate": _metric(complaint_rate, complaint_rate <= MAX_COMPLAINT_RATE, "dynamic_poor"),
        "processed_count": _metric(processed, processed >= MIN_PROCESSED, "dynamic_new"),
    }
    bands = {r["band"] for r in results.values()}
    pool = next(b for b in ("dynamic_poor", "dynamic_new", "dynamic_good") if b in bands)
    return {"pool": pool, "results": results}


def _record(ctx: Ctx, domain: dict[str, Any], prev: str, new: str, reason: str, by: str, check: dict[str, Any]) -> None:
    acct = account(ctx.sb)
    seq = ctx.state.next_id("dynamic_event")
    r = check["results"]
    ctx.state.put(
        "dynamic_event",
        f"{seq:012d}",
        {
            "id": ctx.sb.new_id(),
            "owning_account_id": "000000000000000000000000",
            "account_id": acct["id"],
            "account_name": acct["name"],
            "domain_id": domain["id"],
            "domain_name": domain["name"],
            "new_band": new,
            "prev_band": prev,
            "reason": reason,
            "bounce_rate": r["bounce_rate"]["value"],
            "complaint_rate": r["complaint_rate"]["value"],
            "processed_count": r["processed_count"]["value"],
            "initiated_by": by,
            "timestamp": _iso(ctx.sb.now()),
            "_ts": ctx.sb.now(),
            "_seq": seq,
        },
    )


def _move(ctx: Ctx, domain: dict[str, Any], band: str, reason: str, by: str, check: dict[str, Any]) -> None:
    prev = domain["_dynamic"]["band"]
    if band != prev:
        domain["_dynamic"]["band"] = band
        _record(ctx, domain, prev, band, reason, by, check)
    _save_domain(ctx, domain)


def _health_checks(ctx: Ctx) -> list[dict[str, Any]]:
    """Run the health check on every enrolled domain without an override; the enrolled domains."""
    enrolled = [d for d in ctx.state.list("domain") if d.get("_dynamic")]
    for domain in enrolled:
        if not domain["_dynamic"].get("override"):
            check = health(ctx, domain)
            if check["pool"] != domain["_dynamic"]["band"]:
                _move(ctx, domain, check["pool"], "health check", "system", check)
    return enrolled


def _enroll(ctx: Ctx, domain: dict[str, Any]) -> None:
    check = health(ctx, domain)
    domain["_dynamic"] = {"band": "", "override": None, "registered_at": _iso(ctx.sb.now())}
    domain["_pool_id"] = None
    _move(ctx, domain, check["pool"], "domain enrolled", "user", check)


def _domain(ctx: Ctx, name: str) -> dict[str, Any]:
    """The domain, or the dynamic pools API's 404 (a ``Description``, not Mailgun's usual ``message``)."""
    return ctx.sb.existing("domain", name, "domain not found", error=described)


def _enrolled(ctx: Ctx, name: str) -> dict[str, Any]:
    domain = _domain(ctx, name)
    if not domain.get("_dynamic"):
        raise described(404, f"domain {name} is not enrolled in dynamic IP pools")
    return domain


@router.post("/v3/domains/{domain}/dynamic_pools")
async def enroll_domain(ctx: Ctx) -> dict:
    """Let a domain's IPs follow its reputation (its DIPP link, if any, is dropped)."""
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        _configured(ctx)
        if domain.get("_dynamic"):
            raise ApiError(400, f"{domain['name']} is already enrolled in dynamic IP pools")
        _enroll(ctx, domain)
    return {"message": "success"}


@router.delete("/v3/domains/{domain}/dynamic_pools")
async def unenroll_domain(ctx: Ctx) -> dict:
    """Take a domain out of dynamic pools, onto ``replacement_ip`` IPs or a ``replacement_pool_id`` DIPP."""
    ips = _values(ctx, "replacement_ip")
    pool_id = ctx.arg("replacement_pool_id")
    if bool(ips) == bool(pool_id):
        raise ApiError(400, "give either 'replacement_ip' or 'replacement_pool_id'")
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        if not domain.get("_dynamic"):
            raise ApiError(400, f"{domain['name']} is not enrolled in dynamic IP pools")
        if pool_id:
            _pool(ctx, pool_id, status=400)
            domain["_pool_id"] = pool_id
        else:
            for address in ips:
                if address != "shared":
                    _free_dedicated(ctx, address)
            domain["_ips"] = list(dict.fromkeys(_shared(ctx) if a == "shared" else a for a in ips))
        domain.pop("_dynamic")
        _save_domain(ctx, domain)
    return {"message": "success"}


@router.get("/v3/domains/dynamic_pools/assignable")
async def list_assignable_domains(ctx: Ctx) -> dict:
    """Domains not yet in dynamic pools, optionally matching the ``domain`` regex."""
    pattern = ctx.arg("domain")
    try:
        regex = re.compile(pattern) if pattern else None
    except re.error:
        raise ApiError(400, f"'domain' is not a valid regular expression: {pattern}") from None
    sub = ctx.arg("subaccount_id")
    if sub and ctx.state.get("subaccount", sub) is None:
        raise ApiError(400, f"subaccount {sub} not found")
    acct = account(ctx.sb)["id"]
    domains = [] if sub else ctx.state.list("domain")  # sandbox subaccounts own no domains
    return {
        "items": [
            {"account_id": acct, "id": d["id"], "name": d["name"]}
            for d in domains
            if not d.get("_dynamic") and (regex is None or regex.search(d["name"]))
        ]
    }


@router.post("/v3/domains/all/dynamic_pools/enroll")
async def enroll_all_domains(ctx: Ctx) -> dict:
    """Enroll every domain of the account in dynamic pools."""
    ctx.bool_arg("include_subaccounts")  # sandbox subaccounts own no domains
    with ctx.state.transaction():
        _configured(ctx)
        for domain in ctx.state.list("domain"):
            if not domain.get("_dynamic"):
                _enroll(ctx, domain)
    return {"message": "started"}


def _capital_paging(rows: list[dict[str, Any]], ctx: Ctx, key: str, limit_name: str) -> tuple[list, dict]:
    page, paging = page_by_token(
        rows,
        ctx,
        key=lambda r: r[key],
        default_limit=10,
        max_limit=100,
        limit_name=limit_name,
        names=("First", "Last", "Next", "Previous"),
    )
    return [public(r) for r in page], paging


@router.get("/v1/dynamic_pools/domains")
async def list_dynamic_domains(ctx: Ctx) -> dict:
    """Enrolled domains with their pool and health, filtered by ``account`` and ``pool``, sorted."""
    sort_by = ctx.arg("sort_by") or "name"
    order = ctx.arg("sort_order") or "ascending"
    if sort_by not in {"name", "bounce_rate", "complaint_rate"} or order not in {"ascending", "descending"}:
        raise ApiError(400, "sort_by must be name, bounce_rate or complaint_rate; sort_order ascending or descending")
    accounts, pools = set(_values(ctx, "account")), set(_values(ctx, "pool"))
    acct = account(ctx.sb)
    with ctx.state.transaction():
        enrolled = _health_checks(ctx)
    rows = []
    for domain in enrolled:
        state, check = domain["_dynamic"], health(ctx, domain)
        if (accounts and acct["id"] not in accounts) or (pools and state["band"] not in pools):
            continue
        rows.append(
            {
                "id": domain["id"],
                "account_id": acct["id"],
                "account_name": acct["name"],
                "name": domain["name"],
                "registered_at": state["registered_at"],
                "pool": state["band"],
                **({"override": state["override"]} if state.get("override") else {}),
                **{k: v["value"] for k, v in check["results"].items()},
            }
        )
    rows.sort(key=lambda r: r["name"])
    rows.sort(key=lambda r: r[sort_by], reverse=order == "descending")
    for i, row in enumerate(rows):
        row["_pos"] = f"{i:08d}"
    items, paging = _capital_paging(rows, ctx, "_pos", "limit")
    return {"items": items, "total_items": len(rows), "paging": paging}


@router.get("/v1/dynamic_pools/domains/{domain}/preview")
async def preview_domain(ctx: Ctx) -> dict:
    """The pool a health check would put the domain in now (nothing changes)."""
    return health(ctx, _domain(ctx, ctx.path["domain"]))


def _history(ctx: Ctx, domain_name: str | None) -> dict:
    before, after = _when(ctx, "before"), _when(ctx, "after")
    moved_to, moved_from = ctx.arg("moved_to"), ctx.arg("moved_from")
    with ctx.state.transaction():
        _health_checks(ctx)
    rows = [
        r
        for r in reversed(ctx.state.list("dynamic_event"))
        if (not domain_name or r["domain_name"] == domain_name)
        and (before is None or r["_ts"] < before)
        and (after is None or r["_ts"] > after)
        and (not moved_to or r["new_band"] == moved_to)
        and (not moved_from or r["prev_band"] == moved_from)
    ]
    for row in rows:
        row["_key"] = f"{10**12 - row['_seq']:013d}"  # newest first, keys ascending
    items, paging = _capital_paging(rows, ctx, "_key", "Limit")
    return {"items": items, "total_items": len(rows), "paging": paging}


def _when(ctx: Ctx, name: str) -> float | None:
    return ctx.date_arg(name, f"'{name}' must be a date like 'Mon, 02 Jan 2006 15:04:05 MST'")


@router.get("/v1/dynamic_pools/domains/{domain}/history")
async def domain_history(ctx: Ctx) -> dict:
    """A domain's moves between dynamic pools, newest first."""
    _domain(ctx, ctx.path["domain"])
    return _history(ctx, ctx.path["domain"])


@router.put("/v1/dynamic_pools/domains/{domain}/override")
async def override_domain_pool(ctx: Ctx) -> dict:
    """Pin an enrolled domain to a pool; health checks leave it there until the override goes."""
    pool = ctx.arg("pool")
    with ctx.state.transaction():
        if pool not in _dynamic_pools(ctx):
            raise ApiError(400, "invalid pool", body={"Field": "pool", "Value": pool or ""})
        domain = _enrolled(ctx, ctx.path["domain"])
        domain["_dynamic"]["override"] = pool
        _move(ctx, domain, pool, "override", "user", health(ctx, domain))
    return {"message": "success"}


@router.delete("/v1/dynamic_pools/domains/{domain}/override")
async def remove_domain_override(ctx: Ctx) -> dict:
    """Drop a domain's pool override; the health check places it again."""
    with ctx.state.transaction():
        domain = _enrolled(ctx, ctx.path["domain"])
        if not domain["_dynamic"].get("override"):
            raise described(404, f"domain {domain['name']} has no dynamic IP pool override")
        domain["_dynamic"]["override"] = None
        check = health(ctx, domain)
        _move(ctx, domain, check["pool"], "override removed", "user", check)
    return {"message": "success"}


@router.get("/v1/dynamic_pools/history")
async def account_history(ctx: Ctx) -> dict:
    """Every domain's moves between dynamic pools, newest first, filtered and ``Limit`` paged."""
    return _history(ctx, ctx.arg("domain"))


# -- IP warmups -----------------------------------------------------------------------------------


def _progress(ctx: Ctx, plan: dict[str, Any]) -> int | None:
    """The plan's current stage index, or None once the plan has finished."""
    stage = int((ctx.sb.now() - plan["started_at"]) // DAY)
    return stage if stage < len(WARMUP_LIMITS) else None


def _warmups(ctx: Ctx) -> list[dict[str, Any]]:
    """In-flight warmup plans (finished ones are dropped)."""
    plans = []
    for plan in ctx.state.list("warmup"):
        if _progress(ctx, plan) is None:
            ctx.state.delete("warmup", plan["ip"])
        else:
            plans.append(plan)
    return plans


def _warmup(ctx: Ctx) -> dict[str, Any]:
    plan = next((p for p in _warmups(ctx) if p["ip"] == ctx.path["ip"]), None)
    if plan is None:
        raise ApiError(404, f"no warmup in progress for IP {ctx.path['ip']}")
    return plan


def _stage_view(ctx: Ctx, plan: dict[str, Any]) -> dict[str, Any]:
    stage = _progress(ctx, plan)
    start = plan["started_at"] + stage * DAY
    limit = WARMUP_LIMITS[stage]
    return {"stage": stage, "start": start, "limit": limit, "hourly": math.ceil(limit / 24)}


@router.get("/v3/ip_warmups")
async def list_warmups(ctx: Ctx) -> dict:
    """In-flight warmups with their current stage, in pages of ``limit``."""
    rows = []
    for plan in sorted(_warmups(ctx), key=lambda p: p["ip"]):
        s = _stage_view(ctx, plan)
        rows.append(
            {
                "ip": plan["ip"],
                "sent_within_stage": "0%",
                "throttle": s["hourly"],
                "stage_number": s["stage"] + 1,
                "stage_start_volume": WARMUP_LIMITS[s["stage"] - 1] if s["stage"] else 0,
                "stage_start_time": _iso(s["start"]),
                "stage_volume_limit": s["limit"],
            }
        )
    items, paging = page_by_token(rows, ctx, key=lambda r: r["ip"], default_limit=10, max_limit=100)
    return {"items": items, "paging": paging}


@router.get("/v3/ip_warmups/{ip}")
async def get_warmup(ctx: Ctx) -> dict:
    """The warmup plan of one IP: its stage, limits and completed stages."""
    plan = _warmup(ctx)
    s = _stage_view(ctx, plan)
    now = ctx.sb.now()
    return {
        "details": {
            "sent_within_stage": "0%",
            "throttle": s["hourly"],
            "start_volume": WARMUP_LIMITS[0],
            "stage": s["stage"] + 1,
            "stage_limit": s["limit"],
            "hourly_limit": s["hourly"],
            "stage_started_at": _iso(s["start"]),
            "hour_started_at": _iso(now - now % 3600),
            "plan_started_at": _iso(plan["started_at"]),
            "plan_last_updated_at": _iso(s["start"]),
            "total_stages": len(WARMUP_LIMITS),
            "stage_history": [
                {
                    "first_updated_at": _iso(plan["started_at"] + i * DAY),
                    "completed_at": _iso(plan["started_at"] + (i + 1) * DAY),
                    "limit": WARMUP_LIMITS[i],
                }
                for i in range(s["stage"])
            ],
        }
    }


@router.post("/v3/ip_warmups/{ip}")
async def create_warmup(ctx: Ctx) -> dict:
    """Start warming up a dedicated IP from the first stage."""
    with ctx.state.transaction():
        address = _ip(ctx, ctx.path["ip"])["ip"]
        _owned_dedicated(ctx, address)
        if any(p["ip"] == address for p in _warmups(ctx)):
            raise ApiError(400, f"IP {address} is already warming up")
        ctx.state.put("warmup", address, {"ip": address, "started_at": ctx.sb.now()})
    return {"message": "success"}


@router.delete("/v3/ip_warmups/{ip}")
async def cancel_warmup(ctx: Ctx) -> dict:
    """Stop an IP's warmup plan."""
    with ctx.state.transaction():
        plan = _warmup(ctx)
        ctx.state.delete("warmup", plan["ip"])
    return {"message": "success"}
