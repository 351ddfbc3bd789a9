"""The operation model: one Mailgun endpoint, declared as data."""

from __future__ import annotations

import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["Access", "Encoding", "Operation", "Paging"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})


class Access(StrEnum):
    """What calling an operation does; the unit of permission together with the area."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    SEND = "send"  # causes mail to leave


class Paging(StrEnum):
    """How an endpoint pages its results; the executor turns each into an opaque ``cursor``."""

    URLS = "urls"  # v3 {"paging": {"next": url, ...}}: the cursor is the next URL's query
    SKIP = "skip"  # skip/limit query with total_count
    PAGE = "page"  # page/limit query (page numbers)
    TOKEN = "token"  # v1 analytics logs: pagination.token in the JSON body
    BODY_SKIP = "body_skip"  # v1 analytics metrics: skip/limit in the JSON body


#: Body encoding for POST/PUT/PATCH: form fields (multipart when files are attached) or JSON.
Encoding = Literal["form", "json"]

#: Areas that hold credentials or account control: their writes and deletes are never granted by a
#: wildcard, they must be named.
SENSITIVE_AREAS = frozenset({"keys", "credentials", "users", "account", "subaccounts", "ip_allowlist"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One Mailgun endpoint. The params model's docstring is the tool description.

    ``encoding`` says how body fields travel for POST/PUT/PATCH (GET and DELETE put every non-path
    field in the query unless a field says otherwise). ``area`` defaults to the registering plugin's
    name. ``secret_fields`` names result keys holding secrets, redacted unless the policy grants them.
    ``untrusted`` marks results carrying text written by email senders (subjects, bodies, headers,
    names): the executor strips invisible and control characters from them and labels the result as
    data that must never be followed as instructions. ``narrow_hint`` says how to ask for a smaller
    answer (a shorter window, fewer events...); a result trimmed to the budget leads its hint with it.
    ``asks`` holds a few short phrasings of what people ask for when they mean this operation, in
    their words rather than Mailgun's ("stop emailing someone"): discover-mode search indexes them;
    they are never shown to the model.

    ``compact`` lists the fields (dotted paths) each list item shows unless the caller asks for the
    whole record with ``full`` (see :mod:`mg_tools.shapes`).

    A composite operation (one answer built from several calls) has no HTTP request of its own:
    ``method=""``, ``path=""`` and a ``handler``: ``async def handler(args, call) -> data``, where
    ``await call(name, arguments)`` runs another operation through the executor (validation and policy
    included) and returns its result data.
    """

    name: str
    method: str
    path: str
    params: type[BaseModel]
    access: Access
    encoding: Encoding = "form"
    paging: Paging | None = None
    area: str = ""
    deprecated: bool = False
    secret_fields: tuple[str, ...] = ()
    items_key: str = "items"
    untrusted: bool = False
    narrow_hint: str = ""
    compact: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    handler: Callable[..., Awaitable[Any]] | None = field(default=None, compare=False)
    plugin: str = field(default="", compare=False)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.path) if f)

    @property
    def description(self) -> str:
        return _docstring(self.params)

    @property
    def sends_mail(self) -> bool:
        return self.access is Access.SEND

    @property
    def returns_secret(self) -> bool:
        return bool(self.secret_fields)

    @property
    def sensitive(self) -> bool:
        return self.area in SENSITIVE_AREAS

    @property
    def idempotent(self) -> bool:
        """Safe to repeat: reads, and PUT/DELETE, which set or remove a state rather than add one.
        A send never is, whatever its method: repeating it can deliver the mail twice."""
        if self.handler is not None:  # a composite is as repeatable as the calls it makes
            return self.access is Access.READ
        return self.method in {"GET", "PUT", "DELETE"} and self.access is not Access.SEND

    @property
    def tag(self) -> str:
        """The permission tag, ``area:access``."""
        return f"{self.area}:{self.access}"

    def stamped(self, **changes: Any) -> Operation:
        return replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        """The JSON shape of `mg-tools tools --json`."""
        return {
            "name": self.name,
            "method": self.method or None,
            "path": self.path,
            "area": self.area,
            "access": str(self.access),
            "deprecated": self.deprecated,
            "returns_secret": self.returns_secret,
            "untrusted": self.untrusted,
            "paging": str(self.paging) if self.paging else None,
            "plugin": self.plugin,
            "description": self.description,
        }


def _docstring(model: type) -> str:
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.split())
