"""The sandbox's SQLite state survives restarts (in-process and of a real ``serve()`` process), and
concurrent requests from many threads are safe."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx

from mg_tools.sandbox import DEFAULT_API_KEY, create_app
from mg_tools.sandbox.server import BackgroundSandbox, banner

DOMAIN = "mg.example.com"
AUTH = ("api", DEFAULT_API_KEY)
NOW = 1_790_000_000.0


def _form(to: str, **extra: str) -> dict[str, str]:
    return {"from": "ann@mg.example.com", "to": to, "subject": f"Hi {to}", "text": "Hello", **extra}


def test_state_file_survives_a_restart(connect, tmp_path):
    path = str(tmp_path / "sandbox.sqlite")
    first = create_app(state_path=path)
    first.state.sandbox.clock = lambda: NOW
    due = format_datetime(datetime.fromtimestamp(NOW + 600, tz=UTC))
    with connect(first) as client:
        client.post(f"/v3/{DOMAIN}/messages", data=_form("bob@example.com", **{"o:tag": "kept"}))
        client.post(f"/v3/{DOMAIN}/messages", data=_form("later@example.com", **{"o:deliverytime": due}))
    first.state.sandbox.state.close()

    second = create_app(state_path=path)
    second.state.sandbox.clock = lambda: NOW + 601
    with connect(second) as client:
        events = client.get(f"/v3/{DOMAIN}/events", params={"ascending": "yes"}).json()["items"]
        # The scheduled message was kept and is delivered by the first request after its time.
        assert [(e["event"], e["recipient"]) for e in events] == [
            ("accepted", "bob@example.com"),
            ("delivered", "bob@example.com"),
            ("accepted", "later@example.com"),
            ("delivered", "later@example.com"),
        ]
        stored = client.get(events[1]["storage"]["url"]).json()
        assert stored["Subject"] == "Hi bob@example.com" and stored["body-plain"] == "Hello"
        assert client.get(f"/v3/{DOMAIN}/tag", params={"tag": "kept"}).status_code == 200
        client.post(f"/v3/{DOMAIN}/messages", data=_form("cy@example.com"))
        after = client.get(f"/v3/{DOMAIN}/events", params={"limit": 300}).json()["items"]
        assert len(after) == 6 and len({e["id"] for e in after}) == 6
    keys = second.state.sandbox.state.keys("event", f"{DOMAIN}/")
    assert len(set(keys)) == 6  # the event sequence continued after the restart


def test_concurrent_requests_from_threads(tmp_path):
    with BackgroundSandbox(state_path=str(tmp_path / "busy.sqlite")) as sandbox:

        def work(worker: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=sandbox.url, auth=AUTH, timeout=30) as client:
                for i in range(3):
                    sent = client.post(f"/v3/{DOMAIN}/messages", data=_form(f"w{worker}-{i}@example.com"))
                    read = client.get(f"/v3/{DOMAIN}/events", params={"limit": 50})
                    statuses += [sent.status_code, read.status_code]
            return statuses

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [s for result in pool.map(work, range(8)) for s in result]
        assert set(statuses) == {200}
        state = sandbox.sandbox.state
        events = state.list("event", f"{DOMAIN}/")
        assert len(events) == 48 and len({e["id"] for e in events}) == 48
        assert sorted(e["recipient"] for e in events if e["event"] == "delivered") == sorted(
            f"w{w}-{i}@example.com" for w in range(8) for i in range(3)
        )
        assert state.count("message", f"{DOMAIN}/") == 24


def _start(path: str) -> tuple[subprocess.Popen, str]:
    code = f"from mg_tools.sandbox.server import serve; serve(port=0, state_path={path!r}, log_level='warning')"
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert line.startswith("mg-tools sandbox on http://127.0.0.1:"), line
    assert "sandbox-key" in line and "MAILGUN_API_BASE_URL=" in line
    return proc, line.split()[3]


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.communicate(timeout=10)


def test_serve_process_restart_keeps_state(tmp_path):
    path = str(tmp_path / "served.sqlite")
    proc, url = _start(path)
    try:
        sent = httpx.post(f"{url}/v3/{DOMAIN}/messages", data=_form("bob@example.com"), auth=AUTH)
        assert sent.status_code == 200
        assert httpx.get(f"{url}/v4/domains", auth=("api", "wrong")).status_code == 401
    finally:
        _stop(proc)
    proc, url = _start(path)
    try:
        events = httpx.get(f"{url}/v3/{DOMAIN}/events", auth=AUTH).json()["items"]
        assert {(e["event"], e["recipient"]) for e in events} == {
            ("accepted", "bob@example.com"),
            ("delivered", "bob@example.com"),
        }
        assert events[0]["storage"]["url"].startswith("http://127.0.0.1:")
    finally:
        _stop(proc)


def test_banner_says_how_to_connect():
    line = banner("http://127.0.0.1:8025", "k-1", "s-1", "/tmp/state.sqlite")
    assert "http://127.0.0.1:8025" in line and "'k-1'" in line and "'s-1'" in line
    assert "/tmp/state.sqlite" in line and "\n" not in line


def test_mail_scheduled_by_another_process_on_the_same_file_is_delivered(connect, tmp_path):
    path = str(tmp_path / "sandbox.sqlite")
    serving, other = create_app(state_path=path), create_app(state_path=path)
    for app in (serving, other):
        app.state.sandbox.clock = lambda: NOW
    due = format_datetime(datetime.fromtimestamp(NOW + 600, tz=UTC))
    with connect(serving) as client, connect(other) as elsewhere:
        client.get("/v4/domains")  # nothing is scheduled yet: the serving app remembers that
        elsewhere.post(f"/v3/{DOMAIN}/messages", data=_form("later@example.com", **{"o:deliverytime": due}))
        serving.state.sandbox.clock = lambda: NOW + 601
        client.get("/v4/domains")
        delivered = client.get(f"/v3/{DOMAIN}/events", params={"event": "delivered"}).json()["items"]
        assert [e["recipient"] for e in delivered] == ["later@example.com"]
    for app in (serving, other):
        app.state.sandbox.state.close()
