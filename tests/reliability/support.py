"""Helpers shared by the reliability tests and the bench scripts.

Everything here works from the registry, so an operation added later is covered without touching
the tests.
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx
from hypothesis import HealthCheck, settings

from mg_tools import Operation, Policy, Toolkit
from mg_tools.client import RetryPolicy
from mg_tools.operation import SENSITIVE_AREAS
from mg_tools.registry import Registry, make_plugin_manager

REGISTRY = Registry.from_plugins(make_plugin_manager())
OPERATIONS: tuple[Operation, ...] = tuple(REGISTRY)
#: Every operation allowed: sensitive areas' writes are granted only by naming the areas.
EVERYTHING = Policy.build(grants=("*:*", *sorted(SENSITIVE_AREAS & set(REGISTRY.areas))))
#: Operations that are one HTTP request (composites have a handler and no path).
HTTP_OPERATIONS: tuple[Operation, ...] = tuple(op for op in OPERATIONS if op.handler is None)
BASE_URL = "https://api.mailgun.net"
FAKE_KEY = "fake-reliability-key-0000"
#: A valid send_message call, for tests that need one.
SEND = {
    "domain": "mg.example.com",
    "sender": "Ann <ann@mg.example.com>",
    "to": ["bob@example.com"],
    "subject": "Hi",
    "text": "Hello",
}
#: Retries in milliseconds, so fault tests stay fast.
FAST_RETRY = RetryPolicy(attempts=3, deadline=5.0, backoff=0.005, max_backoff=0.02, max_retry_after=0.5)

#: Deterministic Hypothesis runs: CI sees the same examples every time, and nothing is written to disk.
settings.register_profile(
    "reliability",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
RELIABILITY = settings.get_profile("reliability")


class Recorder:
    """A MockTransport handler that records every request and answers with ``status`` and ``body``."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = {} if body is None else body
        self.headers = headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body, headers=self.headers)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def recording_toolkit(recorder: Recorder, **kw: Any) -> Toolkit:
    """A toolkit on the shared registry whose every request goes to ``recorder``."""
    kw.setdefault("api_key", FAKE_KEY)
    kw.setdefault("base_url", BASE_URL)
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("registry", REGISTRY)
    if kw["registry"] is REGISTRY:
        kw.setdefault("policy", EVERYTHING)
    return Toolkit(transport=recorder.transport, **kw)


def constructed(op: Operation, values: dict[str, Any]) -> Any:
    """A params instance holding ``values`` as given, without validation (``model_construct``), so
    tests see what the request builder itself does with any value. Other required fields are None,
    which the builder skips."""
    data = {name: None for name, info in op.params.model_fields.items() if info.is_required()}
    data.update(values)
    return op.params.model_construct(**data)


def quiet(fn, *args: Any, **kw: Any) -> Any:
    """Call ``fn`` with pydantic's serializer warnings (about the None placeholders) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` a terminal would not show as themselves: controls (newlines, ESC,
    NUL), format characters (bidi overrides, zero-width), separators other than the space, surrogates,
    private use and unassigned code points."""
    import unicodedata

    return [ch for ch in text if ch != " " and unicodedata.category(ch)[0] in "CZ"]


def leaked_pieces(text: str, secret: str, size: int = 8) -> list[str]:
    """Every piece of ``secret``, ``size`` characters or longer, that appears in ``text``."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1) if secret[i : i + size] in text]
