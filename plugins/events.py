"""Events: declarations in progress."""

from mg_tools import hookimpl

OPERATIONS = ()


@hookimpl
def register_operations(register):
    for operation in OPERATIONS:
        register(operation)
