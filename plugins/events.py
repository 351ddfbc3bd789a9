"""Events: what happened to sent and received mail (accepted, delivered, failed, opened...)."""

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, Field, model_validator

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Address, Cursor, Domain, Limit, Params, YesNo

MAX_TRACE_PAGES = 10
TRACE_PAGE_SIZE = 300
MAX_TRACED_MESSAGES = 20
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _when(value: str | int | float) -> str:
    text = str(value).strip()
    if _NUMBER.match(text):
        return text
    try:
        parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError("must be an RFC 2822 date ('Thu, 13 Oct 2011 18:02:00 +0000') or unix seconds") from None
    return text


When = Annotated[str | int | float, AfterValidator(_when)]
Filter = Annotated[str, Field(min_length=1, max_length=1024)]


class ListEvents(Params):
    """Search a domain's events (accepted, delivered, failed, opened, clicked, complained...), newest first
    unless begin is given. Kept 1-30 days by plan; list_logs is the newer API."""

    domain: Domain
    begin: When | None = Field(None, description="Start: RFC 2822 date or unix seconds")
    end: When | None = Field(None, description="End: RFC 2822 date or unix seconds; older than begin = descending")
    ascending: YesNo | None = Field(None, description="Order when only begin is given")
    limit: Annotated[Limit, Field(le=300)] = 100
    event: Filter | None = Field(
        None,
        description="Filters take expressions: 'a OR b', 'NOT a', '\"a phrase\"', '>10000 <20000'; "
        "e.g. 'failed OR rejected'",
    )
    recipient: Filter | None = Field(None, description="Recipient address of the event")
    message_id: Filter | None = Field(
        None, serialization_alias="message-id", description="Message id returned by send_message, without <>"
    )
    subject: Filter | None = None
    sender: Filter | None = Field(None, serialization_alias="from", description="From header address")
    to: Filter | None = Field(None, description="To header address")
    list_address: Filter | None = Field(
        None,
        serialization_alias="list",
        validation_alias=AliasChoices("list_address", "list", "mailing_list"),
        description="Mailing list address it was sent to",
    )
    tags: Filter | None = Field(None, description="Same expressions as event")
    severity: Literal["temporary", "permanent"] | None = Field(None, description="Of failed events")
    attachment: Filter | None = Field(None, description="Attached file name")
    size: Filter | None = Field(None, description="Message size in bytes, e.g. '>100000'")
    recipients: Filter | None = Field(None, description="Any recipient of stored (inbound) messages")
    cursor: Cursor = None


class TraceMessage(Params):
    """Answer 'what happened to the mail sent to this address': per message, its timeline, final status
    (delivered, failed, retrying, opened...) and what to do next."""

    domain: Domain
    recipient: Address
    message_id: str | None = Field(None, min_length=1, max_length=998, description="Only this message")
    subject: str | None = Field(None, min_length=1, max_length=998, description="Only messages with this subject")
    since: When | None = Field(None, description="Ignore events before: RFC 2822 date or unix seconds")
    until: When | None = Field(None, description="Ignore events after: RFC 2822 date or unix seconds")
    max_pages: int = Field(3, ge=1, le=MAX_TRACE_PAGES, description="Pages of 300 events to scan at most")

    @model_validator(mode="after")
    def _window(self):
        if self.since is not None and self.until is not None and _seconds(self.since) > _seconds(self.until):
            raise ValueError("since must not be later than until")
        return self


# -- trace_message ----------------------------------------------------------------------------------

_RANK = {  # the final status is the highest-ranked event seen
    "complained": (9, "complained"),
    "unsubscribed": (8, "unsubscribed"),
    "clicked": (7, "clicked"),
    "opened": (6, "opened"),
    "delivered": (5, "delivered"),
    "failed:permanent": (4, "failed permanently"),
    "rejected": (3, "rejected"),
    "failed:temporary": (2, "still retrying"),
    "accepted": (1, "only accepted"),
}


def _seconds(value: str | int | float) -> float:
    text = str(value).strip()
    if _NUMBER.match(text):
        return float(text)
    return parsedate_to_datetime(text).timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _message_id(event: dict[str, Any]) -> str:
    headers = (event.get("message") or {}).get("headers") or {}
    return str(headers.get("message-id") or event.get("message-id") or "(no message id)").strip("<>")


def _rank_key(event: dict[str, Any]) -> str:
    name = event.get("event", "")
    if name == "failed":
        return f"failed:{event.get('severity') or 'permanent'}"
    return name


def _step(event: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"event": event.get("event"), "time": _iso(float(event.get("timestamp") or 0))}
    if event.get("event") in {"failed", "rejected"}:
        status = event.get("delivery-status") or {}
        reject = event.get("reject") or {}
        detail = {
            "severity": event.get("severity"),
            "reason": event.get("reason") or reject.get("reason"),
            "code": status.get("code"),
            "message": status.get("message") or status.get("description") or reject.get("description"),
        }
        step.update({k: v for k, v in detail.items() if v not in (None, "")})
    elif event.get("event") == "clicked" and event.get("url"):
        step["url"] = event["url"]
    return step


def _advice(status: str, last_failure: dict[str, Any] | None, recipient: str) -> str:
    reason = str((last_failure or {}).get("reason") or "")
    code = (last_failure or {}).get("code")
    detail = (last_failure or {}).get("message") or ""
    if status == "failed permanently":
        if "bounce" in reason and reason.startswith("suppress"):
            return (
                f"{recipient} is on the bounce list, so Mailgun dropped the message: check_suppression, "
                "and once the address is fixed, delete_bounce before re-sending"
            )
        if "unsubscribe" in reason:
            return f"{recipient} unsubscribed: do not re-send unless they opt in again (check_suppression)"
        if "complaint" in reason:
            return f"{recipient} reported spam earlier: do not re-send (check_suppression)"
        said = f" ({code}: {detail})" if code and detail else f" ({code or detail})" if code or detail else ""
        return f"hard bounce{said}: the address is now on the bounce list; fix it or use another address"
    if status == "still retrying":
        return (
            f"temporary failure{f' (code {code})' if code else ''}: Mailgun keeps retrying for up to the "
            "domain's message_ttl; nothing to do yet"
        )
    if status == "only accepted":
        return "accepted but not delivered yet: it may be queued or scheduled; check again in a few minutes"
    if status == "rejected":
        return f"Mailgun rejected the message ({reason or detail or 'see timeline'}); fix the request and re-send"
    if status == "delivered":
        return "delivered to the recipient's mail server; if it is not in the inbox, ask them to check spam"
    if status in {"opened", "clicked"}:
        return f"delivered and {status} by the recipient"
    if status == "complained":
        return f"{recipient} marked it as spam and is now suppressed: do not re-send"
    if status == "unsubscribed":
        return f"{recipient} unsubscribed through the message: do not re-send"
    return "see the timeline"


def _summarise(message_id: str, events: list[dict[str, Any]], recipient: str) -> dict[str, Any]:
    # Pages come newest first; reversing before the stable sort keeps same-instant events in order.
    events = sorted(reversed(events), key=lambda e: float(e.get("timestamp") or 0))  # noqa: C414
    first = next((e for e in events if e.get("message")), events[0])
    headers = (first.get("message") or {}).get("headers") or {}
    tags = sorted({t for e in events for t in (e.get("tags") or [])})
    timeline = [_step(e) for e in events]
    _rank, status = max(_RANK.get(_rank_key(e), (0, e.get("event", "unknown"))) for e in events)
    failures = [s for s in timeline if s["event"] in {"failed", "rejected"}]
    out: dict[str, Any] = {
        "message_id": message_id,
        "subject": headers.get("subject"),
        "sender": headers.get("from") or (first.get("envelope") or {}).get("sender"),
        "tags": tags,
        "status": status,
        "advice": _advice(status, failures[-1] if failures else None, recipient),
        "timeline": timeline,
    }
    return {k: v for k, v in out.items() if v not in (None, [])}


def _phrase(value: str) -> str:
    # A subject with spaces is several terms to the filter syntax; quote it to match the phrase.
    return f'"{value}"' if any(c.isspace() for c in value) and '"' not in value else value


async def trace_message(args: TraceMessage, call) -> dict[str, Any]:
    query: dict[str, Any] = {"domain": args.domain, "recipient": args.recipient, "limit": TRACE_PAGE_SIZE}
    if args.message_id:
        query["message_id"] = args.message_id.strip().strip("<>")
    if args.subject:
        query["subject"] = _phrase(args.subject)
    if args.until is not None:
        query.update(begin=str(args.until), ascending=False)
    since = _seconds(args.since) if args.since is not None else None

    seen: dict[str, dict[str, Any]] = {}
    complete = False
    for _ in range(args.max_pages):
        page = (await call("list_events", query)).get("items") or []
        fresh = [e for e in page if e.get("id") not in seen]
        for event in fresh:
            seen[event.get("id") or str(len(seen))] = event
        oldest = min((float(e.get("timestamp") or 0) for e in page), default=None)
        if len(page) < TRACE_PAGE_SIZE or (since is not None and oldest is not None and oldest < since):
            complete = True
            break
        if not fresh:
            break  # a full page of events at one instant: cannot go further back
        # A composite sees no cursor: continue from the oldest event seen (the range includes it,
        # so events at that instant come again and are skipped by id).
        query.update(begin=repr(oldest), ascending=False)

    by_message: dict[str, list[dict[str, Any]]] = {}
    for event in seen.values():
        if since is not None and float(event.get("timestamp") or 0) < since:
            continue
        by_message.setdefault(_message_id(event), []).append(event)
    messages = [_summarise(mid, evs, args.recipient) for mid, evs in by_message.items()]
    newest = {mid: max(float(e.get("timestamp") or 0) for e in evs) for mid, evs in by_message.items()}
    messages.sort(key=lambda m: newest[m["message_id"]], reverse=True)
    out: dict[str, Any] = {
        "recipient": args.recipient,
        "domain": args.domain,
        "events_scanned": len(seen),
        "messages": messages[:MAX_TRACED_MESSAGES],
    }
    if len(messages) > MAX_TRACED_MESSAGES:
        out["messages_omitted"] = len(messages) - MAX_TRACED_MESSAGES
    if not complete:
        out["note"] = "older events were not scanned: raise max_pages or narrow with since/message_id"
    if not messages:
        out["advice"] = (
            f"no events for {args.recipient} on {args.domain} in the retention window: check the "
            "domain, the address spelling and the time window, or whether the send succeeded"
        )
    return out


# fmt: off
OPERATIONS = (
    Operation("list_events", "GET", "/v3/{domain}/events", ListEvents, Access.READ, paging=Paging.URLS, untrusted=True, compact=("id", "timestamp", "event", "recipient", "message.headers.message-id", "message.headers.subject", "severity", "reason", "delivery-status.code", "delivery-status.message", "tags", "storage.url")),
    Operation("trace_message", "", "", TraceMessage, Access.READ, handler=trace_message, untrusted=True),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_events": ("event history of a domain", "failed deliveries", "opens and clicks log", "activity timeline"),
    "trace_message": (
        "what happened to my email",
        "did it arrive",
        "never received the mail",
        "was it delivered",
        "why did the message not arrive",
    ),
}

register_operations = registering(OPERATIONS, asks=ASKS)
