"""Shared parameter types and the markers that say where a field travels on the wire.

Plugins declare parameters with these ``Annotated`` types so constraints live in one place. A field
goes, by default, to the path when the path template names it, else to the query for GET/DELETE and
to the body otherwise. Markers override that:

- ``Query`` / ``Body``: force the query string or the body;
- ``Header(name)``: an HTTP request header;
- ``Prefixed("h:")``: a dict whose keys are sent as ``h:<key>`` fields;
- ``JsonText``: the value is JSON-encoded into one string field;
- ``Files``: multipart file parts (``Attachment`` values);
- ``WholeBody``: the value is the entire JSON body (for endpoints that take an array);
- ``Local``: used only to build the request (never sent as itself);
- ``Origin``: a URL whose scheme and host replace the base URL (storage hosts), checked against
  the hosts the client trusts.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import ipaddress
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

__all__ = [
    "Address",
    "Attachment",
    "Body",
    "CURSOR",
    "Cursor",
    "Domain",
    "DomainName",
    "Files",
    "Header",
    "HeaderName",
    "HeaderText",
    "IpAddress",
    "IpOr",
    "JsonText",
    "Limit",
    "Local",
    "Mailbox",
    "Mailboxes",
    "MonthlyLimit",
    "Origin",
    "Params",
    "Prefixed",
    "Query",
    "Rfc2822",
    "Skip",
    "SubaccountId",
    "WholeBody",
    "YesNo",
    "YesNoHtml",
    "split_mailboxes",
    "subaccount_id",
    "text_or_file",
]


@dataclass(frozen=True, slots=True)
class _Marker:
    kind: str
    arg: str = ""


Query = _Marker("query")
Body = _Marker("body")
JsonText = _Marker("json_text")
Files = _Marker("files")
WholeBody = _Marker("whole_body")
Local = _Marker("local")
CURSOR = _Marker("cursor")
Origin = _Marker("origin")


def Header(name: str) -> _Marker:
    return _Marker("header", name)


def Prefixed(prefix: str) -> _Marker:
    return _Marker("prefixed", prefix)


class Params(BaseModel):
    """Base of every params model: unknown fields are errors, names are the agent-facing names."""

    # defer_build: validators are built on first use, so start-up does not pay for 200 models.
    # allow_inf_nan=False: NaN and infinity are not JSON; httpx refuses to encode them after the
    # call was accepted, and Mailgun has no use for them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True, allow_inf_nan=False)


# Control characters (C0 but tab, DEL, C1) and the Unicode line and paragraph separators: a line break
# in a header value starts a new header ("Subject: hi\r\nBcc: everyone"), and mail software differs
# on which of these it takes for one.
_HEADER_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def _header_safe(value: str) -> str:
    found = _HEADER_UNSAFE.search(value)
    if found is not None:
        raise ValueError(
            f"must be one line without control characters (U+{ord(found.group()):04X} at position {found.start()})"
        )
    return value


#: Text that goes into a mail header (subject, a header value, a tag): one line, no control
#: characters but tab.
HeaderText = Annotated[str, AfterValidator(_header_safe)]
#: The name of a custom MIME header, e.g. ``X-Campaign`` (letters, digits and hyphens).
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")]


def _rfc2822(value: str) -> str:
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise ValueError("must be an RFC 2822 date, e.g. 'Thu, 13 Oct 2011 18:02:00 +0000'") from None
    return value


#: A date as Mailgun writes them: ``Thu, 13 Oct 2011 18:02:00 +0000``.
Rfc2822 = Annotated[str, AfterValidator(_header_safe), AfterValidator(_rfc2822), Field(description="RFC 2822 date")]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


YesNo = Annotated[bool, PlainSerializer(_yes_no, return_type=str)]
YesNoHtml = Annotated[
    bool | Literal["htmlonly"],
    PlainSerializer(lambda v: v if isinstance(v, str) else _yes_no(v), return_type=str),
    WithJsonSchema({"enum": [True, False, "htmlonly"]}),  # half the tokens of anyOf [boolean, const]
]

# These types appear on most tools, so their schemas say only what the field name does not: a
# description here is paid for once per tool in every tools/list answer.
Domain = Annotated[
    str,
    # Not "." or ".." (or any leading dot): a dot segment would be resolved away in a URL path.
    Field(min_length=1, max_length=253, pattern=r"^[\w-][\w.-]*$"),
]
#: The domain a domain tool is about; Mailgun calls it ``name``, which is accepted too.
DomainName = Annotated[Domain, Field(serialization_alias="name", validation_alias=AliasChoices("domain", "name"))]
Address = Annotated[
    str, Field(min_length=3, max_length=512, pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(_header_safe)
]
#: Addresses as a mail header holds them, with optional display names: ``Ann <ann@example.com>``
#: (one, or several separated by commas).
Mailbox = Annotated[str, Field(min_length=3), AfterValidator(_header_safe)]


_NEEDS_QUOTES = re.compile(r'[()<>@,;:\\".\[\]]')


def _quoted_name(name: str) -> str:
    return f'"{email.utils.quote(name)}"' if _NEEDS_QUOTES.search(name) else name


def split_mailboxes(value: object) -> object:
    """A recipient header as Mailgun takes it (``'"Doe, Jo" <jo@x.com>, ann@y.com'``) as a list of one
    mailbox each; a quoted display name keeps its comma. Anything but a string is left to validation."""
    if not isinstance(value, str):
        return value
    pairs = email.utils.getaddresses([value])
    if not pairs or any(not addr for _, addr in pairs):
        return [value]  # not a list of addresses: validation (or Mailgun) says what is wrong with it
    return [f"{_quoted_name(name)} <{addr}>" if name else addr for name, addr in pairs]


#: Recipients: a list of mailboxes, or one string of comma-separated mailboxes (as Mailgun takes it).
Mailboxes = Annotated[list[Mailbox], BeforeValidator(split_mailboxes)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Skip = Annotated[int, Field(ge=0)]
#: The server instructions say once where a cursor comes from (the ``next_cursor`` of a page).
Cursor = Annotated[str | None, CURSOR]
#: A monthly sending limit (account or subaccount); Mailgun calls it ``limit``, which is accepted too.
MonthlyLimit = Annotated[
    int,
    Query,
    Field(
        ge=1000,
        le=10**12,
        serialization_alias="limit",
        validation_alias=AliasChoices("monthly_limit", "limit"),
        description="Messages per calendar month (at least 1000)",
    ),
]
#: A Mailgun subaccount id: 24 hexadecimal characters.
SUBACCOUNT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
SubaccountId = Annotated[str, Field(pattern=SUBACCOUNT_ID.pattern), AfterValidator(str.lower)]


def subaccount_id(value: object) -> str:
    """``value`` as a subaccount id, in lower case; ``ValueError`` when it is not 24 hexadecimal characters."""
    text = str(value).strip()
    if not SUBACCOUNT_ID.match(text):
        raise ValueError("not a Mailgun subaccount id (24 hexadecimal characters, as list_subaccounts shows them)")
    return text.lower()


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address, e.g. 198.51.100.7") from None


#: An IPv4 or IPv6 address, in its normal form.
IpAddress = Annotated[str, Field(min_length=2, max_length=45), AfterValidator(_ip)]


def IpOr(word: str) -> type[str]:
    """An IP address, or the special value ``word`` (``"shared"``, ``"all"``) an endpoint takes instead."""

    def check(value: str) -> str:
        if value == word:
            return value
        try:
            return _ip(value)
        except ValueError:
            raise ValueError(f"must be an IP address or '{word}'") from None

    return Annotated[str, Field(min_length=2, max_length=45), AfterValidator(check)]  # type: ignore[return-value]


class Attachment(Params):
    """A file: a local path in an allowed directory, or base64 content with a filename."""

    path: str | None = None
    content: str | SkipJsonSchema[bytes] | None = None
    filename: str | None = None
    content_type: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Attachment:
        if (self.path is None) == (self.content is None):
            raise ValueError("give exactly one of path or content")
        if self.content is not None:
            if not self.filename:
                raise ValueError("filename is required with content")
            if isinstance(self.content, bytes):
                return self
            try:
                base64.b64decode(self.content, validate=True)
            except binascii.Error:
                raise ValueError("content is not valid base64") from None
        return self

    @field_serializer("content", when_used="json")
    def _content_as_json(self, content: str | bytes | None) -> str | None:
        # Bytes (given from Python, or made from csv/mime text) have no JSON form; base64 is the one
        # an agent gives, and it holds any bytes.
        return base64.b64encode(content).decode() if isinstance(content, bytes) else content

    @property
    def name(self) -> str:
        return self.filename or Path(self.path or "file").name

    def read(self) -> bytes:
        """The file's bytes (the caller checks ``path`` against the allowed directories first)."""
        if isinstance(self.content, bytes):
            return self.content
        if self.content is not None:
            return base64.b64decode(self.content)
        return Path(self.path).read_bytes()  # type: ignore[arg-type]

    def size_hint(self) -> int:
        if isinstance(self.content, bytes):
            return len(self.content)
        if self.content is not None:
            return len(self.content) * 3 // 4
        try:
            return Path(self.path).stat().st_size  # type: ignore[arg-type]
        except OSError:
            return 0


def text_or_file(
    text: str | None,
    file: Attachment | None,
    *,
    names: tuple[str, str],
    filename: str,
    content_type: str,
    max_bytes: int,
) -> Attachment:
    """The one file an upload sends, given either as text or as a file (the fields ``names``): exactly
    one of the two, at most ``max_bytes``. Text becomes a file part named ``filename``."""
    if (text is None) == (file is None):
        raise ValueError(f"give exactly one of {names[0]} or {names[1]}")
    given = names[1]
    if file is None:
        file, given = Attachment(content=str(text).encode(), filename=filename, content_type=content_type), names[0]
    if file.size_hint() > max_bytes:
        raise ValueError(f"{given} is larger than Mailgun's {max_bytes // 2**20} MB")
    return file


class FilterValue(Params):
    label: str = Field(min_length=1, max_length=512)
    value: str = Field(min_length=1, max_length=512)


#: The comparisons of Mailgun's v1 analytics filters (logs and metrics), and their values.
FilterComparator = Literal["=", "!=", "contains", "not contains"]
FilterValues = Annotated[list[FilterValue], Field(min_length=1, max_length=100)]


def csv_or_file(text: str | None, file: Attachment | None, *, filename: str, max_bytes: int) -> Attachment | None:
    """:func:`text_or_file` for the CSV uploads (``csv`` text or a ``file``)."""
    return text_or_file(
        text, file, names=("csv", "file"), filename=filename, content_type="text/csv", max_bytes=max_bytes
    )


def _stats_date(value: str | int) -> str | int:
    return value if isinstance(value, int) else _rfc2822(value)


#: The event types of Mailgun's v3 stats (account, domain and tag stats).
StatsEvent = Literal["accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "stored"]
StatsDate = Annotated[str | Annotated[int, Field(ge=0)], AfterValidator(_stats_date)]
#: With neither ``start`` nor ``duration``, the v3 stats cover this window: at day resolution with the
#: default events, its answer stays well within the result budget.
STATS_DEFAULT_DURATION = "30d"
STATS_NARROW_HINT = (
    "ask for less: a shorter window (duration or start/end), a coarser resolution (month), or fewer events"
)


class StatsWindow(Params):
    """The time series options of the v3 stats: which events, over which window, at which resolution."""

    events: list[StatsEvent] = Field(
        ["accepted", "delivered", "failed", "opened", "clicked"], min_length=1, serialization_alias="event"
    )
    start: StatsDate | None = Field(None, description="RFC 2822 date or unix seconds")
    end: StatsDate | None = Field(None, description="RFC 2822 date or unix seconds; default now")
    duration: str | None = Field(
        None, pattern=r"^\d{1,4}[hdm]$", description="Back from end instead of start: 24h, 7d, 2m; default 30d"
    )
    resolution: Literal["hour", "day", "month"] = "day"

    @model_validator(mode="after")
    def _window(self):
        if self.start is not None and self.duration is not None:
            raise ValueError("give start or duration, not both")
        if self.start is None:
            self.duration = self.duration or STATS_DEFAULT_DURATION
        return self
