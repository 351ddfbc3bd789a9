"""Node for the tests that drive mg-tools with JavaScript SDKs: skipped without node and npm, except
in CI (``CI`` set), where a missing program fails the test instead."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def need(program: str, purpose: str) -> str:
    """The path of ``program``; skips (fails in CI) with ``purpose`` in the message when it is missing."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed: {purpose} need node and npm (apt-get install nodejs npm)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return path


def node_with_packages(project: Path, marker: Path, purpose: str) -> str:
    """The node binary, after ``npm ci`` in ``project`` when ``marker`` (an installed package.json) is missing."""
    node, npm = need("node", purpose), need("npm", purpose)
    if not marker.exists():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=project, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return node
