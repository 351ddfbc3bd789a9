"""Confirmation tokens: what a human approves is exactly what is sent, once, soon.

When the policy says a call needs confirmation, the executor refuses it with a token. The token is
an HMAC over a digest of every byte the call would send (method, URL, query, body fields, headers,
and the full content of each attachment) and of the caller's identity, so the same call with other
content, or by another identity, is refused. Each token is single-use (a ledger records it when a
call goes through) and expires after ``ttl`` seconds (10 minutes by default).

The HMAC key and the ledger live in the state directory (:mod:`mg_tools.state`), so a token
printed by one ``mg-tools call`` works in the next invocation, and in another process sharing that
directory; with ``MG_TOOLS_REDIS_URL`` both live in Redis (``RedisLedger`` in
:mod:`mg_tools.redis_state`), so a token issued by one server is checked, and used up, on any other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mg_tools.settings import Settings

__all__ = ["DEFAULT_TTL", "Confirmations", "Ledger", "MemoryLedger", "SqliteLedger", "request_digest"]

DEFAULT_TTL = 600.0
_KEY_FILE = "confirm.key"
_LEDGER_FILE = "confirm-ledger.sqlite"


def request_digest(
    name: str,
    target: str,
    described: dict[str, Any],
    files: list[tuple[str, tuple[str, bytes, str]]],
    *,
    identity: str = "",
) -> bytes:
    """SHA-256 over the operation, where it goes, the request as described, every attachment's whole
    content, and the identity it is made for (so a token approved for one caller confirms nothing for
    another)."""
    attached = [
        [field, filename, ctype, hashlib.sha256(data).hexdigest(), len(data)]
        for field, (filename, data, ctype) in files
    ]
    parts: list[Any] = [name, target, described, attached]
    if identity:
        parts.append(identity)
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()


class Ledger(Protocol):
    """Where used tokens are recorded until they expire."""

    def use(self, nonce: str, expires: float) -> bool:
        """Record ``nonce``; False when it was already used."""
        ...


class MemoryLedger:
    """A ledger for one process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def use(self, nonce: str, expires: float) -> bool:
        with self._lock:
            now = self._clock()
            self._used = {n: e for n, e in self._used.items() if e >= now}
            if nonce in self._used:
                return False
            self._used[nonce] = expires
            return True


class SqliteLedger:
    """A ledger in a SQLite file, shared by every process that opens the same file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        from mg_tools.state import private_file

        self.path = private_file(Path(path))
        self._clock = clock

    def use(self, nonce: str, expires: float) -> bool:
        with sqlite3.connect(self.path, timeout=10.0, isolation_level=None) as db:
            db.execute("CREATE TABLE IF NOT EXISTS used (nonce TEXT PRIMARY KEY, expires REAL NOT NULL)")
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM used WHERE expires < ?", (self._clock(),))
            inserted = db.execute("INSERT OR IGNORE INTO used VALUES (?, ?)", (nonce, expires)).rowcount
            db.execute("COMMIT")
        return inserted == 1


class Confirmations:
    """Issues and checks confirmation tokens.

    With no ``key`` and ``ledger``, both are read from (or made in) the state directory on first
    use, so nothing is written until a confirmation is actually asked for. ``key`` may also be a
    function giving the key, called on first use.
    """

    def __init__(
        self,
        *,
        key: bytes | Callable[[], bytes] | None = None,
        ledger: Ledger | None = None,
        state_dir: Path | None = None,
        settings: Settings | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._ledger = ledger
        self._state_dir = state_dir
        self._settings = settings
        self.ttl = ttl
        self._clock = clock

    def _dir(self) -> Path:
        if self._state_dir is None:
            from mg_tools.state import state_dir

            self._state_dir = state_dir(self._settings)
        return self._state_dir

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = _load_or_make_key(self._dir() / _KEY_FILE)
        elif callable(self._key):
            self._key = self._key()
        return self._key

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = SqliteLedger(self._dir() / _LEDGER_FILE, clock=self._clock)
        return self._ledger

    def _mac(self, expires: int, nonce: str, digest: bytes) -> str:
        return hmac.new(self.key, f"{expires:x}.{nonce}.".encode() + digest, hashlib.sha256).hexdigest()[:32]

    def issue(self, digest: bytes) -> str:
        """A new token for the call with this digest."""
        expires = int(self._clock() + self.ttl)
        nonce = secrets.token_hex(6)
        return f"{expires:x}.{nonce}.{self._mac(expires, nonce, digest)}"

    def check(self, token: str, digest: bytes, *, consume: bool) -> str | None:
        """None when ``token`` confirms the call with ``digest`` (and, with ``consume``, records it
        as used); otherwise why it does not."""
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3:
            return "it is not a confirmation token"
        stamp, nonce, mac = parts
        try:
            expires = int(stamp, 16)
        except ValueError:
            return "it is not a confirmation token"
        if not hmac.compare_digest(mac, self._mac(expires, nonce, digest)):
            return "it was issued for a different call (arguments, attachments or target differ)"
        if expires < self._clock():
            return "it has expired"
        if consume and not self.ledger.use(nonce, float(expires)):
            return "it was already used"
        return None


def _load_or_make_key(path: Path) -> bytes:
    """The 32-byte key in ``path``, made on first use. Made in a private temporary file and linked
    into place, so two processes starting at once still end up with one key."""
    import os

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if len(data) >= 32:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(32))
    finally:
        os.close(fd)
    try:
        if data:  # a truncated key file: replace it
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()
