"""Tags: the account's message tags (o:tag), their descriptions and limits; the older per-domain tag API."""

from typing import Annotated, Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import STATS_NARROW_HINT, Body, Cursor, Domain, Limit, Params, Query, StatsWindow

Tag = Annotated[str, Field(min_length=1, max_length=256)]
Description = Annotated[str, Field(max_length=1024)]


class TagsPage(Params):
    sort: Literal["tag:asc", "tag:desc", "firstseen:asc", "firstseen:desc", "lastseen:asc", "lastseen:desc"] | None = (
        None
    )
    limit: Limit | None = None
    include_total: bool = True


class ListTags(Params):
    """List the account's message tags (campaign labels) with description and first and latest use; tag
    finds one by the start of its name."""

    tag: Tag | None = None
    include_metrics: bool | None = None
    include_subaccounts: bool | None = None
    pagination: TagsPage = TagsPage()
    cursor: Cursor = None


class UpdateTag(Params):
    """Describe a message tag: set its description on every domain that uses it."""

    tag: Tag
    description: Description


class DeleteTag(Params):
    """Delete a message tag and its description from the account; it returns when mail uses it again."""

    tag: Annotated[Tag, Body]


class GetTagLimits(Params):
    """How many message tags the account has and may have."""


class ListDomainTags(Params):
    """Use list_tags. List the tags used on one domain."""

    domain: Domain
    prefix: str | None = Field(None, max_length=256, description="Only tags starting with this")
    limit: Limit = 100
    cursor: Cursor = None


class GetDomainTag(Params):
    """Use list_tags with tag. One tag of a domain: description, first and last use."""

    domain: Domain
    tag: Tag


class UpdateDomainTag(GetDomainTag):
    """Use update_tag. Set the description of one domain's tag."""

    tag: Annotated[Tag, Query]
    description: Annotated[Description, Query] = ""


class DeleteDomainTag(GetDomainTag):
    """Use delete_tag. Delete a tag from one domain."""


class GetDomainTagStats(StatsWindow):
    """Use get_metrics filtered by tag. One tag's totals on a domain over time."""

    domain: Domain
    tag: Tag
    provider: str | None = Field(None, max_length=256)
    device: str | None = Field(None, max_length=64)
    country: str | None = Field(None, max_length=64)


class GetDomainTagAggregates(GetDomainTag):
    """Use get_metrics with a tag filter and dimensions. One tag's totals per country, device or
    provider."""

    type: Literal["country", "device", "provider"]


class GetDomainTagLimits(Params):
    """Use get_tag_limits. How many tags one domain has and may have."""

    domain: Domain


# fmt: off
OPERATIONS = (
    Operation("list_tags", "POST", "/v1/analytics/tags", ListTags, Access.READ, encoding="json", paging=Paging.BODY_SKIP),
    Operation("update_tag", "PUT", "/v1/analytics/tags", UpdateTag, Access.WRITE, encoding="json"),
    Operation("delete_tag", "DELETE", "/v1/analytics/tags", DeleteTag, Access.DELETE, encoding="json"),
    Operation("get_tag_limits", "GET", "/v1/analytics/tags/limits", GetTagLimits, Access.READ),
    Operation("list_domain_tags", "GET", "/v3/{domain}/tags", ListDomainTags, Access.READ, paging=Paging.URLS, deprecated=True),
    Operation("get_domain_tag", "GET", "/v3/{domain}/tag", GetDomainTag, Access.READ, deprecated=True),
    Operation("update_domain_tag", "PUT", "/v3/{domain}/tag", UpdateDomainTag, Access.WRITE, deprecated=True),
    Operation("delete_domain_tag", "DELETE", "/v3/{domain}/tag", DeleteDomainTag, Access.DELETE, deprecated=True),
    Operation("get_domain_tag_stats", "GET", "/v3/{domain}/tag/stats", GetDomainTagStats, Access.READ, deprecated=True, items_key="stats", narrow_hint=STATS_NARROW_HINT),
    Operation("get_domain_tag_aggregates", "GET", "/v3/{domain}/tag/stats/aggregates", GetDomainTagAggregates, Access.READ, deprecated=True),
    Operation("get_domain_tag_limits", "GET", "/v3/domains/{domain}/limits/tag", GetDomainTagLimits, Access.READ, deprecated=True),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_tags": ("campaign labels", "all tags"),
    "update_tag": ("tag description",),
    "delete_tag": ("remove a campaign label",),
    "get_tag_limits": ("tag quota of the account",),
    "list_domain_tags": ("tags used on a domain",),
    "get_domain_tag": ("one tag on a domain",),
    "update_domain_tag": ("describe a tag on one domain",),
    "delete_domain_tag": ("remove a tag from one domain",),
    "get_domain_tag_stats": ("tag statistics of a domain",),
    "get_domain_tag_aggregates": ("tag totals per country device provider",),
    "get_domain_tag_limits": ("tag limit of a domain",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
