"""Structured logs on stderr, with every secret redacted before it is written.

stdout belongs to the MCP stdio transport, so nothing here ever writes to it. Redaction works on
key names (``authorization``, ``api_key``, ``password``, ...), on values that look like secrets
(Basic/Bearer credentials, Mailgun keys, PEM private keys) and on every secret registered at run
time with :func:`add_secret` (the configured API key, plain, URL-encoded and in Basic-auth form).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sys
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["add_secret", "configure", "get_logger", "redact", "redact_known", "redact_text", "register_secrets"]

REDACTED = "***"
_SECRET_KEYS = re.compile(
    # A bare "token" is not here: paging tokens and webhook tokens are not secrets.
    r"(authorization|api[_-]?key|password|passwd|secret|signing[_-]?key|private[_-]?key|"
    r"(?:access|auth|bearer|http|refresh|session)[_-]?token|smtp_password)",
    re.I,
)
_SECRET_VALUES = re.compile(r"(Basic\s+[A-Za-z0-9+/=]{8,}|Bearer\s+\S{8,}|key-[0-9a-f]{32})")
_UNMISTAKABLE = re.compile(r"key-[0-9a-f]{32}")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]{0,40}PRIVATE KEY-----")


def _redact_pem(text: str) -> str:
    """``text`` with each whole PEM private key replaced. A scan, not one regex: a lazy ``.*?``
    between the markers re-reads the rest of the text for every BEGIN without an END (minutes on a
    hostile megabyte)."""
    if "PRIVATE KEY-----" not in text:
        return text
    out, pos = [], 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        end = _PEM_END.search(text, begin.end()) if begin else None
        if begin is None or end is None:  # no END after this BEGIN: none after a later one either
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:begin.start()])
        out.append(REDACTED)
        pos = end.end()
_known: set[str] = set()
#: Secrets seen in call arguments, most recent last; bounded so a long-running server does not grow.
_seen: dict[str, None] = {}
_MAX_SEEN = 512
_version = 0  # bumped whenever the set of secrets changes
_cached: tuple[int, re.Pattern[str] | None] = (-1, None)


def _forms(secret: str) -> set[str]:
    """The ways a secret gets written: plain, JSON-escaped, URL-encoded (any safe set, ``+`` for
    spaces, lower-case escapes), base64 (standard or URL-safe, padded or not, alone or as Basic auth
    ``api:KEY``); and each long line of a multi-line secret (a PEM key's body), since an echo may
    quote one line."""
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(secret, safe="/")}
    encoded |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in encoded}
    for raw in (secret.encode(), f"api:{secret}".encode()):
        for b64 in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            encoded |= {b64, b64.rstrip("=")}
    lines = {line.strip() for line in secret.splitlines()
             if len(line.strip()) >= 16 and not line.startswith("-----")} if "\n" in secret else set()
    return {secret, json.dumps(secret)[1:-1], *encoded, *lines}


def _known_pattern() -> re.Pattern[str] | None:
    """One regex matching every registered secret (longest first), rebuilt only after a change."""
    global _cached
    if _cached[0] != _version:
        secrets = sorted(_known.union(_seen), key=len, reverse=True)
        _cached = (_version, re.compile("|".join(map(re.escape, secrets))) if secrets else None)
    return _cached[1]


def add_secret(secret: str | None) -> None:
    """Register a secret so it is redacted wherever it appears, in any of its encodings."""
    global _version
    if not secret or len(secret) < 4:
        return
    forms = _forms(secret)
    if not forms <= _known:
        _known.update(forms)
        _version += 1


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
        global _version
        for form in _forms(value):
            if form not in _seen:
                _version += 1
            _seen.pop(form, None)  # re-inserted last: the most recently used stay
            _seen[form] = None
        while len(_seen) > _MAX_SEEN:
            del _seen[next(iter(_seen))]
            _version += 1


def redact_text(text: str) -> str:
    # Shapes first: a whole private key goes at once, before any registered piece of one matches.
    text = _SECRET_VALUES.sub(REDACTED, _redact_pem(text))
    pattern = _known_pattern()
    return pattern.sub(REDACTED, text) if pattern is not None else text


def redact_known(value: Any) -> Any:
    """A copy of ``value`` whose strings have every registered secret, Mailgun key and private key
    replaced by ``***``. Unlike :func:`redact`, key names are not judged (data keeps its shape) and
    ``Basic``/``Bearer`` shapes are left alone (email text says "Basic plan"). For results, which
    are shown unless secrets are granted."""
    if isinstance(value, str):
        value = _UNMISTAKABLE.sub(REDACTED, _redact_pem(value))
        pattern = _known_pattern()
        return pattern.sub(REDACTED, value) if pattern is not None else value
    if isinstance(value, dict):
        return {k: redact_known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_known(v) for v in value]
    return value


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
_level = logging.WARNING
_BELOW_WARNING = {"debug": logging.DEBUG, "info": logging.INFO}


def configure(level: str | None = None) -> None:
    """Send structured (JSON) logs to stderr at ``level`` (env ``MG_TOOLS_LOG_LEVEL``, default warning)."""
    global _configured, _level
    import structlog

    name = (level or os.environ.get("MG_TOOLS_LOG_LEVEL") or "warning").upper()
    _level = getattr(logging, name, logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True


def get_logger(name: str = "mg_tools") -> Any:
    """A structlog logger, set up on its first use: commands that never log never import structlog."""
    return _LazyLogger(name)


class _LazyLogger:
    __slots__ = ("_name", "_logger")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if _configured and _BELOW_WARNING.get(attr, logging.CRITICAL) < _level:
            return _drop  # what structlog's level filter would do, without building a logger per call
        if self._logger is None:
            import structlog

            # Configured by us, or by whoever configured structlog first (structlog.testing included).
            if not _configured and not structlog.is_configured():
                configure()
            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def _drop(*args: Any, **kwargs: Any) -> None:
    return None
