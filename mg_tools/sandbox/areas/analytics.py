"""Sandbox: the v1 analytics APIs (logs, metrics, usage metrics, account tags), computed from the
stored events and tags.

The time helpers (windows, buckets) and the metric definitions here are shared with
``areas.stats``. Rates are fractions with four decimals, as strings (``"0.8333"``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import product
from typing import Any

from mg_tools.sandbox.areas.events import domain_events, parse_date
from mg_tools.sandbox.core import ApiError, Ctx, Router, Sandbox, integer, public

router = Router()

ACCOUNT_ID = "sandbox"
#: Unique tags per account (Mailgun's documented default).
ACCOUNT_TAG_LIMIT = 100_000
#: Metrics and dimensions one metrics query may ask for (Mailgun's documented limits).
MAX_METRICS = 10
MAX_DIMENSIONS = 3
LOGS_DEFAULT_LIMIT = 10
LOGS_MAX_LIMIT = 100
RESOLUTIONS = ("hour", "day", "month")
MAX_BUCKETS = 10_000

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


# -- time windows and buckets ---------------------------------------------------------------------


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def date_text(ts: float) -> str:
    """``Wed, 01 Nov 2023 00:00:00 +0000``, the analytics APIs' date format."""
    return format_datetime(_dt(ts))


def _months_back(dt: datetime, months: int) -> datetime:
    year, month = divmod(dt.year * 12 + dt.month - 1 - months, 12)
    day = min(
        dt.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month
        ],
    )
    return dt.replace(year=year, month=month + 1, day=day)


def duration_start(end: float, duration: str) -> float:
    """The start of ``duration`` (``2h``, ``7d``, ``1m`` = one month) before ``end``."""
    text = str(duration).strip().lower()
    number, unit = text[:-1], text[-1:]
    if not number.isdigit() or unit not in {"h", "d", "m"}:
        raise ApiError(400, f"Invalid duration {duration!r}: expected a number followed by h, d or m")
    if unit == "m":
        return _months_back(_dt(end), int(number)).timestamp()
    return end - int(number) * (3600 if unit == "h" else 86400)


def time_window(sb: Sandbox, start: Any, end: Any, duration: Any, default_days: float) -> tuple[float, float]:
    """(start, end) from RFC 2822 / epoch values; ``duration`` counts back from ``end`` and wins."""
    stop = parse_date(end, "end") if end not in (None, "") else sb.now()
    if duration not in (None, ""):
        begin = duration_start(stop, duration)
    elif start not in (None, ""):
        begin = parse_date(start, "start")
    else:
        begin = stop - default_days * 86400
    if begin > stop:
        raise ApiError(400, "'start' must be before 'end'")
    return begin, stop


def check_resolution(value: Any) -> str:
    resolution = value or "day"
    if resolution not in RESOLUTIONS:
        raise ApiError(400, f"Invalid resolution {resolution!r}: expected hour, day or month")
    return resolution


def bucket(ts: float, resolution: str) -> float:
    """The start of the hour / day / month (UTC) holding ``ts``."""
    dt = _dt(ts)
    if resolution == "hour":
        dt = dt.replace(minute=0, second=0, microsecond=0)
    elif resolution == "day":
        dt = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        dt = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return dt.timestamp()


def next_bucket(start: float, resolution: str) -> float:
    """The start of the bucket after the one starting at ``start``."""
    current = _dt(start)
    if resolution == "hour":
        return (current + timedelta(hours=1)).timestamp()
    if resolution == "day":
        return (current + timedelta(days=1)).timestamp()
    return _months_back(current, -1).timestamp()


def buckets(start: float, end: float, resolution: str) -> list[float]:
    """Every bucket start from the one holding ``start`` to the one holding ``end``."""
    width = {"hour": 3600, "day": 86400, "month": 28 * 86400}[resolution]
    if (end - start) / width > MAX_BUCKETS:
        raise ApiError(
            400, f"the time range has more than {MAX_BUCKETS} {resolution}s; narrow it or use a coarser resolution"
        )
    out = []
    current = bucket(start, resolution)
    while current <= end:
        out.append(current)
        current = next_bucket(current, resolution)
    return out


def events_between(sb: Sandbox, start: float, end: float) -> list[tuple[str, Event]]:
    """(domain, event) for every event with start <= timestamp <= end, oldest first."""
    return [(d, e) for _s, d, e in domain_events(sb.state) if start <= float(e.get("timestamp", 0)) <= end]


# -- metric definitions ---------------------------------------------------------------------------


def _kind(name: str, severity: str | None = None) -> Predicate:
    return lambda e: e.get("event") == name and (severity is None or e.get("severity") == severity)


def _suppressed(e: Event) -> bool:
    return e.get("event") == "failed" and str(e.get("reason", "")).startswith("suppress-")


def _reason(reason: str) -> Predicate:
    return lambda e: e.get("event") == "failed" and e.get("reason") == reason


def _attempt(e: Event) -> int:
    return int((e.get("delivery-status") or {}).get("attempt-no") or 1)


def _never(e: Event) -> bool:
    return False


_permanent = _kind("failed", "permanent")
_delivered = _kind("delivered")

#: Metric events (the names ``metric_events`` and ``<name>_count`` metrics use) -> which events count.
METRIC_EVENTS: dict[str, Predicate] = {
    "accepted": _kind("accepted"),
    "accepted_outgoing": _kind("accepted"),
    "accepted_incoming": _never,  # routes, forwards and inbound list mail are not emulated
    "processed": _kind("accepted"),
    "delivered": _delivered,
    "delivered_smtp": lambda e: _delivered(e) and (e.get("envelope") or {}).get("transport", "smtp") == "smtp",
    "delivered_http": lambda e: _delivered(e) and (e.get("envelope") or {}).get("transport") == "http",
    "delivered_optimized": _never,
    "delivered_first_attempt": lambda e: _delivered(e) and _attempt(e) == 1,
    "delivered_subsequent": lambda e: _delivered(e) and _attempt(e) > 1,
    "delivered_two_plus_attempts": lambda e: _delivered(e) and _attempt(e) > 1,
    "delayed_first_attempt": lambda e: _kind("failed", "temporary")(e) and _attempt(e) == 1,
    "sent": lambda e: _delivered(e) or (e.get("event") == "failed" and not _suppressed(e)),
    "stored": _kind("stored"),
    "opened": _kind("opened"),
    "unique_opened": _kind("opened"),
    "clicked": _kind("clicked"),
    "unique_clicked": _kind("clicked"),
    "unsubscribed": _kind("unsubscribed"),
    "complained": _kind("complained"),
    "failed": _kind("failed"),
    "temporary_failed": _kind("failed", "temporary"),
    "permanent_failed": _permanent,
    "esp_block": _reason("esp-block"),
    "temporary_failed_esp_block": lambda e: _kind("failed", "temporary")(e) and e.get("reason") == "esp-block",
    "permanent_failed_esp_block": lambda e: _permanent(e) and e.get("reason") == "esp-block",
    "webhook_failure": _never,
    "webhook": _never,
    "rate_limit": _never,
    "permanent_failed_optimized": _never,
    "permanent_failed_old": _reason("old"),
    "bounced": lambda e: _permanent(e) and not _suppressed(e),
    "hard_bounces": lambda e: (
        _permanent(e) and not _suppressed(e) and not (e.get("flags") or {}).get("is-delayed-bounce")
    ),
    "soft_bounces": _never,
    "delayed_bounce": lambda e: _permanent(e) and bool((e.get("flags") or {}).get("is-delayed-bounce")),
    "suppressed_bounces": _reason("suppress-bounce"),
    "suppressed_unsubscribed": _reason("suppress-unsubscribe"),
    "suppressed_complaints": _reason("suppress-complaint"),
}
_UNIQUE = {"unique_opened", "unique_clicked"}
#: rate -> (numerator metric event, denominator metric event)
RATES: dict[str, tuple[str, str]] = {
    "delivered_rate": ("delivered", "sent"),
    "opened_rate": ("opened", "delivered"),
    "clicked_rate": ("clicked", "delivered"),
    "unique_opened_rate": ("unique_opened", "delivered"),
    "unique_clicked_rate": ("unique_clicked", "delivered"),
    "unsubscribed_rate": ("unsubscribed", "delivered"),
    "complained_rate": ("complained", "delivered"),
    "bounce_rate": ("bounced", "sent"),
    "fail_rate": ("failed", "processed"),
    "permanent_fail_rate": ("permanent_failed", "processed"),
    "temporary_fail_rate": ("temporary_failed", "processed"),
    "delayed_rate": ("delayed_first_attempt", "processed"),
    "delayed_first_attempt_rate": ("delayed_first_attempt", "processed"),
}
METRICS = (*(f"{name}_count" for name in METRIC_EVENTS if name not in {"esp_block", "webhook_failure"}), *RATES)
#: The metrics of the usage metrics API.
USAGE_METRICS = tuple(
    "email_validation_count email_validation_public_count email_validation_valid_count "  # noqa: SIM905
    "email_validation_single_count email_validation_bulk_count email_validation_list_count "
    "email_validation_mailgun_count email_validation_mailjet_count email_preview_count email_preview_failed_count "
    "link_validation_count link_validation_failed_count seed_test_count ip_blocklist_monitoring_count "
    "domain_blocklist_monitoring_count accessibility_count accessibility_failed_count image_validation_count "
    "image_validation_failed_count archived_count processed_count".split()
)
DEFAULT_METRICS = (
    "accepted_count",
    "delivered_count",
    "failed_count",
    "opened_count",
    "clicked_count",
    "unsubscribed_count",
    "complained_count",
)


def count(events: Iterable[Event], metric_event: str) -> int:
    """How many of ``events`` a metric event counts (distinct message and recipient for unique_*)."""
    predicate = METRIC_EVENTS[metric_event]
    matching = [e for e in events if predicate(e)]
    if metric_event in _UNIQUE:
        return len(
            {(((e.get("message") or {}).get("headers") or {}).get("message-id"), e.get("recipient")) for e in matching}
        )
    return len(matching)


def metric_values(events: list[Event], metrics: Iterable[str]) -> dict[str, Any]:
    """The requested count and rate metrics over ``events``."""
    out: dict[str, Any] = {}
    for metric in metrics:
        if metric in RATES:
            numerator, denominator = RATES[metric]
            below = count(events, denominator)
            out[metric] = f"{(count(events, numerator) / below) if below else 0:.4f}"
        elif metric.removesuffix("_count") in METRIC_EVENTS:
            out[metric] = count(events, metric.removesuffix("_count"))
        else:
            out[metric] = 0
    return out


# -- dimensions and filters -----------------------------------------------------------------------


def _client(e: Event, key: str) -> str | None:
    return (e.get("client-info") or {}).get(key) or None


#: What metrics group and filter by -> the values an event has for it (``domain`` is the event's domain).
ATTRIBUTES: dict[str, Callable[[str, Event], list[Any]]] = {
    "domain": lambda d, e: [d],
    "tag": lambda d, e: list(e.get("tags") or []),
    "recipient_domain": lambda d, e: [e.get("recipient-domain")],
    "recipient_provider": lambda d, e: [e.get("recipient-provider")],
    "ip": lambda d, e: [(e.get("envelope") or {}).get("sending-ip")],
    "ip_pool": lambda d, e: [(e.get("envelope") or {}).get("i-ip-pool-id")],
    "country": lambda d, e: [(e.get("geolocation") or {}).get("country")],
    "device": lambda d, e: [_client(e, "device-type")],
    "bot": lambda d, e: [_client(e, "bot")],
    "subaccount": lambda d, e: [],
}
DIMENSIONS = ("time", *ATTRIBUTES)
# Logs filter on more of the event than metrics do.
_LOG_ATTRIBUTES: dict[str, Callable[[str, Event], list[Any]]] = {
    **ATTRIBUTES,
    "tags": ATTRIBUTES["tag"],
    "recipient": lambda d, e: [e.get("recipient")],
    "event": lambda d, e: [e.get("event")],
    "severity": lambda d, e: [e.get("severity")],
    "reason": lambda d, e: [e.get("reason")],
    "message_id": lambda d, e: [((e.get("message") or {}).get("headers") or {}).get("message-id")],
    "from": lambda d, e: [((e.get("message") or {}).get("headers") or {}).get("from")],
    "subject": lambda d, e: [((e.get("message") or {}).get("headers") or {}).get("subject")],
}
_LOG_ATTRIBUTES["message-id"] = _LOG_ATTRIBUTES["message_id"]


def attribute_values(
    attributes: dict[str, Callable[[str, Event], list[Any]]], attribute: str, domain: str, event: Event
) -> list[str]:
    return [str(v) for v in attributes[attribute](domain, event) if v not in (None, "")]


def compile_filter(raw: Any, attributes: dict[str, Callable[[str, Event], list[Any]]]) -> Callable[[str, Event], bool]:
    """``{"AND": [{"attribute", "comparator", "values": [{"label", "value"}]}]}`` as a predicate
    on (domain, event); only AND exists in Mailgun's filter language."""
    if raw in (None, {}):
        return lambda d, e: True
    if not isinstance(raw, dict) or not isinstance(raw.get("AND"), list) or set(raw) - {"AND"}:
        raise ApiError(400, "filter must be an object with an 'AND' list of predicates")
    predicates = [_predicate(p, attributes) for p in raw["AND"]]
    return lambda d, e: all(p(d, e) for p in predicates)


def _predicate(raw: Any, attributes: dict[str, Callable[[str, Event], list[Any]]]) -> Callable[[str, Event], bool]:
    if not isinstance(raw, dict):
        raise ApiError(400, "each filter predicate must be an object")
    attribute, comparator = raw.get("attribute"), raw.get("comparator")
    if attribute not in attributes:
        raise ApiError(400, f"unknown filter attribute {attribute!r}")
    if comparator not in {"=", "!=", "contains", "not contains"}:
        raise ApiError(400, f"unknown comparator {comparator!r}: expected =, !=, contains or not contains")
    wanted = [str(v.get("value", "") if isinstance(v, dict) else v).lower() for v in raw.get("values") or []]

    def test(domain: str, event: Event) -> bool:
        have = [v.lower() for v in attribute_values(attributes, attribute, domain, event)]
        if comparator in {"=", "!="}:
            hit = any(w in have for w in wanted)
        else:
            hit = any(w in h for w in wanted for h in have)
        return hit if comparator in {"=", "contains"} else not hit

    return test


# -- request helpers ------------------------------------------------------------------------------


def _body(ctx: Ctx) -> dict[str, Any]:
    if ctx.json is None:
        return {}
    if not isinstance(ctx.json, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return ctx.json


def _names(body: dict[str, Any], key: str, allowed: Iterable[str]) -> list[str]:
    values = body.get(key) or []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise ApiError(400, f"'{key}' must be a list")
    allowed = set(allowed)
    for value in values:
        if value not in allowed:
            raise ApiError(400, f"'{value}' is not a valid {key.rstrip('s').replace('_', ' ')}")
    return list(dict.fromkeys(values))


def _int(value: Any, name: str, default: int, low: int, high: int) -> int:
    return integer(
        value,
        default,
        low=low,
        high=high,
        not_integer=f"'{name}' must be an integer",
        out_of_range=f"'{name}' must be between {low} and {high}",
    )


# -- metrics --------------------------------------------------------------------------------------


def _groups(
    rows: list[tuple[str, Event]], dimensions: list[str], resolution: str, zero_fill: list[float]
) -> dict[tuple[str, ...], list[Event]]:
    groups: dict[tuple[str, ...], list[Event]] = {}
    if dimensions == ["time"]:
        groups = {(date_text(b),): [] for b in zero_fill}
    for domain, event in rows:
        choices = []
        for dimension in dimensions:
            if dimension == "time":
                choices.append([date_text(bucket(float(event["timestamp"]), resolution))])
            else:
                choices.append(attribute_values(ATTRIBUTES, dimension, domain, event))
        for combo in product(*choices):
            groups.setdefault(combo, []).append(event)
    return groups


def _sort(items: list[dict[str, Any]], sort: str, dimensions: list[str]) -> None:
    if not sort:
        return
    field, _, direction = sort.partition(":")
    name = "time" if field in {"timestamp", "time"} else field
    key: Callable[[dict[str, Any]], Any]
    if name in dimensions:
        index = dimensions.index(name)
        if name == "time":
            key = lambda it: parse_date(it["dimensions"][index]["value"], "time")  # noqa: E731
        else:
            key = lambda it: it["dimensions"][index]["value"]  # noqa: E731
    elif name in METRICS or name in USAGE_METRICS:
        key = lambda it: float(it["metrics"].get(name, 0))  # noqa: E731
    elif name == "time":
        return  # no time dimension: nothing to order by
    else:
        raise ApiError(400, f"cannot sort by {field!r}")
    items.sort(key=key, reverse=direction.lower() == "desc")


def _metrics_query(
    ctx: Ctx,
    allowed_metrics: Iterable[str],
    allowed_dimensions: Iterable[str],
    compute: Callable[[list[Event], list[str]], dict[str, Any]],
    default_metrics: Iterable[str],
) -> dict[str, Any]:
    body = _body(ctx)
    resolution = check_resolution(body.get("resolution"))
    start, end = time_window(ctx.sb, body.get("start"), body.get("end"), body.get("duration"), 7)
    dimensions = _names(body, "dimensions", allowed_dimensions)
    metrics = _names(body, "metrics", allowed_metrics) or list(default_metrics)
    if len(metrics) > MAX_METRICS or len(dimensions) > MAX_DIMENSIONS:
        raise ApiError(400, f"a query takes at most {MAX_METRICS} metrics and {MAX_DIMENSIONS} dimensions")
    match = compile_filter(body.get("filter"), ATTRIBUTES)
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    timed = "time" in dimensions
    skip = _int(paging.get("skip", body.get("skip")), "skip", 0, 0, 10**9)
    limit = _int(paging.get("limit", body.get("limit")), "limit", 1500 if timed else 10, 1, 1500 if timed else 1000)
    sort = str(paging.get("sort") or ("time:asc" if timed else ""))
    rows = [(d, e) for d, e in events_between(ctx.sb, start, end) if match(d, e)]
    if dimensions:
        groups = _groups(rows, dimensions, resolution, buckets(start, end, resolution))
    else:
        groups = {(): [e for _d, e in rows]}
    items = [
        {
            "dimensions": [
                {"dimension": name, "value": value, "display_value": value}
                for name, value in zip(dimensions, combo, strict=True)
            ],
            "metrics": compute(events, metrics),
        }
        for combo, events in groups.items()
    ]
    _sort(items, sort, dimensions)
    out: dict[str, Any] = {"start": date_text(start), "end": date_text(end), "resolution": resolution}
    if body.get("duration"):
        out["duration"] = body["duration"]
    out.update(
        {
            "dimensions": dimensions,
            "pagination": {"sort": sort, "skip": skip, "limit": limit, "total": len(items)},
            "items": items[skip : skip + limit],
        }
    )
    if body.get("include_aggregates"):
        out["aggregates"] = {"metrics": compute([e for _d, e in rows], metrics)}
    return out


@router.post("/v1/analytics/metrics")
async def query_metrics(ctx: Ctx) -> dict:
    return _metrics_query(ctx, METRICS, DIMENSIONS, metric_values, DEFAULT_METRICS)


def _usage_values(events: list[Event], metrics: list[str]) -> dict[str, Any]:
    # The sandbox runs no validations, previews or monitoring: only processed mail counts.
    return {m: (count(events, "processed") if m == "processed_count" else 0) for m in metrics}


@router.post("/v1/analytics/usage/metrics")
async def query_usage_metrics(ctx: Ctx) -> dict:
    return _metrics_query(ctx, USAGE_METRICS, ("time", "subaccount"), _usage_values, ("processed_count",))


# -- logs -----------------------------------------------------------------------------------------

#: Event names the Logs API filters on (``events``).
LOG_EVENTS = tuple(
    "accepted delivered failed opened unique_opened clicked unique_clicked unsubscribed complained rejected stored "  # noqa: SIM905
    "email_validation list_uploaded list_member_uploaded list_member_upload_error trapped".split()
)


def _iso(ts: float) -> str:
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def log_item(domain: str, event: Event) -> dict[str, Any]:
    """An event in the Logs API shape (``@timestamp``, ``domain.name``, ``account.id``, ...)."""
    item: dict[str, Any] = {
        "id": event.get("id"),
        "event": event.get("event"),
        "@timestamp": _iso(float(event.get("timestamp", 0))),
        "account": {"id": ACCOUNT_ID},
        "domain": {"name": domain},
    }
    for key, value in public(event).items():
        if key in {"id", "event", "timestamp"}:
            continue
        if key == "storage":
            value = {**value, "url": [value["url"]] if isinstance(value.get("url"), str) else value.get("url")}
        elif key == "user-variables":
            value = json.dumps(value) if value else ""
        item[key] = value
    return item


def _log_predicate(body: dict[str, Any]) -> Callable[[Event], bool]:
    names = _names(body, "events", LOG_EVENTS)
    metric_events = _names(body, "metric_events", METRIC_EVENTS)
    kinds = {n.removeprefix("unique_") for n in names}
    predicates = [METRIC_EVENTS[m] for m in metric_events]
    if not kinds and not predicates:
        return lambda e: True
    return lambda e: e.get("event") in kinds or any(p(e) for p in predicates)


def _token(pivot: list[Any] | None, side: str) -> str:
    raw = json.dumps({"p": pivot, "s": side}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: str) -> tuple[list[Any] | None, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return data.get("p"), data.get("s", "next")
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise ApiError(400, "invalid pagination token") from None


@router.post("/v1/analytics/logs")
async def list_logs(ctx: Ctx) -> dict:
    body = _body(ctx)
    start, end = time_window(ctx.sb, body.get("start"), body.get("end"), None, 1)
    wanted = _log_predicate(body)
    match = compile_filter(body.get("filter"), _LOG_ATTRIBUTES)
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    limit = _int(paging.get("limit"), "pagination.limit", LOGS_DEFAULT_LIMIT, 1, LOGS_MAX_LIMIT)
    sort = str(paging.get("sort") or "timestamp:desc")
    if sort not in {"timestamp:asc", "timestamp:desc"}:
        raise ApiError(400, "pagination.sort must be timestamp:asc or timestamp:desc")
    ascending = sort.endswith(":asc")
    rows = [
        (float(e["timestamp"]), s, d, e)
        for s, d, e in domain_events(ctx.state)
        if start <= float(e.get("timestamp", 0)) <= end and wanted(e) and match(d, e)
    ]
    if not ascending:
        rows.reverse()
    keys = [[r[0], r[1]] for r in rows]
    index = _start_index(keys, paging.get("token"), ascending, limit)
    page = rows[index : index + limit]
    pagination: dict[str, Any] = {"first": _token(None, "first"), "last": _token(None, "last")}
    if index + limit < len(rows):
        pagination["next"] = _token(keys[index + limit - 1], "next")
    if index > 0:
        pagination["previous"] = _token(keys[index], "prev")
    out: dict[str, Any] = {
        "start": date_text(start),
        "end": date_text(end),
        "items": [log_item(d, e) for _t, _s, d, e in page],
        "pagination": pagination,
    }
    if body.get("include_totals"):
        pagination["total"] = len(rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row[3]["event"]] = counts.get(row[3]["event"], 0) + 1
        out["aggregates"] = {"all": len(rows), "metrics": counts}
    else:
        out["aggregates"] = {}
    return out


def _start_index(keys: list[list[Any]], token: Any, ascending: bool, limit: int) -> int:
    """Where a page starts: right after the pivot (next), ``limit`` before it (prev), or an end."""
    if not token:
        return 0
    pivot, side = _untoken(str(token))
    if side == "last":
        return max(0, len(keys) - limit)
    if side == "first" or pivot is None:
        return 0
    if side == "prev":
        before = sum(1 for k in keys if (k < pivot if ascending else k > pivot))
        return max(0, before - limit)
    return sum(1 for k in keys if (k <= pivot if ascending else k >= pivot))


# -- account tags (v1) ----------------------------------------------------------------------------


def _account_tags(sb: Sandbox) -> dict[str, dict[str, Any]]:
    """Tags across all domains, merged by name (earliest first-seen, latest last-seen)."""
    merged: dict[str, dict[str, Any]] = {}
    for doc in sb.state.list("tag"):
        tag = merged.setdefault(
            doc["tag"],
            {"tag": doc["tag"], "description": "", "_first": doc.get("_first", 0), "_last": doc.get("_last", 0)},
        )
        tag["description"] = tag["description"] or doc.get("description", "")
        tag["_first"] = min(tag["_first"], doc.get("_first", 0))
        tag["_last"] = max(tag["_last"], doc.get("_last", 0))
    return merged


def _tag_item(sb: Sandbox, tag: dict[str, Any], with_metrics: bool) -> dict[str, Any]:
    item = {
        "account_id": ACCOUNT_ID,
        "parent_account_id": ACCOUNT_ID,
        "tag": tag["tag"],
        "description": tag["description"],
        "first_seen": _iso(tag["_first"]),
        "last_seen": _iso(tag["_last"]),
        "account_name": ACCOUNT_ID,
    }
    if with_metrics:
        events = [e for _s, _d, e in domain_events(sb.state) if tag["tag"] in (e.get("tags") or [])]
        item["metrics"] = metric_values(events, DEFAULT_METRICS)
    return item


@router.post("/v1/analytics/tags")
async def list_account_tags(ctx: Ctx) -> dict:
    body = _body(ctx)
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    skip = _int(paging.get("skip"), "pagination.skip", 0, 0, 10**9)
    limit = _int(paging.get("limit"), "pagination.limit", 10, 1, 1000)
    sort = str(paging.get("sort") or "lastseen:desc")
    field, _, direction = sort.partition(":")
    keys = {"lastseen": "_last", "last_seen": "_last", "firstseen": "_first", "first_seen": "_first", "tag": "tag"}
    if field not in keys:
        raise ApiError(400, "pagination.sort must be one of tag, firstseen, lastseen with :asc or :desc")
    tags = list(_account_tags(ctx.sb).values())
    prefix = str(body.get("tag") or "")
    tags = [t for t in tags if t["tag"].startswith(prefix)]
    tags.sort(key=lambda t: t[keys[field]], reverse=direction.lower() != "asc")
    items = [_tag_item(ctx.sb, t, bool(body.get("include_metrics"))) for t in tags[skip : skip + limit]]
    pagination: dict[str, Any] = {"sort": sort, "skip": skip, "limit": limit}
    if paging.get("include_total"):
        pagination["total"] = len(tags)
    return {"items": items, "pagination": pagination}


def _tag_name(ctx: Ctx) -> str:
    tag = _body(ctx).get("tag") or ctx.query.get("tag")
    if not tag:
        raise ApiError(400, "'tag' parameter is missing")
    return str(tag)


@router.put("/v1/analytics/tags")
async def update_account_tag(ctx: Ctx) -> dict:
    tag = _tag_name(ctx)
    description = str(_body(ctx).get("description") or "")
    with ctx.state.transaction():
        docs = [(k, d) for k, d in zip(ctx.state.keys("tag"), ctx.state.list("tag"), strict=True) if d["tag"] == tag]
        if not docs:
            raise ApiError(404, "Tag not found")
        for key, doc in docs:
            ctx.state.put("tag", key, {**doc, "description": description})
    return {"message": "Tag updated"}


@router.delete("/v1/analytics/tags")
async def delete_account_tag(ctx: Ctx) -> dict:
    tag = _tag_name(ctx)
    with ctx.state.transaction():
        keys = [k for k, d in zip(ctx.state.keys("tag"), ctx.state.list("tag"), strict=True) if d["tag"] == tag]
        if not keys:
            raise ApiError(404, "Tag not found")
        for key in keys:
            ctx.state.delete("tag", key)
    return {"message": "Tag deleted"}


@router.get("/v1/analytics/tags/limits")
async def get_account_tag_limits(ctx: Ctx) -> dict:
    used = len(_account_tags(ctx.sb))
    return {"limit": ACCOUNT_TAG_LIMIT, "count": used, "limit_reached": used >= ACCOUNT_TAG_LIMIT}
