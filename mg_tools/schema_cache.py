"""Input schemas kept on disk between runs, so a server lists its tools without generating them again.

Generating the compact schema of every params model is most of what an all-mode server does before
it can answer tools/list. :func:`warm` loads them from ``schemas.json`` in the state directory and
writes the file again when it had to generate some. The file holds the fingerprint it was written
under: the path, size and modification time of every module file of mg-tools and of each package the
models come from (the installed plugins), and the versions of mg-tools, pydantic and Python. Under
another fingerprint the file is ignored and rewritten, so changing, adding, removing or upgrading a
plugin invalidates it. Deleting the file is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mg_tools import schema

if TYPE_CHECKING:
    from pydantic import BaseModel

    from mg_tools.settings import Settings

__all__ = ["CACHE_FILE", "cache_path", "warm"]

CACHE_FILE = "schemas.json"


def cache_path(settings: Settings) -> Path | None:
    """The cache file in the state directory of ``settings``; None when there is no usable one."""
    from mg_tools.state import state_dir

    try:
        return state_dir(settings) / CACHE_FILE
    except OSError:
        return None


def warm(models: Iterable[type[BaseModel]], path: Path | None) -> None:
    """Make the input schema of each of ``models`` ready: from the file at ``path`` where it holds a
    current one, else generated (and then the file is rewritten with it)."""
    if path is None:
        return
    keyed = {key: model for model in dict.fromkeys(models) if (key := _key(model)) is not None}
    packages = sorted({_top(key) for key in keyed} | {"mg_tools"})
    fingerprint = _fingerprint([f for package in packages for f in _files(package)], *_versions())
    stored = _read(path, fingerprint)
    fresh: dict[str, dict[str, Any]] = {}
    for key, model in keyed.items():
        if key in stored:
            schema.remember(model, stored[key])
        elif not schema.known(model):
            built = schema.input_schema(model)
            if json.loads(json.dumps(built)) == built:  # only what reads back identical is kept
                fresh[key] = built
    if fresh:
        _write(path, {"fingerprint": fingerprint, "schemas": {**stored, **fresh}})


def _key(model: type) -> str | None:
    """Where a model is defined, ``module:qualname``; None for one made inside a function or not
    defined in a module file."""
    qualname = getattr(model, "__qualname__", "")
    module = sys.modules.get(model.__module__.partition(".")[0])
    if "<locals>" in qualname or not (getattr(module, "__file__", None) or getattr(module, "__path__", None)):
        return None
    return f"{model.__module__}:{qualname}"


def _top(key: str) -> str:
    return key.partition(":")[0].partition(".")[0]


def _files(package: str) -> list[Path]:
    """Every module file of an imported top-level package (or its one file)."""
    module = sys.modules[package]
    roots = list(getattr(module, "__path__", ()))
    if not roots:
        return [Path(module.__file__)]
    return sorted(p for root in roots for p in Path(root).rglob("*.py"))


def _fingerprint(files: Iterable[Path], *extra: str) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in extra:
        digest.update(part.encode() + b"\0")
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _versions() -> tuple[str, ...]:
    import pydantic
    import pydantic_core

    from mg_tools import __version__

    return __version__, pydantic.VERSION, pydantic_core.__version__, sys.version


def _read(path: Path, fingerprint: str) -> dict[str, dict[str, Any]]:
    """The stored schemas when the file was written under the same fingerprint; else none."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
        return {}
    schemas = data.get("schemas")
    return {k: v for k, v in schemas.items() if isinstance(v, dict)} if isinstance(schemas, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file at once, so a server starting meanwhile reads the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
