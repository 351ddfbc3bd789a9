"""Which local files an attachment may be read from, and reading them safely.

An agent can name any path, so file access is narrow by default: only under ``MG_TOOLS_FILES_DIR``
(directories separated by ``os.pathsep``), or else under the working directory, and not even there
when the working directory is ``/``, ``/etc``, the home directory itself, or inside ``/proc``,
``/sys`` or ``/dev`` (MCP clients often start servers from ``/`` or ``~``). Only regular files on
ordinary file systems are read: never FIFOs, devices, sockets, or files of procfs and sysfs (whose
``/proc/self/environ`` would mail out the API key).
"""

from __future__ import annotations

import os
import stat
from functools import cache
from pathlib import Path

from mg_tools.settings import Settings

__all__ = ["FILES_DIR_ENV", "FileRefused", "default_roots", "read_regular_file"]

FILES_DIR_ENV = "MG_TOOLS_FILES_DIR"
_PSEUDO_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
_PSEUDO_FS = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "debugfs",
        "tracefs",
        "securityfs",
        "cgroup",
        "cgroup2",
        "bpf",
        "configfs",
        "efivarfs",
        "fusectl",
        "hugetlbfs",
        "mqueue",
        "pstore",
        "autofs",
        "binfmt_misc",
        "rpc_pipefs",
    }
)
#: Cap on one attachment read from disk; Mailgun's whole message limit is 25 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024


class FileRefused(Exception):
    """A path that may not be read; the message says why."""


def _unsafe_cwd(cwd: Path) -> bool:
    home = Path.home().resolve()
    if cwd in (Path("/"), Path("/etc"), home):
        return True
    return any(cwd == tree or cwd.is_relative_to(tree) for tree in _PSEUDO_TREES)


def default_roots(settings: Settings | None = None) -> tuple[Path, ...]:
    """The directories attachments may be read from: ``MG_TOOLS_FILES_DIR`` of ``settings`` (default:
    the environment's) when set, else the working directory when it is a safe one, else none (file
    access off)."""
    if settings is None:
        settings = Settings.from_env()
    if settings.files_dir:
        return settings.files_dir
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        return ()
    return () if _unsafe_cwd(cwd) else (cwd,)


@cache
def _mounts() -> tuple[tuple[Path, str], ...]:
    """(mount point, file system type), longest mount point first; empty where /proc is absent."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return ()
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            point = parts[1].encode().decode("unicode_escape")  # spaces come as \040
            found.append((Path(point), parts[2]))
    return tuple(sorted(found, key=lambda m: len(str(m[0])), reverse=True))


def _fs_type(path: Path) -> str:
    for point, kind in _mounts():
        if path == point or path.is_relative_to(point):
            return kind
    return ""


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` (already resolved), if it is a regular file on an ordinary file system.

    Opened without following links and without blocking (a FIFO would hang), then checked on the
    open descriptor, so the file read is the file checked."""
    if any(path == tree or path.is_relative_to(tree) for tree in _PSEUDO_TREES) or _fs_type(path) in _PSEUDO_FS:
        raise FileRefused("a system file (procfs, sysfs or a device), never read")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileRefused("no such file") from None
    except OSError as exc:
        raise FileRefused(f"cannot open the file ({exc.strerror or type(exc).__name__})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not a regular file (a directory, FIFO, socket or device)")
        if info.st_size > MAX_FILE_BYTES:
            raise FileRefused(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return data
