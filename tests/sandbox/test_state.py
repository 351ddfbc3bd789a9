"""The state file and the directories made for it are private to their owner, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mg_tools.sandbox import DEFAULT_DOMAIN, create_app
from mg_tools.sandbox.state import State


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request):
    """A permissive umask for the test, restored afterwards."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_new_state_file_and_its_directories_are_private(tmp_path, umask, connect):
    path = tmp_path / "a" / "b" / "sandbox.sqlite"
    app = create_app(state_path=str(path))
    with connect(app) as client:
        sent = client.post(
            f"/v3/{DEFAULT_DOMAIN}/messages",
            data={"from": f"ann@{DEFAULT_DOMAIN}", "to": "bob@example.com", "subject": "Hi", "text": "x"},
        )
        assert sent.status_code == 200
        side_files = list(tmp_path.glob("a/b/sandbox.sqlite-*"))
        assert side_files, "SQLite in WAL mode keeps -wal and -shm files while open"
        assert {p.name: _mode(p) for p in side_files} == {p.name: 0o600 for p in side_files}
    app.state.sandbox.state.close()
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700


def test_existing_directory_is_left_alone(tmp_path, umask):
    tmp_path.chmod(0o755)
    State(str(tmp_path / "sandbox.sqlite")).close()
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "sandbox.sqlite") == 0o600


def test_existing_loose_state_file_is_tightened_with_a_warning(tmp_path, umask, caplog):
    path = tmp_path / "sandbox.sqlite"
    State(str(path)).close()
    path.chmod(0o644)
    wal = tmp_path / "sandbox.sqlite-wal"
    wal.write_bytes(b"")
    wal.chmod(0o666)
    with caplog.at_level("WARNING", logger="mg_tools.sandbox"):
        state = State(str(path))
    state.close()
    assert _mode(path) == 0o600
    assert not wal.exists() or _mode(wal) == 0o600
    tightened = [r for r in caplog.records if getattr(r, "event", "") == "sandbox.state_permissions_tightened"]
    assert {(r.path, r.was) for r in tightened} == {(str(path), "0o644"), (str(wal), "0o666")}
    assert all(r.levelname == "WARNING" for r in tightened)


def test_a_private_existing_file_is_not_touched(tmp_path, caplog):
    path = tmp_path / "sandbox.sqlite"
    State(str(path)).close()
    path.chmod(0o600)
    with caplog.at_level("DEBUG", logger="mg_tools.sandbox"):
        State(str(path)).close()
    assert _mode(path) == 0o600
    assert not [r for r in caplog.records if getattr(r, "event", "").startswith("sandbox.state")]


def test_state_survives_in_the_private_file(tmp_path, umask):
    path = str(tmp_path / "new" / "sandbox.sqlite")
    state = State(path)
    state.put("domain", "x.example.com", {"name": "x.example.com"})
    state.close()
    reopened = State(path)
    assert reopened.get("domain", "x.example.com") == {"name": "x.example.com"}
    reopened.close()


def test_memory_state_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    State().close()
    State(":memory:").close()
    assert list(tmp_path.iterdir()) == []


def test_call_with_the_default_sandbox_state_keeps_it_private(tmp_path, umask, monkeypatch, capsys):
    from mg_tools.cli import main

    monkeypatch.delenv("MG_TOOLS_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    code = main(["call", "get_domain", "--args", f'{{"name": "{DEFAULT_DOMAIN}"}}', "--sandbox"])
    assert code == 0, capsys.readouterr().err
    assert _mode(tmp_path / "xdg" / "mg-tools") == 0o700
    assert _mode(tmp_path / "xdg" / "mg-tools" / "sandbox.sqlite") == 0o600


def _counted(state: State, kind: str, calls: list[int]):
    def compute() -> int:
        calls.append(1)
        return state.count(kind)

    return compute


@pytest.mark.parametrize("path", [None, "file"])
def test_cached_values_are_computed_again_after_every_kind_of_change(tmp_path, path):
    state = State(str(tmp_path / "s.sqlite") if path else None)
    calls: list[int] = []
    compute = _counted(state, "thing", calls)
    assert state.cached("things", compute) == 0
    assert state.cached("things", compute) == 0 and len(calls) == 1  # unchanged: not computed again
    state.put("thing", "a", {})
    assert state.cached("things", compute) == 1
    state.delete("thing", "a")
    assert state.cached("things", compute) == 0
    state.put("thing", "b", {})
    state.clear("thing")
    assert state.cached("things", compute) == 0
    state.put("thing", "c", {})
    state.reset()
    assert state.cached("things", compute) == 0
    with pytest.raises(RuntimeError), state.transaction():
        state.put("thing", "d", {})
        assert state.cached("things", compute) == 1
        raise RuntimeError("rolled back")
    assert state.cached("things", compute) == 0
    assert len(calls) == 7  # once, then once after each change
    state.close()


def test_cached_values_see_what_another_connection_commits(tmp_path):
    path = str(tmp_path / "s.sqlite")
    mine, theirs = State(path), State(path)
    calls: list[int] = []
    compute = _counted(mine, "thing", calls)
    assert mine.cached("things", compute) == 0
    theirs.put("thing", "a", {})
    assert mine.cached("things", compute) == 1
    assert mine.cached("things", compute) == 1 and len(calls) == 2
    mine.close()
    theirs.close()
