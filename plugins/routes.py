"""Routes: what Mailgun does with inbound mail (forward, store, stop), account-wide."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Address, Cursor, Limit, Params, Skip

_QUOTED = r"""(?:"[^"\s]+"|'[^'\s]+')"""
_URL = r"""(?:"https?://[^"\s]+"|'https?://[^'\s]+')"""
_ACTION = re.compile(rf"forward\(\s*{_QUOTED}\s*\)|store\(\s*(?:notify\s*=\s*{_URL}\s*)?\)|stop\(\s*\)")
_EXPRESSION = re.compile(r"\s*(?:match_recipient|match_header|catch_all)\s*\(.*\)\s*", re.DOTALL)


def _action(value: str) -> str:
    if not _ACTION.fullmatch(value):
        raise ValueError(
            'must be forward("https://host/path" or "addr@host"), store(), store(notify="https://host/path") or stop()'
        )
    return value


def _expression(value: str) -> str:
    if not _EXPRESSION.fullmatch(value):
        raise ValueError(
            'must be match_recipient("regex"), match_header("name", "regex") or catch_all(), several joined by and'
        )
    return value


Action = Annotated[str, Field(max_length=2048), AfterValidator(_action)]
Actions = Annotated[
    list[Action],
    Field(
        min_length=1,
        max_length=20,
        description='Run in order: forward("https://..." or "addr@..."), store(notify="https://..."), stop()',
    ),
]
Expression = Annotated[
    str,
    Field(
        max_length=4096,
        description='match_recipient("regex"), match_header("name", "regex") or catch_all(), joined by and',
    ),
    AfterValidator(_expression),
]
Priority = Annotated[int, Field(ge=0, le=32767, description="Lower runs first; default 0")]
RouteId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ListRoutes(Params):
    """List the account's inbound routes, lowest priority (first to run) first."""

    limit: Limit = 100
    skip: Skip | None = None
    cursor: Cursor = None


class CreateRoute(Params):
    """Add an inbound route: when an incoming message matches the expression, run the actions."""

    expression: Expression
    actions: Actions = Field(serialization_alias="action")
    priority: Priority | None = None
    description: str | None = Field(None, max_length=1024)


class GetRoute(Params):
    """Show one route: its expression, actions and priority."""

    id: RouteId


class UpdateRoute(GetRoute):
    """Change a route; only the fields given change, and actions are replaced as a whole."""

    expression: Expression | None = None
    actions: Actions | None = Field(None, serialization_alias="action")
    priority: Priority | None = None
    description: str | None = Field(None, max_length=1024)


class DeleteRoute(GetRoute):
    """Delete a route; matching inbound mail is no longer forwarded or stored by it."""


class MatchRoute(Params):
    """Find which route an incoming message to this address would trigger first (404 if none)."""

    address: Address


# fmt: off
OPERATIONS = (
    Operation("list_routes", "GET", "/v3/routes", ListRoutes, Access.READ, paging=Paging.SKIP, compact=("id", "priority", "expression", "actions")),
    Operation("create_route", "POST", "/v3/routes", CreateRoute, Access.WRITE),
    Operation("get_route", "GET", "/v3/routes/{id}", GetRoute, Access.READ),
    Operation("update_route", "PUT", "/v3/routes/{id}", UpdateRoute, Access.WRITE),
    Operation("delete_route", "DELETE", "/v3/routes/{id}", DeleteRoute, Access.DELETE),
    Operation("match_route", "GET", "/v3/routes/match", MatchRoute, Access.READ),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_routes": ("inbound routing rules",),
    "create_route": (
        "forward incoming mail",
        "catch all inbound email",
        "receive email in my app",
        "parse inbound messages to a webhook",
    ),
    "get_route": ("what a route does",),
    "update_route": ("change forwarding", "route priority"),
    "delete_route": ("stop forwarding",),
    "match_route": ("which route handles an address", "where would an email go"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
