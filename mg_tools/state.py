"""Where mg-tools keeps state between runs: ``MG_TOOLS_STATE_DIR``, else ``$XDG_STATE_HOME/mg-tools``,
else ``~/.local/state/mg-tools``. Created private to the user (0700); files in it are 0600."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "private_file", "state_dir"]

STATE_DIR_ENV = "MG_TOOLS_STATE_DIR"


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The state directory, created 0700 if missing (a looser existing mode is tightened)."""
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        path = Path(env[STATE_DIR_ENV]).expanduser()
    else:
        base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        path = base / "mg-tools"
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
