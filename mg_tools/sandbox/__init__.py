"""A Mailgun-compatible local server with real state, events and fault injection.

Run it standalone with ``mg-tools sandbox`` and point any Mailgun client at it, or embed it
in-process with ``Toolkit(sandbox=True)`` / ``--sandbox``.
"""

from mg_tools.sandbox.app import (
    DEFAULT_API_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_SIGNING_KEY,
    SANDBOX_HEADER,
    create_app,
)

__all__ = ["DEFAULT_API_KEY", "DEFAULT_DOMAIN", "DEFAULT_SIGNING_KEY", "SANDBOX_HEADER", "create_app"]
