"""The sandbox as a standalone HTTP server, for ``mg-tools sandbox`` and for tests.

:func:`serve` runs it in the foreground (uvicorn, logs on stderr); :class:`BackgroundSandbox` runs
it on a free loopback port in a thread, for tests and notebooks::

    with BackgroundSandbox() as sandbox:
        httpx.get(f"{sandbox.url}/v4/domains", auth=("api", sandbox.api_key))

:func:`serve_in_background` does the same for any ASGI app (an MCP server, a webhook receiver).
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from mg_tools.errors import ConfigurationError
from mg_tools.sandbox.app import DEFAULT_API_KEY, DEFAULT_SIGNING_KEY, create_app
from mg_tools.sandbox.core import is_loopback_host

__all__ = ["BackgroundSandbox", "banner", "check_exposure", "serve", "serve_in_background"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025


def check_exposure(host: str, api_key: str) -> None:
    """Refuse to listen beyond this machine with the publicly documented key: anyone who can reach
    the port could read everything the sandbox holds and add to it."""
    if api_key == DEFAULT_API_KEY and not is_loopback_host(host):
        raise ConfigurationError(
            f"refusing to serve the sandbox on {host or 'every interface'} with the default API key, which "
            "is publicly documented: pass --api-key with a key of your own, or bind to 127.0.0.1"
        )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol matters: asyncio sets TCP_NODELAY only on accepted sockets whose protocol
    # says TCP, and without it a keep-alive client waits ~40 ms for each answer (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening at once queues early connections, so the sandbox is reachable as soon as
        # its URL is printed, before uvicorn has finished starting.
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def banner(url: str, api_key: str, signing_key: str, state_path: str | None) -> str:
    """The one line printed at start-up: where the sandbox listens and how to point a client at it."""
    state = f"state in {state_path}" if state_path else "state in memory"
    return (
        f"mg-tools sandbox on {url} (API key {api_key!r}, webhook signing key {signing_key!r}, {state}); "
        f"point a client at it with MAILGUN_API_BASE_URL={url} and Basic auth api:{api_key}, e.g. "
        f"mailgun.client.Client(auth=('api', {api_key!r}), api_url={url!r})"
    )


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    state_path: str | None = None,
    api_key: str = DEFAULT_API_KEY,
    signing_key: str = DEFAULT_SIGNING_KEY,
    *,
    log_level: str = "info",
) -> None:
    """Run the sandbox in the foreground until interrupted (Ctrl-C).

    ``serve(host="127.0.0.1", port=8025, state_path=None, api_key="sandbox-key",
    signing_key="sandbox-signing-key", *, log_level="info")``

    - ``host``/``port``: where to listen (``port=0`` picks a free port; the banner shows it).
    - ``state_path``: a SQLite file that keeps the state across restarts; ``None`` keeps it in memory.
    - ``api_key``: the password clients send with Basic auth (user ``api``).
    - ``signing_key``: the key webhook signatures are made with (HMAC-SHA256 of timestamp + token).

    Logs go to stderr, and so does one line with the URL, the keys and how to point an SDK at it.
    Raises ``ConfigurationError`` for an address beyond loopback (127.0.0.0/8, ``::1``,
    ``localhost``) with the default API key, before binding anything, and ``OSError`` when the
    address is taken.
    """
    check_exposure(host, api_key)
    sock = _bind(host, port)
    url = _url(host, sock.getsockname()[1])
    app = create_app(api_key=api_key, state_path=state_path, signing_key=signing_key)
    print(banner(url, api_key, signing_key, state_path), file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


class _BackgroundServer:
    """uvicorn serving ``app`` from a daemon thread, on a socket bound (and listening) at once."""

    def __init__(self, app: Any, host: str, port: int, *, name: str, **config: Any) -> None:
        config.setdefault("lifespan", "off")
        self.name = name
        self.sock = _bind(host, port)
        self.url = _url(host, self.sock.getsockname()[1])
        self._server = _Server(uvicorn.Config(app, **config))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, name=f"mg-tools-{name}", daemon=True
        )

    def start(self, timeout: float) -> None:
        self._thread.start()
        if not self._server.ready.wait(timeout) or not self._server.started:
            self.stop(timeout)
            raise RuntimeError(f"the {self.name} did not start on {self.url}")

    def stop(self, timeout: float) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.sock.close()


@contextmanager
def serve_in_background(
    app: Any, *, host: str = DEFAULT_HOST, port: int = 0, name: str = "server", timeout: float = 10.0, **config: Any
) -> Iterator[str]:
    """Serve any ASGI ``app`` with uvicorn from a background thread on ``host`` and a free port (or
    ``port``) for the duration of the block; yields its base URL once it accepts connections.

    ``config`` goes to ``uvicorn.Config`` (``lifespan`` defaults to ``"off"``); ``name`` names the
    thread and the ``RuntimeError`` raised when the server does not start within ``timeout`` seconds.
    """
    server = _BackgroundServer(app, host, port, name=name, **config)
    server.start(timeout)
    try:
        yield server.url
    finally:
        server.stop(timeout)


class BackgroundSandbox:
    """A sandbox served by uvicorn from a background thread, on ``host`` and a free port.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`). ``url`` is its base URL,
    ``app`` the ASGI app and ``sandbox`` the :class:`~mg_tools.sandbox.core.Sandbox` (state, clock).
    Like :func:`serve`, it refuses an address beyond loopback with the default API key.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        state_path: str | None = None,
        api_key: str = DEFAULT_API_KEY,
        signing_key: str = DEFAULT_SIGNING_KEY,
        log_level: str = "warning",
    ) -> None:
        check_exposure(host, api_key)
        self.api_key = api_key
        self.app = create_app(api_key=api_key, state_path=state_path, signing_key=signing_key)
        self.sandbox: Any = self.app.state.sandbox
        self._server = _BackgroundServer(self.app, host, port, name="sandbox", log_level=log_level)
        self.url = self._server.url

    def start(self, timeout: float = 10.0) -> BackgroundSandbox:
        """Start serving; returns once the server accepts connections."""
        self._server.start(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and release the port and the state file."""
        self._server.stop(timeout)
        self.sandbox.state.close()

    def __enter__(self) -> BackgroundSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
