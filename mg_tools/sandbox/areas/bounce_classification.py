"""Sandbox: bounce classification statistics (the deprecated ``/v1/bounce-classification`` API).

Simulated: the statistics are computed from the domains' bounce lists (kind ``bounce``). Each bounce
is classified by the first of ``RULES`` whose pattern matches its code and error text, and belongs
to an entity (mailbox provider or blocklist) by its recipient domain or error text. The bounce log
endpoint answers 410, as Mailgun's does since it moved to ``POST /v1/analytics/logs``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, NamedTuple

from mg_tools.sandbox.core import ApiError, Ctx, Router, integer, rfc2822, skip_limit

router = Router()


class Rule(NamedTuple):
    id: str
    entity: str  # "*" for any entity
    category: str
    severity: str
    pattern: str
    sample: str
    explanation: str
    short: str


ENTITIES = {
    "gmail": ("Gmail", ("gmail.com", "googlemail.com")),
    "hotmail": ("Microsoft (Hotmail)", ("hotmail.com", "outlook.com", "live.com", "msn.com")),
    "yahoo": ("Yahoo", ("yahoo.com", "ymail.com", "aol.com")),
    "spamhaus": ("Spamhaus", ()),
    "other": ("Other", ()),
}

RULES = (
    Rule(
        "5b01",
        "spamhaus",
        "BLOCKLIST",
        "PERMANENT",
        r"spamhaus",
        "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org",
        "The sending IP is listed on a Spamhaus blocklist",
        "You're listed on Spamhaus!",
    ),
    Rule(
        "5b02",
        "*",
        "BOUNCE",
        "PERMANENT",
        r"user unknown|no such user|does not exist|unknown user|5\.1\.1|mailbox unavailable",
        "550 5.1.1 The email account that you tried to reach does not exist",
        "The recipient address does not exist",
        "Unknown recipient",
    ),
    Rule(
        "5b03",
        "*",
        "MAILBOX_FULL",
        "TEMPORARY",
        r"mailbox full|over quota|quota exceeded|5\.2\.2|insufficient storage",
        "552 5.2.2 The recipient's mailbox is full",
        "The recipient's mailbox is full",
        "Mailbox full",
    ),
    Rule(
        "5b04",
        "*",
        "GREYLISTED",
        "TEMPORARY",
        r"greylist|try again later|4\.7\.1|temporarily deferred",
        "450 4.7.1 Greylisted, please try again later",
        "The receiving server asked to retry later",
        "Greylisted",
    ),
    Rule(
        "55ff",
        "*",
        "ESPBLOCK",
        "PERMANENT",
        r"access denied|blocked|rejected|policy|spam",
        "5.4.1 recipient address rejected: access denied.",
        "Access denied",
        "Blocked by the mailbox provider",
    ),
    Rule(
        "5bff",
        "*",
        "GENERIC",
        "PERMANENT",
        r"",
        "550 Message rejected",
        "The message was rejected for an unclassified reason",
        "Unclassified bounce",
    ),
)
_GROUPS = ("subaccount.id", "domain.name", "entity-id", "rule-id")


class Classified(NamedTuple):
    domain: str
    entity: str
    rule: Rule


def _classify(domain: str, bounce: dict[str, Any]) -> Classified:
    text = f"{bounce.get('code', '')} {bounce.get('error', '')}".lower()
    rule = next(r for r in RULES if re.search(r.pattern, text))
    recipient_domain = str(bounce.get("address", "")).rpartition("@")[2].lower()
    if rule.entity != "*":
        entity = rule.entity
    else:
        entity = next((e for e, (_, hosts) in ENTITIES.items() if recipient_domain in hosts), "other")
    return Classified(domain, entity, rule)


def classified(ctx: Ctx, domain: str | None = None) -> list[Classified]:
    """Every bounce of the account (or of one domain), classified."""
    names = [domain] if domain else [d["name"] for d in ctx.state.list("domain")]
    return [_classify(name, b) for name in names for b in ctx.state.list("bounce", f"{name}/")]


def _bounced(total: int) -> dict[str, int]:
    return {"bounced": {"total": total}}


def _ranked(counts: Counter) -> list[tuple[Any, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))


@router.get("/v1/bounce-classification/stats")
async def list_stats(ctx: Ctx) -> dict:
    """Bounce totals grouped by ``group`` fields (domain.name, entity-id, rule-id), largest first."""
    group = [g.strip() for g in (ctx.arg("group") or "domain.name,entity-id,rule-id").split(",") if g.strip()]
    unknown = [g for g in group if g not in _GROUPS]
    if unknown:
        raise ApiError(400, f"invalid group field '{unknown[0]}': expected {', '.join(_GROUPS)}")
    ctx.bool_arg("include_subaccounts")  # sandbox subaccounts have no domains
    limit = ctx.int_arg("limit", 10, low=1, high=1000)
    counts = Counter(
        ("domain.name" in group and c.domain, "entity-id" in group and c.entity, "rule-id" in group and c.rule)
        for c in classified(ctx)
    )
    items = []
    for (domain, entity, rule), total in _ranked(counts)[:limit]:
        item: dict[str, Any] = {"subaccount": None} if "subaccount.id" in group else {}
        if domain:
            item["domain"] = {"name": domain}
        if entity:
            item["entity-id"] = entity
        if rule:
            item.update({"rule-id": rule.id, "short-explanation": rule.short})
        items.append({**item, **_bounced(total)})
    return {"items": items, "_duration": "0s"}


def _query_filter(ctx: Ctx) -> str | None:
    query = ctx.arg("query")
    if not query:
        return None
    field, sep, value = query.partition(":")
    if field.strip() != "domain.name" or not sep or not value.strip():
        raise ApiError(400, "query must look like 'domain.name:example.com'")
    return value.strip().lower()


@router.get("/v1/bounce-classification/domains")
async def list_domain_stats(ctx: Ctx) -> dict:
    """Bounce totals per sending domain, largest first, ``skip``/``limit`` paged."""
    wanted = _query_filter(ctx)
    ctx.bool_arg("include_subaccounts")
    counts = Counter(c.domain for c in classified(ctx) if not wanted or c.domain == wanted)
    rows = [{"domain": {"name": name}, **_bounced(total)} for name, total in _ranked(counts)]
    return {"items": skip_limit(rows, ctx, default_limit=10), "total": len(rows)}


@router.get("/v1/bounce-classification/domains/{domain}/entities")
async def list_entity_stats(ctx: Ctx) -> dict:
    """Bounce totals of one domain per mailbox provider or blocklist."""
    domain = ctx.sb.domain(ctx.path["domain"])["name"]
    counts = Counter(c.entity for c in classified(ctx, domain))
    return {"items": [{"entity-id": e, "entity-name": ENTITIES[e][0], **_bounced(n)} for e, n in _ranked(counts)]}


@router.get("/v1/bounce-classification/domains/{domain}/entities/{entity_id}/rules")
async def list_rule_stats(ctx: Ctx) -> dict:
    """Bounce totals of one domain and entity per classification rule."""
    domain = ctx.sb.domain(ctx.path["domain"])["name"]
    entity = ctx.path["entity_id"]
    if entity not in ENTITIES:
        raise ApiError(404, f"Entity not found: {entity}")
    counts = Counter(c.rule for c in classified(ctx, domain) if c.entity == entity)
    return {
        "items": [
            {
                "rule-id": r.id,
                "category": r.category,
                "severity": r.severity,
                "sample-text": r.sample,
                "explanation": r.explanation,
                **_bounced(n),
            }
            for r, n in _ranked(counts)
        ]
    }


@router.get("/v1/bounce-classification/config/entities")
async def list_entities(ctx: Ctx) -> dict:
    """The mailbox providers and blocklists bounces are attributed to."""
    return {entity: {"name": name} for entity, (name, _) in ENTITIES.items()}


@router.get("/v1/bounce-classification/config/rules")
async def list_rules(ctx: Ctx) -> dict:
    """The classification rules, by rule id."""
    return {
        r.id: {
            "entity_id": r.entity,
            "class": r.category,
            "sample-text": r.sample,
            "explanation": r.explanation,
            "short-explanation": r.short,
        }
        for r in RULES
    }


@router.get("/v1/bounce-classification/domains/{domain}/events")
async def list_bounce_logs(ctx: Ctx) -> dict:
    """Gone: bounce logs are read with ``POST /v1/analytics/logs`` now."""
    raise ApiError(410, "This endpoint has been removed; use POST /v1/analytics/logs for bounce logs")


# -- v2 metrics -----------------------------------------------------------------------------------

_V2_DIMENSIONS = (
    "entity-name", "domain.name", "envelope.sending-ip", "account.name", "envelope.i-ip-pool-name", "tags", "tag",
    "recipient-domain", "group-id", "criticality", "severity", "category", "timestamp",
)  # fmt: skip
_V2_COUNTS = ("critical_bounce_count", "non_critical_bounce_count", "critical_delay_count", "non_critical_delay_count")
_V2_METRICS = (*_V2_COUNTS, "classified_failures_count", "delivered_smtp_count", *(
    c.replace("_count", "_rate") for c in _V2_COUNTS
))  # fmt: skip
_CRITICAL = {"BLOCKLIST", "ESPBLOCK"}


def _v2_values(c: Classified, address: str) -> dict[str, str]:
    """The dimension values of one classified bounce; those the sandbox has no data for are empty."""
    return {
        "entity-name": ENTITIES[c.entity][0],
        "domain.name": c.domain,
        "recipient-domain": address.rpartition("@")[2].lower(),
        "criticality": "CRITICAL" if c.rule.category in _CRITICAL else "NON-CRITICAL",
        "severity": c.rule.severity,
        "category": c.rule.category,
    }


def _v2_list(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = body.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"'{name}' must be a list of strings")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ApiError(400, f"invalid {name[:-1]} '{unknown[0]}': expected one of {', '.join(allowed)}")
    return values


def _v2_filter(body: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    conditions = []
    for cond in (body.get("filter") or {}).get("AND") or []:
        attribute, comparator = cond.get("attribute"), cond.get("comparator", "=")
        if attribute not in _V2_DIMENSIONS or attribute == "timestamp" or comparator not in ("=", "!="):
            raise ApiError(400, f"invalid filter condition: {cond!r}")
        conditions.append((attribute, comparator, {str(v.get("value")) for v in cond.get("values") or []}))
    return conditions


def _v2_metrics(rows: list[dict[str, str]], wanted: list[str]) -> dict[str, Any]:
    counts = Counter(
        f"{'critical' if r['criticality'] == 'CRITICAL' else 'non_critical'}_"
        f"{'bounce' if r['severity'] == 'PERMANENT' else 'delay'}_count"
        for r in rows
    )
    values: dict[str, Any] = {c: counts[c] for c in _V2_COUNTS}
    values.update(classified_failures_count=len(rows), delivered_smtp_count=0)
    for count in _V2_COUNTS:
        values[count.replace("_count", "_rate")] = round(100 * counts[count] / len(rows), 2) if rows else 0
    # Mailgun answers every count and rate whatever ``metrics`` asked for (its schema requires them all).
    return {m: values[m] for m in _V2_METRICS}


@router.post("/v2/bounce-classification/metrics")
async def v2_metrics(ctx: Ctx) -> dict:
    """Classified bounce counts and rates, grouped by ``dimensions`` and narrowed by an ``AND`` filter."""
    body = ctx.json if isinstance(ctx.json, dict) else {}
    dimensions = _v2_list(body, "dimensions", _V2_DIMENSIONS)
    wanted = _v2_list(body, "metrics", _V2_METRICS)
    conditions = _v2_filter(body)
    resolution = body.get("resolution") or "day"
    if resolution not in ("day", "hour"):
        raise ApiError(400, "resolution must be day or hour")
    paging = body.get("pagination") or {}
    limit = integer(paging.get("limit"), 10, low=1, high=1000, not_integer="pagination.limit must be an integer",
                    out_of_range="pagination.limit must be between 1 and 1000")  # fmt: skip
    rows = []
    for name in [d["name"] for d in ctx.state.list("domain")]:
        for bounce in ctx.state.list("bounce", f"{name}/"):
            row = _v2_values(_classify(name, bounce), str(bounce.get("address", "")))
            if all((row.get(a, "") in vs) == (op == "=") for a, op, vs in conditions):
                rows.append(row)
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(d, "") for d in dimensions), []).append(row)
    items = [
        {**dict(zip(dimensions, key)), "metrics": _v2_metrics(members, wanted)}
        for key, members in sorted(groups.items())
    ]
    skip = integer(paging.get("skip"), 0, low=0, high=10**9, not_integer="pagination.skip must be an integer",
                   out_of_range="pagination.skip must not be negative")  # fmt: skip
    window = {key: str(body[key]) for key in ("start", "end", "duration") if body.get(key)}
    return {  # the window is echoed, not applied: the sandbox counts every classified bounce
        "start": window.get("start", rfc2822(ctx.sb.now() - 30 * 86400)),
        "end": window.get("end", rfc2822(ctx.sb.now())),
        "resolution": resolution,
        **({"duration": window["duration"]} if "duration" in window else {}),
        "dimensions": dimensions,
        "pagination": {"sort": paging.get("sort") or "", "skip": skip, "limit": limit, "total": len(items)},
        "items": items[skip : skip + limit],
    }
