"""Every error mg-tools raises, in one place.

    MgToolsError
    ├── ConfigurationError        no key and no sandbox, bad region, bad base URL
    ├── RegistryError             a plugin declared something invalid (carries the plugin)
    ├── UnknownOperation          no operation of that name is registered or exposed
    ├── InvalidArguments          arguments failed validation; nothing was sent
    ├── PolicyDenied              the policy refused the call; nothing was sent
    ├── ConfirmationRequired      the policy wants the call repeated with a confirmation token
    ├── TransportError            the request did not get an HTTP answer (carries ``maybe_sent``)
    ├── StateUnavailable          the shared state (Redis) did not answer; nothing was sent
    └── MailgunError              Mailgun answered with a status outside 2xx
        ├── Redirected            3xx: the request was not processed (redirects are never followed)
        ├── BadRequest            400
        ├── Unauthorized          401
        ├── PaymentRequired       402
        ├── Forbidden             403
        ├── NotFound              404
        ├── Conflict              409
        ├── Gone                  410
        ├── PayloadTooLarge       413
        ├── RateLimited           429 (carries ``retry_after``)
        └── ServerError           5xx

Messages say what happened and what to do next; none of them ever contains a secret. Every message
is one line: control and invisible characters (newlines, ANSI escapes, bidi overrides, zero-width
characters) are escaped when the error is made, so text quoted from Mailgun or from the caller cannot
forge lines or reach a terminal raw, whichever front end shows it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = [
    "BadRequest",
    "ConfigurationError",
    "ConfirmationRequired",
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidArguments",
    "MailgunError",
    "MgToolsError",
    "NotFound",
    "PayloadTooLarge",
    "PaymentRequired",
    "PolicyDenied",
    "RateLimited",
    "Redirected",
    "RegistryError",
    "ServerError",
    "StateUnavailable",
    "TransportError",
    "Unauthorized",
    "UnknownOperation",
    "error_for_status",
]


class MgToolsError(Exception):
    """Base class of every error raised by mg-tools; ``message`` is one line of printable text."""

    code = "error"

    def __init__(self, message: str) -> None:
        message = _one_line(message)
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        """A JSON-ready description of the error, for agents and for `--json` output."""
        return {"error": self.code, "message": self.message}


class ConfigurationError(MgToolsError):
    """The environment or options do not describe a usable setup (for instance no API key and no sandbox)."""

    code = "configuration_error"


class RegistryError(MgToolsError):
    """A plugin registered an invalid or duplicate operation; start-up stops with the plugin's name."""

    code = "registry_error"

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)
        self.plugin = plugin


class UnknownOperation(MgToolsError):
    """No operation of this name is registered, or the policy does not expose it."""

    code = "unknown_operation"

    def __init__(self, name: str, *, suggestions: tuple[str, ...] = ()) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown operation {name!r}.{hint}")
        self.name = name
        self.suggestions = suggestions


class InvalidArguments(MgToolsError):
    """The arguments do not match the operation's parameters; nothing was sent.

    ``errors`` lists ``(field, problem)`` pairs, fields named as the caller named them.
    """

    code = "invalid_arguments"

    def __init__(self, operation: str, errors: list[tuple[str, str]]) -> None:
        # Field names and problems can quote the caller's input: keep them one short line each.
        errors = [(_one_line(field, 100), _one_line(problem, 300)) for field, problem in errors]
        detail = "; ".join(f"{field}: {problem}" if field else problem for field, problem in errors)
        super().__init__(f"invalid arguments for {operation}: {detail}")
        self.operation = operation
        self.errors = errors

    def to_dict(self) -> dict:
        return {
            **super().to_dict(),
            "fields": [{"field": field, "problem": problem} for field, problem in self.errors],
        }


#: Letters and marks that draw nothing (Hangul fillers, the combining grapheme joiner, the blank
#: braille pattern, variation selectors): invisible, though Unicode does not class them as controls.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def _shown_raw(ch: str) -> bool:
    # Categories C* (Cc controls, Cf format such as bidi overrides and zero-width, Cs, Co, Cn) and
    # Z* (Zl, Zp and every space but the ASCII one) are escaped: they move, hide or break lines.
    return ch == " " or (unicodedata.category(ch)[0] not in "CZ" and ch not in _INVISIBLE)


def _one_line(text: object, limit: int | None = None) -> str:
    """``text`` safe to quote in a one-line message: control, invisible and other non-printable
    characters escaped (``\\n``, ``\\x1b``, ``\\u202e``), at most ``limit`` characters. Escapes are
    printable, so escaping again changes nothing."""
    text = "".join(ch if _shown_raw(ch) else ascii(ch)[1:-1] for ch in str(text))
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


class PolicyDenied(MgToolsError):
    """The policy refused this call; nothing was sent. The message names the rule that refused it;
    ``policies`` holds the ids of the policy rules that decided, when rules did."""

    code = "policy_denied"

    def __init__(self, message: str, *, policies: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.policies = policies


class ConfirmationRequired(MgToolsError):
    """The policy wants an explicit confirmation: repeat the same call with ``confirm_token``."""

    code = "confirmation_required"

    def __init__(self, message: str, *, token: str, policies: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.token = token
        self.policies = policies

    def to_dict(self) -> dict:
        return {**super().to_dict(), "confirm_token": self.token}


class TransportError(MgToolsError):
    """No HTTP answer came back (connection refused or dropped, timeout).

    ``maybe_sent`` is true when the request may have reached Mailgun, so a send must not be repeated
    blindly: check the events or logs for the message first.
    """

    code = "transport_error"

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent

    def to_dict(self) -> dict:
        return {**super().to_dict(), "maybe_sent": self.maybe_sent}


class StateUnavailable(MgToolsError):
    """The store several servers share (Redis, ``MG_TOOLS_REDIS_URL``) did not answer, so a call that
    needs it (a quota, a confirmation, a trimmed result) stopped there. The message names the store's
    URL, password redacted; once it answers again, repeat the call."""

    code = "state_unavailable"


class MailgunError(MgToolsError):
    """Mailgun answered with a status outside 2xx; ``mailgun_message`` is Mailgun's own explanation.

    The message quotes Mailgun, then adds what to do as a sentence of its own (``Hint: ...``). The
    executor restates it for the operation that failed (:meth:`restate`): the fields Mailgun names
    become the tool's fields, and a 404 says what was not found; ``operation`` is then its name.
    """

    code = "mailgun_error"
    hint = ""

    def __init__(self, message: str, *, status: int, method: str = "", path: str = "") -> None:
        self.status = status
        self.where = f" ({method} {path})" if method else ""
        self.mailgun_message = _one_line(message)
        self.operation = ""
        super().__init__(self._compose(self.mailgun_message, self.hint))

    def _compose(self, explanation: str, hint: str) -> str:
        text = f"Mailgun {self.status}{self.where}: {_sentence(explanation)}"
        return f"{text} Hint: {_sentence(hint)}" if hint else text

    def restate(self, operation: str, explanation: str, hint: str | None = None) -> None:
        """Say it in the terms of ``operation``: ``explanation`` in place of Mailgun's text as quoted,
        ``hint`` (when given) in place of the class's."""
        self.operation = operation
        self.message = _one_line(self._compose(explanation, self.hint if hint is None else hint))
        self.args = (self.message,)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "status": self.status}


def _sentence(text: str) -> str:
    """``text`` ending as a sentence does, so what follows it reads as another one."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


class Redirected(MailgunError):
    """Mailgun, or whatever answers at the configured base URL, redirected the request (3xx).

    Redirects are never followed (a request goes only where the configuration says) and never
    retried: the request was not processed. ``location`` is where the answer pointed, without user
    info, query or fragment; None when it named no usable URL. A redirect usually means a wrong base
    URL or region.
    """

    code = "redirected"
    hint = "The request was not processed: check MAILGUN_API_BASE_URL and MAILGUN_API_REGION."

    def __init__(self, message: str, *, status: int, location: str | None = None, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)
        self.location = None if location is None else _one_line(location)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "location": self.location}


class BadRequest(MailgunError):
    """Mailgun rejected the request as invalid (400)."""

    code = "bad_request"
    hint = "Fix the arguments named in the message and try again."


class Unauthorized(MailgunError):
    """The API key was refused (401)."""

    code = "unauthorized"
    hint = "Check MAILGUN_API_KEY and MAILGUN_API_REGION (EU accounts need region eu)."


class PaymentRequired(MailgunError):
    """The feature needs another Mailgun plan, or the account is in arrears (402)."""

    code = "payment_required"


class Forbidden(MailgunError):
    """The key may not do this (403): a domain sending key, a restricted role, or a disabled feature."""

    code = "forbidden"


class NotFound(MailgunError):
    """The resource does not exist (404); right after creating it, Mailgun may need a moment."""

    code = "not_found"
    hint = "Check the name or address, and the region of the account."


class Conflict(MailgunError):
    """The resource already exists or is in a conflicting state (409)."""

    code = "conflict"


class Gone(MailgunError):
    """The resource existed but has expired (410), such as a stored message after its retention."""

    code = "gone"


class PayloadTooLarge(MailgunError):
    """The request was larger than Mailgun accepts (413)."""

    code = "payload_too_large"


class RateLimited(MailgunError):
    """Mailgun's rate limit was reached (429); ``retry_after`` is the wait in seconds when Mailgun said."""

    code = "rate_limited"

    def __init__(self, message: str, *, status: int = 429, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)
        self.retry_after = retry_after

    def to_dict(self) -> dict:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ServerError(MailgunError):
    """Mailgun failed (5xx). A send may still have been delivered: check events before sending again."""

    code = "server_error"


_BY_STATUS: dict[int, type[MailgunError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    429: RateLimited,
}


def error_for_status(status: int) -> type[MailgunError]:
    """The error class for an HTTP status outside 2xx: one table, with 3xx, 5xx and other statuses
    as fallbacks."""
    if status >= 500:
        return ServerError
    if 300 <= status < 400:
        return Redirected
    return _BY_STATUS.get(status, MailgunError)
