"""The /docs page, rendered by headless Chromium: every tool is on it, and nothing is loaded from
anywhere but the gateway itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from mg_tools import Toolkit
from mg_tools.mcp_server import UVICORN_LOG_CONFIG, http_app
from mg_tools.sandbox.server import serve_in_background

CHROMIUM = shutil.which("chromium")


def test_the_docs_page_shows_every_tool_without_outside_assets(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is needed to render the /docs page (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with (
        Toolkit(sandbox=True) as toolkit,
        serve_in_background(http_app(toolkit), name="gateway", log_config=UVICORN_LOG_CONFIG, access_log=False) as url,
    ):
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}"]
        dom = subprocess.run([*argv, "--dump-dom", f"{url}/docs"], capture_output=True, text=True, timeout=60).stdout
        names = {op.name for op in toolkit.operations()}
    sections = set(re.findall(r'<section id="([a-z0-9_]+)">', dom))
    assert sections == names
    assert "curl -X POST http://127.0.0.1:" in dom and "<table>" in dom
    assert not re.search(r"<(script|link|img|iframe)\b", dom)
    outside = [u for u in re.findall(r'(?:src|href)="([^"#]+)"', dom) if not u.startswith(("openapi.json", url))]
    assert outside == []
