"""Where mg-tools keeps state between runs: ``MG_TOOLS_STATE_DIR``, else ``$XDG_STATE_HOME/mg-tools``,
else ``~/.local/state/mg-tools``. Created private to the user (0700); files in it are 0600."""

from __future__ import annotations

import os
from pathlib import Path

from mg_tools.settings import Settings

__all__ = ["STATE_DIR_ENV", "private_file", "state_dir"]

STATE_DIR_ENV = "MG_TOOLS_STATE_DIR"


def state_dir(settings: Settings | None = None) -> Path:
    """The state directory of ``settings`` (default: the environment's), created 0700 if missing (a
    looser existing mode is tightened)."""
    if settings is None:
        settings = Settings.from_env()
    path = settings.state_path
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """``path``, created empty with mode 0600 if missing (whatever the umask); an existing file
    readable by others is tightened to 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    else:
        os.close(fd)
    return path
