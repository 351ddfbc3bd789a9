"""Who may call what: grants as ``area:access`` patterns, a read-only switch, confirmations.

A pattern is a tool name (``send_message``), an ``area:access`` tag with ``*`` wildcards
(``*:read``, ``templates:*``), or an area alone (``lists``, meaning ``lists:*``). Writes, deletes
and sends in sensitive areas (keys, credentials, users, account, subaccounts, ip_allowlist) are only
granted by a pattern that names the area or the tool, never by a wildcard area. Listing and calling
ask the same question, so a tool that is not listed can never be called.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from mg_tools.operation import Access, Operation

__all__ = ["Decision", "Policy"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one operation: allowed or not (with the reason), and confirmation."""

    allowed: bool
    reason: str = ""
    confirm: bool = False


def _split(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(p.strip() for p in value if p and p.strip())


def _matches(pattern: str, op: Operation, *, strict_sensitive: bool) -> bool:
    if ":" not in pattern:
        if pattern == op.name:
            return True
        pattern = f"{pattern}:*"
    area, _, access = pattern.partition(":")
    if op.sensitive and op.access is not Access.READ and strict_sensitive and area != op.area:
        return False
    return fnmatch.fnmatchcase(op.area, area) and fnmatch.fnmatchcase(str(op.access), access)


@dataclass(frozen=True)
class Policy:
    """Decides ``allow``, ``deny`` (with the reason) or ``confirm`` for each operation.

    ``grants`` and ``deny`` are patterns; ``read_only`` overrides everything; ``toolsets`` and
    ``tools`` narrow what is exposed to those areas and names; ``confirm`` patterns make a call
    need a confirmation token; ``allow_secrets`` lets results carry secrets unredacted.
    """

    grants: tuple[str, ...] = ("*:*",)
    deny: tuple[str, ...] = ()
    read_only: bool = False
    toolsets: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()
    allow_secrets: bool = False
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

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
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Policy:
        """``MG_TOOLS_GRANTS``, ``MG_TOOLS_DENY``, ``MG_TOOLS_READ_ONLY``, ``MG_TOOLS_CONFIRM``,
        ``MG_TOOLS_ALLOW_SECRETS``; explicit keyword arguments win."""
        env = os.environ if environ is None else environ
        truthy = {"1", "true", "yes", "on"}
        values = {
            "grants": env.get("MG_TOOLS_GRANTS"),
            "deny": env.get("MG_TOOLS_DENY"),
            "read_only": env.get("MG_TOOLS_READ_ONLY", "").lower() in truthy,
            "confirm": env.get("MG_TOOLS_CONFIRM"),
            "allow_secrets": env.get("MG_TOOLS_ALLOW_SECRETS", "").lower() in truthy,
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, (), "")})
        if overrides.get("read_only"):
            values["read_only"] = True
        return cls.build(**values)

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
            if op.area not in self.toolsets and op.name not in self.tools:
                return Decision(False, f"{op.name} is outside the enabled toolsets and tools")
        if not any(_matches(p, op, strict_sensitive=True) for p in self.grants):
            why = f"no grant covers {op.name} ({op.tag})"
            if op.sensitive and op.access is not Access.READ:
                why += f" ({op.area} is a sensitive area: grant it by name, e.g. '{op.tag}')"
            return Decision(False, why)
        confirm = any(_matches(p, op, strict_sensitive=False) for p in self.confirm)
        return Decision(True, confirm=confirm)
