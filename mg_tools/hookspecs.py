"""The hooks a plugin can implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from mg_tools.operation import Operation

__all__ = ["hookimpl", "hookspec", "registering"]

hookspec = pluggy.HookspecMarker("mg_tools")
hookimpl = pluggy.HookimplMarker("mg_tools")


@hookspec
def register_operations(register: Callable[[Operation], None]) -> None:
    """Register operations by calling ``register(operation)`` once for each."""


def registering(operations: Iterable[Operation]) -> Callable[[Callable[[Operation], None]], None]:
    """The ``register_operations`` hook of a plugin whose operations are one table::

    register_operations = registering(OPERATIONS)
    """

    @hookimpl
    def register_operations(register: Callable[[Operation], None]) -> None:
        for operation in operations:
            register(operation)

    return register_operations
