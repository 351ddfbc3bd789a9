"""The `mg-tools` command: list tools, call one, serve them over MCP, run the sandbox, read the audit
trail, show the settings.

The settings are read from the environment once, here, and handed to everything the command builds;
logs are set up here too (JSON lines on stderr, at ``MG_TOOLS_LOG_LEVEL``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mg_tools import errors
from mg_tools.errors import ConfirmationRequired, MgToolsError

if TYPE_CHECKING:
    from mg_tools.settings import Settings

__all__ = ["main"]

#: What `mg-tools tools --format` prints.
TOOLS_FORMATS = ("text", "json", "markdown", "openai", "anthropic")

EXIT_CODES: tuple[tuple[type[MgToolsError], int], ...] = (
    (errors.InvalidArguments, 2),
    (errors.UnknownOperation, 2),
    (errors.ConfigurationError, 2),
    (errors.PolicyDenied, 3),
    (ConfirmationRequired, 3),
    (errors.MailgunError, 4),
    (errors.TransportError, 5),
    (errors.StateUnavailable, 5),
)


def _add_policy_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy (also MG_TOOLS_GRANTS, MG_TOOLS_DENY, MG_TOOLS_READ_ONLY, ...)")
    group.add_argument("--read-only", action="store_true", help="only read operations (wins over everything)")
    group.add_argument("--grants", help="comma-separated patterns, e.g. '*:read,templates:*,send_message'")
    group.add_argument("--deny", help="comma-separated patterns to refuse")
    group.add_argument("--toolsets", help="only these areas, e.g. messages,suppressions")
    group.add_argument("--tools", help="only these tool names (with --toolsets: also these)")
    group.add_argument("--exclude-tools", help="never these tool names or patterns")
    group.add_argument("--confirm", help="patterns needing a confirmation token, e.g. '*:send,*:delete'")
    group.add_argument("--allow-secrets", action="store_true", help="return secrets unredacted")
    group.add_argument(
        "--policy",
        dest="policy_file",
        metavar="FILE",
        help="Cedar policy file every call must satisfy (MG_TOOLS_POLICY)",
    )
    group.add_argument("--identity", help="who the calls are made as, for the policy (MG_TOOLS_IDENTITY)")


def _add_target_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sandbox", action="store_true", help="use the embedded sandbox (no Mailgun account)")
    parser.add_argument("--subaccount", metavar="ID", help="act for this subaccount (also MG_TOOLS_SUBACCOUNT)")
    parser.add_argument(
        "--sandbox-state",
        metavar="FILE",
        help="sandbox state file (default: a file under $XDG_STATE_HOME/mg-tools for `call`, memory for `serve`; "
        "':memory:' for none)",
    )


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action) or ""


def build_parser() -> argparse.ArgumentParser:
    from mg_tools import __version__

    parser = argparse.ArgumentParser(
        prog="mg-tools", description="Mailgun's whole API as tools for agents.", formatter_class=_Help
    )
    parser.add_argument("--version", action="version", version=f"mg-tools {__version__}")
    parser.set_defaults(settings=None)  # main() reads them; a policy built without them reads the environment
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_parser_with_defaults)

    tools = sub.add_parser("tools", help="list the operations the policy exposes")
    fmt = tools.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON: name, method, path, area, access, ...")
    fmt.add_argument("--markdown", action="store_true", help="the docs/tools.md reference")
    fmt.add_argument(
        "--format",
        choices=TOOLS_FORMATS,
        help="text (default); json (= --json); markdown (= --markdown); openai, anthropic: tool definitions",
    )
    _add_policy_flags(tools)

    describe = sub.add_parser("describe", help="show one operation: description, access and input schema")
    describe.add_argument("name")

    call = sub.add_parser("call", help="run one operation and print its result as JSON")
    call.add_argument("name")
    call.add_argument("--args", default=None, help="arguments as JSON, @file.json, or - for stdin")
    call.add_argument("--dry-run", action="store_true", help="print the exact request; send nothing")
    call.add_argument("--confirm-token", help="token from a confirmation_required answer")
    _add_target_flags(call)
    _add_policy_flags(call)

    serve = sub.add_parser("serve", help="serve the tools over MCP (stdio or streamable HTTP)")
    serve.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio for desktop clients, http for streamable HTTP at /mcp",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="HTTP bind address; beyond loopback needs MG_TOOLS_HTTP_TOKEN"
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP port")
    serve.add_argument(
        "--mode",
        choices=["all", "discover"],
        default="all",
        help="all: one MCP tool per operation; discover: a few meta-tools reaching every operation",
    )
    _add_target_flags(serve)
    _add_policy_flags(serve)

    sandbox = sub.add_parser("sandbox", help="run the Mailgun-compatible sandbox server")
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address; beyond loopback needs --api-key")
    sandbox.add_argument("--port", type=int, default=8025, help="port (0 picks a free one)")
    sandbox.add_argument("--state", metavar="FILE", help="SQLite file to keep state in (default: memory)")
    sandbox.add_argument("--api-key", help="the key clients must use (default: sandbox-key)")

    audit = sub.add_parser("audit", help="show the audit trail (MG_TOOLS_AUDIT) as a table")
    audit.add_argument("--file", help="the audit file (default: MG_TOOLS_AUDIT)")
    audit.add_argument("--since", help="only records since a span ago (90s, 15m, 1h, 2d) or an ISO time")
    audit.add_argument("--identity", help="only this identity (globs: help*)")
    audit.add_argument("--tool", help="only this tool (globs: delete_*)")
    audit.add_argument("--json", action="store_true", help="the records as a JSON list")
    _add_policy_commands(sub)
    _add_webhooks_commands(sub)
    _add_batch_commands(sub)

    settings = sub.add_parser("settings", help="show the settings the environment gives (secrets hidden)")
    settings.add_argument("--markdown", action="store_true", help="the README's table of the variables")
    return parser


def _add_batch_commands(sub: Any) -> None:
    batch = sub.add_parser("batch", help="bulk sends: any number of recipients, as a resumable job")
    actions = batch.add_subparsers(dest="batch_command", required=True, parser_class=_parser_with_defaults)
    send = actions.add_parser("send", help="send one message to every recipient of a CSV or JSON-lines file")
    send.add_argument("--recipients", required=True, metavar="FILE", help="CSV (address column) or .jsonl")
    send.add_argument("--domain", required=True)
    send.add_argument("--from", dest="sender", required=True)
    send.add_argument("--subject")
    content = send.add_mutually_exclusive_group(required=True)
    content.add_argument("--text")
    content.add_argument("--html")
    content.add_argument("--template", help="a stored template's name")
    send.add_argument("--job", help="the id of a job to resume")
    send.add_argument("--unknown", choices=("report", "resend", "skip"), default="report")
    _add_target_flags(send)
    _add_policy_flags(send)
    status = actions.add_parser("status", help="list the jobs, or show one job's batches")
    status.add_argument("job", nargs="?")


def _add_policy_commands(sub: Any) -> None:
    policy = sub.add_parser("policy", help="the Cedar policy rules: schema, check a file, test a call")
    commands = policy.add_subparsers(dest="policy_command", required=True)
    known = "an identity the policies may name (repeatable; default MG_TOOLS_IDENTITY)"
    schema = commands.add_parser("schema", help="print the Cedar schema (JSON) policies are checked against")
    schema.add_argument("--identity", action="append", default=[], help=known)
    check = commands.add_parser("check", help="validate a policy file against the schema")
    check.add_argument("file")
    check.add_argument("--identity", action="append", default=[], help=known)
    test = commands.add_parser("test", help="decide one call under a policy file; nothing is sent")
    test.add_argument("file")
    test.add_argument("name")
    test.add_argument("--as", dest="identity", help="the identity calling (default MG_TOOLS_IDENTITY)")
    test.add_argument("--args", default=None, help="arguments as JSON, @file.json, or - for stdin")
    test.add_argument("--dry-run", action="store_true", help="decide it as a dry run (context.dry_run)")


def _add_webhooks_commands(sub: Any) -> None:
    webhooks = sub.add_parser("webhooks", help="receive Mailgun's webhooks and hand each event on")
    commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listen = commands.add_parser("listen", help="check webhook posts and pass each event on (default: stdout)")
    listen.add_argument("--host", default="127.0.0.1", help="bind address")
    listen.add_argument("--port", type=int, default=8090, help="port (0 picks a free one)")
    listen.add_argument("--signing-key", help="the webhook signing key (also MAILGUN_WEBHOOK_SIGNING_KEY)")
    target = listen.add_mutually_exclusive_group()
    target.add_argument("--forward", metavar="URL", help="POST each event as JSON to URL (retried)")
    target.add_argument("--exec", dest="exec_command", metavar="CMD", help="run CMD per event, the event JSON on stdin")
    listen.add_argument("--max-age", type=float, default=300.0, help="seconds a post's timestamp may be off")
    listen.add_argument("--dead-letter", metavar="FILE", help="where undeliverable events go (default: state dir)")
    listen.add_argument("--raw", action="store_true", help="add each event as posted, under 'raw'")
    listen.add_argument("--register", metavar="URL", help="point the domain's webhooks at URL first")
    listen.add_argument("--events", help="with --register: comma-separated events, e.g. delivered,permanent_fail")
    listen.add_argument("--domain", help="with --register: the sending domain")
    _add_target_flags(listen)


def _parser_with_defaults(**kwargs: Any) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(formatter_class=_Help, **kwargs)


def _policy(args: argparse.Namespace):
    from mg_tools.policy import Policy

    return Policy.from_env(
        settings=args.settings,
        grants=args.grants,
        deny=args.deny,
        read_only=args.read_only,
        toolsets=args.toolsets,
        tools=args.tools,
        exclude_tools=args.exclude_tools,
        confirm=args.confirm,
        allow_secrets=args.allow_secrets or None,
    )


def default_sandbox_state(settings: Settings) -> str:
    from mg_tools.state import state_dir

    return str(state_dir(settings) / "sandbox.sqlite")


def _toolkit(args: argparse.Namespace, *, persistent_sandbox: bool):
    from mg_tools.toolkit import Toolkit

    policy = _policy(args) if hasattr(args, "grants") else None
    overrides: dict[str, Any] = {"policy": policy} if policy is not None else {}
    if getattr(args, "subaccount", None):
        overrides["subaccount"] = args.subaccount
    overrides.update({k: v for k in ("policy_file", "identity") if (v := getattr(args, k, None))})
    if getattr(args, "sandbox", False):
        state = args.sandbox_state or (default_sandbox_state(args.settings) if persistent_sandbox else None)
        overrides.update(sandbox=True, sandbox_state=None if state == ":memory:" else state)
    return Toolkit.from_settings(args.settings, redactor=args.redactor, **overrides)


def _read_arguments(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    if raw == "-":
        raw = sys.stdin.read()
    elif raw.startswith("@"):
        try:
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise errors.InvalidArguments("--args", [("", f"cannot read {raw[1:]!r} ({why})")]) from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise errors.InvalidArguments("--args", [("", f"not valid JSON ({exc.msg} at character {exc.pos})")]) from None
    if not isinstance(value, dict):
        raise errors.InvalidArguments("--args", [("", "must be a JSON object")])
    return value


def _print(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _cmd_tools(args: argparse.Namespace) -> int:
    toolkit = _toolkit(args, persistent_sandbox=False)
    ops = toolkit.operations()
    form = args.format or ("json" if args.json else "markdown" if args.markdown else "text")
    if form in ("openai", "anthropic"):
        from mg_tools.adapters.plain import FORMATS

        _print(FORMATS[form](toolkit))
    elif form == "json":
        _print([op.summary() for op in ops])
    elif form == "markdown":
        from mg_tools.docs import tools_markdown

        sys.stdout.write(tools_markdown(toolkit.registry))  # the reference lists every operation
    else:
        width = max((len(op.name) for op in ops), default=10)
        for op in ops:
            flag = " (deprecated)" if op.deprecated else ""
            sys.stdout.write(f"{op.name:<{width}}  {op.tag:<22} {op.method:<6} {op.path or '(composite)'}{flag}\n")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from mg_tools.policy import decide
    from mg_tools.schema import tool_schema

    toolkit = _toolkit(args, persistent_sandbox=False)
    op = toolkit.operation(args.name)
    decision = decide(toolkit.policy, op)
    unavailable = {} if decision.allowed else {"unavailable": decision.reason}
    _print({**op.summary(), **unavailable, "input_schema": tool_schema(op)})
    return 0


def _cmd_call(args: argparse.Namespace) -> int:
    arguments = _read_arguments(args.args)
    toolkit = _toolkit(args, persistent_sandbox=not args.dry_run)
    try:
        if args.dry_run:
            result = toolkit.executor.dry_run(args.name, arguments, confirm_token=args.confirm_token)
        else:
            result = toolkit.run(toolkit.execute(args.name, arguments, confirm_token=args.confirm_token))
    finally:
        toolkit.close()
    _print(result.data if args.dry_run else result.to_dict())
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from mg_tools.bulk import command

    if args.batch_command == "status":
        _print(command.status(args.settings, args.job))
        return 0
    fields = ("domain", "sender", "subject", "text", "html", "template", "job", "unknown")
    arguments = {k: v for k in fields if (v := getattr(args, k)) is not None}
    arguments["recipients_file"] = args.recipients
    toolkit = _toolkit(args, persistent_sandbox=True)
    try:
        answer = command.send(toolkit, arguments)
    finally:
        toolkit.close()
    _print(answer)
    if answer["status"] != "done":
        sys.stderr.write(f"mg-tools: job {answer['job']} is incomplete: {answer.get('next', '')}\n")
    return command.exit_code(answer)


def _cmd_serve(args: argparse.Namespace) -> int:
    from mg_tools.mcp_server import serve

    toolkit = _toolkit(args, persistent_sandbox=False)
    serve(toolkit, transport=args.transport, host=args.host, port=args.port, mode=args.mode)
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from mg_tools.sandbox import DEFAULT_API_KEY
    from mg_tools.sandbox.server import serve

    serve(host=args.host, port=args.port, state_path=args.state, api_key=args.api_key or DEFAULT_API_KEY)
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from mg_tools import audit_view

    path = args.file or args.settings.audit
    if not path or path == "-":
        raise errors.ConfigurationError("no audit file to read: pass --file FILE or set MG_TOOLS_AUDIT to a file")
    since = audit_view.parse_since(args.since) if args.since else None
    trail = audit_view.read(path)
    records = audit_view.select(trail.records, since=since, identity=args.identity, tool=args.tool)
    if args.json:
        _print(records)
    else:
        sys.stdout.write(audit_view.table(records))
    if trail.unreadable:
        sys.stderr.write(f"mg-tools: {trail.unreadable} lines of {path} are not audit records and were skipped\n")
    return 0


def _cmd_policy(args: argparse.Namespace) -> int:
    from mg_tools.registry import Registry, make_plugin_manager

    registry = Registry.from_plugins(make_plugin_manager(blocked=args.settings.block_plugins))
    if args.policy_command == "test":
        return _policy_test(args)
    identities = args.identity or [args.settings.identity]
    if args.policy_command == "schema":
        from mg_tools.rules_schema import cedar_schema

        _print(cedar_schema(registry, identities))
        return 0
    from mg_tools.rules import Rules

    rules = Rules.load(args.file, registry, identities)
    count = len(rules.policies)
    sys.stdout.write(f"{args.file}: {count} {'policy' if count == 1 else 'policies'}, valid\n")
    return 0


def _policy_test(args: argparse.Namespace) -> int:
    from mg_tools.policy import Policy
    from mg_tools.toolkit import Toolkit

    toolkit = Toolkit.from_settings(
        args.settings, policy=Policy(), policy_file=args.file, identity=args.identity, redactor=args.redactor
    )
    op = toolkit.operation(args.name)
    decision = toolkit.rules.decide(op, toolkit.executor.validate(op, _read_arguments(args.args)), dry_run=args.dry_run)
    verdict = "deny" if not decision.allowed else "confirm" if decision.confirm else "allow"
    _print({"decision": verdict, "policies": list(decision.policies), "reason": decision.reason or decision.confirm})
    return 0


def _cmd_webhooks(args: argparse.Namespace) -> int:
    from mg_tools.triggers import register_webhooks
    from mg_tools.triggers.serve import build_listener, serve, signing_key

    key = signing_key(args.settings, args.signing_key, sandbox=args.sandbox)
    if args.register:
        if not (args.domain and args.events):
            raise errors.ConfigurationError("--register needs --domain and --events (e.g. delivered,permanent_fail)")
        toolkit = _toolkit(args, persistent_sandbox=True)
        try:
            events = [event.strip() for event in args.events.split(",") if event.strip()]
            done = register_webhooks(toolkit, args.domain, args.register, events)
        finally:
            toolkit.close()
        sys.stderr.write(f"mg-tools: webhooks of {args.domain} -> {args.register}: {json.dumps(done)}\n")
    listener = build_listener(
        args.settings,
        key=key,
        redactor=args.redactor,
        forward=args.forward,
        command=args.exec_command,
        dead_letter=args.dead_letter,
        max_age=args.max_age,
        raw=args.raw,
    )
    serve(listener, args.host, args.port)
    return 0


def _cmd_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        from mg_tools.settings import markdown_table

        sys.stdout.write(markdown_table())
    else:
        _print(args.settings.model_dump(mode="json", by_alias=True))
    return 0


COMMANDS = {
    "tools": _cmd_tools,
    "describe": _cmd_describe,
    "call": _cmd_call,
    "serve": _cmd_serve,
    "sandbox": _cmd_sandbox,
    "audit": _cmd_audit,
    "policy": _cmd_policy,
    "settings": _cmd_settings,
    "webhooks": _cmd_webhooks,
    "batch": _cmd_batch,
}


def main(argv: list[str] | None = None) -> int:
    from mg_tools.log import Redactor, configure
    from mg_tools.settings import Settings

    args = build_parser().parse_args(argv)
    # The toolkit a command builds redacts with this one, so an error it raises is redacted with
    # what that toolkit learnt (its API key, secret arguments).
    args.redactor = Redactor()
    try:
        args.settings = Settings.from_env()
        configure(args.settings.log_level)  # structlog itself is imported when a line is first written
        return COMMANDS[args.command](args)
    except MgToolsError as exc:
        extra = f" (confirm_token: {exc.token})" if isinstance(exc, ConfirmationRequired) else ""
        sys.stderr.write(f"mg-tools: {args.redactor.redact_text(exc.message)}{extra}\n")
        return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)
    except BrokenPipeError:
        # The reader went away (`mg-tools tools | head`): stop quietly, as other command-line tools do.
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
