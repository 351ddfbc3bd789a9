"""The executor: the single path of every call, from every front end.

validate (pydantic) -> policy -> build request -> client -> shape result
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from mg_tools import caller
from mg_tools.aliases import accept_wire_names
from mg_tools.audit import NO_AUDIT, Attempt, Auditor
from mg_tools.confirm import Confirmations, request_digest
from mg_tools.cursors import resume_at
from mg_tools.errors import ConfigurationError, ConfirmationRequired, InvalidArguments, MailgunError, PolicyDenied
from mg_tools.explain import restate
from mg_tools.log import Redactor, get_logger
from mg_tools.operation import Operation, Paging
from mg_tools.policy import Decision, Policy, decide
from mg_tools.registry import Registry
from mg_tools.request import ON_BEHALF_OF, PreparedRequest, act_for, build_request, checked_subaccount
from mg_tools.results import DEFAULT_BUDGET, UNTRUSTED_NOTE, Result, ResultStore, items_at
from mg_tools.sanitize import sanitize
from mg_tools.shapes import FULL, shown

if TYPE_CHECKING:  # httpx is imported by the client, only when one is needed
    import httpx

    from mg_tools.client import MailgunClient
    from mg_tools.rules import Gate

__all__ = ["DEFAULT_BUDGET", "UNTRUSTED_NOTE", "Executor", "Prepared", "Result", "sanitize"]

NO_ACCOUNT = (
    "no Mailgun account configured: set MAILGUN_API_KEY (and MAILGUN_API_REGION=eu for EU accounts), or use "
    "the local sandbox (--sandbox on the command line, Toolkit(sandbox=True) in Python); nothing was sent"
)


@dataclass(frozen=True)
class Prepared:
    """A call validated and allowed: the operation, its validated arguments, the request to send, and
    the policy's decision; ``request`` is None for a composite operation, which calls other operations
    instead. ``full`` asks for whole list items rather than the operation's compact shape."""

    operation: Operation
    arguments: Any
    request: PreparedRequest | None = None
    decision: Decision | None = None
    full: bool = False


class Executor:
    """Runs operations: ``await executor.execute("list_domains", {"limit": 5})``."""

    def __init__(
        self,
        registry: Registry,
        policy: Policy,
        client: MailgunClient | None,
        *,
        file_roots: tuple[Path, ...] = (),
        budget: int = DEFAULT_BUDGET,
        sandbox: bool = False,
        base_url: str = "",
        confirmations: Confirmations | None = None,
        redactor: Redactor | None = None,
        subaccount: str | None = None,
        audit: Auditor | None = None,
        rules: Gate | None = None,
        results: ResultStore | None = None,
        identity: str = caller.DEFAULT_IDENTITY,
        open_journal: Callable[[], Any] | None = None,
    ) -> None:
        self.registry = registry
        self.identity = identity
        self.subaccount = checked_subaccount(subaccount, source="subaccount")
        self.policy = policy
        self.rules = rules
        self.client = client
        self.file_roots = file_roots
        self.open_journal = open_journal
        self.sandbox = sandbox
        self.base_url = base_url or (client.base_url if client else "")
        self.confirmations = confirmations or Confirmations()
        self.results = results if results is not None else ResultStore(budget)
        # The client's redactor knows the API key: errors, logs and results share it.
        self.redactor = redactor or (client.redactor if client is not None else Redactor())
        self._log = get_logger(__name__, self.redactor)
        self.audit = audit or NO_AUDIT

    # -- the path ---------------------------------------------------------------------------------

    def prepare(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        *,
        confirm_token: str | None = None,
        consume: bool = False,
        dry_run: bool = False,
    ) -> Prepared:
        """Validate, ask the policy (then the policy rules, told whether this is a ``dry_run``) and
        build the request, without sending anything.

        When the policy wants confirmation, ``confirm_token`` must confirm this exact request; with
        ``consume`` (a real call) the token is then used up. A composite operation has no request.
        """
        op = self.registry.get(name)
        # The policy first: a tool the caller may not use is refused for that reason, whatever its arguments.
        decision = decide(self.policy, op)
        if not decision.allowed:
            raise PolicyDenied(f"{decision.reason}; nothing was sent")
        args = self.validate(op, arguments)
        full = self.view(op, arguments)[1]
        # Secret arguments (passwords, keys) are redacted wherever they come back: logs, errors
        # (Mailgun's error bodies may echo them), dry runs.
        self.redactor.register_secrets(args.model_dump(mode="json", by_alias=True, exclude_none=True))
        ruling = self.rules.decide(op, args, dry_run=dry_run) if self.rules is not None else None
        if ruling is not None and not ruling.allowed:
            raise PolicyDenied(f"{ruling.reason}; nothing was sent", policies=ruling.policies)
        why, policies = (ruling.confirm, ruling.policies) if ruling is not None else ("", ())
        if op.handler is not None and not why:
            return Prepared(op, args, decision=decision, full=full)
        request = (
            None
            if op.handler is not None
            else act_for(build_request(op, args, file_roots=self.file_roots), self.acting_for())
        )
        if decision.confirm or why:
            described = request.describe("") if request else args.model_dump(mode="json", exclude_none=True)
            digest = request_digest(
                op.name, self.base_url, described, request.files if request else [], identity=self.who()
            )
            problem = (
                "no confirm_token was given"
                if not confirm_token
                else self.confirmations.check(confirm_token, digest, consume=consume)
            )
            if problem:
                refused = "" if not confirm_token else f"the confirm_token was refused ({problem}); "
                raise ConfirmationRequired(
                    f"{refused}{op.name} ({op.tag}) needs confirmation{f' ({why})' if why else ''}: show the user "
                    f"what it will do, then repeat the identical call with the new confirm_token (single use, valid "
                    f"{int(self.confirmations.ttl // 60)} minutes); nothing was sent",
                    token=self.confirmations.issue(digest),
                    policies=policies,
                )
        return Prepared(op, args, request, decision, full)

    async def execute(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        dry_run: bool = False,
        confirm_token: str | None = None,
    ) -> Result:
        """Run one call (or, with ``dry_run``, describe it); either way it is written to the audit trail."""
        if dry_run:
            return self.dry_run(name, arguments, confirm_token=confirm_token)
        with self.audit.attempt(
            name,
            arguments,
            registry=self.registry,
            confirm_token=confirm_token,
            subaccount=self.acting_for(),
            identity=self.who(),
        ) as attempt:
            return attempt.done(await self._execute(name, arguments, confirm_token, attempt))

    async def _execute(
        self, name: str, arguments: dict[str, Any] | None, confirm_token: str | None, attempt: Attempt
    ) -> Result:
        prepared = self.prepare(name, arguments, confirm_token=confirm_token, consume=True)
        attempt.allowed(prepared)
        op, request = prepared.operation, prepared.request
        # Counted right after the decision, with no await between: concurrent calls see each other.
        with self.rules.counted(op, prepared.arguments) if self.rules is not None else nullcontext():
            if request is None:
                return await self._composite(op, prepared.arguments)
            if self.client is None:
                raise ConfigurationError(NO_ACCOUNT)
            acting = {"subaccount": request.headers[ON_BEHALF_OF]} if ON_BEHALF_OF in request.headers else {}
            self._log.info("call", operation=op.name, tag=op.tag, **acting)
            try:
                response = await self.client.send(request, idempotent=op.idempotent)
            except MailgunError as exc:
                restate(exc, op, prepared.arguments)
                raise
        return self.shape(op, request, response, full=prepared.full)

    def dry_run(
        self, name: str, arguments: dict[str, Any] | None = None, *, confirm_token: str | None = None
    ) -> Result:
        """What ``execute`` would send (secrets redacted), checked the same way; sends nothing.
        Synchronous, so a dry run needs no event loop."""
        with self.audit.attempt(
            name,
            arguments,
            registry=self.registry,
            dry_run=True,
            confirm_token=confirm_token,
            subaccount=self.acting_for(),
            identity=self.who(),
        ) as attempt:
            return attempt.done(self._dry_run(name, arguments, confirm_token, attempt))

    def _dry_run(
        self, name: str, arguments: dict[str, Any] | None, confirm_token: str | None, attempt: Attempt
    ) -> Result:
        prepared = self.prepare(name, arguments, confirm_token=confirm_token, dry_run=True)
        attempt.allowed(prepared)
        op, request = prepared.operation, prepared.request
        if request is None:
            data = {
                "composite": op.name,
                "arguments": prepared.arguments.model_dump(mode="json", exclude_none=True),
                "note": "runs several read operations; nothing is sent in a dry run",
            }
        else:
            data = self.redactor.redact(request.describe(self.base_url or "https://api.mailgun.net"))
        return Result(op.name, data, dry_run=True, sandbox=self.sandbox)

    def who(self) -> str:
        """The identity calls are made for: the current caller's, else this executor's own."""
        return caller.identity(default=self.identity)

    def acting_for(self) -> str | None:
        """The subaccount requests act for: the current caller's when it names one, else this executor's."""
        who = caller.current()
        if who is not None and who.subaccount:
            return checked_subaccount(who.subaccount, source="the caller's subaccount")
        return self.subaccount

    async def _composite(self, op: Operation, args: Any) -> Result:
        untrusted = op.untrusted

        async def call(name: str, arguments: dict[str, Any] | None = None) -> Any:
            nonlocal untrusted
            if name in self.registry and self.registry.get(name).compact:
                arguments = {FULL: True, **(arguments or {})}  # a composite picks its own fields
            result = await self.execute(name, arguments)
            untrusted = untrusted or result.untrusted
            return result.data

        call.file_roots = self.file_roots  # type: ignore[attr-defined]  # a composite reads files as requests do
        call.open_journal = self.open_journal  # type: ignore[attr-defined]  # and keeps its jobs where the toolkit says
        data = await op.handler(args, call)
        result = Result(op.name, data, sandbox=self.sandbox)
        if untrusted:
            _clean_untrusted(result)  # what a composite builds from email text is still email text
        return self.results.fit(result, op.items_key, op.narrow_hint)

    @staticmethod
    def validate(op: Operation, arguments: Any) -> Any:
        """The params model of ``op`` built from ``arguments`` (``full`` aside); InvalidArguments naming
        every bad field."""
        return Executor.validate_model(op.name, op.params, Executor.view(op, arguments)[0])

    @staticmethod
    def view(op: Operation, arguments: Any) -> tuple[Any, bool]:
        """``arguments`` without ``full`` (an operation with a compact shape takes it, and it is never
        sent), and whether it asks for whole records."""
        if not op.compact or not isinstance(arguments, dict) or FULL not in arguments:
            return arguments, False
        full = arguments[FULL]
        if not isinstance(full, bool):
            raise InvalidArguments(op.name, [(FULL, "must be true or false")])
        return {k: v for k, v in arguments.items() if k != FULL}, full

    @staticmethod
    def validate_model(name: str, model: type[BaseModel], arguments: Any) -> Any:
        """``model`` built from ``arguments`` of the tool ``name``; InvalidArguments naming every bad field."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise InvalidArguments(name, [("", f"arguments must be an object, got {type(arguments).__name__}")])
        try:
            problems = list(islice(_unsendable(arguments), _MAX_UNSENDABLE))
            arguments, given_as, renamed = accept_wire_names(model, arguments)
            problems += renamed
            errors: list[tuple[str, str]] = []
            try:
                params = model.model_validate(arguments)
            except ValidationError as exc:
                errors = _field_errors(exc, given_as)
            except Exception:
                # A validator may trip over a value no request can carry: the problems found
                # already are the answer then.
                if not problems:
                    raise
        except RecursionError:
            raise InvalidArguments(name, [("", "arguments are nested too deeply")]) from None
        if not problems and not errors:
            return params
        named = {where for where, _ in problems}
        raise InvalidArguments(name, problems + [e for e in errors if e[0] not in named])

    # -- shaping ----------------------------------------------------------------------------------

    def shape(self, op: Operation, request: PreparedRequest, response: httpx.Response, *, full: bool = False) -> Result:
        """The :class:`Result` of a 2xx ``response``: decoded, secrets redacted unless the policy grants
        them, the next page's cursor found, the items shown already left out, the rest in the compact
        shape (unless ``full``), email text cleaned, fit into the budget. When the items are trimmed, the
        cursor resumes after the last one shown."""
        data = _decode(response)
        if not self.policy.allow_secrets:
            if op.secret_fields:
                data = _redact_fields(data, op.secret_fields)
            # Secrets Mailgun echoes back (the API key, a password just set, a private key).
            data = self.redactor.redact_known(data)
        cursor = _next_cursor(op, request, data)
        if isinstance(data, dict) and op.paging is Paging.URLS:
            data = {k: v for k, v in data.items() if k != "paging"}
        data = shown(data, op.items_key, offset=request.offset, fields=() if full else op.compact)
        result = Result(op.name, data, next_cursor=cursor, sandbox=self.sandbox)
        if op.untrusted:
            _clean_untrusted(result)
        result = self.results.fit(result, op.items_key, op.narrow_hint)
        if op.paging and result.truncated and "items_returned" in result.truncated:
            _resume(result, request, op.narrow_hint)
        return result

    def read_result(self, result_id: str, offset: int = 0, length: int | None = None) -> dict[str, Any]:
        """A chunk of a result that was trimmed to the budget, as JSON text."""
        return self.results.read(result_id, offset, length)


def _resume(result: Result, request: PreparedRequest, narrow_hint: str) -> None:
    """Point the cursor of a trimmed page after its last item shown (after the first item when even
    that one is over the budget: it stays readable with read_result)."""
    shown_now = result.truncated["items_returned"]
    result.next_cursor = resume_at(request.page_cursor, request.offset + max(shown_now, 1))
    hint = "pass next_cursor as cursor for the items after the last one shown"
    if shown_now:
        hint += "; or read the whole page with read_result(result_id, offset)"
    else:
        hint = "the first item alone is over the budget: read it with read_result(result_id, offset); " + hint
    result.truncated["hint"] = f"{narrow_hint}; {hint}" if narrow_hint else hint


def _field_errors(exc: ValidationError, given_as: dict[str, str]) -> list[tuple[str, str]]:
    """``(field, problem)`` for each error, the field named as the caller named it (``from``, ``o:tag``)."""
    out = []
    for err in exc.errors(include_url=False):
        parts = [str(p) for p in err["loc"] if p not in {"function-after", "function-before"}]
        if parts:
            parts[0] = given_as.get(parts[0], parts[0])
        loc = ".".join(parts)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required"
        out.append((loc, msg))
    return out


_NOT_UNICODE = "is not valid Unicode text (lone surrogate)"
_NOT_FINITE = "must be a finite number: NaN and infinity are not JSON"
#: At most this many values no request can carry are listed in one error.
_MAX_UNSENDABLE = 10


def _unsendable(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """The location and the problem of each value no request can carry.

    Lone surrogates pass str validation but cannot be encoded; NaN and infinity pass free-form
    fields (``dict[str, Any]``) but are not JSON, and the encoders would send them as null."""
    if isinstance(value, str):
        if not value.isascii() and not _encodable(value):
            yield where, _NOT_UNICODE
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield where, _NOT_FINITE
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and not key.isascii() and not _encodable(key):
                yield where or "(a field name)", _NOT_UNICODE
                continue
            yield from _unsendable(item, here)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _unsendable(item, f"{where}.{index}" if where else str(index))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_untrusted(result: Result) -> None:
    """Strip invisible characters from text written by email senders and mark the result so."""
    result.data, _ = sanitize(result.data)
    result.untrusted = True


def _decode(response: httpx.Response) -> Any:
    ctype = response.headers.get("content-type", "")
    if "json" in ctype:
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python can parse
            pass
    if not response.content:
        return {}
    return {"content_type": ctype.split(";")[0], "text": response.text}


def _redact_fields(data: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(data, dict):
        return {
            k: ("*** (secret: grant it with MG_TOOLS_ALLOW_SECRETS)" if k in keys and v else _redact_fields(v, keys))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_redact_fields(v, keys) for v in data]
    return data


def _next_cursor(op: Operation, request: PreparedRequest, data: Any) -> str | None:
    if not op.paging or not isinstance(data, dict):
        return None
    items = items_at(data, op.items_key)
    count = len(items) if isinstance(items, list) else 0
    query = dict(request.query)
    if op.paging is Paging.URLS:
        paging = data.get("paging") or {}
        nxt = paging.get("next") or paging.get("Next")
        limit = int(query.get("limit", 0) or 0)
        if not nxt or count == 0 or (limit and count < limit) or nxt == request.path:
            return None
        parts = urlsplit(nxt)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    if op.paging in (Paging.SKIP, Paging.PAGE):
        if count == 0:
            return None
        if op.paging is Paging.PAGE:
            return str(int(query.get("page", 1) or 1) + 1) if count >= int(query.get("limit", count) or count) else None
        skip = int(query.get("skip", 0) or 0) + count
        total = data.get("total_count", data.get("total"))
        if isinstance(total, int):
            return str(skip) if skip < total else None
        limit = int(query.get("limit", 0) or 0)
        return str(skip) if limit and count >= limit else None
    pagination = data.get("pagination") or {}
    if op.paging is Paging.TOKEN:
        token = pagination.get("next")
        return token if token and count else None
    if op.paging is Paging.BODY_SKIP:
        skip = int(pagination.get("skip", 0) or 0) + count
        total = pagination.get("total")
        return str(skip) if count and isinstance(total, int) and skip < total else None
    return None
