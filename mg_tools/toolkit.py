"""The Python API: a toolkit of every allowed operation, for bots, workflow code and the front ends.

from mg_tools import Toolkit

with Toolkit.from_env() as mg:                       # MAILGUN_API_KEY, MAILGUN_API_REGION, ...
    mg.call("send_message", domain="mg.example.com", sender="me@mg.example.com",
            to=["bob@example.com"], subject="Hi", text="Hello")

async with Toolkit(sandbox=True) as mg:               # the embedded sandbox, no account needed
    await mg.acall("list_domains")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mg_tools.audit import Auditor
from mg_tools.confirm import Confirmations
from mg_tools.executor import DEFAULT_BUDGET, Executor, Result
from mg_tools.files import default_roots
from mg_tools.log import Redactor
from mg_tools.operation import Operation
from mg_tools.policy import Policy, decide
from mg_tools.regions import base_url_for
from mg_tools.registry import Registry, make_plugin_manager
from mg_tools.results import ResultStore
from mg_tools.settings import Settings

if TYPE_CHECKING:
    import httpx

    from mg_tools.client import RetryPolicy
    from mg_tools.redis_state import Redis
    from mg_tools.rules import Gate
    from mg_tools.usage import UsageStore

__all__ = ["BLOCK_PLUGINS_ENV", "SANDBOX_BASE_URL", "Toolkit"]

SANDBOX_BASE_URL = "http://sandbox.mg-tools.localhost"
BLOCK_PLUGINS_ENV = "MG_TOOLS_BLOCK_PLUGINS"


class Toolkit:
    """Every operation the policy allows, callable sync (``call``) or async (``acall``).

    Configuration comes from the arguments, or from the environment with :meth:`from_env`:
    ``sandbox=True`` runs against the embedded sandbox; otherwise ``api_key`` with ``region``
    (``us``/``eu``) or an explicit ``base_url``. Without a key or sandbox, listing and dry runs work
    and any real call stops with a message saying how to choose.

    The operator's switches hold however a toolkit is built: they come from ``settings`` (by default
    :meth:`Settings.from_env() <mg_tools.settings.Settings.from_env>`). Without ``policy`` the policy
    is the ``MG_TOOLS_*`` switches', ``MG_TOOLS_READ_ONLY`` makes any policy read-only, and without
    ``file_roots`` / ``blocked_plugins`` those come from ``MG_TOOLS_FILES_DIR`` /
    ``MG_TOOLS_BLOCK_PLUGINS``. A grant, deny, tool or toolset pattern that matches nothing, or a
    blocked plugin that is not installed, is a ``ConfigurationError``.

    ``subaccount`` (default ``MG_TOOLS_SUBACCOUNT``) makes every request act for that subaccount (the
    ``X-Mailgun-On-Behalf-Of`` header); a caller that names its own subaccount (``mg_tools.caller``)
    wins over it. An id that is not 24 hexadecimal characters is a ``ConfigurationError``.

    With ``policy_file`` (else ``MG_TOOLS_POLICY``) every call must also be permitted by that Cedar
    policy set, for ``identity`` (else ``MG_TOOLS_IDENTITY``, default ``local``); ``identities`` names
    further identities the policies may speak of (callers served over HTTP); ``usage`` is the store
    of quota counters (default: a file in the state directory). A policy file that does not parse or
    validate is a ``ConfigurationError`` naming the file and line.

    With ``MG_TOOLS_REDIS_URL`` set (``settings.redis_url``), what several servers must share lives in
    that Redis: trimmed results, the confirmation key and used tokens, quota counters
    (:mod:`mg_tools.redis_state`), the journal of bulk-send jobs (:mod:`mg_tools.bulk.redis_journal`);
    a call that needs it while Redis does not answer stops with a ``StateUnavailable``. Arguments given
    here (``confirmations``, ``usage``) still win.

    Each toolkit redacts its own secrets (its API key, secret call arguments) with its ``redactor``,
    which its client, executor and servers share. Every call attempt is written to ``audit``
    (default: the audit trail of ``MG_TOOLS_AUDIT``, none when unset).
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
        settings: Settings | None = None,
        redactor: Redactor | None = None,
        subaccount: str | None = None,
        audit: Auditor | None = None,
        policy_file: str | Path | None = None,
        identity: str | None = None,
        identities: Iterable[str] = (),
        usage: UsageStore | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self.identity = identity or self.settings.identity
        self.redactor = redactor if redactor is not None else Redactor()
        if registry is None:
            blocked = self.settings.block_plugins if blocked_plugins is None else blocked_plugins
            registry = Registry.from_plugins(make_plugin_manager(blocked=blocked, plugins=plugins))
        self.registry = registry
        self.policy = self._forced(policy if policy is not None else Policy.from_env(settings=self.settings))
        self.policy.check(registry)
        self.redis = self._redis()
        rules = self._rules(policy_file, identities, usage)
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

            client = MailgunClient(
                api_key=api_key,
                base_url=self.base_url,
                timeout=timeout,
                retry=retry,
                transport=transport,
                redactor=self.redactor,
            )
        roots = tuple(Path(r) for r in file_roots) if file_roots is not None else default_roots(self.settings)
        self.executor = Executor(
            registry,
            self.policy,
            client,
            file_roots=roots,
            budget=budget,
            sandbox=sandbox,
            base_url=self.base_url,
            confirmations=confirmations or self._confirmations(),
            redactor=self.redactor,
            subaccount=subaccount if subaccount is not None else self.settings.subaccount,
            audit=audit if audit is not None else Auditor.from_settings(self.settings, self.redactor),
            rules=rules,
            identity=self.identity,
            results=self._results(budget),
            open_journal=self._open_journal,
        )
        if rules is not None:  # requests act for the executor's subaccount, when it has one
            rules.subaccount = getattr(self.executor, "subaccount", None) or rules.subaccount
        self._loop: Any = None  # this toolkit's own asyncio event loop, made on first use

    def _forced(self, policy: Policy) -> Policy:
        """``policy``, made read-only when the settings say so, whoever built it."""
        return dataclasses.replace(policy, read_only=True) if self.settings.read_only else policy

    def _redis(self) -> Redis | None:
        """The Redis of ``MG_TOOLS_REDIS_URL`` (its client made, not yet connected); None when unset."""
        url = self.settings.secret("redis_url")
        if not url:
            return None
        from mg_tools.redis_state import Redis

        return Redis(url, redactor=self.redactor)

    def _open_journal(self) -> Any:
        """The journal of bulk-send jobs: in this toolkit's Redis when it has one, else in its state
        directory. A killed replica's lease lasts twice the longest call its client allows."""
        from mg_tools.bulk.job import open_journal
        from mg_tools.client import RetryPolicy

        client = self.executor.client
        max_call = client.retry.max_call if client is not None else RetryPolicy.max_call
        return open_journal(self.settings, redis=self.redis, lease=2 * max_call)

    def _confirmations(self) -> Confirmations:
        if self.redis is None:
            return Confirmations(settings=self.settings)
        from mg_tools.redis_state import RedisLedger

        ledger = RedisLedger(self.redis)
        return Confirmations(key=ledger.key, ledger=ledger, settings=self.settings)

    def _results(self, budget: int) -> ResultStore | None:
        if self.redis is None:
            return None
        from mg_tools.redis_state import RedisResults

        return ResultStore(budget, texts=RedisResults(self.redis))

    def _rules(
        self, policy_file: str | Path | None, identities: Iterable[str], usage: UsageStore | None
    ) -> Gate | None:
        """The Cedar policy set of ``policy_file`` (else the settings') as the executor applies it."""
        path = policy_file if policy_file is not None else self.settings.policy_file
        if not path:
            return None
        from mg_tools.rules import Gate, Rules

        def stored() -> UsageStore:
            if self.redis is not None:
                from mg_tools.redis_state import RedisUsage

                return RedisUsage(self.redis)
            from mg_tools.state import state_dir
            from mg_tools.usage import SqliteUsage

            return SqliteUsage(state_dir(self.settings) / "usage.sqlite")

        rules = Rules.load(path, self.registry, (self.identity, *identities, *self._served_identities()))
        subaccount = getattr(self, "subaccount", None) or getattr(self.settings, "subaccount", None)
        return Gate(rules, usage or stored, identity=self.identity, subaccount=subaccount)

    def _served_identities(self) -> list[str]:
        """The identities the HTTP transport serves (``MG_TOOLS_IDENTITIES``, ``MG_TOOLS_HTTP_TOKEN``):
        policies may name them."""
        from mg_tools.identities import TOKEN_IDENTITY, Identities

        names = [TOKEN_IDENTITY] if self.settings.secret("http_token") else []
        if self.settings.identities is not None:
            names += [identity.name for identity in Identities.load(self.settings.identities, self.registry)]
        return names

    @property
    def rules(self) -> Gate | None:
        """The policy rules calls must satisfy (None without a policy file)."""
        return self.executor.rules

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
        ``MAILGUN_API_BASE_URL`` and the ``MG_TOOLS_*`` variables of ``environ`` (default: the process
        environment); keyword arguments override them (``policy=``, ``sandbox=True``, ...)."""
        return cls.from_settings(Settings.from_env(environ), **overrides)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Toolkit:
        """Like :meth:`from_env`, from settings already read: the account too comes from them."""
        config: dict[str, Any] = {
            "api_key": settings.secret("api_key"),
            "region": settings.region,
            "base_url": settings.base_url,
            "settings": settings,
            **overrides,
        }
        if config.get("sandbox"):
            config["api_key"] = config["base_url"] = None
        return cls(**config)

    # -- what is there ------------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        """The operations the policy exposes (and the policy rules could permit the caller), by area then name."""
        return [op for op in self.registry if self.policy.exposes(op) and not self.refusal(op)]

    def refusal(self, op: Operation) -> str:
        """Why ``op`` is not listed for the caller in progress; empty when it is."""
        decision = decide(self.policy, op)
        if not decision.allowed:
            return decision.reason
        gate = self.executor.rules
        if gate is not None and not gate.rules.may_permit(op, gate.who()):
            return gate.rules.refusal(op, gate.who())
        return ""

    def needs_confirmation(self, op: Operation) -> bool:
        """Whether calls of ``op`` may need a confirmation token (a confirm pattern or a ``@confirm`` policy)."""
        gate = self.executor.rules
        return decide(self.policy, op).confirm or (gate is not None and gate.rules.may_confirm(op, gate.who()))

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
            name,
            dict(arguments) if isinstance(arguments, Mapping) else arguments,
            dry_run=dry_run,
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
        if self.redis is not None:
            self.redis.close()

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
