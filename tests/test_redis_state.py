"""Several servers sharing one Redis: trimmed results, single-use tokens and quotas hold across replicas.

The module starts its own ``redis-server`` (:mod:`redis_support`, fixtures ``redis_server`` and
``redis_url``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from redis_support import PASSWORD
from reliability.support import SEND, Recorder, recording_toolkit

from mg_tools import ConfirmationRequired, Policy, PolicyDenied
from mg_tools.errors import ConfigurationError, StateUnavailable
from mg_tools.redis_state import Redis, RedisLedger, RedisUsage, shown_url
from mg_tools.settings import Settings

BOUNCES = {"items": [{"address": f"user{i}@example.com", "error": "mailbox full " * 5} for i in range(40)]}


@pytest.fixture
def replicas(redis_url, tmp_path):
    """Two toolkits as two servers would run: each its own state directory, one Redis between them,
    every request they send recorded by one ``recorder``."""
    made = []

    def make(recorder: Recorder, **kw) -> tuple:
        for name in ("a", "b"):
            settings = Settings(redis_url=redis_url, state_dir=tmp_path / name)
            made.append(recording_toolkit(recorder, settings=settings, **kw))
        return made[-2], made[-1]

    yield make
    for mg in made:
        mg.close()


def test_a_result_trimmed_on_one_replica_is_read_on_another(replicas):
    a, b = replicas(Recorder(body=BOUNCES), budget=500)
    result = a.run(a.execute("list_bounces", {"domain": "mg.example.com"}))
    result_id = result.truncated["result_id"]
    with pytest.raises(Exception, match="unknown or expired"):
        a.executor.read_result("no-such-result")
    text, offset = "", 0
    while offset is not None:
        chunk = b.executor.read_result(result_id, offset)
        text, offset = text + chunk["chunk"], chunk["next_offset"]
    assert text == a.executor.results.texts.get(result_id)[0] and "user39@example.com" in text


def test_a_token_used_on_one_replica_is_refused_on_another(replicas):
    recorder = Recorder(body={"id": "<1@mg>", "message": "Queued. Thank you."})
    a, b = replicas(recorder, policy=Policy.build(confirm="*:send"))
    with pytest.raises(ConfirmationRequired) as asked:
        a.run(a.execute("send_message", SEND))
    token = asked.value.token
    b.run(b.execute("send_message", SEND, confirm_token=token))  # issued by A, accepted by B
    for replica in (a, b):
        with pytest.raises(ConfirmationRequired, match="already used"):
            replica.run(replica.execute("send_message", SEND, confirm_token=token))
    assert len(recorder.requests) == 1


def test_a_quota_is_shared_by_the_replicas(replicas, tmp_path):
    policy = tmp_path / "quota.cedar"
    policy.write_text("permit (principal, action, resource) when { context.usage.calls_1h < 4 };\n")
    recorder = Recorder(body={"id": "<1@mg>", "message": "Queued. Thank you."})
    a, b = replicas(recorder, policy_file=policy)
    for replica in (a, b, a, b):
        replica.call("send_message", **SEND)
    for replica in (a, b):
        with pytest.raises(PolicyDenied):
            replica.call("send_message", **SEND)
    assert len(recorder.requests) == 4


def test_redis_stopped_midway_stops_calls_with_a_clear_error_and_sends_nothing(replicas, redis_server, tmp_path):
    policy = tmp_path / "quota.cedar"
    policy.write_text("permit (principal, action, resource) when { context.usage.calls_1h < 10 };\n")
    recorder = Recorder(body={"id": "<1@mg>", "message": "Queued. Thank you."})
    a, b = replicas(recorder, policy_file=policy)
    a.call("send_message", **SEND)
    redis_server.stop()
    for replica in (a, b):
        with pytest.raises(StateUnavailable) as stopped:
            replica.call("send_message", **SEND)
        message = stopped.value.message
        assert f"Redis at redis://:***@127.0.0.1:{redis_server.port}/0" in message and "nothing was sent" in message
        assert PASSWORD not in message and "\n" not in message
    assert len(recorder.requests) == 1


def test_a_confirmation_needs_redis_too(replicas, redis_server):
    recorder = Recorder(body={"id": "<1@mg>", "message": "Queued. Thank you."})
    a, _ = replicas(recorder, policy=Policy.build(confirm="*:send"))
    redis_server.stop()
    with pytest.raises(StateUnavailable, match="reading the confirmation key"):
        a.run(a.execute("send_message", SEND))
    assert recorder.requests == []


def test_the_cli_exits_5_with_one_line_when_redis_is_down(capsys, monkeypatch, redis_server):
    from mg_tools.cli import main

    redis_server.stop()
    monkeypatch.setenv("MG_TOOLS_REDIS_URL", redis_server.url)
    monkeypatch.setenv("MG_TOOLS_CONFIRM", "*:send")
    args = '{"domain": "mg.example.com", "sender": "a@mg.example.com", "to": "b@x.com", "subject": "s", "text": "t"}'
    assert main(["call", "send_message", "--sandbox", "--args", args]) == 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Redis at redis://:***@127.0.0.1" in err and PASSWORD not in err


def test_usage_counts_windows_and_withdraws(redis_url):
    now = [1_000_000.0]
    usage = RedisUsage(Redis(redis_url), clock=lambda: now[0])
    usage.record("bot", "send_message", 3)
    now[0] += 2 * 3600
    ticket = usage.record("bot", "send_message", 2)
    usage.record("bot", "get_domain", 0)
    usage.record("other", "send_message", 7)
    seen = usage.usage("bot", "send_message")
    assert (seen.calls_1h, seen.calls_24h, seen.recipients_1h, seen.recipients_24h) == (1, 2, 2, 5)
    usage.cancel(ticket)
    assert usage.usage("bot", "send_message").recipients_24h == 3
    now[0] += 25 * 3600
    assert usage.usage("bot", "send_message").calls_24h == 0


def test_the_ledger_records_once_and_forgets_when_the_token_expires(redis_url):
    redis = Redis(redis_url)
    first, second = RedisLedger(redis), RedisLedger(Redis(redis_url))
    assert first.use("abc", time.time() + 600) and not second.use("abc", time.time() + 600)
    assert 590 <= redis.client.ttl("mg-tools:confirm:used:abc") <= 602
    assert first.key() == second.key() and len(first.key()) == 32


def test_keys_are_namespaced(replicas, tmp_path):
    policy = tmp_path / "quota.cedar"
    policy.write_text("permit (principal, action, resource) when { context.usage.calls_1h < 10 };\n")
    a, _ = replicas(Recorder(body=BOUNCES), budget=500, policy_file=policy)
    a.call("list_bounces", domain="mg.example.com")
    keys = sorted(key.decode() for key in a.redis.client.keys("*"))
    assert all(key.startswith("mg-tools:") for key in keys)
    assert {"mg-tools:usage:ticket", "mg-tools:usage:calls:local:list_bounces"} <= set(keys)
    assert any(key.startswith("mg-tools:results:") for key in keys)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("rediss://user:pw@host/1", "rediss://user:***@host/1"),
        ("redis://pw@host", "redis://***@host"),
        ("redis://host:6379/0?password=pw&db=2", "redis://host:6379/0?password=***&db=2"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
    ],
)
def test_urls_are_shown_without_passwords(url, shown):
    assert shown_url(url) == shown


def test_a_url_redis_cannot_read_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"MG_TOOLS_REDIS_URL='http://\*\*\*@host'"):
        Redis("http://pw@host")


def test_redis_is_imported_only_when_the_url_is_set():
    probe = (
        "import sys; from mg_tools import Toolkit; Toolkit(sandbox=True).dry_run('get_domain', domain='x.com'); "
        "print('redis' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "MG_TOOLS_REDIS_URL"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.strip() == "False", done.stderr
