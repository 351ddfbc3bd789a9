"""Rules over arguments, identities and quotas: a Cedar policy set, checked against the registry.

A call becomes the Cedar request (principal ``Identity::"<name>"``, action ``Action::"<tool>"``,
resource ``Domain::"<domain>"`` or ``Account::"<subaccount or main>"``, context as described in
:mod:`mg_tools.rules_schema`). It goes through when a permit policy is satisfied and no forbid policy
is (default deny, forbid wins). A satisfied permit annotated ``@confirm("why")`` asks for a human's
confirmation. Policies are named by their ``@id("...")`` annotation, else by Cedar's id (``policy0``
for the first one in the file).

The policy file is parsed and validated once, when it is loaded: a parse error, an unknown tool,
identity or context attribute stops start-up with one line naming the file and line.

A tool is *listed* for an identity only when some permit policy's scope (principal, action,
resource type) can cover the call, and no unconditional forbid (one without ``when`` or ``unless``)
covers it whatever the resource; conditions are not evaluated for listing, so a listed tool may
still be refused for some arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from mg_tools.caller import DEFAULT_IDENTITY, current
from mg_tools.errors import ConfigurationError, MgToolsError
from mg_tools.operation import Access, Operation
from mg_tools.rules_schema import args_type, cedar_schema, project, resource_types
from mg_tools.usage import Usage, UsageStore

__all__ = ["Decision", "Gate", "Rules", "recipient_count", "request_context"]

_UNKNOWN_IDENTITY = re.compile(r'entity `Identity::"(.*?)"` is of an enumerated entity type')
_UNKNOWN_ACTION = re.compile(r'unrecognized action `Action::"(.*?)"`')
_UNKNOWN_ATTRIBUTE = re.compile(r"attribute `([^`]+)` .*not found")
_ADDR = r'[^\s<>",()@:;\[\]\\]+@[^\s<>",()@:;\[\]\\]+'
_SIMPLE_MAILBOX = re.compile(rf'\s*(?:({_ADDR})|[^<>",()@:;\[\]\\]*<({_ADDR})>)\s*')


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy set's answer for one call: allowed or not, why, and the policies that decided.

    ``confirm`` is the reason of each ``@confirm`` permit that allowed the call (empty: no
    confirmation needed); ``policies`` holds the ids of the deciding policies."""

    allowed: bool
    reason: str = ""
    confirm: str = ""
    policies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Policy:
    id: str
    label: str
    line: int
    effect: str
    scope: Any
    conditional: bool
    confirm: str | None


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Each policy of ``text`` with the line it starts on (``;`` ends one; strings and ``//``
    comments are skipped), then any unterminated rest."""
    start = line = 1
    begin: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        elif not ch.isspace():
            if begin is None:
                begin, start = i, line
            if ch == '"':
                i += 1
                while i < n and text[i] != '"':
                    line += text[i] == "\n"
                    i += 2 if text[i] == "\\" else 1
            elif ch == ";":
                yield start, text[begin : i + 1]
                begin = None
        i += 1
    if begin is not None:
        yield start, text[begin:]


def _line_of(lines: list[int], policy_id: str) -> int:
    """The line Cedar's ``policy<N>`` starts on (line 1 if the file was split otherwise)."""
    index = policy_id.removeprefix("policy")
    return lines[int(index)] if index.isdigit() and int(index) < len(lines) else 1


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    if is_dataclass(node):
        for f in fields(node):
            yield from _nodes(getattr(node, f.name))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _nodes(item)
    elif isinstance(node, Mapping):
        for item in node.values():
            yield from _nodes(item)


class Rules:
    """A Cedar policy set loaded from a file and validated against the registry's schema."""

    def __init__(self, path: Path, text: str, operations: Iterable[Operation], identities: Iterable[str]) -> None:
        import cedarpy

        self._cedar = cedarpy
        self.path = path
        self.operations = {op.name: op for op in operations}
        self.identities = tuple(sorted(set(identities)))
        _refuse_collisions(self.operations.values())
        self.schema = cedar_schema(self.operations.values(), self.identities)
        self._arg_types = {name: args_type(op) for name, op in self.operations.items()}
        chunks = list(_chunks(text))
        lines = [line for line, _ in chunks]
        tree = self._parse(text, lines)
        self._schema = cedarpy.Schema.from_json_str(json.dumps(self.schema))
        self._validate(text, chunks)
        self.policies = {
            pid: _Policy(
                id=pid,
                label=str(t.annotations.get("id") or pid),
                line=_line_of(lines, pid),
                effect=t.effect,
                scope=t,
                conditional=bool(t.clauses),
                confirm=t.annotations.get("confirm"),
            )
            for pid, t in tree.static_policies.items()
        }
        self.uses_usage = any(getattr(n, "attr", None) == "usage" for n in _nodes(tree))
        self._set = cedarpy.PolicySet.from_str(text)
        self._entities = cedarpy.Entities.from_json_str("[]", self._schema)
        self._listed: dict[tuple[str, str], bool] = {}

    @classmethod
    def load(cls, path: str | Path, operations: Iterable[Operation], identities: Iterable[str]) -> Rules:
        """The policy set in the file ``path``; ``ConfigurationError`` (one line, file and line) when it
        cannot be read, parsed or validated."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigurationError(f"{path}: cannot read the policy file ({why}); nothing was started") from None
        return cls(path, text, operations, identities)

    # -- loading ------------------------------------------------------------------------------------

    def _refuse(self, line: int, problem: str) -> ConfigurationError:
        return ConfigurationError(f"{self.path}:{line}: {problem}; nothing was started")

    def _parse(self, text: str, lines: list[int]) -> Any:
        try:
            tree = self._cedar.policies_to_pst(text)
        except ValueError as exc:
            for line, chunk in _chunks(text):
                try:
                    self._cedar.policies_to_pst(chunk)
                except ValueError as inner:
                    raise self._refuse(line, f"policy does not parse: {inner}") from None
            raise self._refuse(1, f"policy file does not parse: {exc}") from None
        if tree.templates:
            first = min(tree.templates, key=lambda pid: _line_of(lines, pid))
            raise self._refuse(_line_of(lines, first), "policy templates (?principal, ?resource) are not supported")
        if not tree.static_policies:
            raise self._refuse(1, "the policy file holds no policy (it would deny every call)")
        return tree

    def _validate(self, text: str, chunks: list[tuple[int, str]]) -> None:
        result = self._cedar.validate_policies(text, self._schema)
        if result.validation_passed:
            return
        errors = result.errors
        first = errors[0]
        index = first.policy_id.removeprefix("policy")
        problem = first.error
        if problem.startswith("for policy `"):
            problem = problem.split("`", 2)[-1].lstrip(",: ")
        line, chunk = chunks[int(index)] if index.isdigit() and int(index) < len(chunks) else (1, "")
        needle = None
        if m := _UNKNOWN_IDENTITY.search(problem):
            problem = f"unknown identity {m[1]!r} (known: {', '.join(self.identities)}; see MG_TOOLS_IDENTITY)"
            needle = f'"{m[1]}"'
        elif m := _UNKNOWN_ACTION.search(problem):
            problem = f"unknown tool, area or access {m[1]!r}"
            needle = f'"{m[1]}"'
        elif m := _UNKNOWN_ATTRIBUTE.search(problem):
            needle = "." + m[1].rpartition(".")[2]
        if needle and needle in chunk:  # the line of the offending name, not just of the policy
            line += chunk[: chunk.index(needle)].count("\n")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise self._refuse(line, problem + more)

    # -- listing ------------------------------------------------------------------------------------

    def may_permit(self, op: Operation, identity: str) -> bool:
        """Whether some call of ``op`` by ``identity`` could be permitted (decides what is listed)."""
        key = (identity, op.name)
        if key not in self._listed:
            types = resource_types(op)
            covers = [p for p in self.policies.values() if _covers(p.scope, op, identity, types)]
            permitted = any(p.effect == "permit" for p in covers)
            barred = any(
                p.effect == "forbid" and not p.conditional and _whole_resource(p.scope.resource, types) for p in covers
            )
            self._listed[key] = permitted and not barred
        return self._listed[key]

    def may_confirm(self, op: Operation, identity: str) -> bool:
        """Whether a call of ``op`` by ``identity`` could need confirmation (a ``@confirm`` permit covers it)."""
        types = resource_types(op)
        return any(
            p.effect == "permit" and p.confirm is not None and _covers(p.scope, op, identity, types)
            for p in self.policies.values()
        )

    def refusal(self, op: Operation, identity: str) -> str:
        """Why ``op`` is not listed for ``identity``."""
        return f"no policy in {self.path.name} can permit {op.name} for the identity {identity!r}"

    # -- deciding -----------------------------------------------------------------------------------

    def decide(self, op: Operation, args: Any, *, identity: str, account: str, usage: Usage, dry_run: bool) -> Decision:
        """The decision for ``op`` called by ``identity`` with the validated ``args``."""
        context = request_context(op, args, self._arg_types[op.name], usage=usage, dry_run=dry_run)
        domain = context["args"].get("domain") if "domain" in op.params.model_fields else None
        resource = {"type": "Domain", "id": domain} if domain else {"type": "Account", "id": account}
        request = {
            "principal": {"type": "Identity", "id": identity},
            "action": {"type": "Action", "id": op.name},
            "resource": resource,
            "context": context,
        }
        # The request is built from the schema's own types, so it is not validated again per call (that
        # doubles the cost); any evaluation error refuses the call instead, so a forbid that fails to
        # evaluate can never let a call through.
        result = self._cedar.is_authorized(request, self._set, self._entities)
        errors = result.diagnostics.errors
        if errors:
            return Decision(False, f"{op.name} was refused: the policy set could not decide ({errors[0]})")
        deciding = [self.policies[pid] for pid in result.diagnostics.reasons if pid in self.policies]
        ids = tuple(p.label for p in deciding)
        if result.allowed:
            why = "; ".join(
                p.confirm or f"policy {p.label!r} asks for confirmation" for p in deciding if p.confirm is not None
            )
            return Decision(True, confirm=why, policies=ids)
        if deciding:
            named = ", ".join(f"{p.label!r} ({self.path.name}:{p.line})" for p in deciding)
            return Decision(False, f"{op.name} is forbidden by the policy {named}", policies=ids)
        return Decision(False, f"no policy in {self.path.name} permits {op.name} for the identity {identity!r} here")


def request_context(
    op: Operation, args: Any, arg_type: dict[str, Any], *, usage: Usage, dry_run: bool
) -> dict[str, Any]:
    """The Cedar context of a call of ``op`` with the validated ``args``."""
    given = project(args.model_dump(mode="json", exclude_none=True), arg_type)
    context: dict[str, Any] = {"args": given, "usage": usage.context(), "dry_run": dry_run}
    if op.access is Access.SEND:
        recipients = sorted(_recipients(op, args))
        sender = getattr(args, "sender", None)
        sender_domain = _domain_of((_addresses(sender) or [""])[0]) if sender else str(getattr(args, "domain", ""))
        context.update(
            recipients=recipients,
            recipient_domains=sorted({_domain_of(r) for r in recipients}),
            recipient_count=len(recipients),
            sender_domain=sender_domain.lower(),
        )
    return context


def _recipients(op: Operation, args: Any) -> set[str]:
    names = getattr(op.params, "recipient_fields", ("to", "cc", "bcc"))
    return {a.lower() for name in names for value in (getattr(args, name, None) or ()) for a in _addresses(value)}


def _addresses(mailboxes: str) -> list[str]:
    """The bare addresses in ``mailboxes`` (``Name <a@b>``, ``a@b``, or several, comma-separated)."""
    # The common forms without the email parser, which costs tens of microseconds a call.
    simple = _SIMPLE_MAILBOX.fullmatch(mailboxes)
    if simple:
        return [simple[1] or simple[2]]
    return [address for _, address in getaddresses([mailboxes]) if address]


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def recipient_count(op: Operation, args: Any) -> int:
    """How many recipients a call of ``op`` sends to (0 for anything but a send)."""
    return len(_recipients(op, args)) if op.access is Access.SEND else 0


def _refuse_collisions(operations: Iterable[Operation]) -> None:
    ops = list(operations)
    groups = {str(a) for a in Access} | {op.area for op in ops}
    clashing = sorted(op.name for op in ops if op.name in groups)
    if clashing:
        raise ConfigurationError(
            f"the tool {clashing[0]!r} has the name of an area or access, which are Cedar action groups: "
            "rename the tool or block its plugin; nothing was started"
        )


def _names(scope: Any, identity: str) -> bool:
    """Whether a principal scope covers ``Identity::"<identity>"``."""
    kind = type(scope).__name__
    if kind == "ScopeAny":
        return True
    if kind == "ScopeIs":
        return scope.entity_type.basename == "Identity"
    entity = scope.entity
    return entity.type.basename == "Identity" and entity.id == identity


def _acts(scope: Any, op: Operation) -> bool:
    kind = type(scope).__name__
    if kind == "ScopeAny":
        return True
    ids = [scope.entity.id] if kind == "ActionEq" else [e.id for e in scope.entities]
    return bool({op.name, str(op.access), op.area} & set(ids))


def _resource_type(scope: Any) -> str | None:
    kind = type(scope).__name__
    if kind == "ScopeAny":
        return None
    return (scope.entity_type if kind in ("ScopeIs", "ScopeIsIn") else scope.entity.type).basename


def _covers(policy: Any, op: Operation, identity: str, types: tuple[str, ...]) -> bool:
    rtype = _resource_type(policy.resource)
    return _names(policy.principal, identity) and _acts(policy.action, op) and (rtype is None or rtype in types)


def _whole_resource(scope: Any, types: tuple[str, ...]) -> bool:
    kind = type(scope).__name__
    return kind == "ScopeAny" or (kind == "ScopeIs" and types == (scope.entity_type.basename,))


class Gate:
    """The rules as the executor applies them: for whom (the caller in progress, else the toolkit's
    identity and subaccount), with which usage, and counting what is sent.

    ``usage`` is the store of the counters, or a function making it on first use."""

    def __init__(
        self,
        rules: Rules,
        usage: UsageStore | Callable[[], UsageStore],
        *,
        identity: str = DEFAULT_IDENTITY,
        subaccount: str | None = None,
    ) -> None:
        self.rules = rules
        self._usage = usage
        self.identity = identity
        self.subaccount = subaccount

    @property
    def usage(self) -> UsageStore:
        if callable(self._usage):
            self._usage = self._usage()
        return self._usage

    def who(self) -> str:
        """The identity calls are decided for now."""
        caller = current()
        return caller.identity if caller is not None else self.identity

    def decide(self, op: Operation, args: Any, *, dry_run: bool = False) -> Decision:
        caller = current()
        identity = caller.identity if caller is not None else self.identity
        account = (caller.subaccount if caller is not None else None) or self.subaccount or "main"
        usage = self.usage.usage(identity, op.name) if self.rules.uses_usage else Usage()
        return self.rules.decide(op, args, identity=identity, account=account, usage=usage, dry_run=dry_run)

    @contextmanager
    def counted(self, op: Operation, args: Any) -> Iterator[None]:
        """Count the call made inside (when a policy reads the usage); withdrawn when it certainly sent nothing."""
        if not self.rules.uses_usage:
            yield
            return
        ticket = self.usage.record(self.who(), op.name, recipient_count(op, args))
        try:
            yield
        except MgToolsError as exc:
            if not getattr(exc, "maybe_sent", False):
                self.usage.cancel(ticket)
            raise
