"""Reports: answers built from several analytics calls, such as how a campaign did."""

from typing import Annotated, Any

from pydantic import Field

from mg_tools import Access, Operation, registering
from mg_tools.errors import MgToolsError
from mg_tools.types import Domain, Params, Rfc2822

#: One metrics query may ask for at most 10 metrics: the counts, then the failure reasons.
COUNTS = {
    "accepted": "accepted_count",
    "delivered": "delivered_count",
    "failed_permanently": "permanent_failed_count",
    "failed_temporarily": "temporary_failed_count",
    "opened": "opened_count",
    "unique_opened": "unique_opened_count",
    "clicked": "clicked_count",
    "unique_clicked": "unique_clicked_count",
    "complained": "complained_count",
    "unsubscribed": "unsubscribed_count",
}
FAILURE_REASONS = {
    "hard_bounce": "hard_bounces_count",
    "delayed_bounce": "delayed_bounce_count",
    "suppressed_bounce": "suppressed_bounces_count",
    "suppressed_unsubscribe": "suppressed_unsubscribed_count",
    "suppressed_complaint": "suppressed_complaints_count",
    "blocked_by_provider": "permanent_failed_esp_block_count",
    "temporary_block_by_provider": "temporary_failed_esp_block_count",
}
#: rate name -> (numerator, denominator), from the counts above.
RATES = {
    "delivered": ("delivered", "accepted"),
    "failed_permanently": ("failed_permanently", "accepted"),
    "opened": ("unique_opened", "delivered"),
    "clicked": ("unique_clicked", "delivered"),
    "complained": ("complained", "delivered"),
    "unsubscribed": ("unsubscribed", "delivered"),
}


class CampaignReport(Params):
    """Report how a campaign (a tag) performed, or a domain over a window: accepted, delivered, failed by
    reason, opened, clicked, complained, unsubscribed, with delivery, open and click rates."""

    tag: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    domain: Domain | None = None
    start: Rfc2822 | None = Field(None, description="RFC 2822 date; default 7 days ago")
    end: Rfc2822 | None = Field(None, description="RFC 2822 date; default now")
    duration: str | None = Field(None, pattern=r"^\d{1,4}[hdm]$", description="Instead of start, back from end: 30d")


def _filter(args: CampaignReport) -> dict[str, Any] | None:
    conditions = [
        {"attribute": attribute, "comparator": "=", "values": [{"label": value, "value": value}]}
        for attribute, value in (("tag", args.tag), ("domain", args.domain))
        if value
    ]
    return {"AND": conditions} if conditions else None


async def _totals(call, args: CampaignReport, names: dict[str, str]) -> dict[str, int]:
    """The totals of ``names`` (ours -> Mailgun's metric) over the report's window and filter."""
    query: dict[str, Any] = {"metrics": list(names.values()), "include_aggregates": True}
    query.update(args.model_dump(include={"start", "end", "duration"}, exclude_none=True))
    if (where := _filter(args)) is not None:
        query["filter"] = where
    metrics = ((await call("get_metrics", query)).get("aggregates") or {}).get("metrics") or {}
    return {ours: int(metrics.get(theirs) or 0) for ours, theirs in names.items()}


async def _bounce_classes(call, domain: str) -> list[dict[str, Any]]:
    stats = await call("get_bounce_stats", {"group": ["domain.name", "rule-id"], "limit": 1000})
    return [
        {"rule_id": item.get("rule-id"), "reason": item.get("short-explanation"), "bounced": item["bounced"]["total"]}
        for item in stats.get("items") or []
        if (item.get("domain") or {}).get("name") == domain and item.get("bounced")
    ]


def _unavailable(exc: MgToolsError) -> dict[str, str]:
    return {"unavailable": str(exc)}


async def campaign_report(args: CampaignReport, call) -> dict[str, Any]:
    window = args.model_dump(include={"start", "end", "duration"}, exclude_none=True) or {"duration": "7d"}
    out: dict[str, Any] = {"tag": args.tag, "domain": args.domain, "window": window}
    try:
        counts = await _totals(call, args, COUNTS)
    except MgToolsError as exc:
        out["counts"] = _unavailable(exc)
    else:
        out["counts"] = counts
        out["rates"] = {
            name: round(counts[num] / counts[den], 4) if counts[den] else None for name, (num, den) in RATES.items()
        }
    try:
        out["failure_reasons"] = await _totals(call, args, FAILURE_REASONS)
    except MgToolsError as exc:
        out["failure_reasons"] = _unavailable(exc)
    if args.domain:
        try:
            # Classified from the domain's whole bounce list: not limited to the tag or the window.
            out["domain_bounce_classes"] = await _bounce_classes(call, args.domain)
        except MgToolsError as exc:
            out["domain_bounce_classes"] = _unavailable(exc)
    return {k: v for k, v in out.items() if v is not None}


# fmt: off
OPERATIONS = (
    Operation("campaign_report", "", "", CampaignReport, Access.READ, area="tags", handler=campaign_report),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "campaign_report": ("how did a campaign perform", "campaign summary", "results of a newsletter"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
