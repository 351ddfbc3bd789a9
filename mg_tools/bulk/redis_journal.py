"""The journal of bulk-send jobs in Redis (``MG_TOOLS_REDIS_URL``), so a job started on one replica
resumes on any other: the interface of :class:`~mg_tools.bulk.journal.Journal`, its keys under
``mg-tools:jobs:``:

- ``mg-tools:jobs:<job>``: a hash, the job's record;
- ``mg-tools:jobs:<job>:batches``: a hash, batch index -> the batch as JSON;
- ``mg-tools:jobs:<job>:worker``: the lease of the process running the job (a random token, expiring);
- ``mg-tools:jobs:index:created``: a sorted set of job ids scored by creation time.

Job ids have no ``:``, so no job's keys meet another's or the index. Every write is acknowledged by Redis
before :meth:`RedisJournal.mark` returns, so a batch is ``sending`` in Redis before its request leaves.

The worker's lease is taken with ``SET NX PX``, renewed by every mark and by a background thread (a single
send may take longer than the lease), and given back by a compare-and-delete. A process killed mid-job
leaves a lease that expires after ``lease`` seconds; the job may then be resumed anywhere, its batch in
flight ``unknown``. A worker whose lease was lost (it stalled longer than the lease, and another took the
job) may no longer mark anything: its next mark raises :class:`~mg_tools.bulk.journal.JobBusy`, so it sends
nothing more.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

from mg_tools.bulk.journal import Batch, JobBusy, JobRecord
from mg_tools.errors import StateUnavailable
from mg_tools.redis_state import Redis

__all__ = ["DEFAULT_LEASE", "RedisJournal"]

#: How long a killed worker holds its job, in seconds: twice the longest call the client allows.
DEFAULT_LEASE = 600.0
_STORE = "jobs"
_INTERRUPTED = "in flight when the job stopped: it may have been sent"

# KEYS: the worker's lease, the batches. ARGV: the holder's token ('' when none is held), the lease in
# milliseconds, the batch index, the batch as JSON. The batch is written only by the lease's holder.
_MARK = """
if ARGV[1] ~= '' then
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
"""
# KEYS: the lease. ARGV: the token, the lease in milliseconds.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: the job's record. ARGV: the status. Like an UPDATE, it makes no record of a job that has none.
_SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'status', ARGV[1]) end
return 0
"""


class RedisJournal:
    """Jobs and their batches in ``redis``, shared by every process pointed at it. ``lease`` is how long
    (seconds) a job stays held by a worker that stopped renewing it. ``owned``: :meth:`close` closes
    ``redis`` too."""

    def __init__(self, redis: Redis, *, lease: float = DEFAULT_LEASE, owned: bool = False) -> None:
        self.redis = redis
        self.lease = lease
        self.where = redis.shown
        self._owned = owned
        self._held: dict[str, str] = {}
        client = redis.client
        self._mark, self._renew, self._release, self._set_status = (
            client.register_script(script) for script in (_MARK, _RENEW, _RELEASE, _SET_STATUS)
        )

    def close(self) -> None:
        if self._owned:
            self.redis.close()

    def _key(self, *parts: str) -> str:
        return self.redis.key(_STORE, *parts)

    def job(self, job_id: str) -> JobRecord | None:
        fields = self.redis.run(lambda r: r.hgetall(self._key(job_id)), doing=f"reading job {job_id}")
        return _record(fields) if fields else None

    def jobs(self) -> list[JobRecord]:
        """Every job, newest first."""

        def read(r: Any) -> list[Any]:
            ids = r.zrange(self._key("index", "created"), 0, -1)
            pipe = r.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(self._key(job_id.decode()))
            return pipe.execute()

        records = [_record(fields) for fields in self.redis.run(read, doing="listing the jobs") if fields]
        return sorted(sorted(records, key=lambda j: j.id), key=lambda j: j.created, reverse=True)

    def create(self, job: JobRecord, ranges: list[tuple[int, int]]) -> None:
        """Record a new job and its batches, all pending, in one transaction."""
        batches = {str(i): _json(Batch(i, start, stop, "pending")) for i, (start, stop) in enumerate(ranges)}
        created = datetime.fromisoformat(job.created).timestamp()

        def write(r: Any) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.hset(self._key(job.id), mapping={k: str(v) for k, v in job.__dict__.items()})
            if batches:
                pipe.hset(self._key(job.id, "batches"), mapping=batches)
            pipe.zadd(self._key("index", "created"), {job.id: created})
            pipe.execute()

        self.redis.run(write, doing=f"recording job {job.id}", outcome="nothing was sent; the job was not started")

    def batches(self, job_id: str) -> list[Batch]:
        rows = self.redis.run(lambda r: r.hvals(self._key(job_id, "batches")), doing=f"reading job {job_id}")
        return sorted((Batch(**json.loads(row)) for row in rows), key=lambda b: b.index)

    def mark(
        self, job_id: str, index: int, status: str, *, message_id: str | None = None, reason: str | None = None
    ) -> None:
        """Set a batch's status (acknowledged by Redis when this returns); ``sending`` counts an attempt.
        Under a lease this process no longer holds, :class:`JobBusy`."""
        key = self._key(job_id, "batches")
        doing, outcome = f"marking batch {index} of job {job_id} {status}", _marking_outcome(job_id, index, status)
        row = self.redis.run(lambda r: r.hget(key, str(index)), doing=doing, outcome=outcome)
        if row is None:
            return
        batch = Batch(**json.loads(row))
        batch = Batch(
            index, batch.start, batch.stop, status, message_id, reason, batch.attempts + int(status == "sending")
        )
        token = self._held.get(job_id, "")
        args = [token, self._lease_ms(), str(index), _json(batch)]
        written = self.redis.run(
            lambda r: self._mark(keys=[self._key(job_id, "worker"), key], args=args, client=r),
            doing=doing,
            outcome=outcome,
        )
        if not written:
            raise JobBusy(job_id)

    def interrupted(self, job_id: str) -> None:
        """Batches left ``sending`` by a process that stopped mid-request become ``unknown``."""
        for batch in self.batches(job_id):
            if batch.status == "sending":
                self.mark(job_id, batch.index, "unknown", message_id=batch.message_id, reason=_INTERRUPTED)

    @contextmanager
    def worker(self, job_id: str) -> Iterator[None]:
        """Holds ``job_id`` for this run (a lease in Redis): while it is held, running the same job
        anywhere raises :class:`JobBusy`. A killed process's lease expires after ``lease`` seconds."""
        key = self._key(job_id, "worker")
        token = secrets.token_hex(16)
        taken = self.redis.run(lambda r: r.set(key, token, nx=True, px=self._lease_ms()), doing=f"taking job {job_id}")
        if not taken:
            raise JobBusy(job_id)
        self._held[job_id] = token
        stop = threading.Event()
        renewer = threading.Thread(target=self._renewing, args=(key, token, stop), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            del self._held[job_id]
            # Redis gone: the lease expires on its own.
            with suppress(StateUnavailable):
                self.redis.run(
                    lambda r: self._release(keys=[key], args=[token], client=r), doing=f"giving back job {job_id}"
                )

    def _renewing(self, key: str, token: str, stop: threading.Event) -> None:
        """Renew the lease every third of its length until ``stop``, or until it is lost."""
        while not stop.wait(self.lease / 3):
            try:
                held = self.redis.run(
                    lambda r: self._renew(keys=[key], args=[token, self._lease_ms()], client=r), doing="renewing"
                )
            except StateUnavailable:
                continue  # the next mark meets the outage and stops the job
            if not held:
                return

    def set_status(self, job_id: str, status: str) -> None:
        self.redis.run(
            lambda r: self._set_status(keys=[self._key(job_id)], args=[status], client=r),
            doing=f"recording the status of job {job_id}",
        )

    def _lease_ms(self) -> int:
        return max(1, int(self.lease * 1000))


def _record(fields: dict[bytes, bytes]) -> JobRecord:
    values = {k.decode(): v.decode() for k, v in fields.items()}
    return JobRecord(**{**values, "recipients": int(values["recipients"])})


def _json(batch: Batch) -> str:
    return json.dumps(batch.__dict__, separators=(",", ":"))


def _marking_outcome(job_id: str, index: int, status: str) -> str:
    if status == "sending":
        return f"nothing was sent for batch {index}; the job stopped: resume it with job={job_id!r}"
    return (
        f"batch {index} ended {status} but that could not be recorded; the job stopped: on resuming with "
        f"job={job_id!r} the batch counts as unknown"
    )
