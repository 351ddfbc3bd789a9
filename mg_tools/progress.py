"""Progress of a long call, reported to whoever started it (an MCP client's progress token, a terminal).

A front end sets a reporter for the call it runs (:func:`reporting`); code deep inside the call
(a composite sending batches) reports with :func:`report`, which does nothing when no one listens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Reporter", "report", "reporting"]

#: ``await reporter(done, total, message)``.
Reporter = Callable[[float, float | None, str | None], Awaitable[None]]

_reporter: ContextVar[Reporter | None] = ContextVar("mg_tools_progress", default=None)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the progress of calls made inside the block to ``reporter`` (None: to no one)."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


async def report(done: float, total: float | None = None, message: str | None = None) -> None:
    """Tell the current reporter, if any, that ``done`` of ``total`` units are finished."""
    reporter = _reporter.get()
    if reporter is not None:
        await reporter(done, total, message)
