"""The tokens of accepted webhook posts, each accepted once: a post replayed within the age window is refused.

A token need only be remembered as long as its post could still pass the age check: until its
timestamp plus the window. Every store drops tokens past that.

:class:`Tokens` keeps them in memory, in front of a shared store: :class:`SqliteTokens` (a file in
the state directory, so a restart keeps them) or :class:`RedisTokens` (``MG_TOOLS_REDIS_URL``, so
replicas behind one URL share them).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mg_tools.redis_state import Redis

__all__ = ["RedisTokens", "SqliteTokens", "TokenStore", "Tokens"]


class TokenStore(Protocol):
    """Where used tokens are kept."""

    def claim(self, token: str, expires: float) -> bool:
        """Record ``token`` until ``expires``; False when it was already recorded."""

    def release(self, token: str) -> None:
        """Forget ``token``, so the same post may be accepted again (after it could not be handled)."""


class SqliteTokens:
    """Used tokens in a SQLite file, shared by every listener that opens it."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        from mg_tools.state import private_file

        self.path = private_file(Path(path))
        self._clock = clock
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10.0, isolation_level=None)

    def claim(self, token: str, expires: float) -> bool:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM tokens WHERE expires < ?", (self._clock(),))
            inserted = db.execute("INSERT OR IGNORE INTO tokens VALUES (?, ?)", (token, expires)).rowcount
            db.execute("COMMIT")
        return inserted == 1

    def release(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM tokens WHERE token = ?", (token,))


class RedisTokens:
    """Used tokens in Redis, under ``mg-tools:webhooks:token:<token>``, each expiring with its window."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self._clock = clock

    def claim(self, token: str, expires: float) -> bool:
        key = self.redis.key("webhooks", "token", token)
        ttl = max(1, int(expires - self._clock()) + 2)
        outcome = "the webhook was not handled and is answered 503, so Mailgun sends it again"

        def record(r: Any) -> bool:
            return bool(r.set(key, b"1", nx=True, ex=ttl))

        return self.redis.run(record, doing="recording a webhook token", outcome=outcome)

    def release(self, token: str) -> None:
        key = self.redis.key("webhooks", "token", token)
        self.redis.run(lambda r: r.delete(key), doing="releasing a webhook token")


class Tokens:
    """Used tokens in memory, and in ``shared`` (if any) so other processes and restarts see them too."""

    def __init__(self, shared: TokenStore | None = None, clock: Callable[[], float] = time.time) -> None:
        self.shared = shared
        self._clock = clock
        self._seen: dict[str, float] = {}

    def claim(self, token: str, expires: float) -> bool:
        now = self._clock()
        self._seen = {t: e for t, e in self._seen.items() if e >= now} if len(self._seen) > 1024 else self._seen
        if self._seen.get(token, -1.0) >= now:
            return False
        if self.shared is not None and not self.shared.claim(token, expires):
            return False
        self._seen[token] = expires
        return True

    def release(self, token: str) -> None:
        self._seen.pop(token, None)
        if self.shared is not None:
            self.shared.release(token)
