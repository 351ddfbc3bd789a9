"""Which local files attachments may come from, and that special files are never read."""

import os
import threading
from pathlib import Path

import pytest
from reliability.support import SEND, Recorder, recording_toolkit

from mg_tools import InvalidArguments, Toolkit
from mg_tools.files import default_roots


def send_with(mg, path) -> None:
    mg.run(mg.execute("send_message", {**SEND, "attachments": [{"path": str(path)}]}))


@pytest.mark.parametrize("cwd", ["/", "/etc", "/proc", "/proc/self", "/sys", "/dev", "HOME"])
def test_no_default_file_access_from_system_directories_or_home(monkeypatch, cwd):
    monkeypatch.chdir(Path.home() if cwd == "HOME" else cwd)
    assert default_roots() == ()


def test_a_project_directory_is_the_default_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert default_roots() == (tmp_path.resolve(),)
    monkeypatch.setenv("MG_TOOLS_FILES_DIR", f"/srv/a{os.pathsep}/srv/b")
    assert default_roots() == (Path("/srv/a"), Path("/srv/b"))


def test_started_from_root_the_api_key_in_proc_cannot_be_mailed_out(monkeypatch):
    monkeypatch.chdir("/")
    recorder = Recorder()
    for mg in (recording_toolkit(recorder), Toolkit(api_key="fake-key-1234", transport=recorder.transport)):
        with pytest.raises(InvalidArguments, match="reading local files is off here: set MG_TOOLS_FILES_DIR"):
            send_with(mg, "/proc/self/environ")
    assert recorder.requests == []


@pytest.mark.parametrize(
    "path", ["/proc/self/environ", "/proc/self/cmdline", "/sys/kernel/hostname", "/dev/zero", "/dev/urandom"]
)
def test_system_files_are_never_read_even_when_allowed(monkeypatch, path):
    recorder = Recorder()
    mg = recording_toolkit(recorder, file_roots=["/"])
    with pytest.raises(InvalidArguments, match="never read|not a regular file"):
        send_with(mg, path)
    assert recorder.requests == []


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    recorder = Recorder()
    mg = recording_toolkit(recorder, file_roots=[tmp_path])
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            send_with(mg, fifo)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], InvalidArguments) and "not a regular file" in outcome[0].message
    assert recorder.requests == []


def test_a_link_out_of_the_allowed_directory_is_refused(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "env").symlink_to("/proc/self/environ")
    recorder = Recorder()
    mg = recording_toolkit(recorder, file_roots=[tmp_path / "files"])
    with pytest.raises(InvalidArguments, match="outside the allowed file directories"):
        send_with(mg, tmp_path / "files" / "env")
    assert recorder.requests == []


def test_a_regular_file_in_an_allowed_directory_is_attached(tmp_path):
    (tmp_path / "report.txt").write_bytes(b"numbers")
    recorder = Recorder(body={"id": "<1@mg>", "message": "Queued."})
    mg = recording_toolkit(recorder, file_roots=[tmp_path])
    send_with(mg, tmp_path / "report.txt")
    assert b"numbers" in recorder.requests[0].content
