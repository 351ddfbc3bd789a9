"""The MCP front end: the exposed operations as MCP tools, over stdio or streamable HTTP.

This is the only module that imports ``mcp``; the CLI imports it only to serve, so `mg-tools call`
and `mg-tools tools` never pay for it.

- ``mode="all"``: one tool per operation the policy exposes, plus ``read_result``.
- ``mode="discover"``: ``search_operations``, ``describe_operation``, ``call_operation`` and
  ``read_result`` reach every exposed operation, for a small fixed cost in tokens.

Both modes serve the prompts of :mod:`mg_tools.prompts` the caller can follow (``prompts/list``,
``prompts/get``).

Every call goes through :meth:`Toolkit.execute` (validation, policy, confirmation, the request, the
result budget). Errors a model can act on (invalid arguments, policy, Mailgun's answers, transport,
configuration) come back as error results whose text is the error's ``to_dict()`` as JSON, and which
carry no structured content: clients check structured content against the tool's output schema, which
describes successes only. A registered operation the policy hides gets the policy's reason, as an error
result; a name that is no tool at all is a protocol error (``INVALID_PARAMS``) suggesting exposed tools
only; anything unexpected is logged on stderr and masked.

When a call needs confirmation and the client declared the elicitation capability, the user is asked
through the client with a plain question (:func:`mg_tools.approval.question`); on an explicit accept the
identical call is run again with the token the executor issued, so its content binding holds. On
2026-07-28 the question travels as an ``InputRequiredResult`` whose ``requestState`` is that token; on
2025-11-25 as an ``elicitation/create`` request, where the connection can carry one. Otherwise the
token goes back to the agent, to be repeated once the user approved.

HTTP serves MCP at ``/mcp`` (stateless, JSON responses: POST only, other methods get 405) and
``/healthz``. It binds to loopback by default, refuses other addresses unless a token
(``MG_TOOLS_HTTP_TOKEN``) or identities (``MG_TOOLS_IDENTITIES``) are set, and then asks every request
except ``/healthz`` for ``Authorization: Bearer <token>``; each request runs as the token's identity
(:mod:`mg_tools.identities`), which sees and calls only what its own policy allows too. Host and
Origin are checked by the SDK's DNS-rebinding protection, and request bodies are capped at 4 MiB (413).
The requests that need no session (``tools/call``, ``tools/list``, ``ping``) skip the SDK's per-request
transport (:mod:`mg_tools.mcp_fast`); they are answered exactly as it would answer them.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import socket
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from pydantic import Field

from mg_tools import __version__, audit, log, progress, schema_cache
from mg_tools.approval import question
from mg_tools.caller import acting_as, current
from mg_tools.errors import ConfigurationError, ConfirmationRequired, MgToolsError, PolicyDenied, UnknownOperation
from mg_tools.executor import Executor, Result
from mg_tools.operation import Access, Operation
from mg_tools.prompts import PROMPTS, Prompt
from mg_tools.schema import input_schema, tool_schema
from mg_tools.tool_defs import CONFIRM_PROPERTY, ReadResult, description_of, error_detail, operation_schema
from mg_tools.types import Params

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mg_tools.identities import Identities
    from mg_tools.search import OperationIndex
    from mg_tools.toolkit import Toolkit

__all__ = ["MAX_BODY", "MODES", "TOKEN_ENV", "McpTools", "build_server", "http_app", "http_identities", "serve"]

MODES = ("all", "discover")
TOKEN_ENV = "MG_TOOLS_HTTP_TOKEN"
MAX_BODY = 4 * 1024 * 1024
INTERNAL_ERROR = "internal error; see the server log"
#: The most characters of one prompt argument that go into its text.
MAX_PROMPT_ARGUMENT = 512
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
DECLINED = "the user declined; nothing was sent"
#: The key of the confirmation question in an ``InputRequiredResult``.
CONFIRM_KEY = "confirm"
#: A yes-or-no question: accept or decline, no fields to fill.
APPROVAL_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

# -- the meta-tools' parameters (their docstrings are their descriptions) ---------------------------


class SearchOperations(Params):
    """Find Mailgun operations for a task in plain words, e.g. "stop emailing bob@example.com" or
    "why did my newsletter bounce". Returns the best matches; then describe_operation for the
    arguments, and call_operation to run one."""

    query: str = Field(max_length=500)
    limit: int = Field(5, ge=1, le=20)


class DescribeOperation(Params):
    """Show one operation's description, access and input schema (the arguments of call_operation)."""

    name: str = Field(max_length=64)


class CallOperation(Params):
    """Run one Mailgun operation by name with its arguments (see describe_operation)."""

    name: str = Field(max_length=64)
    arguments: dict[str, Any] = Field(default_factory=dict)
    confirm_token: str | None = Field(None, max_length=128)


_DISCOVER_PARAMS = (SearchOperations, DescribeOperation, CallOperation)


# -- building the tools -----------------------------------------------------------------------------

#: Runs a tool with its arguments and, when a person approved the call, the confirmation token.
Handler = Callable[[dict[str, Any], "str | None"], Awaitable["types.CallToolResult"]]


@dataclass(frozen=True, slots=True)
class _Tool:
    tool: types.Tool
    run: Handler


def annotations_of(op: Operation) -> types.ToolAnnotations:
    """MCP hints from the access: hints for clients only, the policy enforces.

    Only values that differ from the spec's defaults are sent (readOnlyHint false, destructiveHint
    true, idempotentHint false, openWorldHint true): every tool pays for each one it carries.
    """
    return hints(
        read_only=op.access is Access.READ,
        destructive=op.access is Access.DELETE,
        idempotent=op.idempotent,
        open_world=op.access is Access.SEND,
    )


def hints(*, read_only: bool, destructive: bool, idempotent: bool, open_world: bool) -> types.ToolAnnotations:
    """Tool annotations carrying only what differs from the MCP defaults. destructiveHint and
    idempotentHint mean nothing for a read-only tool and are left out there."""
    return types.ToolAnnotations(
        read_only_hint=True if read_only else None,
        destructive_hint=None if read_only or destructive else False,
        idempotent_hint=True if idempotent and not read_only else None,
        open_world_hint=None if open_world else False,
    )


READ_HINTS = hints(read_only=True, destructive=False, idempotent=True, open_world=False)


def _caller_key() -> Any:
    """What a caller's view of the tools depends on: its identity and its own policy."""
    who = current()
    return None if who is None else (who.identity, who.policy)


class McpTools:
    """The tools of one server: built once from the toolkit's policy, then listed and called."""

    def __init__(self, toolkit: Toolkit, mode: str = "all") -> None:
        if mode not in MODES:
            raise ConfigurationError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        self.toolkit = toolkit
        self.mode = mode
        # Every tool the toolkit's grants expose; what each caller sees of them is narrowed by its own
        # policy and by the policy rules, for its identity (``visible``).
        self.exposed: dict[str, Operation] = {op.name: op for op in toolkit.registry if toolkit.policy.exposes(op)}
        self._log = log.get_logger(__name__, toolkit.redactor)
        self._views: dict[Any, tuple[dict[str, Operation], OperationIndex | None]] = {}
        models = [op.params for op in self.exposed.values()] if mode == "all" else list(_DISCOVER_PARAMS)
        schema_cache.warm([*models, ReadResult], schema_cache.cache_path(toolkit.settings))
        tools = self._operation_tools() if mode == "all" else self._discover_tools()
        tools.append(self._meta_tool(ReadResult, self._read_result, output=["chunk", "next_offset"]))
        self.tools: dict[str, _Tool] = {t.tool.name: t for t in tools}
        self.listing = types.ListToolsResult(tools=[t.tool for t in tools])

    @property
    def index(self) -> OperationIndex:
        """The search index of what the current caller may use."""
        visible, index = self._view()
        if index is None:
            from mg_tools.search import OperationIndex  # only discover mode searches

            index = OperationIndex(visible.values())
            self._views[_caller_key()] = (visible, index)
        return index

    def visible(self) -> dict[str, Operation]:
        """The exposed operations the current caller may use: its own policy narrows the toolkit's, and
        the policy rules hide what they could never permit its identity."""
        return self._view()[0]

    def _view(self) -> tuple[dict[str, Operation], OperationIndex | None]:
        key = _caller_key()
        if key not in self._views:
            self._views[key] = ({n: op for n, op in self.exposed.items() if not self.toolkit.refusal(op)}, None)
        return self._views[key]

    def needs_confirmation(self, op: Operation) -> bool:
        return self.toolkit.needs_confirmation(op)

    @property
    def counts(self) -> dict[str, int]:
        """How many operations are exposed, and through how many tools (``read_result`` included)."""
        return {"operations": len(self.exposed), "tools": len(self.tools)}

    def summary(self) -> str:
        """The counts in words, for the start-up line: ``81 operations as 82 tools (mode all)``."""
        how = "as" if self.mode == "all" else "through"
        return f"{len(self.exposed)} operations {how} {len(self.tools)} tools (mode {self.mode})"

    # -- tool definitions ---------------------------------------------------------------------------

    def _operation_tools(self) -> list[_Tool]:
        # Each field below is repeated on every tool, so each must earn its tokens: no title (it would
        # only restate the name), and no output schema (the envelope, ``Result.to_dict()``, is
        # explained once in the server instructions; what ``result`` holds differs per endpoint).
        # Results still carry structured content.
        tools = []
        for op in self.exposed.values():
            tool = types.Tool(
                name=op.name,
                description=description_of(op),
                input_schema=operation_schema(op, confirm=self.needs_confirmation(op)),
                annotations=annotations_of(op),
                meta={"area": op.area, "access": str(op.access)},
            )
            tools.append(_Tool(tool, self._runner(op)))
        return tools

    def _discover_tools(self) -> list[_Tool]:
        ops = self.exposed.values()
        areas = sorted({op.area for op in ops})
        accesses = {op.access for op in ops}
        call_schema = input_schema(CallOperation)
        props = {k: v for k, v in call_schema["properties"].items() if k != "confirm_token"}
        if any(self.needs_confirmation(op) for op in ops):
            props["confirm_token"] = CONFIRM_PROPERTY
        read_only = accesses <= {Access.READ}
        return [
            self._meta_tool(
                SearchOperations,
                self._search,
                output=["operations"],
                suffix=f" Areas: {', '.join(areas)}." if areas else "",
            ),
            self._meta_tool(DescribeOperation, self._describe, output=["name", "input_schema"]),
            self._meta_tool(
                CallOperation,
                self._call_operation,
                output=["result"],
                schema={**call_schema, "properties": props},
                annotations=hints(
                    read_only=read_only,
                    destructive=Access.DELETE in accesses,
                    idempotent=False,
                    open_world=Access.SEND in accesses,
                ),
            ),
        ]

    def _meta_tool(
        self,
        params: type[Params],
        handler: Callable[[Any], Awaitable[types.CallToolResult]],
        *,
        output: list[str],
        suffix: str = "",
        schema: dict[str, Any] | None = None,
        annotations: types.ToolAnnotations | None = None,
    ) -> _Tool:
        name = _snake(params.__name__)

        async def run(arguments: dict[str, Any], confirm_token: str | None = None) -> types.CallToolResult:
            if confirm_token:
                arguments = {**arguments, "confirm_token": confirm_token}
            return await handler(Executor.validate_model(name, params, arguments))

        tool = types.Tool(
            name=name,
            description=" ".join((params.__doc__ or "").split()) + suffix,
            input_schema=schema or input_schema(params),
            output_schema={"type": "object", "required": output},
            annotations=annotations or READ_HINTS,
        )
        return _Tool(tool, run)

    # -- handlers -------------------------------------------------------------------------------------

    def _runner(self, op: Operation) -> Handler:
        confirm = self.needs_confirmation(op)

        async def run(arguments: dict[str, Any], confirm_token: str | None = None) -> types.CallToolResult:
            given = arguments.pop("confirm_token", None) if confirm or confirm_token else None
            token = confirm_token or given
            return self._result(await self.toolkit.execute(op.name, arguments, confirm_token=token))

        return run

    async def _call_operation(self, args: CallOperation) -> types.CallToolResult:
        op = self._exposed(args.name, calling=True, arguments=args.arguments)
        return self._result(await self.toolkit.execute(op.name, args.arguments, confirm_token=args.confirm_token))

    async def _describe(self, args: DescribeOperation) -> types.CallToolResult:
        op = self._exposed(args.name, calling=False)
        confirm = self.needs_confirmation(op)
        data: dict[str, Any] = {
            "name": op.name,
            "access": str(op.access),
            "area": op.area,
            "description": op.description,
        }
        if op.deprecated:
            data["deprecated"] = True
        if confirm:
            data["needs_confirmation"] = True
        data["input_schema"] = tool_schema(op)
        return _json_result(data)

    async def _search(self, args: SearchOperations) -> types.CallToolResult:
        hits = self.index.search(args.query, limit=args.limit)
        data: dict[str, Any] = {
            "operations": [
                {"name": h.operation.name, "access": str(h.operation.access), "description": h.operation.description}
                for h in hits
            ]
        }
        if not hits:
            data["hint"] = "nothing matched; try other words, or an area name: " + ", ".join(self.index.areas)
        elif hits[0].weak:
            data["weak"] = True
            data["hint"] = (
                "nothing matches well: these are only the closest; try other words, or an area name: "
                + ", ".join(self.index.areas)
            )
        return _json_result(data)

    async def _read_result(self, args: ReadResult) -> types.CallToolResult:
        chunk = self.toolkit.executor.read_result(args.result_id, args.offset)
        end = chunk["next_offset"]
        note = f"[characters {chunk['offset']}-{chunk['offset'] + len(chunk['chunk'])} of {chunk['total_chars']}; " + (
            f"next: read_result(result_id={args.result_id!r}, offset={end})]" if end is not None else "end]"
        )
        if chunk.get("untrusted"):
            note += f"\n[{chunk['untrusted']}]"
        return types.CallToolResult(
            content=[types.TextContent(text=chunk["chunk"] + "\n" + note)], structured_content=chunk
        )

    def _exposed(self, name: str, *, calling: bool, arguments: Any = None) -> Operation:
        """The exposed operation ``name``; else why not: the policy's reason, or "unknown" with the
        exposed operations it resembles."""
        visible = self.visible()
        op = visible.get(name)
        if op is not None:
            return op
        hidden = self._hidden(name, calling=calling, arguments=arguments)
        if hidden is not None:
            raise hidden
        raise UnknownOperation(name, suggestions=tuple(_close(name, visible)))

    def _hidden(self, name: str, *, calling: bool, arguments: Any = None) -> PolicyDenied | None:
        """For a registered operation the policy does not expose, the refusal carrying the policy's
        reason (written to the audit trail when it refuses a call)."""
        registry = self.toolkit.registry
        if name in self.visible() or name not in registry:
            return None
        reason = self.toolkit.refusal(registry.get(name))
        if not calling:
            return PolicyDenied(reason)
        refused = PolicyDenied(f"{reason}; nothing was sent")
        self.toolkit.executor.audit.note(
            name,
            self._target(name, arguments)[1] if isinstance(arguments, dict) else {},
            registry=registry,
            identity=self.toolkit.executor.who(),
            decision={"result": "denied", "reason": refused.message},
            outcome={"status": "error", "error": refused.code},
        )
        return refused

    @staticmethod
    def _result(result: Result) -> types.CallToolResult:
        return _json_result(result.to_dict())

    # -- the protocol handlers --------------------------------------------------------------------------

    async def list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        visible = self.visible()
        if len(visible) == len(self.exposed) or self.mode == "discover":
            return self.listing
        return types.ListToolsResult(
            tools=[t for t in self.listing.tools if t.name in visible or t.name not in self.exposed]
        )

    async def call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        entry = self.tools.get(params.name)
        if entry is None or (params.name in self.exposed and params.name not in self.visible()):
            hidden = self._hidden(params.name, calling=True, arguments=params.arguments)
            if hidden is not None:
                return self._error(hidden)
            raise MCPError(types.INVALID_PARAMS, self._unknown_tool(params.name))
        try:
            with progress.reporting(getattr(getattr(ctx, "session", None), "report_progress", None)):
                return await self._run(entry, dict(params.arguments or {}), ctx, params)
        except MgToolsError as exc:
            return self._error(exc)
        except Exception as exc:
            self._log.error("tool_failed", tool=params.name, error=repr(exc), traceback=traceback.format_exc())
            return _error_result({"error": "internal_error", "message": INTERNAL_ERROR})

    # -- prompts ------------------------------------------------------------------------------------------

    def prompts(self) -> dict[str, Prompt]:
        """The prompts the current caller can follow: those whose every tool it may use."""
        visible = self.visible()
        return {p.name: p for p in PROMPTS if p.usable(visible)}

    async def list_prompts(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(name=a.name, description=a.description, required=a.required)
                        for a in p.arguments
                    ],
                )
                for p in self.prompts().values()
            ]
        )

    async def get_prompt(self, ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        prompts = self.prompts()
        prompt = prompts.get(params.name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}. Prompts: {', '.join(prompts)}")
        values = {k: str(v)[:MAX_PROMPT_ARGUMENT] for k, v in (params.arguments or {}).items()}
        missing = [a.name for a in prompt.arguments if a.required and not values.get(a.name)]
        if missing:
            raise MCPError(types.INVALID_PARAMS, f"prompt {prompt.name} needs: {', '.join(missing)}")
        text = prompt.text(values, discover=self.mode == "discover")
        return types.GetPromptResult(
            description=prompt.description,
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
        )

    # -- confirmation by the user, through the client -----------------------------------------------------

    async def _run(
        self, entry: _Tool, arguments: dict[str, Any], ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        """Run a tool; when its call needs confirmation and the client can ask the user, ask."""
        answers = getattr(params, "input_responses", None)
        if answers:  # the retry of a call whose question was sent in an InputRequiredResult
            answer = answers.get(CONFIRM_KEY)
            return await self._answered(entry, arguments, getattr(answer, "action", None), params.request_state)
        try:
            return await entry.run(dict(arguments))
        except ConfirmationRequired as exc:
            how = _elicitation(ctx)
            if how is None:
                raise
            text = self._question(entry.tool.name, arguments)
            if how == "input_required":
                ask = types.ElicitRequest(
                    params=types.ElicitRequestFormParams(message=text, requested_schema=APPROVAL_SCHEMA)
                )
                return types.InputRequiredResult(input_requests={CONFIRM_KEY: ask}, request_state=exc.token)
            try:
                answer = await ctx.session.elicit_form(text, APPROVAL_SCHEMA, related_request_id=ctx.request_id)
            except Exception:  # the client could not ask after all: the token round trip still works
                raise exc from None
            return await self._answered(entry, arguments, answer.action, exc.token)

    async def _answered(
        self, entry: _Tool, arguments: dict[str, Any], action: str | None, token: str | None
    ) -> types.CallToolResult:
        """Run the call the user accepted, with its token, once; anything else sends nothing."""
        if action != "accept" or not token:
            name, args = self._target(entry.tool.name, arguments)
            self.toolkit.executor.audit.note(
                name,
                args,
                registry=self.toolkit.registry,
                identity=self.toolkit.executor.who(),
                decision={"result": "confirmation_required"},
                confirmation={"how": "elicitation", "at": audit.now(), "answer": action or "none"},
                outcome={"status": "declined"},
            )
            return _error_result({"error": "confirmation_declined", "message": DECLINED})
        with audit.confirming("elicitation"):
            return await entry.run(dict(arguments), token)

    @staticmethod
    def _target(name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The operation a tool call runs, and its arguments."""
        if name == "call_operation":
            inner = arguments.get("arguments")
            return str(arguments.get("name")), inner if isinstance(inner, dict) else {}
        return name, {k: v for k, v in arguments.items() if k != "confirm_token"}

    def _question(self, name: str, arguments: dict[str, Any]) -> str:
        op_name, args = self._target(name, arguments)
        op = self.toolkit.registry.get(op_name)
        return question(op, Executor.validate(op, args))

    def _unknown_tool(self, name: str) -> str:
        """The message of the protocol error for a name that is no tool here."""
        text = f"Unknown tool: {name}."
        if name in self.exposed:  # an operation, in discover mode
            return text + f" Run operations with call_operation(name={name!r}, arguments={{...}})."
        visible = self.visible()
        close = _close(name, [t for t in self.tools if t in visible or t not in self.exposed])
        return text + (f" Did you mean: {', '.join(close)}?" if close else "")

    def _error(self, exc: MgToolsError) -> types.CallToolResult:
        """An error result: the error's ``to_dict()`` as JSON text, and no structured content (an output
        schema describes the successes of a tool; clients check structured content against it)."""
        return _error_result(self.error_detail(exc))

    def error_detail(self, exc: MgToolsError) -> dict[str, Any]:
        """What an error result says: the error's ``to_dict()``, redacted, with what to do next."""
        detail = error_detail(exc, self.toolkit.redactor)
        if isinstance(exc, UnknownOperation) and self.mode == "discover":
            detail["message"] += " Find operations with search_operations."
        return detail

    def input_schema_of(self, name: str) -> dict[str, Any] | None:
        entry = self.tools.get(name)
        return entry.tool.input_schema if entry else None


def _elicitation(ctx: Any) -> str | None:
    """How the client can ask its user: ``input_required`` (2026-07-28), ``request`` (an
    ``elicitation/create`` request on a connection that carries one), or None (not declared)."""
    session = getattr(ctx, "session", None)
    caps = getattr(session, "client_capabilities", None)
    wanted = getattr(caps, "elicitation", None)
    if wanted is None or (wanted.form is None and wanted.url is not None):
        return None
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return "input_required"
    return "request" if session.can_send_request else None


def _close(name: str, names: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)


def _error_result(detail: dict[str, Any]) -> types.CallToolResult:
    text = json.dumps(detail, ensure_ascii=False, default=str)
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _json_result(data: dict[str, Any]) -> types.CallToolResult:
    converted: list[Any] = []

    def default(value: Any) -> str:
        converted.append(value)
        return str(value)

    text = json.dumps(data, ensure_ascii=False, default=default)
    # The structured content says what the text says: read back only when something was not JSON.
    return types.CallToolResult(
        content=[types.TextContent(text=text)], structured_content=json.loads(text) if converted else data
    )


def instructions(toolkit: Toolkit, mode: str) -> str:
    """What the client is told once about this server (not repeated per tool)."""
    parts = ["Mailgun's HTTP API as tools (mg-tools)."]
    if mode == "discover":
        parts.append(
            "Find an operation with search_operations, read its arguments with describe_operation, "
            "run it with call_operation."
        )
    parts.append(
        "Tools answer with a JSON object: `result`, plus `next_cursor` (pass it back as cursor for the "
        "next page) on lists, and a `truncated` marker saying how to read the rest with read_result when "
        "a result exceeds the size budget."
    )
    if toolkit.executor.sandbox:
        parts.append("This server runs on a local sandbox: no real mail is sent.")
    return " ".join(parts)


def build_server(toolkit: Toolkit, mode: str = "all") -> Server:
    """A low-level MCP server for ``toolkit``: its tool list is built once, here."""
    return _server(McpTools(toolkit, mode))


def _server(tools: McpTools) -> Server:
    return Server(
        "mg-tools",
        version=__version__,
        title="Mailgun tools",
        instructions=instructions(tools.toolkit, tools.mode),
        on_list_tools=tools.list_tools,
        on_call_tool=tools.call_tool,
        on_list_prompts=tools.list_prompts,
        on_get_prompt=tools.get_prompt,
        get_tool_input_schema=tools.input_schema_of,
    )


# -- HTTP ---------------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _local_names() -> list[str]:
    """This machine's name and addresses, as clients reaching a wildcard bind may call it."""
    name = socket.gethostname()
    names = [name]
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        infos = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        names.append(f"[{address}]" if ":" in address else address)
    return names


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host header values accepted for a bind address (each as ``name`` and ``name:*``).

    Loopback names always; the bind address itself; for a wildcard bind (``0.0.0.0``, ``::``) this
    machine's name and addresses; and ``extra`` (``MG_TOOLS_HTTP_ALLOWED_HOSTS``), e.g. the name a
    reverse proxy forwards.
    """
    names = list(LOOPBACK_NAMES)
    bare = host.strip("[]")
    if not is_loopback(host):
        if bare in {"0.0.0.0", "::"}:
            names += _local_names()
        else:
            names.append(f"[{bare}]" if ":" in bare else bare)
    names += [h.strip() for h in extra if h.strip()]
    out: list[str] = []
    for name in dict.fromkeys(names):
        out += [name, f"{name}:*"]
    return out


class BearerAuth:
    """Asks every HTTP request, except the open paths, for ``Authorization: Bearer <token>`` (401), and
    runs it as the identity of that token (its digest compared in constant time with each one's)."""

    def __init__(self, app: ASGIApp, identities: Identities, open_paths: Iterable[str] = ("/healthz",)) -> None:
        self.app = app
        self.identities = identities
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = given.partition(b" ")
        identity = self.identities.match(token) if scheme == b"Bearer" else None
        if identity is None:
            from starlette.responses import JSONResponse

            response = JSONResponse(
                {"error": "unauthorized", "message": f"send Authorization: Bearer <{TOKEN_ENV} or your identity's>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="mg-tools"'},
            )
            await response(scope, receive, send)
            return
        with acting_as(identity.caller):
            await self.app(scope, receive, send)


class PostOnly:
    """Answers every method but POST at the MCP endpoint with 405 (``Allow: POST``).

    The server is stateless: it keeps no stream to push messages on (GET) and no session to end
    (DELETE). The spec lets a server refuse both with 405, which clients take as "not offered"; the
    SDK would otherwise hold a GET open as an event stream that never carries anything.
    """

    def __init__(self, app: ASGIApp, path: str = "/mcp") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] != "POST":
            from starlette.responses import JSONResponse

            message = (
                f"Method Not Allowed: {scope['method']} {self.path}. This server is stateless: it offers no "
                "event stream and no session to end; send each JSON-RPC message as a POST"
            )
            response = JSONResponse(
                {"jsonrpc": "2.0", "id": None, "error": {"code": types.INVALID_REQUEST, "message": message}},
                status_code=405,
                headers={"Allow": "POST"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def http_app(
    toolkit: Toolkit,
    *,
    mode: str = "all",
    host: str = "127.0.0.1",
    token: str | None = None,
    extra_hosts: Iterable[str] | None = None,
    identities: Identities | None = None,
    fast_path: bool = True,
) -> ASGIApp:
    """The ASGI app of the HTTP transport: MCP at ``/mcp``, ``/healthz``, the checks above.

    ``token``, ``identities`` and ``extra_hosts`` default to the toolkit's settings
    (``MG_TOOLS_HTTP_TOKEN``, ``MG_TOOLS_IDENTITIES``, ``MG_TOOLS_HTTP_ALLOWED_HOSTS``). ``fast_path=False``
    sends every request through the SDK's transport (:mod:`mg_tools.mcp_fast` answers the same)."""
    identities = http_identities(toolkit, token) if identities is None else identities
    extra_hosts = toolkit.settings.http_allowed_hosts if extra_hosts is None else extra_hosts
    return _http_app(
        McpTools(toolkit, mode), host=host, identities=identities, extra_hosts=extra_hosts, fast_path=fast_path
    )


def http_identities(toolkit: Toolkit, token: str | None = None) -> Identities:
    """The identities of the HTTP transport: those of ``MG_TOOLS_IDENTITIES``, and the token's
    (``token``, default ``MG_TOOLS_HTTP_TOKEN``) as the identity ``http``; none: no token asked."""
    from mg_tools.identities import Identities

    token = toolkit.settings.secret("http_token") if token is None else token
    identities = Identities()
    if toolkit.settings.identities is not None:
        identities = Identities.load(toolkit.settings.identities, toolkit.registry)
    if token:
        toolkit.redactor.add_secret(token)
        identities = identities.merged(Identities.of_token(token))
    return identities


def _http_app(
    tools: McpTools, *, host: str, identities: Identities, extra_hosts: Iterable[str], fast_path: bool = True
) -> ASGIApp:
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from mg_tools.gateway import Gateway

    if not is_loopback(host) and not len(identities):
        raise ConfigurationError(
            f"refusing to serve HTTP on {host} without a token: set {TOKEN_ENV} (clients then send it as a "
            "bearer token) or MG_TOOLS_IDENTITIES (a token per identity), or bind to 127.0.0.1"
        )
    server = _server(tools)
    extra = [h.strip() for h in extra_hosts if h.strip()]
    hosts = allowed_hosts(host, [h for h in extra if h != "*"])
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    # "*" turns the Host and Origin checks off, for proxies that rewrite them; the token still holds.
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in extra, allowed_hosts=hosts, allowed_origins=origins
    )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok", "mode": tools.mode, **tools.counts, "sandbox": tools.toolkit.executor.sandbox}
        )

    app: ASGIApp = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=security,
        host=host,
        max_request_body_size=MAX_BODY,
        custom_starlette_routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *Gateway(tools, security, bearer=bool(len(identities))).routes(),
        ],
    )
    if fast_path:
        from mg_tools.mcp_fast import FastPath

        app = FastPath(app, server, security, max_body=MAX_BODY, redactor=tools.toolkit.redactor)
    app = PostOnly(app)
    return BearerAuth(app, identities) if len(identities) else app


#: uvicorn's own logs, all on stderr (its default sends access logs to stdout).
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}


def _notice(text: str) -> None:
    sys.stderr.write(f"mg-tools: {text}\n")
    sys.stderr.flush()


def serve(
    toolkit: Toolkit, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8000, mode: str = "all"
) -> None:
    """Serve ``toolkit`` over MCP until interrupted: ``stdio`` or ``http`` (streamable HTTP)."""
    if transport not in ("stdio", "http"):
        raise ConfigurationError(f"unknown transport {transport!r}; use stdio or http")
    log.configure(toolkit.settings.log_level)
    tools = McpTools(toolkit, mode)
    identities = http_identities(toolkit) if transport == "http" else None
    if toolkit.executor.sandbox:
        _notice("sandbox mode: requests go to the embedded local sandbox, no real mail is sent")
    if transport == "stdio":
        import anyio
        from mcp.server.stdio import stdio_server

        server = _server(tools)

        async def run() -> None:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        _notice(f"serving {tools.summary()} over stdio")
        anyio.run(run)
        return

    import uvicorn

    app = _http_app(tools, host=host, identities=identities, extra_hosts=toolkit.settings.http_allowed_hosts)
    shown = f"[{host}]" if ":" in host else host
    _notice(
        f"serving {tools.summary()} at http://{shown}:{port}/mcp "
        "(REST: /api/tools, /openapi.json, /docs; health: /healthz); "
        + (f"bearer token required ({len(identities)} identities)" if len(identities) else "no token: loopback only")
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_config=UVICORN_LOG_CONFIG, access_log=False, server_header=False, lifespan="on"
    )
    uvicorn.Server(config).run()
