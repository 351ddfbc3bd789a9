"""The sandbox's state: JSON documents by kind and key, in SQLite (in memory or in a file).

One code path serves both modes: ``State()`` keeps everything in memory, ``State("file.sqlite")``
survives restarts. Every method takes a lock, so concurrent requests are safe; ``transaction()``
groups several calls atomically. ``cached()`` keeps a value computed from the documents until they
may have changed (a write here, or a commit by another connection to the same file), so a check that
runs before every request costs no query while nothing changes.

A state file holds what was sent (addresses, bodies, keys), so only its owner may read it: missing
parent directories are created 0700, the file 0600 whatever the umask, and an existing file (or
SQLite side file) readable by others is tightened to 0600, with a warning on stderr. mg-tools' own
state directory (:func:`app_state_dir`, where ``mg-tools call --sandbox`` keeps its state) is kept
0700 even when something else created it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mg_tools import log

__all__ = ["State", "app_state_dir"]

FILE_MODE = 0o600
DIR_MODE = 0o700
#: The files SQLite keeps next to a database (write-ahead log, its index, the rollback journal).
SIDE_FILES = ("-wal", "-shm", "-journal")

T = TypeVar("T")

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


def app_state_dir() -> Path:
    """mg-tools' own state directory (:func:`mg_tools.state.state_dir`), not created here."""
    from mg_tools.settings import Settings

    return Settings.from_env().state_path


def _make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 (existing ones are left as they are)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by someone else: not ours to change
        os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 unless it exists; tighten it and its SQLite side files when others may read them."""
    _make_dirs(path.parent)
    if path.parent.resolve() == app_state_dir().resolve() and stat.S_IMODE(path.parent.stat().st_mode) & 0o077:
        os.chmod(path.parent, DIR_MODE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, FILE_MODE)  # os.open's mode is masked by the umask
        finally:
            os.close(fd)
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
        _tighten(candidate)


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077 or not path.is_file():
        return
    logger = log.get_logger("mg_tools.sandbox", log.Redactor())
    try:
        os.chmod(path, FILE_MODE)
    except OSError as exc:  # another user's file: say so, and let SQLite decide whether it can be used
        logger.warning("sandbox.state_readable_by_others", path=str(path), mode=oct(mode), error=exc.strerror)
        return
    logger.warning("sandbox.state_permissions_tightened", path=str(path), was=oct(mode), now=oct(FILE_MODE))


class State:
    """A small document store: ``put(kind, key, doc)``, ``get``, ``delete``, ``list`` by key prefix
    in insertion order (updates keep their original position)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        self._writes = 0
        self._cache: dict[str, tuple[tuple[int, int], Any]] = {}

    def _changed(self) -> None:
        self._writes += 1

    def _version(self) -> tuple[int, int]:
        """Differs whenever the documents may have changed since it was last read."""
        if self.path == ":memory:":
            return self._writes, 0  # no other connection can reach a private in-memory database
        return self._writes, self._db.execute("PRAGMA data_version").fetchone()[0]

    def cached(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, computed again only when the documents may have changed since the last time
        (a write through this state, a rolled-back transaction, or a commit by another connection)."""
        with self._lock:
            version = self._version()
            hit = self._cache.get(name)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = compute()
            self._cache[name] = (self._version(), value)
            return value

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
                    self._changed()
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def next_id(self, name: str) -> int:
        """A counter that only grows (ids, event sequence numbers)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO counters(name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
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
            self._changed()
            updated = self._db.execute(
                "UPDATE docs SET data = ? WHERE kind = ? AND key = ?", (data, kind, key)
            ).rowcount
            if not updated:
                seq = self.next_id(f"seq:{kind}")
                self._db.execute("INSERT INTO docs(kind, key, seq, data) VALUES (?, ?, ?, ?)", (kind, key, seq, data))
        return doc

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            self._changed()
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
            self._changed()
            return self._db.execute(
                "DELETE FROM docs WHERE kind = ? AND key LIKE ? ESCAPE '\\'", (kind, _like_prefix(prefix))
            ).rowcount

    def reset(self) -> None:
        with self._lock:
            self._changed()
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM counters")

    def close(self) -> None:
        with self._lock:
            self._db.close()
