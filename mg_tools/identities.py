"""Identities of the HTTP transport: each bearer token is a caller with its own policy and subaccount.

``MG_TOOLS_IDENTITIES`` names a TOML file with one table per identity::

    [identities.helpdesk]
    token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    grants = "suppressions:*,send_message"   # a comma-separated string or a list
    deny = ["delete_*"]
    read_only = false
    subaccount = "acct-42"

Only the SHA-256 of a token is stored (``printf %s "$TOKEN" | sha256sum``). An identity's policy
narrows the server's: a call must be allowed by both, and read-only of either wins. A bad file (one
that does not parse, a plain ``token``, a hash that is not 64 hex digits, a token shared by two
identities, an unknown key, a pattern matching nothing) is a one-line ``ConfigurationError`` naming
the file and the line; nothing falls back to allowing.

``MG_TOOLS_HTTP_TOKEN`` is the one-identity shorthand: its token is the identity :data:`TOKEN_IDENTITY`
(``http``), with the server's policy alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mg_tools.caller import Caller
from mg_tools.errors import ConfigurationError
from mg_tools.operation import Operation
from mg_tools.policy import Policy
from mg_tools.request import checked_subaccount

__all__ = ["TOKEN_IDENTITY", "Identities", "Identity"]

#: The identity of the single ``MG_TOOLS_HTTP_TOKEN``.
TOKEN_IDENTITY = "http"
TOKEN_ENV = "MG_TOOLS_HTTP_TOKEN"
_KEYS = ("token_sha256", "grants", "deny", "read_only", "subaccount")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """One bearer token's caller: its name, the SHA-256 of its token, its policy and subaccount."""

    name: str
    token_sha256: bytes = field(repr=False)
    policy: Policy | None = None
    subaccount: str | None = None

    @property
    def caller(self) -> Caller:
        return Caller(self.name, policy=self.policy, subaccount=self.subaccount)


class Identities:
    """The identities one HTTP server accepts; :meth:`match` finds a token's."""

    def __init__(self, identities: Iterable[Identity] = ()) -> None:
        self.identities = tuple(identities)

    def __iter__(self) -> Iterator[Identity]:
        return iter(self.identities)

    def __len__(self) -> int:
        return len(self.identities)

    @classmethod
    def of_token(cls, token: str) -> Identities:
        """The one identity of ``MG_TOOLS_HTTP_TOKEN``."""
        return cls([Identity(TOKEN_IDENTITY, hashlib.sha256(token.encode()).digest())])

    @classmethod
    def load(cls, path: str | Path, operations: Iterable[Operation]) -> Identities:
        """The identities in the TOML file ``path``; their patterns are checked against ``operations``."""
        return _Parser(Path(path), list(operations)).parse()

    def merged(self, other: Identities) -> Identities:
        """These identities and ``other``'s; a token or a name held twice is refused."""
        names = {i.name for i in self.identities}
        for identity in other:
            if identity.name in names:
                raise ConfigurationError(f"identity {identity.name!r} is defined twice (file and {TOKEN_ENV})")
            if self._find(identity.token_sha256) is not None:
                raise ConfigurationError(f"{TOKEN_ENV} is also the token of an identity in the identities file")
        return Identities(self.identities + other.identities)

    def match(self, token: bytes | str) -> Identity | None:
        """The identity whose token is ``token``, compared as SHA-256 digests in constant time."""
        raw = token.encode() if isinstance(token, str) else token
        return self._find(hashlib.sha256(raw).digest())

    def _find(self, digest: bytes) -> Identity | None:
        found = None
        for identity in self.identities:  # every digest is compared, so the time says nothing
            if hmac.compare_digest(identity.token_sha256, digest):
                found = identity
        return found


class _Parser:
    """Reads one identities file, each problem a one-line error naming the file and the line."""

    def __init__(self, path: Path, operations: list[Operation]) -> None:
        self.path = path
        self.operations = operations
        self.lines: list[str] = []

    def fail(self, line: int, message: str) -> ConfigurationError:
        where = f"{self.path}:{line}" if line else str(self.path)
        return ConfigurationError(f"{where}: {message}; nothing was started")

    def parse(self) -> Identities:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise self.fail(0, f"cannot read the identities file ({why})") from None
        self.lines = text.splitlines()
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"at line (\d+)", str(exc))
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            raise self.fail(int(found.group(1)) if found else 0, f"not valid TOML ({message})") from None
        for key in data:
            if key != "identities":
                raise self.fail(self.line_of(key), f"unknown key {key!r}; define each identity as [identities.NAME]")
        tables = data.get("identities")
        if not isinstance(tables, dict) or not tables:
            raise self.fail(0, "no identities: define each one as [identities.NAME] with its token_sha256")
        identities: list[Identity] = []
        seen: dict[bytes, str] = {}
        for name, table in tables.items():
            identity = self.identity(name, table)
            if identity.token_sha256 in seen:
                raise self.fail(
                    self.line_of("token_sha256", name),
                    f"identities {seen[identity.token_sha256]!r} and {name!r} have the same token",
                )
            seen[identity.token_sha256] = name
            identities.append(identity)
        return Identities(identities)

    def identity(self, name: str, table: Any) -> Identity:
        if not isinstance(table, dict):
            raise self.fail(self.line_of(name), f"identities.{name} must be a table: [identities.{name}]")
        if not _NAME.match(name):
            raise self.fail(self.table_line(name), f"identity name {name!r} must be letters, digits, '_', '.', '-'")
        for key in table:
            if key == "token":
                raise self.fail(
                    self.line_of("token", name),
                    f"identity {name!r} has a plain token: store its SHA-256 as token_sha256",
                )
            if key not in _KEYS:
                raise self.fail(
                    self.line_of(key, name), f"unknown key {key!r} in identity {name!r} (keys: {', '.join(_KEYS)})"
                )
        digest = table.get("token_sha256")
        if digest is None:
            raise self.fail(self.table_line(name), f"identity {name!r} has no token_sha256")
        if not isinstance(digest, str) or not _HEX.match(digest):
            raise self.fail(
                self.line_of("token_sha256", name),
                f"token_sha256 of identity {name!r} must be 64 hex digits (the SHA-256 of the token)",
            )
        return Identity(name, bytes.fromhex(digest), self.policy(name, table), self.subaccount(name, table))

    def subaccount(self, name: str, table: dict[str, Any]) -> str | None:
        try:
            return checked_subaccount(self.text(name, table, "subaccount"), source=f"subaccount of identity {name!r}")
        except ConfigurationError as exc:
            raise self.fail(self.line_of("subaccount", name), exc.message.removesuffix("; nothing was sent")) from None

    def policy(self, name: str, table: dict[str, Any]) -> Policy | None:
        read_only = table.get("read_only", False)
        if not isinstance(read_only, bool):
            raise self.fail(self.line_of("read_only", name), f"read_only of identity {name!r} must be true or false")
        patterns = {key: self.patterns(name, table, key) for key in ("grants", "deny")}
        if not read_only and not patterns["grants"] and not patterns["deny"]:
            return None
        policy = Policy.build(grants=patterns["grants"], deny=patterns["deny"], read_only=read_only)
        try:
            policy.check(self.operations)
        except ConfigurationError as exc:
            key = "deny" if "deny pattern" in exc.message else "grants"
            problem = exc.message.removesuffix("; nothing was started")
            raise self.fail(self.line_of(key, name), f"identity {name!r}: {problem}") from None
        return policy

    def patterns(self, name: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, ())
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise self.fail(self.line_of(key, name), f"{key} of identity {name!r} must be a string or list of strings")
        return tuple(v.strip() for v in value if v.strip())

    def text(self, name: str, table: dict[str, Any], key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(self.line_of(key, name), f"{key} of identity {name!r} must be a string")
        return value

    # -- finding the line -------------------------------------------------------------------------

    def table_line(self, name: str) -> int:
        header = re.compile(rf"^\s*\[\s*identities\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
        return next((i for i, line in enumerate(self.lines, 1) if header.match(line)), 0)

    def line_of(self, key: str, name: str | None = None) -> int:
        """The line where ``key`` is set (inside the table of identity ``name``), 0 when not found."""
        start = self.table_line(name) if name else 0
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.\]]|^\s*\[\s*{re.escape(key)}\b")
        for number, line in enumerate(self.lines[start:], start + 1):
            if name and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return start
