"""Logs: the account's event logs (the successor of the events API), queried with a JSON body."""

from typing import Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, FilterComparator, FilterValues, Params, Rfc2822

LogEvent = Literal[
    "accepted",
    "delivered",
    "failed",
    "opened",
    "unique_opened",
    "clicked",
    "unique_clicked",
    "unsubscribed",
    "complained",
    "rejected",
    "stored",
    "email_validation",
    "list_uploaded",
    "list_member_uploaded",
    "list_member_upload_error",
    "trapped",
]


class Condition(Params):
    attribute: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z_.-]+$", description="e.g. domain, recipient, tag, subaccount"
    )
    comparator: FilterComparator
    values: FilterValues


class LogsFilter(Params):
    # Mailgun's own key: only AND is supported.
    AND: list[Condition] = Field(min_length=1, max_length=20)


class LogsPage(Params):
    sort: Literal["timestamp:asc", "timestamp:desc"] | None = None
    limit: int | None = Field(None, ge=1, le=100)


class ListLogs(Params):
    """Search the account's event logs (accepted, delivered, failed, opened...) by time, event and
    filters such as domain or recipient. Defaults to the last day."""

    start: Rfc2822 | None = Field(None, description="RFC 2822 date; default 1 day ago")
    end: Rfc2822 | None = Field(None, description="RFC 2822 date; default now")
    events: list[LogEvent] | None = Field(None, min_length=1)
    filter: LogsFilter | None = Field(None, description="All conditions must hold; label and value: the same text")
    include_subaccounts: bool | None = None
    include_totals: bool | None = Field(None, description="Also return the total number of entries")
    pagination: LogsPage | None = None
    cursor: Cursor = None


# fmt: off
OPERATIONS = (
    Operation("list_logs", "POST", "/v1/analytics/logs", ListLogs, Access.READ, encoding="json", paging=Paging.TOKEN, untrusted=True, compact=("id", "@timestamp", "event", "recipient", "message.headers.message-id", "message.headers.subject", "severity", "reason", "delivery-status.code", "delivery-status.message", "tags")),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_logs": ("logs across all domains", "account wide event logs", "analytics logs"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
