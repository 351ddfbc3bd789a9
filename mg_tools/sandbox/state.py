"""The sandbox's state: JSON documents by kind and key, in SQLite (in memory or in a file).

One code path serves both modes: ``State()`` keeps everything in memory, ``State("file.sqlite")``
survives restarts. Every method takes a lock, so concurrent requests are safe; ``transaction()``
groups several calls atomically.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["State"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS docs_seq ON docs (kind, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class State:
    """A small document store: ``put(kind, key, doc)``, ``get``, ``delete``, ``list`` by key prefix
    in insertion order (updates keep their original position)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def next_id(self, name: str) -> int:
        """A counter that only grows (ids, event sequence numbers)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO counters(name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, key: str, doc: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            updated = self._db.execute(
                "UPDATE docs SET data = ? WHERE kind = ? AND key = ?", (data, kind, key)
            ).rowcount
            if not updated:
                seq = self.next_id(f"seq:{kind}")
                self._db.execute(
                    "INSERT INTO docs(kind, key, seq, data) VALUES (?, ?, ?, ?)", (kind, key, seq, data)
                )
        return doc

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key)).rowcount > 0

    def list(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM docs WHERE kind = ? AND key LIKE ? ESCAPE '\\' ORDER BY seq",
                (kind, _like_prefix(prefix)),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def keys(self, kind: str, prefix: str = "") -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM docs WHERE kind = ? AND key LIKE ? ESCAPE '\\' ORDER BY seq",
                (kind, _like_prefix(prefix)),
            ).fetchall()
        return [r[0] for r in rows]

    def count(self, kind: str, prefix: str = "") -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM docs WHERE kind = ? AND key LIKE ? ESCAPE '\\'",
                (kind, _like_prefix(prefix)),
            ).fetchone()[0]

    def clear(self, kind: str, prefix: str = "") -> int:
        with self._lock:
            return self._db.execute(
                "DELETE FROM docs WHERE kind = ? AND key LIKE ? ESCAPE '\\'", (kind, _like_prefix(prefix))
            ).rowcount

    def reset(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM counters")

    def close(self) -> None:
        with self._lock:
            self._db.close()
