"""The journal of bulk-send jobs: SQLite in the state directory, one row per job and per batch.

A batch is marked ``sending`` and committed before its request leaves, and ``sent`` after the answer,
so a process killed in between leaves a batch whose outcome is known to be unknown.

Batch statuses: ``pending``, ``sending``, ``sent`` (with the message id), ``unknown`` (the request may
have reached Mailgun), ``failed`` (Mailgun answered with an error), ``refused`` (the policy or a quota
refused it; nothing left), ``skipped`` (an unknown batch the caller chose not to send again).
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mg_tools.state import private_file

__all__ = ["Batch", "JobBusy", "JobRecord", "Journal"]


class JobBusy(Exception):
    """Another process is running the job right now."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} is being sent by another process right now")
        self.job_id = job_id


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    domain TEXT NOT NULL,
    message_digest TEXT NOT NULL,
    recipients_digest TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    job TEXT NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    status TEXT NOT NULL,
    message_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job, idx)
);
"""


@dataclass(frozen=True)
class JobRecord:
    """A job as the journal holds it."""

    id: str
    created: str
    domain: str
    message_digest: str
    recipients_digest: str
    recipients: int
    status: str


@dataclass(frozen=True)
class Batch:
    """One batch: recipients ``[start, stop)`` of the job's list, and what became of it."""

    index: int
    start: int
    stop: int
    status: str
    message_id: str | None = None
    reason: str | None = None
    attempts: int = 0

    def summary(self) -> dict[str, Any]:
        """The batch as a job's answer shows it (recipients numbered from 1)."""
        out: dict[str, Any] = {"batch": self.index, "recipients": f"{self.start + 1}-{self.stop}"}
        if self.message_id:
            out["id"] = self.message_id
        if self.reason:
            out["reason"] = self.reason
        return out


class Journal:
    """Jobs and their batches in the SQLite file ``path`` (created 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = private_file(path)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    @property
    def where(self) -> str:
        """Where the journal is kept, as messages name it."""
        return str(self.path)

    def close(self) -> None:
        self._db.close()

    def job(self, job_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord(*row) if row else None

    def jobs(self) -> list[JobRecord]:
        """Every job, newest first."""
        return [JobRecord(*row) for row in self._db.execute("SELECT * FROM jobs ORDER BY created DESC, id")]

    def create(self, job: JobRecord, ranges: list[tuple[int, int]]) -> None:
        """Record a new job and its batches, all pending, in one transaction."""
        with self._transaction():
            self._db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(job.__dict__.values()))
            self._db.executemany(
                "INSERT INTO batches (job, idx, start, stop, status) VALUES (?, ?, ?, ?, 'pending')",
                [(job.id, index, start, stop) for index, (start, stop) in enumerate(ranges)],
            )

    def batches(self, job_id: str) -> list[Batch]:
        rows = self._db.execute(
            "SELECT idx, start, stop, status, message_id, reason, attempts FROM batches WHERE job = ? ORDER BY idx",
            (job_id,),
        )
        return [Batch(*row) for row in rows]

    def mark(
        self, job_id: str, index: int, status: str, *, message_id: str | None = None, reason: str | None = None
    ) -> None:
        """Set a batch's status (committed when this returns); ``sending`` counts an attempt."""
        self._db.execute(
            "UPDATE batches SET status = ?, message_id = ?, reason = ?, attempts = attempts + ? "
            "WHERE job = ? AND idx = ?",
            (status, message_id, reason, int(status == "sending"), job_id, index),
        )

    def interrupted(self, job_id: str) -> None:
        """Batches left ``sending`` by a process that stopped mid-request become ``unknown``."""
        self._db.execute(
            "UPDATE batches SET status = 'unknown', reason = ? WHERE job = ? AND status = 'sending'",
            ("in flight when the job stopped: it may have been sent", job_id),
        )

    @contextmanager
    def worker(self, job_id: str) -> Iterator[None]:
        """Holds ``job_id`` for this run: while it is held, running the same job elsewhere (another
        process, or another run in this one) raises :class:`JobBusy`. The lock is an ``flock`` on a
        file beside the journal, so a killed process holds none."""
        name = hashlib.sha256(job_id.encode()).hexdigest()[:20]
        lock = private_file(self.path.with_name(f"{self.path.stem}-{name}.lock"))
        with open(lock, "r+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JobBusy(job_id) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def set_status(self, job_id: str, status: str) -> None:
        self._db.execute("UPDATE jobs SET status = ? WHERE id = ?", (status, job_id))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def now() -> str:
    """The current UTC time, ISO 8601, as the journal records it."""
    return datetime.now(UTC).isoformat(timespec="seconds")
