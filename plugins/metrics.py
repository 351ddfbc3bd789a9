"""Metrics: counts and rates of the account's mail (accepted, delivered, opened...) and usage."""

from typing import Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, FilterComparator, FilterValues, Params, Rfc2822

FilterAttribute = Literal[
    "bot",
    "country",
    "ip_pool",
    "recipient_domain",
    "recipient_provider",
    "ip",
    "domain",
    "tag",
    "device",
    "subaccount",
]
Dimension = Literal[
    "time",
    "domain",
    "tag",
    "subaccount",
    "country",
    "device",
    "bot",
    "ip",
    "ip_pool",
    "recipient_domain",
    "recipient_provider",
]
Metric = Literal[
    "accepted_count",
    "accepted_incoming_count",
    "accepted_outgoing_count",
    "delivered_count",
    "delivered_smtp_count",
    "delivered_http_count",
    "delivered_optimized_count",
    "processed_count",
    "sent_count",
    "opened_count",
    "clicked_count",
    "unique_opened_count",
    "unique_clicked_count",
    "unsubscribed_count",
    "complained_count",
    "failed_count",
    "temporary_failed_count",
    "permanent_failed_count",
    "temporary_failed_esp_block_count",
    "permanent_failed_esp_block_count",
    "webhook_count",
    "rate_limit_count",
    "permanent_failed_optimized_count",
    "permanent_failed_old_count",
    "bounced_count",
    "hard_bounces_count",
    "soft_bounces_count",
    "delayed_bounce_count",
    "suppressed_bounces_count",
    "suppressed_unsubscribed_count",
    "suppressed_complaints_count",
    "delivered_first_attempt_count",
    "delayed_first_attempt_count",
    "delivered_two_plus_attempts_count",
    "delivered_rate",
    "opened_rate",
    "clicked_rate",
    "unique_opened_rate",
    "unsubscribed_rate",
    "complained_rate",
    "bounce_rate",
    "permanent_fail_rate",
    "temporary_fail_rate",
    "delayed_rate",
    "delayed_first_attempt_rate",
]
UsageMetric = Literal[
    "processed_count",
    "email_validation_count",
    "email_validation_public_count",
    "email_validation_valid_count",
    "email_validation_single_count",
    "email_validation_bulk_count",
    "email_validation_list_count",
    "email_validation_mailgun_count",
    "email_validation_mailjet_count",
    "email_preview_count",
    "email_preview_failed_count",
    "link_validation_count",
    "link_validation_failed_count",
    "seed_test_count",
    "ip_blocklist_monitoring_count",
    "domain_blocklist_monitoring_count",
    "accessibility_count",
    "accessibility_failed_count",
    "image_validation_count",
    "image_validation_failed_count",
    "archived_count",
]


class Condition(Params):
    attribute: FilterAttribute
    comparator: FilterComparator
    values: FilterValues


class MetricsFilter(Params):
    # Mailgun's own key: only AND is supported.
    AND: list[Condition] = Field(min_length=1, max_length=20)


class MetricsPage(Params):
    sort: str | None = Field(None, pattern=r"^[a-z_]+:(asc|desc)$", description="e.g. domain:asc")
    limit: int | None = Field(None, ge=1, le=1500, description="Page size: up to 1500 by time, else 1000")


class _Query(Params):
    start: Rfc2822 | None = Field(None, description="RFC 2822 date; default 7 days ago")
    end: Rfc2822 | None = Field(None, description="RFC 2822 date; default now")
    duration: str | None = Field(
        None, pattern=r"^\d+[hdm]$", description="Instead of start, back from end: 7d, 24h, 1m"
    )
    resolution: Literal["hour", "day", "month"] | None = None
    include_subaccounts: bool | None = None
    include_aggregates: bool | None = Field(None, description="Also return totals over the whole range")
    pagination: MetricsPage | None = None
    cursor: Cursor = None


class GetMetrics(_Query):
    """Count and rate the account's mail (accepted, delivered, opened, bounced...) over time or by domain,
    tag, country...; filter e.g. to one domain."""

    metrics: list[Metric] = Field(min_length=1)
    dimensions: list[Dimension] | None = Field(None, description="Group by; time gives a series")
    filter: MetricsFilter | None = Field(None, description="All conditions must hold; label and value: the same text")


class GetUsageMetrics(_Query):
    """Count the account's use of paid features (validations, previews, blocklist monitoring...) over time."""

    metrics: list[UsageMetric] = Field(min_length=1)
    dimensions: list[Literal["time", "subaccount"]] | None = Field(None, description="Group by")
    filter: MetricsFilter | None = Field(None, description="e.g. by subaccount; only AND is supported")


# fmt: off
OPERATIONS = (
    Operation("get_metrics", "POST", "/v1/analytics/metrics", GetMetrics, Access.READ, encoding="json", paging=Paging.BODY_SKIP),
    Operation("get_usage_metrics", "POST", "/v1/analytics/usage/metrics", GetUsageMetrics, Access.READ, encoding="json", paging=Paging.BODY_SKIP),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_metrics": (
        "stats over time",
        "how many emails were delivered",
        "open rate click rate bounce rate",
        "deliverability numbers",
        "analytics dashboard",
    ),
    "get_usage_metrics": ("paid features used", "validations consumed", "inbox previews"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
