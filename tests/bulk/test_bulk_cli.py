"""`mg-tools batch send` killed mid-job resumes from its journal: the batch in flight is reported as
unknown, never sent again unless asked; every other recipient gets exactly one copy."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bulk_support import DOMAIN, add_fault, copies

from mg_tools.cli import main


def _send(tmp_path, served, *extra):
    env = {
        **os.environ,
        "MAILGUN_API_BASE_URL": served.url,
        "MAILGUN_API_KEY": served.api_key,
        "MG_TOOLS_FILES_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "mg_tools", "batch", "send", "--recipients", str(tmp_path / "r.csv")]
    command += ["--domain", DOMAIN, "--from", f"news@{DOMAIN}", "--subject", "Hi", "--text", "Hello", "--job", "k"]
    return subprocess.Popen([*command, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _batch_status(journal: Path, index: int) -> str | None:
    if not journal.exists():
        return None
    with sqlite3.connect(journal) as db:
        try:
            row = db.execute("SELECT status FROM batches WHERE job = 'k' AND idx = ?", (index,)).fetchone()
        except sqlite3.OperationalError:  # the journal is being created
            return None
    return row[0] if row else None


def test_a_killed_job_resumes_without_sending_twice(tmp_path, served):
    (tmp_path / "r.csv").write_text("address\n" + "".join(f"r{i}@example.com\n" for i in range(2500)))
    journal = Path(os.environ["MG_TOOLS_STATE_DIR"]) / "jobs.sqlite"
    add_fault(served.app, method="POST", path="/messages$", delay=2, times=1)  # holds the first batch in flight
    process = _send(tmp_path, served)
    deadline = time.monotonic() + 20
    while _batch_status(journal, 0) != "sending":
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(2.5)  # whatever the sandbox does with the request it holds, it has done it now
    first = copies(served.app).get("r0@example.com", 0)

    resumed = _send(tmp_path, served)
    out, err = resumed.communicate(timeout=60)
    answer = json.loads(out)
    assert resumed.returncode == 5 and answer["status"] == "incomplete"
    assert answer["unknown"] == [
        {"batch": 0, "recipients": "1-1000", "reason": "in flight when the job stopped: it may have been sent"}
    ]
    assert "job k is incomplete" in err and "unknown='resend'" in err
    got = copies(served.app)
    assert all(got[f"r{i}@example.com"] == 1 for i in range(1000, 2500))
    assert got.get("r0@example.com", 0) == first  # the unknown batch was not sent again

    again = _send(tmp_path, served, "--unknown", "resend")
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0 and json.loads(out)["status"] == "done"
    got = copies(served.app)
    assert {got[f"r{i}@example.com"] for i in range(1000)} == {first + 1}
    assert {got[f"r{i}@example.com"] for i in range(1000, 2500)} == {1}


def test_status_lists_jobs_and_names_an_unknown_one(capsys):
    assert main(["batch", "status"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["batch", "status", "nope"]) == 2
    assert "no job 'nope'" in capsys.readouterr().err
