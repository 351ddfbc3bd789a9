"""Usage counters for quotas: calls per tool and recipients sent, per identity, over sliding windows.

A policy reads them as ``context.usage`` (``calls_1h`` and ``calls_24h`` for the tool being called,
``recipients_1h`` and ``recipients_24h`` over every send of the identity). A call is recorded when
the policy has permitted it, before it is sent, and the record is withdrawn when the call certainly
sent nothing (refused by validation, by Mailgun, or no answer before the request left); a call that
may have reached Mailgun stays counted. Dry runs and refused calls are never counted.

The store is an interface (:class:`UsageStore`): :class:`SqliteUsage` keeps the counters in a
private SQLite file of the state directory, shared by every process using it; :class:`MemoryUsage`
keeps them for one process.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["DAY", "HOUR", "MemoryUsage", "SqliteUsage", "Usage", "UsageStore"]

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True, slots=True)
class Usage:
    """What an identity has used: calls of one tool, and recipients of all its sends."""

    calls_1h: int = 0
    calls_24h: int = 0
    recipients_1h: int = 0
    recipients_24h: int = 0

    def context(self) -> dict[str, int]:
        """The counters as ``context.usage``."""
        return {
            "calls_1h": self.calls_1h,
            "calls_24h": self.calls_24h,
            "recipients_1h": self.recipients_1h,
            "recipients_24h": self.recipients_24h,
        }


class UsageStore(Protocol):
    """Where usage is recorded; a shared store lets several processes enforce one quota."""

    def usage(self, identity: str, tool: str) -> Usage:
        """The counters of ``identity`` now, the calls counted for ``tool``."""
        ...

    def record(self, identity: str, tool: str, recipients: int) -> int:
        """Count one call (and its recipients); the id to :meth:`cancel` it with."""
        ...

    def cancel(self, ticket: int) -> None:
        """Withdraw a call recorded by :meth:`record` that sent nothing."""
        ...


class MemoryUsage:
    """Usage for one process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._calls: dict[int, tuple[str, str, int, float]] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._clock = clock

    def usage(self, identity: str, tool: str) -> Usage:
        now = self._clock()
        with self._lock:
            self._calls = {k: c for k, c in self._calls.items() if c[3] > now - DAY}
            calls = [c for c in self._calls.values() if c[0] == identity]
        recent = [c for c in calls if c[3] > now - HOUR]
        return Usage(
            calls_1h=sum(1 for c in recent if c[1] == tool),
            calls_24h=sum(1 for c in calls if c[1] == tool),
            recipients_1h=sum(c[2] for c in recent),
            recipients_24h=sum(c[2] for c in calls),
        )

    def record(self, identity: str, tool: str, recipients: int) -> int:
        with self._lock:
            self._next += 1
            self._calls[self._next] = (identity, tool, recipients, self._clock())
            return self._next

    def cancel(self, ticket: int) -> None:
        with self._lock:
            self._calls.pop(ticket, None)


class SqliteUsage:
    """Usage in a SQLite file (mode 0600), shared by every process that opens the same file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        from mg_tools.state import private_file

        self.path = private_file(Path(path))
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        # A write-ahead log without a sync per commit: a call costs microseconds, not a disk flush; a
        # power cut may lose the last counts, never corrupt the file.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, identity TEXT NOT NULL, tool TEXT NOT NULL,"
            " recipients INTEGER NOT NULL, at REAL NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS calls_by_identity ON calls (identity, at)")

    def usage(self, identity: str, tool: str) -> Usage:
        now = self._clock()
        query = (
            "SELECT COALESCE(SUM(tool = ?1 AND at > ?2), 0), COALESCE(SUM(tool = ?1), 0),"
            " COALESCE(SUM(CASE WHEN at > ?2 THEN recipients END), 0), COALESCE(SUM(recipients), 0)"
            " FROM calls WHERE identity = ?3 AND at > ?4"
        )
        with self._lock:
            row = self._db.execute(query, (tool, now - HOUR, identity, now - DAY)).fetchone()
        return Usage(*row)

    def record(self, identity: str, tool: str, recipients: int) -> int:
        now = self._clock()
        with self._lock:
            self._db.execute("DELETE FROM calls WHERE at <= ?", (now - DAY,))
            cursor = self._db.execute(
                "INSERT INTO calls (identity, tool, recipients, at) VALUES (?, ?, ?, ?)",
                (identity, tool, recipients, now),
            )
            return int(cursor.lastrowid or 0)

    def cancel(self, ticket: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM calls WHERE id = ?", (ticket,))

    def close(self) -> None:
        self._db.close()
