"""mg-tools: every Mailgun API operation as a typed, permission-tagged tool."""

from mg_tools.errors import (
    ConfigurationError,
    ConfirmationRequired,
    InvalidArguments,
    MailgunError,
    MgToolsError,
    PolicyDenied,
    RegistryError,
    TransportError,
    UnknownOperation,
)
from mg_tools.executor import Executor, Result
from mg_tools.hookspecs import hookimpl, registering
from mg_tools.operation import Access, Operation, Paging
from mg_tools.policy import Decision, Policy
from mg_tools.registry import Registry
from mg_tools.settings import Settings
from mg_tools.toolkit import Toolkit

__all__ = [
    "Access",
    "ConfigurationError",
    "ConfirmationRequired",
    "Decision",
    "Executor",
    "InvalidArguments",
    "MailgunError",
    "MgToolsError",
    "Operation",
    "Paging",
    "Policy",
    "PolicyDenied",
    "Registry",
    "RegistryError",
    "Result",
    "Settings",
    "Toolkit",
    "TransportError",
    "UnknownOperation",
    "hookimpl",
    "registering",
]

__version__ = "0.1.0"
