"""The Python API: a toolkit of every allowed operation, for bots, workflow code and the front ends.

    from mg_tools import Toolkit

    with Toolkit.from_env() as mg:                       # MAILGUN_API_KEY, MAILGUN_API_REGION, ...
        mg.call("send_message", domain="mg.example.com", sender="me@mg.example.com",
                to=["bob@example.com"], subject="Hi", text="Hello")

    async with Toolkit(sandbox=True) as mg:               # the embedded sandbox, no account needed
        await mg.acall("list_domains")
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mg_tools.executor import DEFAULT_BUDGET, Executor, Result
from mg_tools.files import default_roots
from mg_tools.operation import Operation
from mg_tools.policy import Policy
from mg_tools.regions import base_url_for
from mg_tools.registry import Registry, make_plugin_manager

if TYPE_CHECKING:
    import httpx

    from mg_tools.confirm import Confirmations
    from mg_tools.client import RetryPolicy

__all__ = ["BLOCK_PLUGINS_ENV", "SANDBOX_BASE_URL", "Toolkit"]

SANDBOX_BASE_URL = "http://sandbox.mg-tools.localhost"
BLOCK_PLUGINS_ENV = "MG_TOOLS_BLOCK_PLUGINS"


class Toolkit:
    """Every operation the policy allows, callable sync (``call``) or async (``acall``).

    Configuration comes from the arguments, or from the environment with :meth:`from_env`:
    ``sandbox=True`` runs against the embedded sandbox; otherwise ``api_key`` with ``region``
    (``us``/``eu``) or an explicit ``base_url``. Without a key or sandbox, listing and dry runs work
    and any real call stops with a message saying how to choose.

    The operator's switches hold however a toolkit is built: without ``policy`` the policy comes from
    the ``MG_TOOLS_*`` variables, ``MG_TOOLS_READ_ONLY`` makes any policy read-only, and without
    ``file_roots`` / ``blocked_plugins`` those come from ``MG_TOOLS_FILES_DIR`` /
    ``MG_TOOLS_BLOCK_PLUGINS``. A grant, deny, tool or toolset pattern that matches nothing, or a
    blocked plugin that is not installed, is a ``ConfigurationError``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        region: str | None = None,
        base_url: str | None = None,
        sandbox: bool = False,
        policy: Policy | None = None,
        registry: Registry | None = None,
        plugins: Iterable[object] = (),
        blocked_plugins: Iterable[str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        file_roots: Iterable[str | Path] | None = None,
        budget: int = DEFAULT_BUDGET,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sandbox_state: str | None = None,
        confirmations: Confirmations | None = None,
    ) -> None:
        if registry is None:
            if blocked_plugins is None:
                blocked_plugins = [p for p in os.environ.get(BLOCK_PLUGINS_ENV, "").split(",") if p.strip()]
            registry = Registry.from_plugins(make_plugin_manager(blocked=blocked_plugins, plugins=plugins))
        self.registry = registry
        self.policy = policy if policy is not None else Policy.from_env()
        self.policy.check(registry)
        self._sandbox_app: Any = None
        self._sandbox_state = sandbox_state
        if sandbox:
            import httpx

            from mg_tools.sandbox import DEFAULT_API_KEY

            # The sandbox itself is built on its first request: listing tools does not need it.
            transport = transport or httpx.ASGITransport(app=self._sandbox_asgi, raise_app_exceptions=False)
            api_key, base_url = DEFAULT_API_KEY, base_url or SANDBOX_BASE_URL
        self.base_url = base_url_for(region, base_url)
        client = None
        if api_key:
            # Imported here: listing tools and dry runs need no HTTP stack.
            from mg_tools.client import MailgunClient

            client = MailgunClient(api_key=api_key, base_url=self.base_url, timeout=timeout, retry=retry,
                                   transport=transport)
        roots = tuple(Path(r) for r in file_roots) if file_roots is not None else default_roots()
        self.executor = Executor(registry, self.policy, client, file_roots=roots, budget=budget,
                                 sandbox=sandbox, base_url=self.base_url, confirmations=confirmations)
        self._loop: Any = None  # this toolkit's own asyncio event loop, made on first use

    @property
    def sandbox_app(self) -> Any:
        """The embedded sandbox's ASGI app (``None`` without ``sandbox=True``), built on first use."""
        if self._sandbox_app is None and self.executor.sandbox:
            from mg_tools.sandbox import DEFAULT_API_KEY, create_app

            self._sandbox_app = create_app(api_key=DEFAULT_API_KEY, state_path=self._sandbox_state)
        return self._sandbox_app

    async def _sandbox_asgi(self, scope: Any, receive: Any, send: Any) -> None:
        await self.sandbox_app(scope, receive, send)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Toolkit:
        """A toolkit configured from ``MAILGUN_API_KEY``, ``MAILGUN_API_REGION``,
        ``MAILGUN_API_BASE_URL``, ``MG_TOOLS_FILES_DIR``, ``MG_TOOLS_BLOCK_PLUGINS`` and the policy
        variables; keyword arguments override them (``policy=``, ``sandbox=True``, ...)."""
        env = os.environ if environ is None else environ
        config: dict[str, Any] = {
            "api_key": env.get("MAILGUN_API_KEY") or None,
            "region": env.get("MAILGUN_API_REGION") or None,
            "base_url": env.get("MAILGUN_API_BASE_URL") or None,
            "file_roots": default_roots(env),
            "blocked_plugins": [p for p in env.get(BLOCK_PLUGINS_ENV, "").split(",") if p.strip()],
        }
        if "policy" not in overrides:
            config["policy"] = Policy.from_env(dict(env))
        config.update(overrides)
        if config.get("sandbox"):
            config["api_key"] = config["base_url"] = None
        return cls(**config)

    # -- what is there ------------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        """The operations the policy exposes, by area then name."""
        return [op for op in self.registry if self.policy.exposes(op)]

    def operation(self, name: str) -> Operation:
        return self.registry.get(name)

    # -- calling ------------------------------------------------------------------------------------

    async def execute(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        dry_run: bool = False,
        confirm_token: str | None = None,
    ) -> Result:
        """Run one operation through the executor and return the shaped :class:`Result`."""
        return await self.executor.execute(
            name, dict(arguments) if isinstance(arguments, Mapping) else arguments, dry_run=dry_run,
            confirm_token=confirm_token,
        )

    async def acall(self, name: str, /, **arguments: Any) -> Any:
        """Call an operation and return its result data (``await mg.acall("get_domain", name=...)``)."""
        return (await self.execute(name, arguments)).data

    def call(self, name: str, /, **arguments: Any) -> Any:
        """The synchronous twin of :meth:`acall`, for code that is not async."""
        return self.run(self.execute(name, arguments)).data

    def dry_run(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        """The exact request ``name`` would send (secrets redacted); sends nothing."""
        return self.executor.dry_run(name, arguments).data

    def run(self, coro: Any) -> Any:
        """Run a coroutine on this toolkit's own event loop (which keeps its connection pool)."""
        import asyncio  # here, so that dry runs and listings never pay for it

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError("Toolkit.call() cannot run inside an event loop; use `await toolkit.acall()`")
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    # -- lifetime -----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self.executor.client is not None:
            await self.executor.client.aclose()

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.run_until_complete(self.aclose())
            self._loop.close()
        self._loop = None

    def __enter__(self) -> Toolkit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Toolkit:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
