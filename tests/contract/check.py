"""Checking answers against ``tests/data/contract.json``, the response schemas compiled from Mailgun's spec.

:class:`Contract` matches an answer's method and path to an operation of the contract (literal segments
win over placeholders), validates a 2xx JSON body against that operation's schema for the status with
``jsonschema``, and keeps what it saw: the operations exercised and the violations not yet reported.
The contract's ``exceptions`` replace parts of it (by JSON pointer) where the spec is known to differ
from what Mailgun answers, each saying why; its ``sandbox_gaps`` do the same where the sandbox's answer
still differs from Mailgun's, each saying what differs, until the sandbox is fixed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

CONTRACT = Path(__file__).resolve().parents[1] / "data" / "contract.json"


@dataclass(frozen=True)
class Route:
    """An operation of the contract: ``GET /v3/{domain_name}/bounces`` as method and segments
    (``None`` for a placeholder)."""

    key: str
    method: str
    segments: tuple[str | None, ...]

    @classmethod
    def parse(cls, key: str) -> Route:
        method, path = key.split(" ", 1)
        segments = tuple(None if s.startswith("{") else s for s in path.strip("/").split("/"))
        return cls(key, method, segments)

    def matches(self, method: str, segments: list[str]) -> bool:
        return (
            method == self.method
            and len(segments) == len(self.segments)
            and all(want is None or want == got for want, got in zip(self.segments, segments))
        )

    @property
    def specificity(self) -> tuple[bool, ...]:
        return tuple(s is not None for s in self.segments)


def _deepest(error: ValidationError) -> ValidationError:
    """For ``anyOf``/``allOf`` failures, the branch error that explains most."""
    while error.context:
        # A failed "anyOf [X, null]" also reports "not null": the other branch's error says more.
        error = best_match([e for e in error.context if e.validator != "type"] or error.context)
    return error


def _shorten(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _pointer_set(document: Any, pointer: str, value: Any) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    for part in parents:
        document = document[int(part)] if isinstance(document, list) else document[part]
    document[int(last) if isinstance(document, list) else last] = value


@dataclass
class Contract:
    """The compiled contract and what the checks saw in this process."""

    data: dict[str, Any]
    exercised: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    _validators: dict[tuple[str, str], Draft202012Validator | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: Path = CONTRACT) -> Contract:
        data = json.loads(path.read_text())
        for change in [*data.get("exceptions", []), *data.get("sandbox_gaps", [])]:
            _pointer_set(data, change["at"], change["schema"])
        return cls(data)

    @cached_property
    def routes(self) -> list[Route]:
        routes = [Route.parse(key) for key in self.data["operations"]]
        return sorted(routes, key=lambda r: r.specificity, reverse=True)

    def route(self, method: str, path: str) -> Route | None:
        """The contract's operation for an answer to ``method path`` (``path`` still percent-encoded)."""
        segments = path.split("?", 1)[0].strip("/").split("/")
        return next((r for r in self.routes if r.matches(method.upper(), segments)), None)

    def _validator(self, key: str, status: str) -> Draft202012Validator | None:
        if (key, status) not in self._validators:
            schema = self.data["operations"][key].get(status)
            validator = None if schema is None else Draft202012Validator({**schema, "$defs": self.data["$defs"]})
            self._validators[key, status] = validator
        return self._validators[key, status]

    def problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """What is wrong with a 2xx answer's JSON ``body``, one line each; records the operation as exercised."""
        route = self.route(method, path)
        if route is None or not 200 <= status < 300:
            return []
        with self._lock:
            self.exercised.add(route.key)
        statuses = self.data["operations"][route.key]
        validator = self._validator(route.key, str(status))
        where = f"{method} {path} ({route.key}, {status})"
        if validator is None:
            return [f"{where}: the spec documents no {status} answer here, only {', '.join(statuses)}"]
        errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        return [f"{where}: at {error.json_path}: {_shorten(error.message)}" for error in map(_deepest, errors)]

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        """Check one answer and keep its problems for :meth:`take_violations`."""
        if "json" not in content_type or not 200 <= status < 300 or not body:
            return
        try:
            data = json.loads(body)
        except ValueError as exc:
            found = [f"{method} {path} ({status}): not JSON despite {content_type!r}: {exc}"]
        else:
            found = self.problems(method, path, status, data)
        if found:
            with self._lock:
                self.violations.extend(found)

    def take_violations(self) -> list[str]:
        """The problems found since the last call."""
        with self._lock:
            taken, self.violations[:] = list(self.violations), []
        return taken

    def summary(self, served: set[str]) -> str:
        """One line: how many served operations have a schema, and how many of them answers exercised."""
        keys = {route.key for route in self.routes}
        checked = {self.normal_key(k) for k in keys} & served
        exercised = {self.normal_key(k) for k in self.exercised} & served
        return (
            f"contract: {len(checked)} of {len(served)} served operations have a response schema from "
            f"Mailgun's spec; {len(exercised)} of them were exercised and checked in this run; "
            f"{len(self.data['exceptions'])} spec exceptions, {len(self.data['sandbox_gaps'])} sandbox gaps"
        )

    @staticmethod
    def normal_key(key: str) -> str:
        method, path = key.split(" ", 1)
        return method + " " + "/".join("{}" if s.startswith("{") else s for s in path.split("/"))


@cache
def session_contract() -> Contract:
    """The contract the whole test run checks answers against and reports on."""
    return Contract.load()
