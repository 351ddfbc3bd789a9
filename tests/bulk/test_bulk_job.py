"""send_batch against the sandbox: 25,000 recipients through rate limits, a lost answer and a failing
Mailgun, each recipient getting exactly one copy; unknown batches wait for the caller's decision."""

import json

import pytest
from bulk_support import MESSAGE, add_fault, copies, people
from mcp import Client

from mg_tools import InvalidArguments, Policy, Toolkit
from mg_tools.bulk import job
from mg_tools.mcp_server import build_server


def test_25000_recipients_through_faults_each_get_exactly_one_copy(tk, served):
    everyone = people(25_000)
    app = served.app
    # Rules fire in order: batch 0 meets more 429s than the client retries, then loses its answer
    # after the sandbox took it; batch 1 meets a 503; the other 23 go through.
    add_fault(app, method="POST", path="/messages$", status=429, retry_after=0, times=6)
    add_fault(app, method="POST", path="/messages$", drop="after", times=1)
    add_fault(app, method="POST", path="/messages$", status=503, times=1)
    out = tk.call("send_batch", **MESSAGE, recipients=everyone, job="big")
    assert out["status"] == "incomplete" and out["batches"] == 25 and out["batches_sent"] == 23
    assert [b["recipients"] for b in out["unknown"]] == ["1-1000"]
    assert [b["recipients"] for b in out["failed"]] == ["1001-2000"] and "503" in out["failed"][0]["reason"]
    assert "unknown='skip'" in out["next"] and "job='big'" in out["next"]
    got = copies(app)
    assert len(got) == 24_000 and set(got.values()) == {1} and "r1000@example.com" not in got

    again = tk.call("send_batch", **MESSAGE, recipients=everyone, job="big")
    assert again["status"] == "incomplete" and again["batches_sent"] == 24 and "failed" not in again
    assert [b["batch"] for b in again["unknown"]] == [0]  # reported, not sent again
    assert len(copies(app)) == 25_000 and set(copies(app).values()) == {1}

    done = tk.call("send_batch", **MESSAGE, recipients=everyone, job="big", unknown="skip")
    assert done["status"] == "done" and [b["batch"] for b in done["skipped"]] == [0] and "next" not in done
    assert set(copies(app).values()) == {1}


def test_resend_sends_an_unknown_batch_again(tk, served, monkeypatch):
    monkeypatch.setattr(job, "BATCH_SIZE", 2)
    add_fault(served.app, method="POST", path="/messages$", drop="after", times=1)
    out = tk.call("send_batch", **MESSAGE, recipients=people(5), job="j")
    assert [b["batch"] for b in out["unknown"]] == [0] and out["batches_sent"] == 2
    done = tk.call("send_batch", **MESSAGE, recipients=people(5), job="j", unknown="resend")
    assert done["status"] == "done" and done["batches_sent"] == 3
    assert copies(served.app) == {
        "r0@example.com": 2,
        "r1@example.com": 2,
        **dict.fromkeys(["r2@example.com", "r3@example.com", "r4@example.com"], 1),
    }


def test_a_policy_refusal_stops_the_job_and_resuming_sends_the_rest(tmp_path):
    refusing = Toolkit(sandbox=True, policy=Policy.build(grants="*:*", deny="send_message"))
    out = refusing.call("send_batch", **MESSAGE, recipients=people(3), job="p")
    assert out["status"] == "incomplete" and out["batches_sent"] == 0
    assert "send_message" in out["refused"][0]["reason"] and "job='p'" in out["next"]
    assert copies(refusing.sandbox_app) == {}
    refusing.close()


def test_the_journal_refuses_a_resume_with_other_recipients(tk):
    tk.call("send_batch", **MESSAGE, recipients=people(2), job="same")
    with pytest.raises(InvalidArguments, match="different recipients"):
        tk.call("send_batch", **MESSAGE, recipients=people(3), job="same")


def test_recipients_file_is_read_only_under_the_file_roots(tk, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\n")
    out = tk.call("send_batch", **MESSAGE, recipients_file=str(path))
    assert out["status"] == "done" and out["recipients_sent"] == 2
    with pytest.raises(InvalidArguments, match="outside the allowed file directories"):
        tk.call("send_batch", **MESSAGE, recipients_file="/etc/passwd")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"recipients": [{"address": "bad"}]}, "recipients.0.address"),
        ({"recipients": [{"address": "a@example.com"}, {"address": "A@EXAMPLE.COM"}]}, "already a recipient"),
        ({"recipients": None}, "give recipients or recipients_file"),
        ({"text": None}, "give at least one of text"),
        ({"unknown": "maybe"}, "unknown"),
    ],
)
def test_bad_input_sends_nothing(tk, served, changes, problem):
    arguments = {**MESSAGE, "recipients": people(2), **changes}
    with pytest.raises(InvalidArguments, match=problem):
        tk.call("send_batch", **{k: v for k, v in arguments.items() if v is not None})
    assert copies(served.app) == {}


@pytest.mark.anyio
async def test_an_mcp_client_with_a_progress_token_gets_progress(tk, monkeypatch):
    monkeypatch.setattr(job, "BATCH_SIZE", 2)
    seen = []

    async def progress(done, total, message):
        seen.append((done, total))

    async with Client(build_server(tk)) as client:
        result = await client.call_tool("send_batch", {**MESSAGE, "recipients": people(5)}, progress_callback=progress)
        assert not result.is_error and json.loads(result.content[0].text)["result"]["status"] == "done"
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_a_quota_stops_the_job_cleanly_between_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(job, "BATCH_SIZE", 2)
    policy = tmp_path / "policy.cedar"
    policy.write_text(
        "permit (principal, action, resource);\n"
        '@id("cap")\n'
        'forbid (principal, action in Action::"send", resource)\n'
        "when { context.usage.recipients_24h + context.recipient_count > 3 };\n"
    )
    with Toolkit(sandbox=True, policy_file=policy) as capped:
        out = capped.call("send_batch", **MESSAGE, recipients=people(5), job="q")
        assert out["status"] == "incomplete" and out["batches_sent"] == 1 and out["recipients_sent"] == 2
        assert [b["batch"] for b in out["refused"]] == [1] and "cap" in out["refused"][0]["reason"]
        assert "job='q'" in out["next"] and "pending" in out
        assert set(copies(capped.sandbox_app)) == {"r0@example.com", "r1@example.com"}


def test_one_job_runs_in_one_place_at_a_time(tk):
    tk.call("send_batch", **MESSAGE, recipients=people(2), job="solo")
    journal = job.Journal(job.journal_path(job.state_dir()))
    try:
        with journal.worker("solo"), pytest.raises(InvalidArguments, match="another process right now"):
            tk.call("send_batch", **MESSAGE, recipients=people(2), job="solo", unknown="resend")
    finally:
        journal.close()
    again = tk.call("send_batch", **MESSAGE, recipients=people(2), job="solo")
    assert again["status"] == "done" and again["batches_sent"] == 1
