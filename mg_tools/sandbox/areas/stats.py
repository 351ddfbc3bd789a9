"""Sandbox: the deprecated v3 Stats and Tags APIs, computed from the stored events and tags.

A tag is named in the query (``/v3/{domain}/tag?tag=news``) or, as the official SDKs call it, in the
path (``/v3/{domain}/tags/news``, ``/tags/news/stats``, ``/tags/news/stats/aggregates/countries``);
both forms share one state.

Stats answer ``{"start", "end", "resolution", "stats": [{"time", <event>: {...}}]}`` with one entry
per hour / day / month bucket in the range (empty buckets included), and only the requested events.
"""

from __future__ import annotations

from typing import Any

from mg_tools.sandbox.areas.analytics import (
    ATTRIBUTES,
    bucket,
    buckets,
    check_resolution,
    count,
    next_bucket,
    time_window,
)
from mg_tools.sandbox.areas.events import domain_events, parse_date
from mg_tools.sandbox.core import ApiError, Ctx, Router, page_by_urls, public, rfc2822
from mg_tools.sandbox.delivery import DOMAIN_TAG_LIMIT

router = Router()

Event = dict[str, Any]
STAT_EVENTS = ("accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "stored")
AGGREGATE_TYPES = {"provider": "providers", "device": "devices", "country": "countries"}
#: The path-style aggregate names: ``/tags/{tag}/stats/aggregates/countries`` is ``type=country``.
AGGREGATE_KINDS = {plural: kind for kind, plural in AGGREGATE_TYPES.items()}


def _stat(events: list[Event], name: str) -> dict[str, Any]:
    def n(metric_event: str) -> int:
        return count(events, metric_event)

    if name == "accepted":
        return {"incoming": n("accepted_incoming"), "outgoing": n("accepted_outgoing"), "total": n("accepted")}
    if name == "delivered":
        return {
            "smtp": n("delivered_smtp"),
            "http": n("delivered_http"),
            "optimized": n("delivered_optimized"),
            "total": n("delivered"),
        }
    if name == "failed":
        return {
            "temporary": {"espblock": n("temporary_failed_esp_block"), "total": n("temporary_failed")},
            "permanent": {
                "suppress-bounce": n("suppressed_bounces"),
                "suppress-unsubscribe": n("suppressed_unsubscribed"),
                "suppress-complaint": n("suppressed_complaints"),
                "bounce": n("hard_bounces"),
                "delayed-bounce": n("delayed_bounce"),
                "webhook": 0,
                "optimized": n("permanent_failed_optimized"),
                "total": n("permanent_failed"),
            },
        }
    if name in {"opened", "clicked"}:
        return {"total": n(name), "unique": n(f"unique_{name}")}
    return {"total": n(name)}


def _event_names(ctx: Ctx) -> list[str]:
    names = [part.strip() for value in ctx.args("event") for part in str(value).split(",") if part.strip()]
    if not names:
        raise ApiError(400, "'event' parameter is missing")
    for name in names:
        if name not in STAT_EVENTS:
            raise ApiError(400, f"'{name}' is not a valid event; expected one of {', '.join(STAT_EVENTS)}")
    return list(dict.fromkeys(names))


def _stats(ctx: Ctx, rows: list[Event], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A StatsResponse over ``rows`` (events) for the request's event names and time range."""
    names = _event_names(ctx)
    resolution = check_resolution(ctx.arg("resolution"))
    start, end = time_window(ctx.sb, ctx.arg("start"), ctx.arg("end"), ctx.arg("duration"), 7)
    by_bucket: dict[float, list[Event]] = {b: [] for b in buckets(start, end, resolution)}
    for event in rows:
        ts = float(event.get("timestamp", 0))
        if start <= ts <= end:
            by_bucket.setdefault(bucket(ts, resolution), []).append(event)
    stats = [
        {"time": rfc2822(b), **{name: _stat(events, name) for name in names}} for b, events in sorted(by_bucket.items())
    ]
    return {
        **(extra or {"description": ""}),
        "start": rfc2822(start),
        "end": rfc2822(end),
        "resolution": resolution,
        "stats": stats,
    }


def _events(ctx: Ctx, domain: str | None = None) -> list[Event]:
    return [e for _s, _d, e in domain_events(ctx.state, domain)]


@router.get("/v3/stats/total")
async def get_account_stats(ctx: Ctx) -> dict:
    return _stats(ctx, _events(ctx))


@router.get("/v3/{domain}/stats/total")
async def get_domain_stats(ctx: Ctx) -> dict:
    ctx.sb.domain(ctx.path["domain"])
    return _stats(ctx, _events(ctx, ctx.path["domain"]))


@router.get("/v3/stats/total/domains")
async def get_account_domain_stats(ctx: Ctx) -> dict:
    names = _event_names(ctx)
    resolution = check_resolution(ctx.arg("resolution"))
    if ctx.arg("timestamp") in (None, ""):
        raise ApiError(400, "'timestamp' parameter is missing")
    start = bucket(parse_date(ctx.arg("timestamp"), "timestamp"), resolution)
    end = next_bucket(start, resolution)
    limit = ctx.int_arg("limit", 10, low=1, high=1000)
    by_domain: dict[str, list[Event]] = {d["name"]: [] for d in ctx.state.list("domain")}
    for _s, domain, event in domain_events(ctx.state):
        if start <= float(event.get("timestamp", 0)) < end:
            by_domain.setdefault(domain, []).append(event)
    stats = [
        {"time": rfc2822(start), "domain": domain, **{n: _stat(events, n) for n in names}}
        for domain, events in sorted(by_domain.items())[:limit]
    ]
    return {"description": "", "start": rfc2822(start), "end": rfc2822(end), "resolution": resolution, "stats": stats}


#: The v3 filter and group keys: analytics attributes, ``provider`` standing for ``recipient_provider``.
_FILTER_KEYS = {
    key: ATTRIBUTES["recipient_provider" if key == "provider" else key]
    for key in ("domain", "tag", "recipient_domain", "provider", "ip")
}


def _stats_filter(text: str | None) -> list[tuple[str, str]]:
    """``domain:example.com tag:news`` (comma or space separated) as (key, value) pairs."""
    pairs = []
    for part in (text or "").replace(",", " ").split():
        key, sep, value = part.partition(":")
        if not sep or key not in _FILTER_KEYS:
            raise ApiError(
                400, f"Invalid filter {part!r}: expected key:value with key one of {', '.join(_FILTER_KEYS)}"
            )
        pairs.append((key, value.lower()))
    return pairs


@router.get("/v3/stats/filter")
async def get_filtered_stats(ctx: Ctx) -> dict:
    pairs = _stats_filter(ctx.arg("filter"))
    group = ctx.arg("group") or None
    if group is not None and group not in _FILTER_KEYS:
        raise ApiError(400, f"Invalid group {group!r}: expected one of {', '.join(_FILTER_KEYS)}")
    rows = [
        (d, e)
        for _s, d, e in domain_events(ctx.state)
        if all(v in [str(x).lower() for x in _FILTER_KEYS[k](d, e) if x] for k, v in pairs)
    ]
    if group is None:
        return _stats(ctx, [e for _d, e in rows])
    grouped: dict[str, list[Event]] = {}
    for domain, event in rows:
        for value in _FILTER_KEYS[group](domain, event):
            if value:
                grouped.setdefault(str(value), []).append(event)
    result = _stats(ctx, [])
    result["stats"] = [
        {**item, group: value} for value, events in sorted(grouped.items()) for item in _stats(ctx, events)["stats"]
    ]
    return result


# -- aggregates -----------------------------------------------------------------------------------


def _aggregate_key(kind: str, event: Event) -> str:
    if kind == "provider":
        return event.get("recipient-domain") or "unknown"
    if kind == "device":
        return (event.get("client-info") or {}).get("device-type") or "unknown"
    return str((event.get("geolocation") or {}).get("country") or "unknown").lower()


def _aggregate(events: list[Event], kind: str) -> dict[str, dict[str, int]]:
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(_aggregate_key(kind, event), []).append(event)
    return {
        key: {
            "accepted": count(evs, "accepted"),
            "clicked": count(evs, "clicked"),
            "opened": count(evs, "opened"),
            "unique_clicked": count(evs, "unique_clicked"),
            "unsubscribed": count(evs, "unsubscribed"),
        }
        for key, evs in sorted(grouped.items())
    }


def _domain_aggregate(ctx: Ctx, kind: str) -> dict[str, Any]:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    return {AGGREGATE_TYPES[kind]: _aggregate(_events(ctx, domain), kind)}


@router.get("/v3/{domain}/aggregates/providers")
async def get_provider_aggregates(ctx: Ctx) -> dict:
    return _domain_aggregate(ctx, "provider")


@router.get("/v3/{domain}/aggregates/devices")
async def get_device_aggregates(ctx: Ctx) -> dict:
    return _domain_aggregate(ctx, "device")


@router.get("/v3/{domain}/aggregates/countries")
async def get_country_aggregates(ctx: Ctx) -> dict:
    return _domain_aggregate(ctx, "country")


# -- tags (v3) ------------------------------------------------------------------------------------


def _tag(ctx: Ctx) -> tuple[str, str, dict[str, Any]]:
    """(domain, tag, document) of the request's ``tag`` (from the path, else the query); 404 when the
    domain or tag is unknown."""
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    tag = ctx.path.get("tag") or ctx.require("tag")
    return domain, tag, ctx.sb.existing("tag", f"{domain}/{tag}", "Tag not found")


def _tagged(ctx: Ctx, domain: str, tag: str) -> list[Event]:
    return [e for e in _events(ctx, domain) if tag in (e.get("tags") or [])]


@router.get("/v3/{domain}/tags")
async def list_tags(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    prefix = ctx.arg("prefix") or ""
    items = sorted(
        (public(d) for d in ctx.state.list("tag", f"{domain}/") if d["tag"].startswith(prefix)), key=lambda d: d["tag"]
    )
    return page_by_urls(items, ctx, pivot="tag", key=lambda d: d["tag"], default_limit=100, max_limit=1000)


@router.get("/v3/{domain}/tag")
@router.get("/v3/{domain}/tags/{tag}")
async def get_tag(ctx: Ctx) -> dict:
    return public(_tag(ctx)[2])


@router.put("/v3/{domain}/tag")
@router.put("/v3/{domain}/tags/{tag}")
async def update_tag(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        domain, tag, doc = _tag(ctx)
        doc["description"] = ctx.arg("description") or ""
        ctx.state.put("tag", f"{domain}/{tag}", doc)
    return {"message": "Tag updated"}


@router.delete("/v3/{domain}/tag")
@router.delete("/v3/{domain}/tags/{tag}")
async def delete_tag(ctx: Ctx) -> dict:
    domain, tag, _doc = _tag(ctx)
    ctx.state.delete("tag", f"{domain}/{tag}")
    return {"message": "Tag deleted"}


@router.get("/v3/{domain}/tag/stats")
@router.get("/v3/{domain}/tags/{tag}/stats")
async def get_tag_stats(ctx: Ctx) -> dict:
    domain, tag, doc = _tag(ctx)
    events = _tagged(ctx, domain, tag)
    for kind in ("provider", "device", "country"):
        wanted = ctx.arg(kind)
        if wanted:
            events = [
                e
                for e in events
                if _aggregate_key(kind, e) == wanted.lower()
                or (kind == "provider" and e.get("recipient-provider", "").lower() == wanted.lower())
            ]
    return _stats(ctx, events, {"tag": tag, "description": doc.get("description", "")})


@router.get("/v3/{domain}/tag/stats/aggregates")
async def get_tag_aggregates(ctx: Ctx) -> dict:
    kind = ctx.require("type")
    if kind not in AGGREGATE_TYPES:
        raise ApiError(400, "'type' must be one of country, device, provider")
    return _tag_aggregate(ctx, kind)


@router.get("/v3/{domain}/tags/{tag}/stats/aggregates/{kind}")
async def get_tag_aggregates_by_path(ctx: Ctx) -> dict:
    kind = AGGREGATE_KINDS.get(ctx.path["kind"])
    if kind is None:
        raise ApiError(404, f"Unknown aggregate {ctx.path['kind']!r}: expected providers, devices or countries")
    return _tag_aggregate(ctx, kind)


def _tag_aggregate(ctx: Ctx, kind: str) -> dict[str, Any]:
    domain, tag, _doc = _tag(ctx)
    return {"tag": tag, kind: _aggregate(_tagged(ctx, domain, tag), kind)}


@router.get("/v3/domains/{domain}/limits/tag")
async def get_tag_limits(ctx: Ctx) -> dict:
    domain = ctx.sb.domain(ctx.path["domain"])
    return {
        "id": domain.get("id", ""),
        "limit": DOMAIN_TAG_LIMIT,
        "count": ctx.state.count("tag", f"{ctx.path['domain']}/"),
    }
