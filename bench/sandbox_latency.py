"""The sandbox as an HTTP server, against a bare uvicorn app serving the same bytes.

Both run as child processes on loopback: the sandbox as users start it (``mg-tools sandbox``), and a
bare ASGI app under ``uvicorn.run`` with the same server settings (access log on) that answers every
request with the headers and body the sandbox sends for ``GET /v4/domains/mg.example.com`` (fetched
from the sandbox first). The client is plain
asyncio streams writing raw HTTP/1.1, so it costs the same for both:

- keep-alive: one connection, one request at a time; p50 and p99.
- new connection: a fresh connection per request (``Connection: close``); p50 and p99.
- throughput: 16 keep-alive connections requesting as fast as answers come; requests/s.
- in process: the sandbox app and the bare app called directly (one ASGI call each, no server, no
  socket); p50 per request. The difference is the sandbox's own work, with none of the noise of
  the network stack.

Servers alternate in blocks (latency, in process) and rounds (throughput). Targets: the sandbox's keep-alive p50
at most 1.5x the bare app's, and at least 2,000 requests/s.

    .venv/bin/python bench/sandbox_latency.py [--requests N] [--seconds S] [--json FILE]
"""

from __future__ import annotations

import asyncio
import base64
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import (
    DIRECT_PATH,
    MG_TOOLS,
    PYTHON,
    SANDBOX_KEY,
    arg,
    emit,
    free_port,
    ms,
    percentile,
    spawn,
    table,
    verdict,
)
from overhead import alternate

LATENCY_TARGET = 1.5
THROUGHPUT_TARGET = 2000.0
ROUNDS = 4
CONNECTIONS = 16
AUTH = base64.b64encode(f"api:{SANDBOX_KEY}".encode()).decode()


def request(close: bool = False) -> bytes:
    connection = "close" if close else "keep-alive"
    return (
        f"GET {DIRECT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {AUTH}\r\n"
        f"Connection: {connection}\r\n\r\n"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length")
    )
    body = await reader.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected answer: {head[:60]!r}")
    return body


class Connection:
    """One keep-alive connection to ``port``; :meth:`get` sends the request and reads the answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self) -> bytes:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(request())
        return await read_response(reader)

    def close(self) -> None:
        if self.streams:
            self.streams[1].close()


async def fresh(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request(close=True))
    try:
        return await read_response(reader)
    finally:
        writer.close()


async def throughput(port: int, seconds: float) -> int:
    """Answers received by ``CONNECTIONS`` keep-alive connections in ``seconds``."""
    done = 0
    stop = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal done
        connection = Connection(port)
        try:
            while time.monotonic() < stop:
                await connection.get()
                done += 1
        finally:
            connection.close()

    await asyncio.gather(*(loop() for _ in range(CONNECTIONS)))
    return done


async def measure(ports: dict[str, int], requests: int, seconds: float) -> dict[str, Any]:
    connections = {name: Connection(port) for name, port in ports.items()}
    paths: dict[str, Callable[[], Awaitable[Any]]] = {}
    for name, port in ports.items():
        paths[f"{name} keep-alive"] = connections[name].get
        paths[f"{name} new connection"] = lambda port=port: fresh(port)
    times = await alternate(requests, **paths)
    for connection in connections.values():
        connection.close()
    answered = dict.fromkeys(ports, 0)
    for _ in range(ROUNDS):
        for name, port in ports.items():
            answered[name] += await throughput(port, seconds / ROUNDS)
    out: dict[str, Any] = {
        name: {
            "keep_alive_p50_ms": ms(percentile(times[f"{name} keep-alive"], 50)),
            "keep_alive_p99_ms": ms(percentile(times[f"{name} keep-alive"], 99)),
            "new_connection_p50_ms": ms(percentile(times[f"{name} new connection"], 50)),
            "new_connection_p99_ms": ms(percentile(times[f"{name} new connection"], 99)),
            "requests_per_s": round(answered[name] / seconds, 1),
            "requests": len(times[f"{name} keep-alive"]),
        }
        for name in ports
    }
    ratio = out["sandbox"]["keep_alive_p50_ms"] / out["bare"]["keep_alive_p50_ms"]
    out["keep_alive_ratio"] = round(ratio, 2)
    out["ok"] = ratio <= LATENCY_TARGET and out["sandbox"]["requests_per_s"] >= THROUGHPUT_TARGET
    return out


def _answer() -> tuple[list[list[bytes]], bytes]:
    """The sandbox's answer to the bench request: headers and body, from a sandbox in this process."""
    import httpx

    from mg_tools.sandbox import DEFAULT_API_KEY, create_app

    transport = httpx.ASGITransport(app=create_app(api_key=DEFAULT_API_KEY))

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.get(DIRECT_PATH, auth=("api", SANDBOX_KEY))

    response = asyncio.run(fetch())
    return [[k, v] for k, v in response.headers.raw if k.lower() != b"content-length"], response.content


def _bare_app() -> Callable[..., Awaitable[None]]:
    """A bare ASGI app answering every request with the sandbox's bytes for the bench request."""
    headers, body = _answer()
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [*headers, [b"content-length", b"%d" % len(body)]],
    }
    answer = {"type": "http.response.body", "body": body}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await send(start)
        await send(answer)

    return app


def _serve_bare(port: int) -> None:
    """The bare app under ``uvicorn.run``."""
    import uvicorn

    app = _bare_app()
    # The server settings of `mg-tools sandbox` (access log on): only the app differs.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", lifespan="off")


def in_process(requests: int) -> dict[str, Any]:
    """p50 of one ASGI call to the sandbox app and to the bare app, alternating in blocks, in this process."""
    from mg_tools.sandbox import DEFAULT_API_KEY, create_app

    apps = {"bare": _bare_app(), "sandbox": create_app(api_key=DEFAULT_API_KEY)}
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Basic {AUTH}".encode()), (b"connection", b"keep-alive")]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def call(app: Callable[..., Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        def scope() -> dict[str, Any]:
            return {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "server": ("127.0.0.1", 80),
                "client": ("127.0.0.1", 5000),
                "scheme": "http",
                "method": "GET",
                "root_path": "",
                "path": DIRECT_PATH,
                "raw_path": DIRECT_PATH.encode(),
                "query_string": b"",
                "headers": list(headers),
            }

        return lambda: app(scope(), receive, send)

    times = asyncio.run(alternate(requests, **{name: call(app) for name, app in apps.items()}))
    out: dict[str, Any] = {name: {"p50_us": round(percentile(t, 50) * 1e6, 1)} for name, t in times.items()}
    out["sandbox_own_us"] = round(out["sandbox"]["p50_us"] - out["bare"]["p50_us"], 1)
    return out


def run(requests: int = 2000, seconds: float = 8.0) -> dict[str, Any]:
    bare_port, sandbox_port = free_port(), free_port()
    with (
        spawn([PYTHON, __file__, "bare", str(bare_port)], bare_port),
        spawn([MG_TOOLS, "sandbox", "--port", str(sandbox_port)], sandbox_port),
    ):
        result = asyncio.run(measure({"bare": bare_port, "sandbox": sandbox_port}, requests, seconds))
    result["in_process"] = in_process(requests)
    result["settings"] = {"requests": requests, "seconds": seconds, "connections": CONNECTIONS}
    return result


def report(result: dict[str, Any]) -> str:
    rows = [
        [
            label,
            r["keep_alive_p50_ms"],
            r["keep_alive_p99_ms"],
            r["new_connection_p50_ms"],
            r["new_connection_p99_ms"],
            r["requests_per_s"],
        ]
        for label, r in (
            ("bare uvicorn app, same bytes", result["bare"]),
            ("sandbox (`mg-tools sandbox`)", result["sandbox"]),
        )
    ]
    settings = result["settings"]
    inner = result["in_process"]
    out = [
        table(
            f"GET {DIRECT_PATH}, ms ({settings['requests']} requests per column in alternating blocks; "
            f"req/s: {settings['connections']} keep-alive connections, {settings['seconds']} s per server)",
            ["server", "keep-alive p50", "keep-alive p99", "new conn. p50", "new conn. p99", "req/s"],
            rows,
        ),
        f"sandbox / bare keep-alive p50: {result['keep_alive_ratio']:.2f}x (target at most {LATENCY_TARGET}x); "
        f"sandbox {result['sandbox']['requests_per_s']:,.0f} req/s (target at least {THROUGHPUT_TARGET:,.0f}) "
        f"-> {verdict(result['ok'])}",
        f"in process (one ASGI call, no server), p50: bare app {inner['bare']['p50_us']:.1f} us, sandbox "
        f"{inner['sandbox']['p50_us']:.1f} us: the sandbox's own work {inner['sandbox_own_us']:.1f} us per request",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        _serve_bare(int(sys.argv[2]))
    else:
        outcome = run(arg(sys.argv, "--requests", 2000), float(arg(sys.argv, "--seconds", 8)))
        print(report(outcome))
        emit(outcome, sys.argv)
