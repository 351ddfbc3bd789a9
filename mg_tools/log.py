"""Structured logs on stderr, with every secret redacted before it is written.

stdout belongs to the MCP stdio transport, so nothing here ever writes to it. Redaction works on
key names (``authorization``, ``api_key``, ``password``, ...), on values that look like secrets
(Basic/Bearer credentials, Mailgun keys, PEM private keys) and on every secret registered at run
time with :func:`add_secret` (the configured API key, plain, URL-encoded and in Basic-auth form).
"""

from __future__ import annotations

import base64
import logging
import os
import re
import sys
from typing import Any
from urllib.parse import quote, quote_plus

import structlog

__all__ = ["add_secret", "configure", "get_logger", "redact", "redact_text", "register_secrets"]

REDACTED = "***"
_SECRET_KEYS = re.compile(
    r"(authorization|api[_-]?key|password|passwd|secret|signing[_-]?key|private[_-]?key|token|smtp_password)",
    re.I,
)
_SECRET_VALUES = re.compile(
    r"(Basic\s+[A-Za-z0-9+/=]{8,}|Bearer\s+\S{8,}|key-[0-9a-f]{32}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)",
    re.S,
)
_known: set[str] = set()
#: Secrets seen in call arguments, most recent last; bounded so a long-running server does not grow.
_seen: dict[str, None] = {}
_MAX_SEEN = 512


def _forms(secret: str) -> tuple[str, ...]:
    return (secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(f"api:{secret}".encode()).decode())


def add_secret(secret: str | None) -> None:
    """Register a secret so it is redacted wherever it appears, in any of its encodings."""
    if not secret or len(secret) < 4:
        return
    _known.update(_forms(secret))


def register_secrets(value: Any, key: str = "") -> None:
    """Register every value held under a secret-looking key (``password``, ``signing_key``...) in
    ``value`` (call arguments), so an error or log line echoing one is redacted too."""
    if isinstance(value, dict):
        for k, v in value.items():
            register_secrets(v, str(k))
    elif isinstance(value, (list, tuple)):
        for v in value:
            register_secrets(v, key)
    elif key and isinstance(value, str) and len(value) >= 4 and _SECRET_KEYS.search(key):
        for form in _forms(value):
            _seen.pop(form, None)
            _seen[form] = None
        while len(_seen) > _MAX_SEEN:
            del _seen[next(iter(_seen))]


def redact_text(text: str) -> str:
    for secret in sorted(_known.union(_seen), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SECRET_VALUES.sub(REDACTED, text)


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secrets replaced by ``***`` (by key name and by content)."""
    if key and _SECRET_KEYS.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # (name, value) pairs, as in form fields and query strings, redact by their name.
        if len(value) == 2 and isinstance(value[0], str) and _SECRET_KEYS.search(value[0]):
            return type(value)((value[0], REDACTED))
        return type(value)(redact(v) for v in value)
    return value


def _redact_processor(_logger, _method, event: dict) -> dict:
    return {k: redact(v, k) for k, v in event.items()}


_configured = False


def configure(level: str | None = None) -> None:
    """Send structured (JSON) logs to stderr at ``level`` (env ``MG_TOOLS_LOG_LEVEL``, default warning)."""
    global _configured
    name = (level or os.environ.get("MG_TOOLS_LOG_LEVEL") or "warning").upper()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, name, logging.WARNING)),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True


def get_logger(name: str = "mg_tools") -> Any:
    if not _configured:
        configure()
    return structlog.get_logger(name)
