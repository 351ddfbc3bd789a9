"""The journal's contract, held by both journals: SQLite in the state directory and Redis (replicas).
Then what only the Redis one has: a lease that a killed worker leaves to expire, and a worker that
lost its lease marks nothing more."""

from __future__ import annotations

import threading

import pytest

from mg_tools.bulk.job import journal_path, open_journal
from mg_tools.bulk.journal import JobBusy, JobRecord, Journal
from mg_tools.bulk.redis_journal import RedisJournal
from mg_tools.redis_state import Redis
from mg_tools.settings import Settings


def record(job_id: str, created: str = "2026-12-05T10:00:00+00:00") -> JobRecord:
    return JobRecord(job_id, created, "mg.example.com", "m" * 64, "r" * 64, 2500, "new")


@pytest.fixture(params=["sqlite", "redis"])
def journal(request, tmp_path):
    if request.param == "sqlite":
        opened = Journal(journal_path(tmp_path))
    else:
        opened = RedisJournal(Redis(request.getfixturevalue("redis_url")), owned=True)
    yield opened
    opened.close()


def test_a_job_is_created_with_its_batches_pending(journal):
    assert journal.job("a") is None and journal.batches("a") == []
    journal.create(record("a"), [(0, 1000), (1000, 2000), (2000, 2500)])
    assert journal.job("a") == record("a")
    assert [(b.index, b.start, b.stop, b.status, b.attempts) for b in journal.batches("a")] == [
        (0, 0, 1000, "pending", 0),
        (1, 1000, 2000, "pending", 0),
        (2, 2000, 2500, "pending", 0),
    ]


def test_jobs_are_listed_newest_first(journal):
    journal.create(record("old", "2026-12-01T10:00:00+00:00"), [(0, 1)])
    journal.create(record("new-b", "2026-12-05T10:00:00+00:00"), [(0, 1)])
    journal.create(record("new-a", "2026-12-05T10:00:00+00:00"), [(0, 1)])
    assert [j.id for j in journal.jobs()] == ["new-a", "new-b", "old"]


def test_marks_keep_the_outcome_and_count_the_attempts(journal):
    journal.create(record("m"), [(0, 10), (10, 20)])
    journal.mark("m", 1, "sending")
    journal.mark("m", 1, "pending", reason="rate limited")
    journal.mark("m", 1, "sending")
    journal.mark("m", 1, "sent", message_id="<id@mg>")
    journal.set_status("m", "done")
    first, second = journal.batches("m")
    assert (first.status, first.attempts) == ("pending", 0)
    assert (second.status, second.message_id, second.reason, second.attempts) == ("sent", "<id@mg>", None, 2)
    assert second.summary() == {"batch": 1, "recipients": "11-20", "id": "<id@mg>"}
    assert journal.job("m").status == "done"
    journal.set_status("nope", "done")
    assert journal.job("nope") is None


def test_a_batch_left_sending_becomes_unknown(journal):
    journal.create(record("i"), [(0, 1), (1, 2)])
    journal.mark("i", 0, "sent", message_id="<1@mg>")
    journal.mark("i", 1, "sending")
    journal.interrupted("i")
    assert [(b.status, b.reason) for b in journal.batches("i")] == [
        ("sent", None),
        ("unknown", "in flight when the job stopped: it may have been sent"),
    ]


def test_one_worker_at_a_time(journal):
    with journal.worker("w"):
        with pytest.raises(JobBusy), journal.worker("w"):
            pass
        with journal.worker("other"):
            pass
    with pytest.raises(RuntimeError), journal.worker("w"):
        raise RuntimeError
    with journal.worker("w"):  # given back, even after an error
        pass


def test_the_journal_follows_the_settings(tmp_path, redis_url):
    local = open_journal(Settings(state_dir=tmp_path))
    shared = open_journal(Settings(state_dir=tmp_path, redis_url=redis_url, job_lease=7))
    try:
        assert isinstance(local, Journal) and local.where == str(tmp_path / "jobs.sqlite")
        assert isinstance(shared, RedisJournal) and shared.lease == 7 and "s3cret" not in shared.where
    finally:
        local.close()
        shared.close()


@pytest.fixture
def redis_journals(redis_url):
    """Two journals on one Redis, as two replicas have them; a lease of ten seconds."""
    journals = [RedisJournal(Redis(redis_url), lease=10, owned=True) for _ in range(2)]
    yield journals
    for journal in journals:
        journal.close()


def test_a_lease_left_by_a_killed_worker_expires(redis_journals):
    a, b = redis_journals
    a.create(record("k"), [(0, 1)])
    lease = a.redis.key("jobs", "k", "worker")
    # A killed worker gives nothing back: its lease is only ever taken, as the start of worker() does.
    assert a.redis.client.set(lease, "killed", nx=True, px=10_000)
    with pytest.raises(JobBusy), b.worker("k"):
        pass
    a.redis.client.pexpire(lease, 1)  # ten seconds later
    while a.redis.client.exists(lease):
        threading.Event().wait(0.001)
    with b.worker("k"):
        assert a.redis.client.get(lease) != b"killed"
        b.mark("k", 0, "sending")
        assert 9_000 < a.redis.client.pttl(lease) <= 10_000  # a mark renews the lease
    assert not a.redis.client.exists(lease)


def test_a_worker_that_lost_its_lease_marks_nothing_and_leaves_the_new_one(redis_journals):
    a, b = redis_journals
    a.create(record("l"), [(0, 1)])
    lease = a.redis.key("jobs", "l", "worker")
    with a.worker("l"):
        a.redis.client.delete(lease)  # a stalled for longer than its lease
        with b.worker("l"):
            with pytest.raises(JobBusy):
                a.mark("l", 0, "sending")
            assert a.batches("l")[0].status == "pending"
            b.mark("l", 0, "sending")
    assert b.batches("l")[0].status == "sending"
    assert not a.redis.client.exists(lease)


def test_the_lease_is_renewed_while_a_long_send_is_in_flight(redis_url):
    journal = RedisJournal(Redis(redis_url), lease=0.3, owned=True)
    journal.create(record("r"), [(0, 1)])
    lease = journal.redis.key("jobs", "r", "worker")
    try:
        with journal.worker("r"):
            token = journal.redis.client.get(lease)
            threading.Event().wait(1.0)  # a send taking three leases, with no mark in between
            assert journal.redis.client.get(lease) == token
    finally:
        journal.close()
