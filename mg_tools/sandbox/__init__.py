"""A Mailgun-compatible local server with real state, events and fault injection.

Run it standalone with ``mg-tools sandbox`` and point any Mailgun client at it, or embed it
in-process with ``Toolkit(sandbox=True)`` / ``--sandbox``.

The app (:func:`create_app`) is imported on first use: a toolkit that only needs the sandbox's key
does not pay for building its routes.
"""

from typing import Any

__all__ = ["DEFAULT_API_KEY", "DEFAULT_DOMAIN", "DEFAULT_SIGNING_KEY", "SANDBOX_HEADER", "create_app"]

#: The key the sandbox accepts when none is given (documented; not a secret).
DEFAULT_API_KEY = "sandbox-key"
DEFAULT_SIGNING_KEY = "sandbox-signing-key"
#: A domain that exists from the start, so a first send works with no set-up.
DEFAULT_DOMAIN = "mg.example.com"
SANDBOX_HEADER = "X-Mailgun-Sandbox"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mg_tools.sandbox.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
