"""Tracking: a domain's open, click and unsubscribe tracking, and the TLS certificate of its
tracking host."""

from typing import Annotated

from pydantic import Field

from mg_tools import Access, Operation, registering
from mg_tools.types import Domain, DomainName, Params, YesNoHtml

Footer = Annotated[str, Field(max_length=10_000)]
#: The tracking host of a domain, ``<web_prefix>.<domain>``: the x509 routes are keyed by it.
TrackingHost = Annotated[Domain, Field(description="Tracking host: web_prefix.domain, e.g. email.mg.example.com")]


class GetTrackingSettings(Params):
    """Show whether a domain tracks opens, clicks and unsubscribes, and its tracking link scheme."""

    domain: DomainName


class UpdateClickTracking(Params):
    """Turn click tracking (link rewriting) on or off for a domain's mail, or on for HTML only."""

    domain: DomainName
    active: YesNoHtml


class UpdateOpenTracking(Params):
    """Turn open tracking (a pixel in the HTML) on or off for a domain's mail."""

    domain: DomainName
    active: bool | None = None
    place_at_the_top: bool | None = Field(None, description="Pixel at the top of the HTML body")


class UpdateUnsubscribeTracking(Params):
    """Turn automatic unsubscribe links on or off for a domain's mail, and set their footers."""

    domain: DomainName
    active: bool | None = None
    html_footer: Footer | None = Field(None, description="HTML with %unsubscribe_url%")
    text_footer: Footer | None = Field(None, description="Text with %unsubscribe_url%")


class GetTrackingCertificate(Params):
    """Show the status (processing, active, expired) of the HTTPS certificate of a tracking host."""

    domain: TrackingHost


class GenerateTrackingCertificate(GetTrackingCertificate):
    """Start issuing an HTTPS certificate for a tracking host (its CNAME must be valid)."""


class RegenerateTrackingCertificate(GetTrackingCertificate):
    """Re-issue the expired HTTPS certificate of a tracking host."""


# fmt: off
OPERATIONS = (
    Operation("get_tracking_settings", "GET", "/v3/domains/{domain}/tracking", GetTrackingSettings, Access.READ, area="domains"),
    Operation("update_click_tracking", "PUT", "/v3/domains/{domain}/tracking/click", UpdateClickTracking, Access.WRITE, area="domains"),
    Operation("update_open_tracking", "PUT", "/v3/domains/{domain}/tracking/open", UpdateOpenTracking, Access.WRITE, area="domains"),
    Operation("update_unsubscribe_tracking", "PUT", "/v3/domains/{domain}/tracking/unsubscribe", UpdateUnsubscribeTracking, Access.WRITE, area="domains"),
    Operation("get_tracking_certificate", "GET", "/v2/x509/{domain}/status", GetTrackingCertificate, Access.READ, area="domains"),
    Operation("generate_tracking_certificate", "POST", "/v2/x509/{domain}", GenerateTrackingCertificate, Access.WRITE, area="domains"),
    Operation("regenerate_tracking_certificate", "PUT", "/v2/x509/{domain}", RegenerateTrackingCertificate, Access.WRITE, area="domains"),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_tracking_settings": ("do we track opens and clicks", "tracking settings"),
    "update_click_tracking": ("link tracking on or off", "stop rewriting links", "track clicks"),
    "update_open_tracking": ("tracking pixel on or off", "track opens"),
    "update_unsubscribe_tracking": ("unsubscribe link footer", "automatic unsubscribe links"),
    "get_tracking_certificate": ("tracking certificate status", "ssl cert of the tracking domain"),
    "generate_tracking_certificate": ("https for tracking links", "ssl certificate for the tracking host"),
    "regenerate_tracking_certificate": ("renew the expired tracking certificate", "reissue https cert"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
