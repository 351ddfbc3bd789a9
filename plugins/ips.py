"""IPs: the account's sending IPs, which domains send from them, and IP warmups."""

from typing import Annotated, Any

from pydantic import AliasChoices, Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.errors import ConfirmationRequired, MgToolsError, NotFound
from mg_tools.types import Cursor, Domain, IpAddress, IpOr, Limit, Params, Skip

#: At most this many IPs are checked in one check_ip_health answer (each costs two lookups).
MAX_CHECKED_IPS = 25
DOMAINS_SHOWN = 20


class _Ip(Params):
    ip: IpAddress


class ListIps(Params):
    """List the account's sending IPs (shared and dedicated) and which can join an IP pool."""

    dedicated: bool | None = Field(None, description="Only dedicated IPs")
    enabled: bool | None = Field(None, description="Only enabled IPs")


class GetIp(_Ip):
    """Show one account IP: dedicated or shared, reverse DNS, IP band."""


class ListIpDomains(_Ip):
    """List the domains that send from an IP."""

    search: str | None = Field(None, min_length=1, max_length=253, description="Words of the domain name")
    limit: Limit = 100
    skip: Skip | None = None
    cursor: Cursor = None


class AssignIpToAllDomains(_Ip):
    """Add a dedicated IP to every domain that manages its own IPs. Moves live sending traffic."""


class RemoveIpFromAllDomains(_Ip):
    """Take an IP off every domain. Moves live sending traffic: confirm with the user first."""

    replacement_ip: IpAddress | None = Field(
        None,
        serialization_alias="alternative",
        validation_alias=AliasChoices("replacement_ip", "alternative"),
        description="IP that takes its place on each domain",
    )


class SetIpBand(_Ip):
    """Place a dedicated IP into a dedicated IP band."""

    ip_band: str = Field(min_length=1, max_length=128)


class CountAvailableIps(Params):
    """How many more dedicated IPs the account's plan allows."""


class RequestIp(Params):
    """Add a new dedicated IP to the account (billed per the plan)."""


class RemoveDomainIp(Params):
    """Take an IP off a domain, or 'all' its own IPs (back to the shared IP). Moves live sending traffic."""

    domain: Domain
    ip: IpOr("all")


# -- warmups ---------------------------------------------------------------------------------------


class ListIpWarmups(Params):
    """List dedicated IPs with a warmup in progress: stage and volume limit of each."""

    limit: Annotated[int, Field(ge=1, le=100)] = 100
    cursor: Cursor = None


class GetIpWarmup(_Ip):
    """How far along an IP's warmup is: current stage of how many, daily and hourly limits."""


class StartIpWarmup(_Ip):
    """Start a warmup plan for a dedicated IP: Mailgun caps its volume, raising it stage by stage.
    Moves live sending traffic."""


class CancelIpWarmup(_Ip):
    """Cancel an IP's warmup plan: its volume cap goes at once. Moves live sending traffic."""


# -- composite -------------------------------------------------------------------------------------


class CheckIpHealth(Params):
    """Are the account's dedicated IPs (or one ip) ready to send? Per IP: warmup stage, pools, domains
    sending from it, and plain-language notes (unused IPs, volume limits while warming)."""

    ip: IpAddress | None = None


async def check_ip_health(args: CheckIpHealth, call) -> dict[str, Any]:
    unavailable: dict[str, str] = {}
    if args.ip:
        found, reason = await _attempt(call, "get_ip", {"ip": args.ip})
        ips = [args.ip]
        dedicated = {args.ip: (found or {}).get("dedicated")}
        if reason:
            unavailable["get_ip"] = reason
    else:
        listed, reason = await _attempt(call, "list_ips", {"dedicated": True})
        ips = list((listed or {}).get("items") or [])
        dedicated = dict.fromkeys(ips, True)
        if reason:
            return {"ips": [], "unavailable": {"list_ips": reason}, "notes": [f"cannot list the IPs: {reason}"]}
    pools = await _pools_by_ip(call, unavailable)
    checked = []
    for ip in ips[:MAX_CHECKED_IPS]:
        checked.append(await _check_one(call, ip, dedicated.get(ip), pools, unavailable))
    out: dict[str, Any] = {"ips": checked}
    if len(ips) > MAX_CHECKED_IPS:
        out["ips_omitted"] = len(ips) - MAX_CHECKED_IPS
    if not ips:
        out["notes"] = ["the account has no dedicated IPs: its domains send from shared IPs"]
    if unavailable:
        out["unavailable"] = unavailable
    return out


async def _attempt(call, name: str, arguments: dict[str, Any], *, missing: Any = None) -> tuple[Any, str | None]:
    """The data of one sub-call, or why it is unavailable (denied, failed, not installed); ``missing``
    is the answer when Mailgun says the thing does not exist."""
    try:
        return await call(name, arguments), None
    except NotFound:
        if missing is None:
            raise
        return missing, None
    except ConfirmationRequired:
        return None, f"{name} needs confirmation"
    except MgToolsError as exc:
        return None, f"{name}: {exc}"


async def _pools_by_ip(call, unavailable: dict[str, str]) -> dict[str, list[str]] | None:
    """Each IP's pools: dedicated IP pools as 'name (pool_id)', dynamic pools by name; None if unknown."""
    by_ip: dict[str, list[str]] = {}
    known = False
    dipps, reason = await _attempt(call, "list_ip_pools", {})
    if reason:
        unavailable["pools"] = reason
    else:
        known = True
        for pool in (dipps or {}).get("ip_pools") or []:
            for ip in pool.get("ips") or []:
                by_ip.setdefault(ip, []).append(f"{pool.get('name')} ({pool.get('pool_id')})")
    dynamic, reason = await _attempt(call, "list_dynamic_pools", {}, missing={})
    if reason:
        unavailable["dynamic_pools"] = reason
    else:
        known = True
        for pool in (dynamic or {}).get("pools") or []:
            for ip in pool.get("ips") or []:
                by_ip.setdefault(ip, []).append(str(pool.get("name")))
    return by_ip if known else None


async def _check_one(call, ip: str, dedicated: bool | None, pools, unavailable: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"ip": ip}
    if dedicated is not None:
        entry["dedicated"] = dedicated
    notes: list[str] = []
    warmup, reason = await _attempt(call, "get_ip_warmup", {"ip": ip}, missing={})
    if reason:
        unavailable[f"warmup {ip}"] = reason
        notes.append(f"warmup status unavailable: {reason}")
    else:
        entry["warmup"] = _warmup(warmup)
        if entry["warmup"]["status"] == "in progress":
            notes.append(_warmup_note(entry["warmup"]))
    if pools is not None:
        entry["pools"] = pools.get(ip, [])
    else:
        notes.append("pools unavailable: see unavailable")
    domains, reason = await _attempt(call, "list_ip_domains", {"ip": ip, "limit": DOMAINS_SHOWN})
    if reason:
        unavailable[f"domains {ip}"] = reason
        notes.append(f"domains unavailable: {reason}")
    else:
        names = [d.get("domain") for d in (domains or {}).get("items") or []]
        entry["domains"] = names
        entry["domain_count"] = (domains or {}).get("total_count", len(names))
    notes += _usage_notes(entry, dedicated)
    entry["notes"] = notes
    return entry


def _warmup(data: dict[str, Any]) -> dict[str, Any]:
    details = (data or {}).get("details") or {}
    if not details:
        return {"status": "none"}
    return {
        "status": "in progress",
        "stage": details.get("stage"),
        "total_stages": details.get("total_stages"),
        "stage_limit": details.get("stage_limit"),
        "hourly_limit": details.get("hourly_limit"),
        "plan_started_at": details.get("plan_started_at"),
    }


def _warmup_note(warmup: dict[str, Any]) -> str:
    stage, total = warmup.get("stage"), warmup.get("total_stages")
    of = f"stage {stage} of {total}" if total else f"stage {stage}"
    limit, hourly = warmup.get("stage_limit"), warmup.get("hourly_limit")
    keep = f"; keep volume under {limit} messages a day" if limit else ""
    per_hour = f" ({hourly} an hour)" if hourly else ""
    return f"warmup in progress: {of}{keep}{per_hour}; Mailgun defers what goes over"


def _usage_notes(entry: dict[str, Any], dedicated: bool | None) -> list[str]:
    if dedicated is False:
        return ["shared IP: Mailgun manages its reputation"]
    pools, domains = entry.get("pools"), entry.get("domains")
    if pools is None or domains is None:
        return []
    if not pools and not domains:
        return ["IP in no pool and assigned to no domain: unused"]
    if not domains:
        return [f"in {', '.join(pools)} but no domain sends from it yet"]
    if entry.get("warmup", {}).get("status") == "none":
        return [f"no warmup in progress: sends at full volume for {entry['domain_count']} domain(s)"]
    return []


# fmt: off
OPERATIONS = (
    Operation("list_ips", "GET", "/v3/ips", ListIps, Access.READ),
    Operation("get_ip", "GET", "/v3/ips/{ip}", GetIp, Access.READ),
    Operation("list_ip_domains", "GET", "/v3/ips/{ip}/domains", ListIpDomains, Access.READ, paging=Paging.SKIP),
    Operation("assign_ip_to_all_domains", "POST", "/v3/ips/{ip}/domains", AssignIpToAllDomains, Access.WRITE),
    Operation("remove_ip_from_all_domains", "DELETE", "/v3/ips/{ip}/domains", RemoveIpFromAllDomains, Access.DELETE),
    Operation("set_ip_band", "POST", "/v3/ips/{ip}/ip_band", SetIpBand, Access.WRITE),
    Operation("count_available_ips", "GET", "/v3/ips/request/new", CountAvailableIps, Access.READ, deprecated=True),
    Operation("request_ip", "POST", "/v3/ips/request/new", RequestIp, Access.WRITE),
    Operation("remove_domain_ip", "DELETE", "/v3/domains/{domain}/ips/{ip}", RemoveDomainIp, Access.DELETE),
    Operation("list_ip_warmups", "GET", "/v3/ip_warmups", ListIpWarmups, Access.READ, paging=Paging.URLS),
    Operation("get_ip_warmup", "GET", "/v3/ip_warmups/{ip}", GetIpWarmup, Access.READ),
    Operation("start_ip_warmup", "POST", "/v3/ip_warmups/{ip}", StartIpWarmup, Access.WRITE),
    Operation("cancel_ip_warmup", "DELETE", "/v3/ip_warmups/{ip}", CancelIpWarmup, Access.DELETE),
    Operation("check_ip_health", "", "", CheckIpHealth, Access.READ, handler=check_ip_health),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_ip": ("ip details", "is the ip dedicated", "reverse dns"),
    "list_ips": ("our sending ips", "dedicated ip addresses"),
    "get_ip_warmup": ("warmup progress of an ip",),
    "list_ip_domains": ("domains sending from an ip",),
    "assign_ip_to_all_domains": ("use an ip on every domain",),
    "remove_ip_from_all_domains": ("unassign an ip from every domain",),
    "set_ip_band": ("move an ip to another band",),
    "count_available_ips": ("how many more dedicated ips can we get",),
    "request_ip": ("buy a dedicated ip", "order a new ip"),
    "remove_domain_ip": ("take an ip off a domain", "back to shared ip"),
    "list_ip_warmups": ("ips warming up",),
    "start_ip_warmup": ("warm up a new ip",),
    "cancel_ip_warmup": ("stop warming up an ip",),
    "check_ip_health": ("are our ips healthy", "ip reputation and warmup"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
