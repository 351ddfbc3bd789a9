"""``mg-tools webhooks listen`` in its own process: it registers the domain's webhooks in the sandbox,
the sandbox fires them when a message is sent, and each event comes out as one JSON line on stdout."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time

import pytest

from mg_tools import Toolkit
from mg_tools.cli import main

DOMAIN = "mg.example.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _readline(stream, timeout: float = 15.0) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no line within the time limit"
    return stream.readline()


@pytest.fixture
def listen(tmp_path):
    processes = []

    def start(*args: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "mg_tools", "webhooks", "listen", *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def test_listen_registers_the_webhooks_and_prints_each_event(listen, tmp_path):
    state, port = str(tmp_path / "sandbox.sqlite"), _free_port()
    url = f"http://127.0.0.1:{port}/mailgun"
    process = listen(
        *("--sandbox", "--sandbox-state", state, "--port", str(port), "--dead-letter", str(tmp_path / "dead.jsonl")),
        *("--register", url, "--events", "delivered,opened", "--domain", DOMAIN),
    )
    lines = [_readline(process.stderr) for _ in range(2)]  # the registration, then where it listens
    assert "webhooks of mg.example.com" in lines[0] and '"delivered": "created", "opened": "created"' in lines[0]
    assert f"listen on http://127.0.0.1:{port}/" in lines[1]
    with Toolkit(sandbox=True, sandbox_state=state) as toolkit:
        assert toolkit.call("get_webhook", domain=DOMAIN, event="opened")["webhook"]["urls"] == [url]
        toolkit.call("send_message", domain=DOMAIN, sender=f"a@{DOMAIN}", to=["bob@example.com"], subject="S", text="T")
    event = json.loads(_readline(process.stdout))
    assert (event["event"], event["recipient"], event["domain"]) == ("delivered", "bob@example.com", DOMAIN)
    assert abs(event["timestamp"] - time.time()) < 60


def test_no_signing_key_is_one_line_and_exit_2(capsys):
    assert main(["webhooks", "listen"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MAILGUN_WEBHOOK_SIGNING_KEY" in err


def test_unknown_events_stop_before_anything_is_registered(capsys, tmp_path):
    state = str(tmp_path / "sandbox.sqlite")
    code = main(
        ["webhooks", "listen", "--sandbox", "--sandbox-state", state, "--register", "http://127.0.0.1:9/h"]
        + ["--events", "delivered,bounce", "--domain", DOMAIN]
    )
    assert code == 2 and "unknown webhook event bounce" in capsys.readouterr().err
    with Toolkit(sandbox=True, sandbox_state=state) as toolkit:
        assert toolkit.call("list_webhooks", domain=DOMAIN)["webhooks"] == {}
