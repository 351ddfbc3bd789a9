"""Stats: the v3 time series of a domain's or the account's mail events (superseded by get_metrics)."""

from typing import Literal

from pydantic import Field

from mg_tools import Access, Operation, registering
from mg_tools.types import STATS_NARROW_HINT, Domain, Params, StatsDate, StatsEvent, StatsWindow

Group = Literal["domain", "tag", "recipient_domain", "provider", "ip"]


class GetAccountStats(StatsWindow):
    """Use get_metrics. Daily (or hourly, monthly) totals of the account's accepted, delivered, failed... mail."""


class GetDomainStats(StatsWindow):
    """Use get_metrics. Daily (or hourly, monthly) totals of one domain's accepted, delivered, failed... mail."""

    domain: Domain


class GetStatsByDomain(Params):
    """Use get_metrics with dimensions domain. Per-domain totals of one hour, day or month."""

    events: list[StatsEvent] = Field(min_length=1, serialization_alias="event")
    timestamp: StatsDate = Field(description="Any time inside the period: RFC 2822 date or unix seconds")
    resolution: Literal["hour", "day", "month"] = "day"
    limit: int = Field(10, ge=1, le=1000, description="Domains at most")


class GetFilteredStats(StatsWindow):
    """Use get_metrics with a filter. Account totals filtered and grouped by domain, tag,
    recipient domain, provider or IP."""

    filter: str | None = Field(
        None, max_length=1024, description="key:value pairs, e.g. 'domain:mg.example.com tag:news'"
    )
    group: Group | None = None


class GetStatsByProvider(Params):
    """Use get_metrics with dimensions recipient_provider. A domain's totals per mailbox provider."""

    domain: Domain


class GetStatsByDevice(GetStatsByProvider):
    """Use get_metrics with dimensions device. A domain's totals per device type."""


class GetStatsByCountry(GetStatsByProvider):
    """Use get_metrics with dimensions country. A domain's totals per recipient country."""


# fmt: off
OPERATIONS = (
    Operation("get_account_stats", "GET", "/v3/stats/total", GetAccountStats, Access.READ, deprecated=True, items_key="stats", narrow_hint=STATS_NARROW_HINT),
    Operation("get_domain_stats", "GET", "/v3/{domain}/stats/total", GetDomainStats, Access.READ, deprecated=True, items_key="stats", narrow_hint=STATS_NARROW_HINT),
    Operation("get_stats_by_domain", "GET", "/v3/stats/total/domains", GetStatsByDomain, Access.READ, deprecated=True, items_key="stats", narrow_hint="ask for fewer domains (limit) or fewer events"),
    Operation("get_filtered_stats", "GET", "/v3/stats/filter", GetFilteredStats, Access.READ, deprecated=True, items_key="stats", narrow_hint=STATS_NARROW_HINT),
    Operation("get_stats_by_provider", "GET", "/v3/{domain}/aggregates/providers", GetStatsByProvider, Access.READ, deprecated=True),
    Operation("get_stats_by_device", "GET", "/v3/{domain}/aggregates/devices", GetStatsByDevice, Access.READ, deprecated=True),
    Operation("get_stats_by_country", "GET", "/v3/{domain}/aggregates/countries", GetStatsByCountry, Access.READ, deprecated=True),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_account_stats": ("daily account totals",),
    "get_domain_stats": ("daily totals of a domain", "one domain per day"),
    "get_stats_by_domain": ("totals per domain",),
    "get_filtered_stats": ("stats grouped by tag or provider",),
    "get_stats_by_provider": ("per mailbox provider gmail yahoo outlook",),
    "get_stats_by_device": ("mobile or desktop",),
    "get_stats_by_country": ("per country",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
