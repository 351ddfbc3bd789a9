"""Who may call what: grants as ``area:access`` patterns, a read-only switch, confirmations.

A pattern is a tool name or a glob over tool names (``send_message``, ``delete_*``), an
``area:access`` tag with ``*`` wildcards (``*:read``, ``templates:*``), or an area alone (``lists``,
meaning ``lists:*``). Patterns are matched case-insensitively (every name, area and access is lower
case). Writes, deletes and sends in sensitive areas (keys, credentials, users, account, subaccounts,
ip_allowlist) are only granted by a pattern that names the area or the tool exactly, never by a
wildcard. Listing and calling ask the same question, so a tool that is not listed can never be
called.

A pattern that matches nothing is an error (:meth:`Policy.check`): a misspelled deny rule must stop
the program, not silently deny nothing. ``MG_TOOLS_READ_ONLY=1`` in the environment makes every
policy read-only, however it was built.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mg_tools.caller import current
from mg_tools.errors import ConfigurationError
from mg_tools.operation import Access, Operation
from mg_tools.settings import READ_ONLY_ENV, Settings, env_flag, forced_read_only

__all__ = ["READ_ONLY_ENV", "Decision", "Policy", "decide", "env_flag"]

_ACCESSES = tuple(str(a) for a in Access)
_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one operation: allowed or not (with the reason), and confirmation;
    ``grant`` names the pattern that allowed it (for the audit trail)."""

    allowed: bool
    reason: str = ""
    confirm: bool = False
    grant: str = field(default="", compare=False)


def _split(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(p.strip().lower() for p in value if p and p.strip())


def _is_glob(text: str) -> bool:
    return any(ch in _WILDCARDS for ch in text)


def _matches(pattern: str, op: Operation, *, strict_sensitive: bool) -> bool:
    """Whether ``pattern`` covers ``op``; with ``strict_sensitive``, a sensitive write is only
    covered by a pattern naming its area or the tool exactly."""
    if ":" not in pattern:
        if fnmatch.fnmatchcase(op.name, pattern):
            return not (strict_sensitive and _guarded(op) and pattern != op.name)
        pattern = f"{pattern}:*"
    area, _, access = pattern.partition(":")
    if strict_sensitive and _guarded(op) and area != op.area:
        return False
    return fnmatch.fnmatchcase(op.area, area) and fnmatch.fnmatchcase(str(op.access), access)


def _guarded(op: Operation) -> bool:
    return op.sensitive and op.access is not Access.READ


def _unmatched(pattern: str, operations: Iterable[Operation]) -> str | None:
    """Why ``pattern`` matches no operation, or None when it matches at least one."""
    ops = list(operations)
    if any(_matches(pattern, op, strict_sensitive=False) for op in ops):
        return None
    if ":" in pattern:
        area, _, access = pattern.partition(":")
        if not any(fnmatch.fnmatchcase(a, access) for a in _ACCESSES):
            return f"{access!r} is not an access (use {', '.join(_ACCESSES)} or *)"
        if not any(fnmatch.fnmatchcase(op.area, area) for op in ops):
            return f"{area!r} is not an area"
        return "no operation has that area and access"
    return "it is neither a tool name nor an area"


@dataclass(frozen=True, slots=True)
class Policy:
    """Decides ``allow``, ``deny`` (with the reason) or ``confirm`` for each operation.

    ``grants`` and ``deny`` are patterns; ``read_only`` overrides everything; ``toolsets`` (areas)
    and ``tools`` (names or globs) narrow what is exposed; ``confirm`` patterns make a call need a
    confirmation token; ``allow_secrets`` lets results carry secrets unredacted. Patterns are
    lower-cased. ``MG_TOOLS_READ_ONLY`` set in the environment forces ``read_only`` on.
    """

    grants: tuple[str, ...] = ("*:*",)
    deny: tuple[str, ...] = ()
    read_only: bool = False
    toolsets: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()
    allow_secrets: bool = False
    # Not an init field, so ``dataclasses.replace`` gives the copy a cache of its own.
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("grants", "deny", "toolsets", "tools", "confirm"):
            object.__setattr__(self, name, _split(getattr(self, name)))
        if not self.read_only and forced_read_only():
            object.__setattr__(self, "read_only", True)

    @classmethod
    def build(
        cls,
        *,
        grants: str | Iterable[str] | None = None,
        deny: str | Iterable[str] | None = None,
        read_only: bool = False,
        toolsets: str | Iterable[str] | None = None,
        tools: str | Iterable[str] | None = None,
        exclude_tools: str | Iterable[str] | None = None,
        confirm: str | Iterable[str] | None = None,
        allow_secrets: bool = False,
    ) -> Policy:
        """A policy from comma-separated strings or lists, as the CLI and environment give them."""
        return cls(
            grants=_split(grants) or ("*:*",),
            deny=_split(deny) + _split(exclude_tools),
            read_only=read_only,
            toolsets=_split(toolsets),
            tools=_split(tools),
            confirm=_split(confirm),
            allow_secrets=allow_secrets,
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, settings: Settings | None = None, **overrides
    ) -> Policy:
        """The policy of ``MG_TOOLS_GRANTS``, ``MG_TOOLS_DENY``, ``MG_TOOLS_READ_ONLY``,
        ``MG_TOOLS_CONFIRM`` and ``MG_TOOLS_ALLOW_SECRETS``, taken from ``settings`` (default: read
        from ``environ``, else the process environment); explicit keyword arguments win, except that
        read-only from any source wins over everything (``read_only=False`` never turns it off)."""
        if settings is None:
            settings = Settings.from_env(environ)
        values = {
            "grants": settings.grants,
            "deny": settings.deny,
            "confirm": settings.confirm,
            "allow_secrets": settings.allow_secrets,
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, (), "") and k != "read_only"})
        values["read_only"] = settings.read_only or bool(overrides.get("read_only"))
        return cls.build(**values)

    def check(self, operations: Iterable[Operation]) -> None:
        """Refuse (``ConfigurationError``, one line) any pattern that matches no operation: a
        misspelled rule must never silently allow or deny nothing."""
        ops = list(operations)
        areas = {op.area for op in ops}
        problems = []
        for kind, patterns in (
            ("grant", self.grants),
            ("deny", self.deny),
            ("confirm", self.confirm),
            ("tools", self.tools),
        ):
            for pattern in patterns:
                if kind == "tools" and ":" in pattern:
                    why = "--tools takes tool names or globs such as delete_*"
                elif kind == "tools":
                    why = None if any(fnmatch.fnmatchcase(op.name, pattern) for op in ops) else "no tool has that name"
                else:
                    why = _unmatched(pattern, ops)
                if why:
                    problems.append(f"{kind} pattern {pattern!r} matches nothing ({why})")
        for area in self.toolsets:
            if not any(fnmatch.fnmatchcase(a, area) for a in areas):
                problems.append(f"toolset {area!r} is not an area (areas: {', '.join(sorted(areas))})")
        if problems:
            raise ConfigurationError("; ".join(problems) + "; nothing was started")

    def decide(self, op: Operation) -> Decision:
        cached = self._cache.get(op.name)
        if cached is None or cached[0] is not op:
            cached = (op, self._decide(op))
            self._cache[op.name] = cached
        return cached[1]

    def exposes(self, op: Operation) -> bool:
        return self.decide(op).allowed

    def _decide(self, op: Operation) -> Decision:
        if self.read_only and op.access is not Access.READ:
            return Decision(False, f"read-only mode: {op.name} is a {op.access} operation")
        for pattern in self.deny:
            if _matches(pattern, op, strict_sensitive=False):
                return Decision(False, f"{op.name} ({op.tag}) is denied by the rule {pattern!r}")
        if self.toolsets or self.tools:
            in_sets = any(fnmatch.fnmatchcase(op.area, a) for a in self.toolsets)
            if not in_sets and not any(fnmatch.fnmatchcase(op.name, t) for t in self.tools):
                return Decision(False, f"{op.name} is outside the enabled toolsets and tools")
        grant = next((p for p in self.grants if _matches(p, op, strict_sensitive=True)), None)
        if grant is None:
            why = f"no grant covers {op.name} ({op.tag})"
            if _guarded(op):
                why += f" ({op.area} is a sensitive area: grant it by name, e.g. '{op.tag}')"
            return Decision(False, why)
        confirm = any(_matches(p, op, strict_sensitive=False) for p in self.confirm)
        return Decision(True, confirm=confirm, grant=grant)


def decide(policy: Policy, op: Operation) -> Decision:
    """The decision for ``op`` under ``policy`` narrowed by the current caller's own policy
    (:func:`mg_tools.caller.current`): both must allow it, and read-only of either wins. Listing and
    calling both ask here, so what an identity is not shown it cannot call."""
    decision = policy.decide(op)
    caller = current()
    if not decision.allowed or caller is None or caller.policy is None:
        return decision
    own = caller.policy.decide(op)
    if not own.allowed:
        return Decision(False, f"{own.reason} (identity {caller.identity!r})")
    return Decision(True, confirm=decision.confirm or own.confirm, grant=f"{decision.grant} + {own.grant}")
