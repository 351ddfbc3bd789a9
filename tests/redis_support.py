"""A ``redis-server`` of the test run, for the tests of state shared through Redis (fixtures
``redis_server`` and ``redis_url`` in ``conftest.py``).

Each test module that uses it starts its own server on a free loopback port, in a temporary
directory, and stops it at the end; the system's service is never touched. Without the binary the
tests are skipped locally, and fail in CI, which installs it (``.ci/run``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

PASSWORD = "s3cret-redis-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A ``redis-server`` of this test run, on loopback, with a password and nothing written to disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        args += ["--save", "", "--appendonly", "no", "--requirepass", PASSWORD]
        self.process = subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.01)  # the server's own start-up: nothing to wait on but its port

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
