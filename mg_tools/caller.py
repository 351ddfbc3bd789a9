"""Who a call is made for: the identity the policy decides for, its own grants and its subaccount.

A front end that serves several identities (the HTTP transport, one per bearer token) runs each
request inside ``acting_as(caller)``; everything below it (executor, policy, client) reads
``current()``. Outside any ``acting_as`` there is no caller, and the toolkit's own settings apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mg_tools.policy import Policy

__all__ = ["DEFAULT_IDENTITY", "Caller", "acting_as", "current", "identity"]

#: The identity of a local caller (command line, stdio) when none is configured.
DEFAULT_IDENTITY = "local"


@dataclass(frozen=True, slots=True)
class Caller:
    """One caller. ``policy`` narrows what the toolkit allows (None: the toolkit's policy alone);
    ``subaccount`` is the Mailgun subaccount its requests act for (None: the toolkit's)."""

    identity: str = DEFAULT_IDENTITY
    policy: Policy | None = None
    subaccount: str | None = None


_current: ContextVar[Caller | None] = ContextVar("mg_tools_caller", default=None)


def current() -> Caller | None:
    """The caller of the call in progress, or None outside ``acting_as``."""
    return _current.get()


def identity(default: str = DEFAULT_IDENTITY) -> str:
    """The identity of the call in progress: the current caller's, else ``default`` (a toolkit's own)."""
    caller = _current.get()
    return caller.identity if caller is not None else default


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Run the enclosed calls for ``caller`` (task-local: concurrent requests do not mix)."""
    token = _current.set(caller)
    try:
        yield caller
    finally:
        _current.reset(token)
