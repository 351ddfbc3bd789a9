"""Where the API is: Mailgun's regions and the base URL a configuration resolves to.

Apart from the client so that resolving a configuration (listing tools, dry runs) never imports the
HTTP stack.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mg_tools.errors import ConfigurationError

__all__ = ["REGIONS", "base_url_for"]

REGIONS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}


def base_url_for(region: str | None = None, base_url: str | None = None) -> str:
    """The API base URL: an explicit ``base_url`` wins, else the region's (``us`` by default)."""
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError(f"MAILGUN_API_BASE_URL must be an http(s) URL, got {base_url!r}")
        return base_url.rstrip("/")
    region = (region or "us").lower()
    if region not in REGIONS:
        raise ConfigurationError(f"MAILGUN_API_REGION must be 'us' or 'eu', got {region!r}")
    return REGIONS[region]
