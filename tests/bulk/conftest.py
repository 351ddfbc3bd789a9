"""Fixtures for bulk sends: a sandbox served on a loopback port (a dropped connection is then a real
one) and a toolkit pointed at it."""

from __future__ import annotations

import pytest

from mg_tools import Toolkit
from mg_tools.sandbox.server import BackgroundSandbox


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def served():
    with BackgroundSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def tk(served, tmp_path):
    toolkit = Toolkit(api_key=served.api_key, base_url=served.url, file_roots=[tmp_path])
    yield toolkit
    toolkit.close()
