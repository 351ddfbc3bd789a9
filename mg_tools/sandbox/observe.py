"""Watching the sandbox's answers: an observer installed with :func:`observing` is handed every finished
answer of every sandbox app in the process, for tests that check answers against Mailgun's published
response schemas. With no observer installed, answers are not buffered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "observing", "watched"]


@dataclass(frozen=True)
class Answer:
    """One answer as the client received it; ``path`` is still percent-encoded."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes


Observer = Callable[[Answer], None]
_OBSERVERS: list[Observer] = []


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    """Hand every sandbox answer given inside the block to ``observer``."""
    _OBSERVERS.append(observer)
    try:
        yield
    finally:
        _OBSERVERS.remove(observer)


def watched(scope: dict[str, Any], send: Callable) -> Callable:
    """``send`` itself while nobody observes; else a ``send`` that also hands the finished answer over."""
    if not _OBSERVERS:
        return send
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def watching(message: dict[str, Any]) -> None:
        await send(message)
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                _notify(scope, start, b"".join(chunks))

    return watching


def _notify(scope: dict[str, Any], start: dict[str, Any], body: bytes) -> None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
    answer = Answer(scope["method"], scope["path"], start.get("status", 0), headers.get("content-type", ""), body)
    for observer in list(_OBSERVERS):
        observer(answer)
