"""The audit trail: one record per call attempt, from every front end.

:meth:`Executor.execute <mg_tools.executor.Executor.execute>` and ``dry_run`` open an
:class:`Attempt` around each call, so the command line, stdio, HTTP and the Python API all write
it, and each sub-call of a composite too (its ``parent`` names the composite's call). A record says
who (``identity``), what (``tool``, ``access``, ``resource``, a ``digest`` of the tool and its
arguments, the arguments redacted), the ``decision`` (allowed with the grant, denied, confirmation
required, invalid; ``policies`` when rules decided), the ``confirmation`` that let it through (token
or elicitation, and when), the ``outcome`` (ok with Mailgun's id and message, or the error's code
and message), ``duration_ms`` and ``dry_run``.

Arguments are redacted with the toolkit's :class:`~mg_tools.log.Redactor`; message bodies,
attachment contents and template content are replaced by their length unless ``bodies`` is on
(``MG_TOOLS_AUDIT_BODIES``). A confirmation token is never written: it is a credential for the call.

Records go to a :class:`Sink`; :class:`JsonLinesFile` appends each as one JSON line
(``MG_TOOLS_AUDIT=FILE``, ``-`` for stderr).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mg_tools import caller
from mg_tools.errors import ConfirmationRequired, InvalidArguments, MgToolsError, PolicyDenied, UnknownOperation
from mg_tools.log import Redactor

if TYPE_CHECKING:
    from mg_tools.executor import Prepared
    from mg_tools.registry import Registry
    from mg_tools.results import Result
    from mg_tools.settings import Settings

__all__ = ["NO_AUDIT", "Attempt", "Auditor", "JsonLinesFile", "Sink", "confirming", "now"]

#: Top-level argument fields holding message bodies or template content.
BODY_FIELDS = frozenset({"text", "html", "amp_html", "template", "mime"})
#: Top-level argument fields holding files, whose ``content`` is a body too.
FILE_FIELDS = frozenset({"attachments", "inline", "message"})
#: Longest text of an outcome message kept.
MAX_MESSAGE = 300
_ORDER = (
    "time",
    "call_id",
    "parent",
    "identity",
    "tool",
    "access",
    "resource",
    "subaccount",
    "digest",
    "arguments",
    "decision",
    "confirmation",
    "outcome",
    "duration_ms",
    "dry_run",
)

_parent: ContextVar[dict[str, str] | None] = ContextVar("mg_tools_audit_parent", default=None)
_confirmed_by: ContextVar[str] = ContextVar("mg_tools_audit_confirmed_by", default="token")


def now() -> str:
    """The time in UTC, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@contextmanager
def confirming(how: str) -> Iterator[None]:
    """Record the confirmation tokens consumed inside as given by ``how`` (``elicitation``)."""
    token = _confirmed_by.set(how)
    try:
        yield
    finally:
        _confirmed_by.reset(token)


class Sink(Protocol):
    """Where audit records go."""

    def write(self, record: dict[str, Any]) -> None:
        """Keep ``record`` (a JSON-ready dict)."""
        ...


class JsonLinesFile:
    """Appends each record as one JSON line to ``target`` (created 0600), or to stderr for ``-``.

    Each line is one ``os.write`` on a descriptor opened with ``O_APPEND``, so lines written by
    concurrent calls and processes never interleave."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        if self.target == "-":
            os.write(2, line)
            return
        fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


class Attempt:
    """The record of one call attempt, filled in as the call goes (see :meth:`Auditor.attempt`)."""

    def __init__(
        self, name: str, arguments: Any, *, dry_run: bool, confirm_token: str | None, identity: str = ""
    ) -> None:
        self.name = name
        self.arguments = arguments
        self.confirm_token = confirm_token
        self.call_id = secrets.token_hex(8)
        self.record: dict[str, Any] = {"time": now(), "call_id": self.call_id}
        parent = _parent.get()
        if parent is not None:
            self.record["parent"] = parent
        self.record.update(identity=identity or caller.identity(), tool=name, dry_run=dry_run)

    def allowed(self, prepared: Prepared) -> None:
        """The policy let the call through (with a confirmation, when one was needed)."""
        decision = prepared.decision
        self.record["decision"] = {"result": "allowed", "grant": decision.grant if decision else ""}
        if decision is not None and decision.confirm and self.confirm_token:
            self.record["confirmation"] = {"how": _confirmed_by.get(), "at": now()}

    def done(self, result: Result) -> Result:
        """The call answered ``result``."""
        outcome: dict[str, Any] = {"status": "ok"}
        if isinstance(result.data, dict):
            for key in ("id", "message"):
                value = result.data.get(key)
                if isinstance(value, str):
                    outcome[key] = value[:MAX_MESSAGE]
        self.record["outcome"] = outcome
        return result

    def failed(self, exc: BaseException) -> None:
        """The call ended with ``exc``: a refusal before anything was sent, or an error after."""
        policies = list(getattr(exc, "policies", ()) or ())
        if isinstance(exc, ConfirmationRequired):
            self.record["decision"] = {"result": "confirmation_required", "reason": exc.message}
        elif isinstance(exc, PolicyDenied):
            self.record["decision"] = {"result": "denied", "reason": exc.message}
        elif isinstance(exc, (InvalidArguments, UnknownOperation)) or "decision" not in self.record:
            self.record["decision"] = {"result": "invalid"}
        if policies:
            self.record["decision"]["policies"] = policies
        if isinstance(exc, MgToolsError):
            self.record["outcome"] = {"status": "error", "error": exc.code}
            if self.record["decision"].get("reason") != exc.message:
                self.record["outcome"]["message"] = exc.message[:MAX_MESSAGE]
        else:
            self.record["outcome"] = {"status": "error", "error": "internal_error", "message": type(exc).__name__}


class _Unrecorded(Attempt):
    """The attempt of a call nobody records: every step is free."""

    def __init__(self) -> None:
        self.record = {}

    def allowed(self, prepared: Prepared) -> None:
        pass

    def done(self, result: Result) -> Result:
        return result


_UNRECORDED = _Unrecorded()


class Auditor:
    """Writes an audit record for each call attempt to ``sink`` (None: writes nothing, costs nothing)."""

    def __init__(self, sink: Sink | None = None, *, redactor: Redactor | None = None, bodies: bool = False) -> None:
        self.sink = sink
        self.redactor = redactor or Redactor()
        self.bodies = bodies

    @classmethod
    def from_settings(cls, settings: Settings, redactor: Redactor) -> Auditor:
        """The auditor of ``MG_TOOLS_AUDIT`` and ``MG_TOOLS_AUDIT_BODIES``."""
        sink = JsonLinesFile(settings.audit) if settings.audit else None
        return cls(sink, redactor=redactor, bodies=settings.audit_bodies)

    @property
    def enabled(self) -> bool:
        return self.sink is not None

    @contextmanager
    def attempt(
        self,
        name: str,
        arguments: Any,
        *,
        registry: Registry,
        dry_run: bool = False,
        confirm_token: str | None = None,
        subaccount: str | None = None,
        identity: str = "",
    ) -> Iterator[Attempt]:
        """The :class:`Attempt` of one call, written when the block ends, however it ends; ``subaccount``
        is the one its request acts for (``X-Mailgun-On-Behalf-Of``), when it acts for one."""
        if self.sink is None:
            yield _UNRECORDED
            return
        attempt = Attempt(name, arguments, dry_run=dry_run, confirm_token=confirm_token, identity=identity)
        if subaccount:
            attempt.record["subaccount"] = subaccount
        parent = _parent.set({"call_id": attempt.call_id, "tool": name})
        started = time.perf_counter()
        try:
            yield attempt
        except BaseException as exc:
            attempt.failed(exc)
            raise
        finally:
            _parent.reset(parent)
            attempt.record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self.sink.write(self._complete(attempt, registry))

    def note(
        self, name: str, arguments: Any, *, registry: Registry | None = None, identity: str = "", **fields: Any
    ) -> None:
        """Write the record of a call a front end settled without the executor (a tool the caller may
        not see, a declined confirmation); ``fields`` are the record's ``decision``, ``outcome``..."""
        if self.sink is None:
            return
        attempt = Attempt(name, arguments, dry_run=False, confirm_token=None, identity=identity)
        attempt.record.update(fields)
        self.sink.write(self._complete(attempt, registry))

    def _complete(self, attempt: Attempt, registry: Registry | None) -> dict[str, Any]:
        record = attempt.record
        arguments = attempt.arguments if isinstance(attempt.arguments, dict) else {}
        if registry is not None and attempt.name in registry:
            record["access"] = str(registry.get(attempt.name).access)
        record["resource"] = _resource(arguments, record.get("subaccount"))
        record["digest"] = _digest(attempt.name, arguments)
        kept = arguments if self.bodies else _without_bodies(arguments)
        record["arguments"] = self.redactor.redact(json.loads(json.dumps(kept, default=_jsonable)))
        for key in ("decision", "outcome"):
            part = record.get(key)
            if isinstance(part, dict):
                for field in ("reason", "message"):
                    if isinstance(part.get(field), str):
                        part[field] = self.redactor.redact_text(part[field])
        return {key: record[key] for key in _ORDER if key in record}


#: An auditor that writes nothing.
NO_AUDIT = Auditor()


def _resource(arguments: dict[str, Any], subaccount: str | None) -> str:
    domain = arguments.get("domain")
    if isinstance(domain, str) and domain:
        return f"domain:{domain}"
    return f"account:{subaccount or 'main'}"


def _digest(name: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps([name, arguments], sort_keys=True, ensure_ascii=False, default=_jsonable)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return str(value)


def _omitted(value: Any) -> str:
    return f"<{len(value)} {'bytes' if isinstance(value, bytes) else 'characters'}, not kept>"


def _without_bodies(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with bodies, template content and file contents replaced by their length."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key in BODY_FIELDS and isinstance(value, (str, bytes)):
            out[key] = _omitted(value)
        elif key in FILE_FIELDS:
            out[key] = _file_refs(value)
        else:
            out[key] = value
    return out


def _file_refs(value: Any) -> Any:
    if isinstance(value, list):
        return [_file_refs(v) for v in value]
    if isinstance(value, dict):
        return {k: _omitted(v) if k == "content" and isinstance(v, (str, bytes)) else v for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return _omitted(value)
    return value
