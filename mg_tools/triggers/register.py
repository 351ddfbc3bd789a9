"""Point a domain's webhooks at a listener, through the webhook tools (and so through the policy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from mg_tools.errors import ConfigurationError, NotFound

if TYPE_CHECKING:
    from mg_tools.toolkit import Toolkit

__all__ = ["register_webhooks", "webhook_events"]


def webhook_events(toolkit: Toolkit) -> tuple[str, ...]:
    """The event types a webhook can be made for, as the ``create_webhook`` tool accepts them."""
    return get_args(toolkit.operation("create_webhook").params.model_fields["event"].annotation)


def register_webhooks(toolkit: Toolkit, domain: str, url: str, events: list[str]) -> dict[str, str]:
    """Have each of ``events`` of ``domain`` posted to ``url``: a webhook is created, or ``url`` is added
    to the one there is (its other URLs stay). Returns, per event, ``created``, ``updated`` or
    ``unchanged``. An unknown event is an ``ConfigurationError`` before anything is sent."""
    known = webhook_events(toolkit)
    unknown = [event for event in events if event not in known]
    if unknown or not events:
        raise ConfigurationError(
            f"unknown webhook event {', '.join(unknown) or '(none given)'}: choose from {', '.join(known)}"
        )
    return {event: _register(toolkit, domain, url, event) for event in dict.fromkeys(events)}


def _register(toolkit: Toolkit, domain: str, url: str, event: str) -> str:
    try:
        current = toolkit.call("get_webhook", domain=domain, event=event)
    except NotFound:
        toolkit.call("create_webhook", domain=domain, event=event, urls=[url])
        return "created"
    urls = list((current.get("webhook") or {}).get("urls") or [])
    if url in urls:
        return "unchanged"
    toolkit.call("update_webhook", domain=domain, event=event, urls=[*urls, url])
    return "updated"
