"""The listener end to end: the sandbox fires signed webhooks at it over loopback, it checks them and
hands the events on; refused posts are answered with the reason and counted."""

from __future__ import annotations

import json
import shlex
import sys
import time
from urllib.parse import urlencode

import pytest
from conftest import KEY, json_post, signature

from mg_tools import Toolkit
from mg_tools.sandbox import DEFAULT_SIGNING_KEY
from mg_tools.triggers import DeadLetters, ExecSink, ForwardSink, Retry, register_webhooks

DOMAIN = "mg.example.com"
EVENT = {"id": "ev-1", "event": "delivered", "timestamp": 1796463524.5, "recipient": "bob@example.com"}


@pytest.fixture
def toolkit(tmp_path):
    with Toolkit(sandbox=True, file_roots=[tmp_path]) as tk:
        yield tk


def _python(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def _lines(out) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_sandbox_webhooks_reach_the_listener_and_come_out_as_json_lines(toolkit, make_listener, serve, out):
    url = serve(make_listener(signing_key=DEFAULT_SIGNING_KEY)) + "/mailgun"
    assert register_webhooks(toolkit, DOMAIN, url, ["delivered", "permanent_fail"]) == {
        "delivered": "created",
        "permanent_fail": "created",
    }
    toolkit.call("add_bounce", domain=DOMAIN, address="gone@example.com")
    toolkit.call(
        "send_message",
        domain=DOMAIN,
        sender=f"shop@{DOMAIN}",
        to=["bob@example.com", "gone@example.com"],
        subject="Order",
        text="Shipped",
        tags=["orders"],
        variables={"order": "7"},
    )
    events = {event["event"]: event for event in _lines(out)}
    assert set(events) == {"delivered", "failed"}
    delivered, failed = events["delivered"], events["failed"]
    assert delivered["recipient"] == "bob@example.com" and delivered["domain"] == DOMAIN
    assert delivered["tags"] == ["orders"] and delivered["user_variables"] == {"order": "7"}
    assert delivered["status_code"] == 250 and delivered["message_id"].endswith(f"@{DOMAIN}")
    assert delivered["time"].endswith("Z") and "raw" not in delivered
    assert (failed["recipient"], failed["severity"], failed["reason"]) == (
        "gone@example.com",
        "permanent",
        "suppress-bounce",
    )


def test_forged_stale_replayed_malformed_and_oversized_posts_are_refused_and_counted(make_listener, serve, http, out):
    base = serve(make_listener(max_body=2000))
    good = json_post(EVENT)
    assert http.post(base + "/", json=good).json() == {"status": "delivered", "id": "ev-1"}
    answers = {
        "replayed": http.post(base + "/", json=good),
        "forged": http.post(base + "/", json=json_post(EVENT, key="another-key")),
        "stale": http.post(base + "/", json=json_post(EVENT, timestamp=time.time() - 301)),
        "future": http.post(base + "/", json=json_post(EVENT, timestamp=time.time() + 400)),
        "malformed": http.post(base + "/", json={"event-data": EVENT}),
        "too_large": http.post(base + "/", json={**good, "pad": "x" * 3000}),
    }
    statuses = {name: (r.status_code, r.json()["error"]) for name, r in answers.items()}
    assert statuses == {
        "replayed": (409, "replayed"),
        "forged": (401, "forged"),
        "stale": (403, "stale"),
        "future": (403, "stale"),
        "malformed": (400, "malformed"),
        "too_large": (413, "too_large"),
    }
    assert "in the future" in answers["future"].json()["message"]
    health = http.get(base + "/healthz").json()
    assert health["delivered"] == 1
    assert health["refused"] == {"malformed": 1, "forged": 1, "stale": 2, "replayed": 1, "too_large": 1}
    assert [line["id"] for line in _lines(out)] == ["ev-1"]


def test_the_legacy_form_shape_gives_the_same_event_as_json(make_listener, serve, http, out):
    base = serve(make_listener())
    stamp = str(int(time.time()))
    form = {
        **signature(stamp, "legacy-token-1"),
        "event": "bounced",
        "recipient": "gone@example.com",
        "domain": DOMAIN,
        "Message-Id": "<abc@mg.example.com>",
        "code": "550",
        "error": "No such user",
        "tag": "orders",
        "order": "7",
    }
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert http.post(base + "/legacy", content=urlencode(form), headers=headers).status_code == 200
    [event] = _lines(out)
    assert event == {
        "domain": DOMAIN,
        "event": "failed",
        "id": "legacy-legacy-token-1",
        "ip": None,
        "message_id": "abc@mg.example.com",
        "reason": "bounced",
        "recipient": "gone@example.com",
        "severity": "permanent",
        "status_code": 550,
        "status_message": "No such user",
        "storage_url": None,
        "tags": ["orders"],
        "time": event["time"],
        "timestamp": float(stamp),
        "url": None,
        "user_variables": {"order": "7"},
    }
    forged = {**form, "token": "legacy-token-2"}
    assert http.post(base + "/legacy", content=urlencode(forged), headers=headers).json()["error"] == "forged"


def test_a_legacy_multipart_post_gives_the_same_event_and_leaves_attachments_out(make_listener, serve, http, out):
    base = serve(make_listener())
    stamp = str(int(time.time()))
    form = {
        **signature(stamp, "multipart-token-1"),
        "event": "dropped",
        "recipient": "gone@example.com",
        "domain": DOMAIN,
        "Message-Id": "<m1@mg.example.com>",
        "reason": "hardfail",
        "description": "Not delivering to previously bounced address",
        "attachment-count": "1",
    }
    files = {"attachment-1": ("message.eml", b"\x00\xffbinary", "message/rfc822")}
    answer = http.post(base + "/legacy", data=form, files=files)
    assert answer.status_code == 200, answer.text
    [event] = _lines(out)
    assert (event["event"], event["severity"], event["recipient"]) == ("failed", "permanent", "gone@example.com")
    assert event["message_id"] == "m1@mg.example.com" and "attachment-1" not in event["user_variables"]
    broken = http.post(
        base + "/legacy", content=b"--x\r\nno parts", headers={"content-type": "multipart/form-data; boundary=y"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "malformed"


def test_forward_retries_then_delivers(make_listener, serve, http, target):
    target.statuses = [503, 502]
    sink = ForwardSink(target.url, Retry(attempts=3, first_wait=0.01))
    base = serve(make_listener(sink=sink, raw=True))
    answer = http.post(base + "/", json=json_post(EVENT))
    assert answer.json() == {"status": "delivered", "id": "ev-1"}
    assert len(target.bodies) == 3 and target.bodies[-1]["raw"] == EVENT


def test_forward_target_down_puts_the_event_in_the_dead_letter_file(make_listener, serve, http, target, dead_file):
    target.statuses = [500, 500, 500]
    sink = ForwardSink(target.url, Retry(attempts=3, first_wait=0.01))
    base = serve(make_listener(sink=sink))
    answer = http.post(base + "/", json=json_post(EVENT))
    assert answer.status_code == 200 and answer.json()["status"] == "dead_lettered"
    [record] = [json.loads(line) for line in dead_file.read_text().splitlines()]
    assert record["event"]["id"] == "ev-1" and record["target"] == "forward"
    assert record["reason"] == f"{target.url} answered 500 (after 3 tries)"
    assert dead_file.stat().st_mode & 0o777 == 0o600
    assert http.get(base + "/healthz").json()["dead_lettered"] == 1


def test_a_refusing_target_is_not_retried(make_listener, serve, http, target, dead_file):
    target.statuses = [400]
    base = serve(make_listener(sink=ForwardSink(target.url, Retry(attempts=3, first_wait=0.01))))
    assert http.post(base + "/", json=json_post(EVENT)).json()["status"] == "dead_lettered"
    assert len(target.bodies) == 1 and "answered 400 (after 1 try)" in dead_file.read_text()


def test_exec_runs_the_command_with_the_event_on_stdin(make_listener, serve, http, tmp_path, dead_file):
    seen = tmp_path / "seen.json"
    script = f"import sys, pathlib; pathlib.Path({str(seen)!r}).write_text(sys.stdin.read())"
    base = serve(make_listener(sink=ExecSink(_python(script))))
    assert http.post(base + "/", json=json_post(EVENT)).json()["status"] == "delivered"
    assert json.loads(seen.read_text())["recipient"] == "bob@example.com"
    assert not dead_file.exists()


@pytest.mark.parametrize(
    ("code", "timeout", "reason"),
    [("raise SystemExit(3)", 10.0, "exited with status 3"), ("import time; time.sleep(5)", 0.3, "ran past 0.3 s")],
)
def test_exec_failure_or_timeout_dead_letters_the_event(make_listener, serve, http, dead_file, code, timeout, reason):
    base = serve(make_listener(sink=ExecSink(_python(code), timeout=timeout)))
    assert http.post(base + "/", json=json_post(EVENT)).json()["status"] == "dead_lettered"
    assert reason in json.loads(dead_file.read_text())["reason"]


def test_no_place_for_the_dead_letter_answers_503_and_accepts_the_retry(make_listener, serve, http, tmp_path, out):
    blocked = tmp_path / "file"
    blocked.write_text("")
    listener = make_listener(sink=ExecSink(_python("raise SystemExit(1)")))
    listener.dead_letters = DeadLetters(blocked / "dead.jsonl")  # under a file: cannot be created
    base = serve(listener)
    post = json_post(EVENT)
    first = http.post(base + "/", json=post)
    assert first.status_code == 503 and first.json()["error"] == "unhandled"
    listener.dead_letters = DeadLetters(tmp_path / "dead.jsonl")
    assert http.post(base + "/", json=post).json()["status"] == "dead_lettered"  # same token, accepted this time
    assert http.get(base + "/healthz").json()["unhandled"] == 1


def test_the_signing_key_never_appears_in_the_logs(make_listener, serve, http, caplog):
    base = serve(make_listener())
    with caplog.at_level("INFO", logger="mg_tools"):
        http.post(base + "/", json=json_post(EVENT, key="wrong"))
        http.post(base + "/", json=json_post(EVENT))
    assert {r.event for r in caplog.records} >= {"webhook_refused", "webhook_delivered"}
    assert KEY not in caplog.text
