"""Messages: sending, stored messages, the sending queue and scheduled mail."""

import json
from email.utils import getaddresses
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, ValidationError, model_validator

from mg_tools import Access, Operation, registering
from mg_tools.types import (
    Address,
    Attachment,
    Domain,
    Files,
    Header,
    HeaderName,
    HeaderText,
    JsonText,
    Local,
    Mailbox,
    Mailboxes,
    Origin,
    Params,
    Prefixed,
    Rfc2822,
    YesNo,
    YesNoHtml,
    text_or_file,
)

MAX_RECIPIENTS = 1000
MAX_OPTIONS_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 25 * 1024 * 1024

Recipients = Annotated[Mailboxes, Field(min_length=1, description="Addresses, 'Name <addr>' allowed")]


class _Send(Params):
    """What every send takes: the domain, the recipients and the o:, t:, h: and v: options."""

    recipient_fields: ClassVar[tuple[str, ...]] = ("to",)

    domain: Domain
    to: Recipients
    template_name: HeaderText | None = Field(
        None, max_length=255, serialization_alias="template", validation_alias=AliasChoices("template_name", "template")
    )
    template_version: HeaderText | None = Field(None, serialization_alias="t:version")
    template_text: YesNo | None = Field(None, serialization_alias="t:text", description="Also render a text part")
    template_variables: Annotated[dict[str, Any] | None, JsonText] = Field(
        None, serialization_alias="t:variables", description="Values for {{placeholders}} in the template"
    )
    tags: list[Annotated[HeaderText, Field(min_length=1, max_length=128)]] | None = Field(
        None, serialization_alias="o:tag", max_length=10
    )
    delivery_time: Rfc2822 | None = Field(
        None, serialization_alias="o:deliverytime", description="Schedule: RFC 2822 date, up to 3-7 days ahead"
    )
    deliver_within: str | None = Field(
        None, serialization_alias="o:deliver-within", pattern=r"^\d+[hm]$", description="Give up after, e.g. 24h"
    )
    delivery_optimize_period: str | None = Field(
        None,
        serialization_alias="o:deliverytime-optimize-period",
        pattern=r"^\d+h$",
        description="Send-time optimization window, 24h-72h",
    )
    time_zone_localize: HeaderText | None = Field(
        None, serialization_alias="o:time-zone-localize", description="Local send time, e.g. 09:00AM"
    )
    test_mode: YesNo | None = Field(None, serialization_alias="o:testmode", description="Accepted but never delivered")
    tracking: YesNoHtml | None = Field(None, serialization_alias="o:tracking")
    tracking_clicks: YesNoHtml | None = Field(None, serialization_alias="o:tracking-clicks")
    tracking_opens: YesNo | None = Field(None, serialization_alias="o:tracking-opens")
    tracking_pixel_location_top: YesNoHtml | None = Field(
        None, serialization_alias="o:tracking-pixel-location-top", description="Open pixel at the top of the body"
    )
    dkim: YesNo | None = Field(None, serialization_alias="o:dkim")
    secondary_dkim: HeaderText | None = Field(
        None, serialization_alias="o:secondary-dkim", description="Second signature: domain/selector"
    )
    secondary_dkim_public: HeaderText | None = Field(
        None,
        serialization_alias="o:secondary-dkim-public",
        description="Public alias of secondary_dkim: domain/selector",
    )
    require_tls: YesNo | None = Field(None, serialization_alias="o:require-tls", description="Only deliver over TLS")
    skip_verification: YesNo | None = Field(
        None, serialization_alias="o:skip-verification", description="Skip TLS certificate checks"
    )
    sending_ip: HeaderText | None = Field(None, serialization_alias="o:sending-ip")
    sending_ip_pool: HeaderText | None = Field(None, serialization_alias="o:sending-ip-pool", description="IP pool id")
    archive_to: HeaderText | None = Field(None, serialization_alias="o:archive-to", description="URL receiving a copy")
    suppress_headers: HeaderText | None = Field(
        None, serialization_alias="o:suppress-headers", description="Comma-separated headers to drop"
    )
    headers: Annotated[dict[HeaderName, HeaderText] | None, Prefixed("h:")] = Field(
        None, description="Custom MIME headers, e.g. {'Reply-To': 'a@b.c'}"
    )
    variables: Annotated[dict[HeaderText, Any] | None, Prefixed("v:")] = Field(
        None, description="Custom data echoed in events and webhooks"
    )
    recipient_variables: Annotated[dict[str, dict[str, Any]] | None, JsonText] = Field(
        None,
        serialization_alias="recipient-variables",
        description="Batch send: per-address values used as %recipient.name%",
    )

    @model_validator(mode="after")
    def _limits(self):
        count = sum(
            len(getaddresses(addrs)) for addrs in (getattr(self, name) for name in self.recipient_fields) if addrs
        )
        if count > MAX_RECIPIENTS:
            raise ValueError(f"{count} recipients; Mailgun allows at most {MAX_RECIPIENTS} per message")
        if self.recipient_variables and len(self.recipient_variables) > MAX_RECIPIENTS:
            raise ValueError(f"recipient_variables has more than {MAX_RECIPIENTS} recipients")
        size = self._options_size()
        if size > MAX_OPTIONS_BYTES:
            raise ValueError(f"options, headers and variables total {size} bytes; Mailgun allows 16 KB")
        if self.test_mode is False:
            self.test_mode = None  # Mailgun only knows o:testmode=yes
        return self

    def _options_size(self) -> int:
        """Characters of the o: and t: options, headers and variables as sent (the message itself aside)."""
        size = 0
        for name, info in type(self).model_fields.items():
            key, value = info.serialization_alias or "", getattr(self, name)
            if key[:2] in {"o:", "t:"} and value is not None:
                size += len(key) + _wire_length(value)
        pairs = [*(self.headers or {}).items(), *(self.variables or {}).items()]
        return size + sum(len(key) + 2 + _wire_length(value) for key, value in pairs)


def _wire_length(value: Any) -> int:
    return len(value if isinstance(value, str) else json.dumps(value, default=str))


class SendMessage(_Send):
    """Send an email to up to 1000 recipients: give text, html, amp_html or a stored template.
    Returns the message id, to track with the events or logs tools."""

    recipient_fields: ClassVar[tuple[str, ...]] = ("to", "cc", "bcc")

    sender: Mailbox = Field(
        serialization_alias="from", max_length=1024, description="From, e.g. 'Ann <ann@mg.example.com>'"
    )
    cc: Mailboxes | None = None
    bcc: Mailboxes | None = None
    subject: HeaderText | None = Field(None, max_length=998)
    text: str | None = None
    html: str | None = None
    amp_html: str | None = Field(None, serialization_alias="amp-html")
    attachments: Annotated[list[Attachment] | None, Files] = Field(None, serialization_alias="attachment")
    inline: Annotated[list[Attachment] | None, Files] = Field(
        None, description="Images referenced in html as cid:filename"
    )

    @model_validator(mode="after")
    def _content(self):
        if not (self.text or self.html or self.amp_html or self.template_name):
            raise ValueError("give at least one of text, html, amp_html or template_name")
        if self.html and self.template_name:
            raise ValueError("html and template_name cannot be sent together")
        if not self.subject and not self.template_name:
            raise ValueError("subject is required (unless a template provides it)")
        size = sum(len((v or "").encode()) for v in (self.text, self.html, self.amp_html))
        size += sum(a.size_hint() for a in (self.attachments or []) + (self.inline or []))
        if size > MAX_MESSAGE_BYTES:
            raise ValueError(f"message is {size} bytes; Mailgun accepts at most 25 MB")
        return self


class SendMimeMessage(_Send):
    """Send a ready-made MIME message (RFC 2822) as is, to the given recipients."""

    mime: Annotated[str | None, Local] = Field(None, description="The raw MIME message as text")
    message: Annotated[Attachment | None, Files] = Field(None, description="The MIME message as a file")

    @model_validator(mode="after")
    def _source(self):
        self.message = text_or_file(
            self.mime,
            self.message,
            names=("mime", "message"),
            filename="message.mime",
            content_type="message/rfc2822",
            max_bytes=MAX_MESSAGE_BYTES,
        )
        return self


class BatchRecipient(Params):
    address: Address
    variables: dict[str, Any] | None = None


class SendBatch(Params):
    """Send one message to any number of recipients as a resumable job; variables fill %recipient.NAME%."""

    domain: Domain
    sender: Mailbox = Field(serialization_alias="from", max_length=1024)
    subject: HeaderText | None = Field(None, max_length=998)
    text: str | None = None
    html: str | None = None
    template_name: HeaderText | None = Field(
        None, max_length=255, serialization_alias="template", validation_alias=AliasChoices("template_name", "template")
    )
    recipients: list[BatchRecipient] | None = Field(None, min_length=1)
    recipients_file: str | None = Field(None, max_length=4096, description="CSV with address column, or .jsonl")
    job: str | None = Field(None, pattern=r"^[\w.-]{1,64}$", description="To resume")
    unknown: Literal["report", "resend", "skip"] = Field("report", description="Batches that may have gone")

    @model_validator(mode="after")
    def _sendable(self):
        if (self.recipients is None) == (self.recipients_file is None):
            raise ValueError("give recipients or recipients_file (one of them)")
        try:
            SendMessage(domain=self.domain, to=["probe@example.com"], **self.message())
        except ValidationError as exc:
            raise ValueError(exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")) from None
        return self

    def message(self) -> dict[str, Any]:
        """The message fields, as send_message takes them."""
        return self.model_dump(include={"sender", "subject", "text", "html", "template_name"}, exclude_none=True)


async def send_batch(args: SendBatch, call) -> dict[str, Any]:
    from mg_tools.bulk import job as bulk  # the job's machinery is loaded when a job runs, not at start-up

    recipients = [r.model_dump(exclude_none=True) for r in args.recipients] if args.recipients else None
    return await bulk.send_batch(
        call,
        domain=args.domain,
        message=args.message(),
        recipients=recipients,
        recipients_file=args.recipients_file,
        job=args.job,
        unknown=args.unknown,
    )


def _storage_parts(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    segments = parts.path.split("/")
    # /v3/domains/{domain}/messages/{key}
    if len(segments) != 6 or segments[1:3] != ["v3", "domains"] or segments[4] != "messages":
        raise ValueError(
            "must be a storage URL like https://storage-us-east4.api.mailgun.net/v3/domains/D/messages/KEY"
        )
    return unquote(segments[3]), unquote(segments[5])


class GetStoredMessage(Params):
    """Read a stored (sent or received) message, kept about 3 days. Give storage_url from an event,
    or domain and storage_key."""

    storage_url: Annotated[str | None, Origin] = Field(None, max_length=2048, description="storage.url of an event")
    domain: Domain | None = None
    storage_key: str | None = Field(None, min_length=1, max_length=512, description="storage.key of an event")
    accept: Annotated[Literal["message/rfc2822"] | None, Header("Accept")] = Field(
        None, description="message/rfc2822 returns the raw MIME in body-mime"
    )

    @model_validator(mode="after")
    def _locate(self):
        if self.storage_url:
            self.domain, self.storage_key = _storage_parts(self.storage_url)
        elif not (self.domain and self.storage_key):
            raise ValueError("give storage_url, or both domain and storage_key")
        return self


class GetSendingQueues(Params):
    """Show whether a domain's regular and scheduled sending queues are running or paused."""

    domain: Domain


class DeleteScheduledMessages(Params):
    """Cancel a domain's scheduled and queued, not yet delivered mail on one storage host."""

    domain: Domain
    storage_url: Annotated[str | None, Origin] = Field(
        None, max_length=2048, description="A storage URL (or its host) of the scheduled mail"
    )


# fmt: off
OPERATIONS = (
    Operation("send_message", "POST", "/v3/{domain}/messages", SendMessage, Access.SEND),
    Operation("send_mime_message", "POST", "/v3/{domain}/messages.mime", SendMimeMessage, Access.SEND),
    Operation("get_stored_message", "GET", "/v3/domains/{domain}/messages/{storage_key}", GetStoredMessage, Access.READ, untrusted=True),
    Operation("get_sending_queues", "GET", "/v3/domains/{domain}/sending_queues", GetSendingQueues, Access.READ),
    Operation("delete_scheduled_messages", "DELETE", "/v3/{domain}/envelopes", DeleteScheduledMessages, Access.DELETE),
    Operation("send_batch", "", "", SendBatch, Access.SEND, handler=send_batch),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "send_message": (
        "email someone",
        "send a newsletter to a mailing list",
        "write to a customer",
        "schedule an email for later",
        "attach a file",
        "test mode",
    ),
    "send_mime_message": ("raw mime", "eml file", "rfc822 message as is"),
    "get_stored_message": ("content of a stored message", "body of a received email", "download a message"),
    "get_sending_queues": ("is the queue paused", "mail stuck in the queue"),
    "delete_scheduled_messages": ("cancel scheduled emails", "abort queued mail"),
    "send_batch": ("mail merge to a csv of recipients", "bulk send to thousands", "resume an interrupted campaign"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
