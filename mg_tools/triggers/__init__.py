"""Webhook triggers: receive Mailgun's webhooks, check them, and hand each event on in one flat shape.

Embedded in-process::

    from mg_tools.triggers import Listener, listener_app
    app = listener_app(Listener(signing_key="..."))   # any ASGI server; events as JSON lines on stdout

or from the command line, ``mg-tools webhooks listen``. The parts:

- :mod:`~.verify`: :func:`verify` (signature and age of one post) and :func:`parse_post` (JSON or
  legacy form shape);
- :mod:`~.tokens`: each token accepted once (memory, SQLite in the state directory, or Redis);
- :mod:`~.normalize`: :func:`normalize`, the flat event shape;
- :mod:`~.sinks`: stdout, ``--forward`` (retried), ``--exec``, and the dead-letter file;
- :mod:`~.app`: :class:`Listener` and :func:`listener_app`, and when Mailgun is answered 200;
- :mod:`~.register`: :func:`register_webhooks`, pointing a domain's webhooks at the listener.
"""

from mg_tools.triggers.app import Listener, listener_app
from mg_tools.triggers.normalize import normalize
from mg_tools.triggers.register import register_webhooks, webhook_events
from mg_tools.triggers.sinks import DeadLetters, ExecSink, ForwardSink, Retry, StdoutSink
from mg_tools.triggers.tokens import RedisTokens, SqliteTokens, Tokens
from mg_tools.triggers.verify import Refusal, parse_post, verify

__all__ = [
    "DeadLetters",
    "ExecSink",
    "ForwardSink",
    "Listener",
    "RedisTokens",
    "Refusal",
    "Retry",
    "SqliteTokens",
    "StdoutSink",
    "Tokens",
    "listener_app",
    "normalize",
    "parse_post",
    "register_webhooks",
    "verify",
    "webhook_events",
]
