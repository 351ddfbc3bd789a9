"""Webhooks: the URLs Mailgun posts a domain's events to, one webhook per event type."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from mg_tools import Access, Operation, registering
from mg_tools.types import Domain, Params

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})

EventId = Literal[
    "accepted", "clicked", "opened", "unsubscribed", "delivered", "permanent_fail", "temporary_fail", "complained"
]


def _safe_url(url: str) -> str:
    # Events carry recipients and message details: an agent talked into pointing them at a
    # stranger's server would leak them, so only encrypted URLs without embedded credentials pass.
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError("must not contain credentials (user:pass@)")
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url
    raise ValueError("must be an https:// URL (http:// only for localhost or 127.0.0.1)")


WebhookUrl = Annotated[str, Field(min_length=10, max_length=2048, pattern=r"^[\x21-\x7e]+$"), AfterValidator(_safe_url)]
Urls = Annotated[
    list[WebhookUrl],
    Field(
        min_length=1,
        max_length=3,
        description="1-3 URLs. https only (http just for localhost), no user:pass@: events hold recipient data",
    ),
]


class ListWebhooks(Params):
    """Show every webhook of a domain: event type -> the URLs its events are posted to."""

    domain: Domain


class CreateWebhook(Params):
    """Have Mailgun post one event type of a domain (delivered, opened, permanent_fail...) to 1-3 URLs."""

    domain: Domain
    event: EventId = Field(serialization_alias="id")
    urls: Urls = Field(serialization_alias="url")


class GetWebhook(Params):
    """Show the URLs one event type of a domain is posted to."""

    domain: Domain
    event: EventId


class UpdateWebhook(GetWebhook):
    """Replace the URLs of an existing webhook."""

    urls: Urls = Field(serialization_alias="url")


class DeleteWebhook(GetWebhook):
    """Stop posting one event type of a domain anywhere."""


# fmt: off
OPERATIONS = (
    Operation("list_webhooks", "GET", "/v3/domains/{domain}/webhooks", ListWebhooks, Access.READ),
    Operation("create_webhook", "POST", "/v3/domains/{domain}/webhooks", CreateWebhook, Access.WRITE),
    Operation("get_webhook", "GET", "/v3/domains/{domain}/webhooks/{event}", GetWebhook, Access.READ),
    Operation("update_webhook", "PUT", "/v3/domains/{domain}/webhooks/{event}", UpdateWebhook, Access.WRITE),
    Operation("delete_webhook", "DELETE", "/v3/domains/{domain}/webhooks/{event}", DeleteWebhook, Access.DELETE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_webhooks": ("configured webhooks",),
    "create_webhook": ("notify my server", "post events to my url", "real time callback", "delivery notifications"),
    "get_webhook": ("which url receives an event",),
    "update_webhook": ("point a webhook at a new url",),
    "delete_webhook": ("stop posting events to our endpoint",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
