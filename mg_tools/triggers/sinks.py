"""Where accepted events go: JSON lines on stdout, a POST to a URL, or a command per event; and the
dead-letter file that holds every event a target would not take, with the reason.

A sink's ``deliver(event)`` returns None when the target took the event, else the reason it did not;
the listener then writes the event to the dead-letter file.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import httpx

# A command's output goes to stderr: the listener's stdout may carry events.
_STDERR = 2

__all__ = ["DeadLetters", "ExecSink", "ForwardSink", "Retry", "Sink", "StdoutSink"]


class Sink(Protocol):
    """A target for accepted events."""

    name: str

    async def deliver(self, event: dict[str, Any]) -> str | None:
        """Hand ``event`` over; None once the target took it, else why it did not."""

    async def aclose(self) -> None:
        """Release what the sink holds."""


def _line(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


class StdoutSink:
    """Each event as one JSON line on ``stream`` (default: stdout), flushed at once."""

    name = "stdout"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def deliver(self, event: dict[str, Any]) -> str | None:
        stream = self.stream or sys.stdout
        try:
            stream.write(_line(event) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            return f"stdout could not be written: {exc}"
        return None

    async def aclose(self) -> None:
        pass


@dataclass(frozen=True)
class Retry:
    """How a forward is retried: up to ``attempts`` tries, waiting ``first_wait`` seconds and twice as
    long each time after, all within ``deadline`` seconds; each try may take ``timeout`` seconds."""

    attempts: int = 4
    first_wait: float = 0.5
    deadline: float = 8.0
    timeout: float = 5.0

    def wait(self, attempt: int) -> float:
        """The wait after failed try number ``attempt`` (1, 2, ...)."""
        return self.first_wait * 2 ** (attempt - 1)


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


class ForwardSink:
    """Each event POSTed as JSON to ``url``; network errors, 408, 429 and 5xx answers are retried (:class:`Retry`).

    Retrying is safe: the receiver gets the event's ``id`` to drop a repeat, and a post that may have
    arrived is still better sent twice than lost."""

    name = "forward"

    def __init__(self, url: str, retry: Retry | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url
        self.retry = retry or Retry()
        self._client = httpx.AsyncClient(timeout=self.retry.timeout, transport=transport, follow_redirects=False)

    async def deliver(self, event: dict[str, Any]) -> str | None:
        started = time.monotonic()
        reason = "not sent"
        for attempt in range(1, self.retry.attempts + 1):
            reason, again = await self._try(event)
            if reason is None:
                return None
            wait = self.retry.wait(attempt)
            if not again or attempt == self.retry.attempts or time.monotonic() - started + wait > self.retry.deadline:
                return f"{reason} (after {attempt} {'try' if attempt == 1 else 'tries'})"
            await asyncio.sleep(wait)
        return reason

    async def _try(self, event: dict[str, Any]) -> tuple[str | None, bool]:
        try:
            response = await self._client.post(self.url, json=event, headers={"X-Mailgun-Event-Id": event["id"] or ""})
        except httpx.HTTPError as exc:
            return f"{self.url} did not answer: {type(exc).__name__} {exc}".rstrip(), True
        if response.is_success:
            return None, False
        return f"{self.url} answered {response.status_code}", _retryable(response.status_code)

    async def aclose(self) -> None:
        await self._client.aclose()


class ExecSink:
    """``command`` (split like a shell would, but run without one) once per event, the event as JSON
    on its stdin; an exit status other than 0, or running past ``timeout`` seconds, is a failure."""

    name = "exec"

    def __init__(self, command: str, timeout: float = 30.0) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("the command is empty")
        self.timeout = timeout

    async def deliver(self, event: dict[str, Any]) -> str | None:
        try:
            process = await asyncio.create_subprocess_exec(*self.argv, stdin=asyncio.subprocess.PIPE, stdout=_STDERR)
        except OSError as exc:
            return f"{self.argv[0]} could not be started: {exc}"
        try:
            await asyncio.wait_for(process.communicate((_line(event) + "\n").encode()), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            return f"{self.argv[0]} ran past {self.timeout:g} s and was stopped"
        if process.returncode:
            return f"{self.argv[0]} exited with status {process.returncode}"
        return None

    async def aclose(self) -> None:
        pass


class DeadLetters:
    """The events no target took: one JSON line each in ``path`` (mode 0600), with the target and the reason."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, event: dict[str, Any], *, target: str, reason: str) -> None:
        """Append one record; an ``OSError`` when the file cannot be written."""
        from mg_tools.state import private_file

        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"dead_at": time.time(), "target": target, "reason": reason, "event": event}
        with private_file(self.path).open("a", encoding="utf-8") as file:
            file.write(_line(record) + "\n")
            file.flush()
