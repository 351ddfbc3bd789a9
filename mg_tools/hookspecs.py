"""The hooks a plugin can implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def registering(
    operations: Iterable[Operation], asks: Mapping[str, tuple[str, ...]] | None = None
) -> Callable[[Callable[[Operation], None]], None]:
    """The ``register_operations`` hook of a plugin whose operations are one table::

        register_operations = registering(OPERATIONS, asks=ASKS)

    ``asks`` maps a tool name of the table to how people ask for it (``Operation.asks``); a name
    that is not in the table is an error when the plugin loads.
    """
    operations = tuple(operations)
    asks = dict(asks or {})
    unknown = sorted(asks.keys() - {op.name for op in operations})
    if unknown:
        raise ValueError(f"asks name operations that are not in the table: {', '.join(unknown)}")
    operations = tuple(op.stamped(asks=asks[op.name]) if op.name in asks else op for op in operations)

    @hookimpl
    def register_operations(register: Callable[[Operation], None]) -> None:
        for operation in operations:
            register(operation)

    return register_operations
