"""The hooks a plugin can implement."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from mg_tools.operation import Operation

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("mg_tools")
hookimpl = pluggy.HookimplMarker("mg_tools")


@hookspec
def register_operations(register: Callable[[Operation], None]) -> None:
    """Register operations by calling ``register(operation)`` once for each."""
