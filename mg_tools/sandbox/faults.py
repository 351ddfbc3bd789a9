"""Fault injection: what the sandbox does instead of answering normally.

A fault answers with an error status (and ``Retry-After``), waits before answering, or drops the
connection before or after handling the request. It comes from the ``X-Sandbox-Fault`` header of
one request (``status=503; retry-after=1``) or from a rule posted to ``/_sandbox/faults``
(``{"method": "POST", "path": "/messages$", "status": 429, "times": 3}``). Both are validated
before they are used: a malformed fault is answered with 400 and leaves the rules as they were.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mg_tools.sandbox.core import loads_json

__all__ = ["MAX_DELAY", "Fault", "FaultError", "FaultRule", "parse_header", "parse_rule"]

#: The longest delay a fault may ask for, in seconds.
MAX_DELAY = 30.0


class FaultError(ValueError):
    """A fault that cannot be used; ``message`` says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Fault(BaseModel):
    """What to do instead of answering normally: ``status`` (with ``retry_after`` and ``message``),
    ``delay`` (seconds, then answer normally or as the fault says) or ``drop`` the connection."""

    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(None, ge=400, le=599)
    retry_after: float | None = Field(None, ge=0, le=86400, allow_inf_nan=False)
    delay: float | None = Field(None, ge=0, le=MAX_DELAY, allow_inf_nan=False)
    drop: Literal["before", "after"] | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> Fault:
        if self.status is None and self.delay is None and self.drop is None:
            raise ValueError("a fault needs 'status', 'delay' or 'drop'")
        if self.status is not None and self.drop is not None:
            raise ValueError("'status' and 'drop' exclude each other: a dropped connection has no status")
        if self.status is None and (self.retry_after is not None or self.message is not None):
            raise ValueError("'retry_after' and 'message' only go with 'status'")
        return self

    def retry_after_header(self) -> dict[str, str]:
        """The ``Retry-After`` header of the answer, in whole seconds when they are whole."""
        if self.retry_after is None:
            return {}
        value = self.retry_after
        return {"Retry-After": str(int(value)) if value.is_integer() else str(value)}


class FaultRule(Fault):
    """A :class:`Fault` for the next ``times`` requests whose method and path (a regular expression
    searched in the raw path) match."""

    method: str = Field("*", pattern=r"^(\*|[A-Za-z]+)$")
    path: str = Field(".*", max_length=1000)
    times: int = Field(1, ge=1)

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    def matches(self, method: str, path: str) -> bool:
        return self.method in {"*", method} and re.search(self.path, path) is not None

    def listed(self) -> dict[str, Any]:
        """The rule as ``GET /_sandbox/faults`` lists it (unset fields left out)."""
        return self.model_dump(exclude_none=True)


def _explain(exc: ValidationError, model: type[BaseModel]) -> str:
    known = ", ".join(model.model_fields)
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown field '{where}' (known: {known})")
        elif where:
            problems.append(f"'{where}': {error['msg']}")
        else:
            problems.append(error["msg"].removeprefix("Value error, "))
    return "; ".join(problems)


def parse_rule(body: bytes) -> FaultRule:
    """The rule a ``POST /_sandbox/faults`` body describes (a JSON object); ``FaultError`` otherwise."""
    try:
        value = loads_json(body)
    except ValueError as exc:
        raise FaultError(f"invalid fault rule: not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(value, dict):
        raise FaultError(f"invalid fault rule: a rule is a JSON object, not {type(value).__name__}")
    try:
        # Strict: "times": "3" or "status": true are mistakes worth pointing out, not guessing at.
        return FaultRule.model_validate(value, strict=True)
    except ValidationError as exc:
        raise FaultError(f"invalid fault rule: {_explain(exc, FaultRule)}") from None


def parse_header(text: str) -> Fault | None:
    """The fault an ``X-Sandbox-Fault`` header asks for (``status=503; retry-after=1``, ``delay=0.2``,
    ``drop``, ``drop=after``); None when the header is blank, ``FaultError`` when it is malformed."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.strip().partition("=")
        key = key.strip().lower().replace("-", "_")
        if not key:
            if sep:
                raise FaultError(f"invalid X-Sandbox-Fault header: {part.strip()!r} has no name")
            continue
        if key in fields:
            raise FaultError(f"invalid X-Sandbox-Fault header: '{key}' is given twice")
        fields[key] = value.strip() or ("before" if key == "drop" else "")
    if not fields:
        return None
    try:
        return Fault.model_validate(fields)
    except ValidationError as exc:
        raise FaultError(f"invalid X-Sandbox-Fault header: {_explain(exc, Fault)}") from None
