"""State several servers share through Redis (``MG_TOOLS_REDIS_URL``), one small class per store.

Each store stands behind the interface of its local twin, and keeps its keys under ``mg-tools:<store>:``:

=================  ===================================================  =====================================
store              keys                                                 local twin
=================  ===================================================  =====================================
``RedisResults``   ``mg-tools:results:<result id>`` (string, expires)   ``MemoryTexts`` (:mod:`~.results`)
``RedisLedger``    ``mg-tools:confirm:used:<nonce>`` (string, expires    ``SqliteLedger`` (:mod:`~.confirm`)
                   with its token), ``mg-tools:confirm:key`` (the HMAC
                   key, made once by whichever server needs it first)
``RedisUsage``     ``mg-tools:usage:calls:<identity>:<tool>`` and       ``SqliteUsage`` (:mod:`~.usage`)
                   ``mg-tools:usage:recipients:<identity>`` (sorted
                   sets scored by time), ``mg-tools:usage:ticket``
=================  ===================================================  =====================================

The journal of bulk-send jobs, ``mg-tools:jobs:``, has a module of its own beside its local twin
(:mod:`mg_tools.bulk.redis_journal`).

A new store takes a prefix of its own and a :class:`Redis` connection, and runs its commands through
:meth:`Redis.run`. When Redis does not answer, that is a :class:`~mg_tools.errors.StateUnavailable`
naming the URL (password hidden): a server never falls back to state of its own, which would let each
replica keep its own quota or accept a token once more.

The ``redis`` package is imported here only, and this module only when the URL is set.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from mg_tools.errors import ConfigurationError, StateUnavailable
from mg_tools.usage import DAY, HOUR, Usage

if TYPE_CHECKING:
    from mg_tools.log import Redactor

__all__ = ["PREFIX", "RESULT_TTL", "Redis", "RedisLedger", "RedisResults", "RedisUsage", "shown_url"]

PREFIX = "mg-tools"
#: How long the full text of a trimmed result stays readable, in seconds.
RESULT_TTL = 3600
#: How long a command may wait for Redis before the call stops, in seconds.
TIMEOUT = 2.0
_NOT_SENT = "nothing was sent"
T = TypeVar("T")


def shown_url(url: str) -> str:
    """``url`` as it may be shown: any password (in the user part or a ``password=`` query) as ``***``."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        url = url.replace(parts.netloc, f"{user}:***@{host}" if colon else f"***@{host}", 1)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)


class Redis:
    """One connection pool to the Redis at ``url``, made on first use; ``key()`` names keys in the
    mg-tools namespace and ``run()`` turns Redis not answering into a ``StateUnavailable``.

    A URL redis-py cannot read is a ``ConfigurationError`` at once. The password, if any, is handed
    to ``redactor`` so no log line or error shows it."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT, redactor: Redactor | None = None) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.shown = shown_url(url)
        if redactor is not None:
            redactor.add_secret(urlsplit(url).password)
        try:
            # One retry, at once: after Redis restarts, the first command on a pooled connection
            # meets a closed socket; the retry takes a fresh one.
            self.client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
            )
        except ValueError as exc:
            raise ConfigurationError(f"MG_TOOLS_REDIS_URL={self.shown!r} is not a Redis URL: {exc}") from None
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)

    def key(self, store: str, *parts: str) -> str:
        """The key ``mg-tools:<store>:<part>:...``."""
        return ":".join((PREFIX, store, *parts))

    def run(self, command: Callable[[Any], T], *, doing: str, outcome: str = _NOT_SENT) -> T:
        """``command(client)``; when Redis does not answer, a ``StateUnavailable`` saying what was being
        done (``doing``) and what it means for the call (``outcome``)."""
        try:
            return command(self.client)
        except self._errors as exc:
            why = str(exc).replace(self.client.connection_pool.connection_kwargs.get("password") or "\0", "***")
            raise StateUnavailable(
                f"Redis at {self.shown} (MG_TOOLS_REDIS_URL) did not answer while {doing} ({why}); {outcome}; "
                "repeat the call once Redis answers"
            ) from None

    def close(self) -> None:
        self.client.close()


class RedisResults:
    """The full texts of trimmed results (a :class:`~mg_tools.results.TextStore`), readable from any
    server for ``ttl`` seconds."""

    def __init__(self, redis: Redis, ttl: int = RESULT_TTL) -> None:
        self.redis = redis
        self.ttl = ttl

    def put(self, result_id: str, text: str, untrusted: bool) -> None:
        value = (b"u" if untrusted else b"-") + text.encode("utf-8", "surrogatepass")
        key = self.redis.key("results", result_id)
        self.redis.run(
            lambda r: r.set(key, value, ex=self.ttl),
            doing="keeping a result over the budget",
            outcome="the call was made, but its full result could not be kept: ask for a smaller page",
        )

    def get(self, result_id: str) -> tuple[str, bool] | None:
        key = self.redis.key("results", result_id)
        value = self.redis.run(lambda r: r.get(key), doing="reading a kept result")
        if value is None:
            return None
        return value[1:].decode("utf-8", "surrogatepass"), value[:1] == b"u"


class RedisLedger:
    """Used confirmation tokens (a :class:`~mg_tools.confirm.Ledger`) and the key that signs them, so
    a token issued by one server is checked, and used up, on any of them."""

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self._clock = clock

    def use(self, nonce: str, expires: float) -> bool:
        key = self.redis.key("confirm", "used", nonce)
        # SET NX is the single use: of two servers recording the same nonce, one wins. The record
        # lives as long as the token could still be presented (and a second more for clock skew).
        ttl = max(1, int(expires - self._clock()) + 2)
        return bool(self.redis.run(lambda r: r.set(key, b"1", nx=True, ex=ttl), doing="recording a used token"))

    def key(self) -> bytes:
        """The shared HMAC key, made by whichever server asks first."""
        key = self.redis.key("confirm", "key")

        def shared(r: Any) -> bytes:
            r.set(key, secrets.token_bytes(32), nx=True)
            return bytes(r.get(key))

        return self.redis.run(shared, doing="reading the confirmation key")


class RedisUsage:
    """Quota counters (a :class:`~mg_tools.usage.UsageStore`) every server adds to and reads: per
    identity, a sorted set of calls per tool and one of sends with their recipients, scored by time;
    entries older than a day are dropped on each read."""

    #: How many recent tickets are remembered for ``cancel``, which follows its ``record`` at once.
    PENDING = 1024

    def __init__(self, redis: Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self._clock = clock
        self._pending: OrderedDict[int, tuple[str, str, str]] = OrderedDict()

    def _keys(self, identity: str, tool: str) -> tuple[str, str]:
        return self.redis.key("usage", "calls", identity, tool), self.redis.key("usage", "recipients", identity)

    def usage(self, identity: str, tool: str) -> Usage:
        now = self._clock()
        calls, sends = self._keys(identity, tool)

        def read(r: Any) -> list[Any]:
            pipe = r.pipeline()
            pipe.zremrangebyscore(calls, "-inf", now - DAY)
            pipe.zremrangebyscore(sends, "-inf", now - DAY)
            pipe.zcount(calls, f"({now - HOUR}", "+inf")
            pipe.zcard(calls)
            pipe.zrange(sends, f"({now - DAY}", "+inf", byscore=True, withscores=True)
            return pipe.execute()

        *_, calls_1h, calls_24h, recent = self.redis.run(read, doing="reading the quota counters")
        counted = [(int(member.split(b":")[1]), at) for member, at in recent]
        return Usage(
            calls_1h=calls_1h,
            calls_24h=calls_24h,
            recipients_1h=sum(n for n, at in counted if at > now - HOUR),
            recipients_24h=sum(n for n, _ in counted),
        )

    def record(self, identity: str, tool: str, recipients: int) -> int:
        now = self._clock()
        calls, sends = self._keys(identity, tool)

        def write(r: Any) -> int:
            ticket = int(r.incr(self.redis.key("usage", "ticket")))
            pipe = r.pipeline()
            pipe.zadd(calls, {str(ticket): now})
            pipe.expire(calls, int(DAY) + 60)
            if recipients:
                pipe.zadd(sends, {f"{ticket}:{recipients}": now})
                pipe.expire(sends, int(DAY) + 60)
            pipe.execute()
            return ticket

        ticket = self.redis.run(write, doing="counting the call for its quota")
        self._pending[ticket] = (calls, sends, f"{ticket}:{recipients}")
        while len(self._pending) > self.PENDING:
            self._pending.popitem(last=False)
        return ticket

    def cancel(self, ticket: int) -> None:
        if ticket not in self._pending:
            return
        calls, sends, member = self._pending.pop(ticket)

        def withdraw(r: Any) -> None:
            r.pipeline().zrem(calls, str(ticket)).zrem(sends, member).execute()

        try:
            self.redis.run(withdraw, doing="withdrawing a count")
        except StateUnavailable:
            pass  # the call stays counted: a quota errs on the side of fewer calls, and the first error stands
