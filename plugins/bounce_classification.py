"""Bounce classification: why a domain's mail bounces, by mailbox provider or blocklist and by rule."""

from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, Limit, Params

EntityId = Annotated[str, Field(min_length=1, max_length=128, description="e.g. gmail, hotmail, spamhaus")]
RuleId = Annotated[str, Field(min_length=1, max_length=128)]
GroupField = Literal["subaccount.id", "domain.name", "entity-id", "rule-id"]
# Mailgun takes the group fields as one comma-separated value.
Groups = Annotated[list[GroupField], PlainSerializer(lambda v: ",".join(dict.fromkeys(v)), return_type=str)]


class GetBounceStats(Params):
    """Use get_metrics. Why mail bounces: bounce totals grouped by domain,
    provider (entity) and reason (classification rule), largest first."""

    group: Groups | None = Field(None, min_length=1, description="Default: domain.name, entity-id, rule-id")
    limit: Limit | None = None
    include_subaccounts: bool | None = None


class GetBounceStatsByDomain(Params):
    """Use get_metrics. Bounce totals per sending domain, largest first."""

    query: str | None = Field(None, pattern=r"^domain\.name:\S+$", description="e.g. domain.name:mg.example.com")
    limit: Limit | None = None
    include_subaccounts: bool | None = None
    cursor: Cursor = None


class GetBounceStatsByEntity(Params):
    """Use get_metrics. Which mailbox providers or blocklists (entities) cause
    one domain's bounces, most first."""

    domain: Domain
    include_subaccounts: bool | None = None


class GetBounceStatsByRule(GetBounceStatsByEntity):
    """Use get_metrics. One domain's bounces at one entity, per classification
    rule, with the rule's explanation."""

    entity_id: EntityId


class ListBounceEntities(Params):
    """The mailbox providers and blocklists bounces are attributed to, by entity id."""


class ListBounceRules(Params):
    """The bounce classification rules by rule id: class, sample text and explanation."""


class ListBounceLogs(Params):
    """Removed by Mailgun: use list_logs with events failed. A domain's classified bounces."""

    domain: Domain
    rule_id: RuleId | None = Field(
        None, serialization_alias="rule-id", description="As get_bounce_stats_by_rule lists it"
    )
    entity_id: EntityId | None = Field(None, serialization_alias="entity-id")
    sort: Literal["@timestamp:asc", "@timestamp:desc"] | None = None
    limit: Limit | None = None


# fmt: off
OPERATIONS = (
    Operation("get_bounce_stats", "GET", "/v1/bounce-classification/stats", GetBounceStats, Access.READ, deprecated=True),
    Operation("get_bounce_stats_by_domain", "GET", "/v1/bounce-classification/domains", GetBounceStatsByDomain, Access.READ, paging=Paging.SKIP, deprecated=True),
    Operation("get_bounce_stats_by_entity", "GET", "/v1/bounce-classification/domains/{domain}/entities", GetBounceStatsByEntity, Access.READ, deprecated=True),
    Operation("get_bounce_stats_by_rule", "GET", "/v1/bounce-classification/domains/{domain}/entities/{entity_id}/rules", GetBounceStatsByRule, Access.READ, deprecated=True),
    Operation("list_bounce_entities", "GET", "/v1/bounce-classification/config/entities", ListBounceEntities, Access.READ, deprecated=True),
    Operation("list_bounce_rules", "GET", "/v1/bounce-classification/config/rules", ListBounceRules, Access.READ, deprecated=True),
    Operation("list_bounce_logs", "GET", "/v1/bounce-classification/domains/{domain}/events", ListBounceLogs, Access.READ, deprecated=True),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_bounce_stats": ("why do emails bounce", "bounce reasons overview"),
    "get_bounce_stats_by_domain": ("which domains bounce the most",),
    "get_bounce_stats_by_entity": (
        "which mailbox providers or blocklists bounce our mail",
        "gmail yahoo outlook spamhaus",
    ),
    "get_bounce_stats_by_rule": ("bounce classification rules behind bounces at a provider",),
    "list_bounce_entities": ("providers and blocklists bounces are attributed to",),
    "list_bounce_rules": ("what a bounce rule means", "bounce classification explanations"),
    "list_bounce_logs": ("classified bounce log entries",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
