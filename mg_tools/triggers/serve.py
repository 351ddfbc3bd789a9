"""The listener of ``mg-tools webhooks listen``: built from the settings and options, served by uvicorn."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mg_tools.errors import ConfigurationError
from mg_tools.triggers.app import Listener, listener_app
from mg_tools.triggers.sinks import DeadLetters, ExecSink, ForwardSink, Sink, StdoutSink
from mg_tools.triggers.tokens import RedisTokens, SqliteTokens, Tokens

if TYPE_CHECKING:
    from mg_tools.log import Redactor
    from mg_tools.settings import Settings

__all__ = ["DEAD_LETTER_FILE", "TOKENS_FILE", "build_listener", "serve", "signing_key"]

DEAD_LETTER_FILE = "webhooks-dead-letter.jsonl"
TOKENS_FILE = "webhook-tokens.sqlite"


def signing_key(settings: Settings, given: str | None, *, sandbox: bool) -> str:
    """The key posts are checked with: ``given``, else ``MAILGUN_WEBHOOK_SIGNING_KEY``, else the
    sandbox's with ``sandbox``; none is a ``ConfigurationError``."""
    key = given or settings.secret("webhook_signing_key")
    if not key and sandbox:
        from mg_tools.sandbox import DEFAULT_SIGNING_KEY

        key = DEFAULT_SIGNING_KEY
    if not key:
        raise ConfigurationError(
            "no webhook signing key: pass --signing-key or set MAILGUN_WEBHOOK_SIGNING_KEY (Mailgun shows it "
            "under Sending > Webhooks), or use --sandbox"
        )
    return key


def build_listener(
    settings: Settings,
    *,
    key: str,
    redactor: Redactor,
    forward: str | None = None,
    command: str | None = None,
    dead_letter: str | None = None,
    max_age: float = 300.0,
    raw: bool = False,
) -> Listener:
    """A :class:`Listener` for the command line: tokens in Redis (``MG_TOOLS_REDIS_URL``) or the state
    directory, dead letters in ``dead_letter`` (default: a file in the state directory)."""
    from mg_tools.state import state_dir

    sink: Sink = ForwardSink(forward) if forward else ExecSink(command) if command else StdoutSink()
    url = settings.secret("redis_url")
    if url:
        from mg_tools.redis_state import Redis

        tokens = Tokens(RedisTokens(Redis(url, redactor=redactor)))
    else:
        tokens = Tokens(SqliteTokens(state_dir(settings) / TOKENS_FILE))
    dead = Path(dead_letter) if dead_letter else state_dir(settings) / DEAD_LETTER_FILE
    return Listener(
        key, sink=sink, dead_letters=DeadLetters(dead), tokens=tokens, max_age=max_age, raw=raw, redactor=redactor
    )


def serve(listener: Listener, host: str, port: int) -> None:
    """Serve ``listener`` on ``host``:``port`` (0: a free one) until interrupted; one line on stderr says where."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    target = getattr(listener.sink, "url", None) or " ".join(getattr(listener.sink, "argv", ())) or "stdout"
    dead = listener.dead_letters.path if listener.dead_letters else "none"
    print(
        f"mg-tools webhooks listen on http://{shown}:{bound}/ (events to {target}; dead letters in {dead}; "
        f"counts at /healthz)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(listener_app(listener), log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
