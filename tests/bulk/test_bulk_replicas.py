"""Bulk-send jobs shared by replicas through Redis: a job started by `mg-tools batch send` on one
replica and killed mid-job is refused elsewhere while its lease lives, then resumed on another replica
(its own state directory: only Redis joins them) without sending anyone twice. Redis not answering
stops a job with the error naming it, and sends nothing more."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

import pytest
from bulk_support import DOMAIN, MESSAGE, add_fault, copies, people

from mg_tools import Toolkit
from mg_tools.bulk.job import run_job
from mg_tools.bulk.recipients import recipients_of
from mg_tools.bulk.redis_journal import RedisJournal
from mg_tools.cli import main
from mg_tools.errors import InvalidArguments, StateUnavailable
from mg_tools.redis_state import Redis
from mg_tools.settings import Settings

#: Seconds a killed replica holds its job.
LEASE = "3"
EVERYONE = 2500


def _replica(tmp_path, served, redis_url, name, *extra):
    """`mg-tools batch send` of job k as the replica ``name``."""
    env = {
        **os.environ,
        "MAILGUN_API_BASE_URL": served.url,
        "MAILGUN_API_KEY": served.api_key,
        "MG_TOOLS_FILES_DIR": str(tmp_path),
        "MG_TOOLS_STATE_DIR": str(tmp_path / name),
        "MG_TOOLS_REDIS_URL": redis_url,
        "MG_TOOLS_JOB_LEASE": LEASE,
    }
    command = [sys.executable, "-m", "mg_tools", "batch", "send", "--recipients", str(tmp_path / "r.csv")]
    command += ["--domain", DOMAIN, "--from", f"news@{DOMAIN}", "--subject", "Hi", "--text", "Hello", "--job", "k"]
    return subprocess.Popen([*command, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _refused(toolkit, tmp_path) -> None:
    """Job k, called on ``toolkit``, is refused: another replica holds it."""
    arguments = {**MESSAGE, "sender": f"news@{DOMAIN}", "subject": "Hi", "text": "Hello"}
    with pytest.raises(InvalidArguments, match="another process right now"):
        toolkit.call("send_batch", **arguments, recipients_file=str(tmp_path / "r.csv"), job="k")


def test_a_job_killed_on_one_replica_resumes_on_another_sending_nobody_twice(
    tmp_path, served, redis_url, monkeypatch, capsys
):
    (tmp_path / "r.csv").write_text("address\n" + "".join(f"r{i}@example.com\n" for i in range(EVERYONE)))
    settings = Settings(redis_url=redis_url, state_dir=tmp_path / "c", job_lease=float(LEASE))
    other = Toolkit(api_key=served.api_key, base_url=served.url, settings=settings, file_roots=[tmp_path])
    watch = RedisJournal(Redis(redis_url), owned=True)
    add_fault(served.app, method="POST", path="/messages$", delay=5, times=1)  # holds the first batch in flight
    a = _replica(tmp_path, served, redis_url, "a")
    try:
        deadline = time.monotonic() + 30
        while not any(b.status == "sending" for b in watch.batches("k")):
            assert time.monotonic() < deadline and a.poll() is None
            threading.Event().wait(0.02)
        _refused(other, tmp_path)
        a.send_signal(signal.SIGKILL)
        a.wait()
        _refused(other, tmp_path)  # the killed replica's lease still lives
        lease = watch.redis.key("jobs", "k", "worker")
        while watch.redis.client.exists(lease):
            assert time.monotonic() < deadline
            threading.Event().wait(0.05)

        b = _replica(tmp_path, served, redis_url, "b")
        out, err = b.communicate(timeout=60)
        answer = json.loads(out)
        assert b.returncode == 5 and answer["status"] == "incomplete", err
        assert answer["unknown"] == [
            {"batch": 0, "recipients": "1-1000", "reason": "in flight when the job stopped: it may have been sent"}
        ]
        assert answer["batches_sent"] == 2 and answer["recipients_sent"] == 1500
        got = copies(served.app)
        assert {got[f"r{i}@example.com"] for i in range(1000, EVERYONE)} == {1}
        assert len({got.get(f"r{i}@example.com", 0) for i in range(1000)}) == 1  # the unknown batch: at most once

        monkeypatch.setenv("MG_TOOLS_REDIS_URL", redis_url)
        assert main(["batch", "status", "k"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert [b["status"] for b in status["each"]] == ["unknown", "sent", "sent"]
    finally:
        if a.poll() is None:
            a.kill()
        watch.close()
        other.close()


def test_batch_status_reads_the_redis_journal(tmp_path, redis_url, monkeypatch, capsys):
    settings = Settings(redis_url=redis_url, state_dir=tmp_path / "a")
    with Toolkit(sandbox=True, settings=settings) as replica:
        replica.call("send_batch", **MESSAGE, recipients=people(3), job="shared")
    monkeypatch.setenv("MG_TOOLS_REDIS_URL", redis_url)
    assert main(["batch", "status"]) == 0
    assert [j["job"] for j in json.loads(capsys.readouterr().out)] == ["shared"]
    assert main(["batch", "status", "shared"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "done" and [b["status"] for b in status["each"]] == ["sent"]
    assert main(["batch", "status", "nope"]) == 2
    assert "no job 'nope' in redis://:***@127.0.0.1" in capsys.readouterr().err


def test_redis_not_answering_stops_the_job_before_anything_is_sent(tmp_path, served):
    url = f"redis://:hidden-pass@127.0.0.1:{_closed_port()}/0"
    settings = Settings(redis_url=url, state_dir=tmp_path)
    with (
        Toolkit(api_key=served.api_key, base_url=served.url, settings=settings) as replica,
        pytest.raises(StateUnavailable, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:\d+/0 .* taking job j") as caught,
    ):
        replica.call("send_batch", **MESSAGE, recipients=people(3), job="j")
    assert "hidden-pass" not in str(caught.value)
    assert copies(served.app) == {}


@pytest.mark.anyio
async def test_redis_lost_mid_job_stops_it_and_sends_no_further_batch(redis_server, redis_url):
    journal = RedisJournal(Redis(redis_url), owned=True)
    sent = []

    async def call(name, arguments):
        sent.append(arguments["to"])
        redis_server.stop()  # Redis goes away while the first batch is out
        return {"id": "<1@mg>", "message": "Queued"}

    try:
        with pytest.raises(StateUnavailable, match="batch 0 ended sent but that could not be recorded") as caught:
            await run_job(call, journal, domain=DOMAIN, message={}, recipients=recipients_of(people(5)), size=2)
    finally:
        journal.close()
    assert len(sent) == 1 and "on resuming with job=" in str(caught.value)
    redis_server.start()


@pytest.mark.anyio
async def test_a_replica_that_lost_its_lease_sends_no_further_batch(redis_url):
    a, b = (RedisJournal(Redis(redis_url), owned=True) for _ in range(2))
    sent = []

    async def call(name, arguments):
        sent.append(arguments["to"])
        a.redis.client.delete(a.redis.key("jobs", "s", "worker"))  # a stalls past its lease ...
        taken.enter_context(b.worker("s"))  # ... and b takes the job
        return {"id": "<1@mg>", "message": "Queued"}

    with ExitStack() as taken:
        with pytest.raises(InvalidArguments, match="another process right now"):
            await run_job(call, a, domain=DOMAIN, message={}, recipients=recipients_of(people(5)), job="s", size=2)
        assert len(sent) == 1
        assert [x.status for x in b.batches("s")] == ["sending", "pending", "pending"]  # b finds it unknown
        assert b.job("s").status == "running"  # a wrote nothing more
    a.close()
    b.close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
