"""Redaction of secrets, and logging as a library does it.

Library code logs through :func:`get_logger`: a ``logging`` logger under ``mg_tools`` whose events
are redacted by a :class:`Redactor` before the log record is made, so no handler or formatter an
application attaches ever sees a secret. Importing mg-tools configures no output; the command line
and ``serve`` call :func:`configure`, which writes JSON lines on stderr (stdout belongs to the MCP
stdio transport). An application embedding mg-tools routes the ``mg_tools`` loggers as it likes.

A redactor works on key names (``authorization``, ``api_key``, ``password``, ...), on values that
look like secrets (Basic/Bearer credentials, Mailgun keys, PEM private keys) and on every secret it
was given (the API key, plain, URL-encoded and in Basic-auth form; secret call arguments). Each
toolkit has its own, so two toolkits in one process never share their secrets.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "EventLogger", "Redactor", "configure", "get_logger"]

REDACTED = "***"
_SECRET_KEYS = re.compile(
    # A bare "token" is not here: paging tokens and webhook tokens are not secrets. "pem" is
    # Mailgun's name for the private key of an imported DKIM key.
    r"(authorization|api[_-]?key|password|passwd|secret|signing[_-]?key|private[_-]?key|"
    r"(?:access|auth|bearer|http|refresh|session)[_-]?token|smtp_password|^pem$)",
    re.I,
)
_SECRET_VALUES = re.compile(r"(Basic\s+[A-Za-z0-9+/=]{8,}|Bearer\s+\S{8,}|key-[0-9a-f]{32})")
_UNMISTAKABLE = re.compile(r"key-[0-9a-f]{32}")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]{0,40}PRIVATE KEY-----")
#: Secrets seen in call arguments that a redactor keeps, most recent last: a long-running server must not grow.
MAX_SEEN = 512


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
        out.append(text[pos : begin.start()])
        out.append(REDACTED)
        pos = end.end()


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
    lines = (
        {line.strip() for line in secret.splitlines() if len(line.strip()) >= 16 and not line.startswith("-----")}
        if "\n" in secret
        else set()
    )
    return {secret, json.dumps(secret)[1:-1], *encoded, *lines}


class Redactor:
    """Replaces secrets with ``***``: by key name, by shape, and every secret it was given.

    ``Redactor(secrets)`` knows ``secrets`` from the start; :meth:`add_secret` adds one (the API key,
    a bearer token) and :meth:`register_secrets` the values under secret-looking keys of call
    arguments, of which the most recent :data:`MAX_SEEN` forms are kept.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._known: set[str] = set()
        self._seen: dict[str, None] = {}
        self._pattern: re.Pattern[str] | None = None
        self._stale = False  # the pattern no longer matches the set of secrets
        for secret in secrets:
            self.add_secret(secret)

    def _known_pattern(self) -> re.Pattern[str] | None:
        """One regex matching every secret (longest first), rebuilt only after a change."""
        if self._stale:
            secrets = sorted(self._known.union(self._seen), key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, secrets))) if secrets else None
            self._stale = False
        return self._pattern

    def add_secret(self, secret: str | None) -> None:
        """Redact ``secret`` wherever it appears, in any of its encodings (shorter than 4: ignored)."""
        if not secret or len(secret) < 4:
            return
        forms = _forms(secret)
        if not forms <= self._known:
            self._known.update(forms)
            self._stale = True

    def register_secrets(self, value: Any, key: str = "") -> None:
        """Redact every value held under a secret-looking key (``password``, ``signing_key``...) in
        ``value`` (call arguments), so an error or log line echoing one is redacted too."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.register_secrets(v, str(k))
        elif isinstance(value, (list, tuple)):
            for v in value:
                self.register_secrets(v, key)
        elif key and isinstance(value, str) and len(value) >= 4 and _SECRET_KEYS.search(key):
            for form in _forms(value):
                self._stale = self._stale or form not in self._seen
                self._seen.pop(form, None)  # re-inserted last: the most recently used stay
                self._seen[form] = None
            while len(self._seen) > MAX_SEEN:
                del self._seen[next(iter(self._seen))]
                self._stale = True

    def redact_text(self, text: str) -> str:
        """``text`` with secret shapes (credentials, Mailgun keys, private keys) and known secrets replaced."""
        # Shapes first: a whole private key goes at once, before any registered piece of one matches.
        text = _SECRET_VALUES.sub(REDACTED, _redact_pem(text))
        pattern = self._known_pattern()
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def redact_known(self, value: Any) -> Any:
        """A copy of ``value`` whose strings have every known secret, Mailgun key and private key
        replaced by ``***``. Unlike :meth:`redact`, key names are not judged (data keeps its shape) and
        ``Basic``/``Bearer`` shapes are left alone (email text says "Basic plan"). For results, which
        are shown unless secrets are granted."""
        if isinstance(value, str):
            value = _UNMISTAKABLE.sub(REDACTED, _redact_pem(value))
            pattern = self._known_pattern()
            return pattern.sub(REDACTED, value) if pattern is not None else value
        if isinstance(value, dict):
            return {k: self.redact_known(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_known(v) for v in value]
        return value

    def redact(self, value: Any, key: str = "") -> Any:
        """A copy of ``value`` with secrets replaced by ``***`` (by key name and by content)."""
        if key and _SECRET_KEYS.search(key) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {k: self.redact(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            # (name, value) pairs, as in form fields and query strings, redact by their name.
            if len(value) == 2 and isinstance(value[0], str) and _SECRET_KEYS.search(value[0]):
                return type(value)((value[0], REDACTED))
            return type(value)(self.redact(v) for v in value)
        return value


# -- logging ------------------------------------------------------------------------------------------

ROOT_LOGGER = "mg_tools"
#: LogRecord attributes a field must not overwrite (``logging`` refuses them in ``extra``).
_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# A library's loggers get no handler but this one: without it, Python's last-resort handler would
# print warnings of an application that set up no logging.
logging.getLogger(ROOT_LOGGER).addHandler(logging.NullHandler())


class EventLogger:
    """Logs events with fields, ``log.info("call", operation="get_domain")``, redacted first.

    The record's message is the event and its fields on one line (``call operation="get_domain"``);
    the event and each field are also attributes of the record (``record.event``,
    ``record.operation``) for structured handlers. Nothing is built below the logger's level.
    """

    __slots__ = ("logger", "redactor")

    def __init__(self, logger: logging.Logger, redactor: Redactor) -> None:
        self.logger = logger
        self.redactor = redactor

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if not self.logger.isEnabledFor(level):
            return
        fields = self.redactor.redact(fields)
        text = " ".join([event, *(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in fields.items())])
        extra = {(f"{k}_" if k in _RECORD_KEYS else k): v for k, v in fields.items()}
        self.logger.log(level, text, extra={**extra, "event": event}, stacklevel=3)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, event, fields)


def get_logger(name: str, redactor: Redactor) -> EventLogger:
    """The logger ``name`` (a module's ``__name__``), its events redacted by ``redactor``."""
    return EventLogger(logging.getLogger(name), redactor)


class _JsonLines(logging.Formatter):
    """Each record as one JSON object: its fields, ``event``, ``level``, ``logger``, ``timestamp``.

    Rendered by structlog, imported on the first line written: a command that logs nothing never
    imports it."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._formatter is None:
            import structlog

            self._formatter = structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[
                    structlog.stdlib.ExtraAdder(),
                    structlog.stdlib.add_logger_name,
                    structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                ],
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(ensure_ascii=False),
                ],
            )
        return self._formatter.format(record)


def configure(level: str | None = None, stream: TextIO | None = None) -> None:
    """Write the ``mg_tools`` loggers' events as JSON lines to ``stream`` (default: stderr as it is
    now) from ``level`` on (``debug``, ``info``, ``warning``: the default, ``error``).

    For the command line and ``serve``; calling it again replaces the previous set-up."""
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h.formatter, _JsonLines)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonLines())
    logger.addHandler(handler)
    logger.setLevel(logging.getLevelNamesMapping().get((level or "warning").upper(), logging.WARNING))
