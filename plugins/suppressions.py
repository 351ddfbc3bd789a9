"""Suppressions: the bounce, unsubscribe and complaint lists of a domain, and its allowlist."""

import csv
import io
import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from mg_tools import Access, Operation, Paging, registering
from mg_tools.errors import NotFound
from mg_tools.types import (
    Address,
    Attachment,
    Cursor,
    Domain,
    Files,
    Limit,
    Local,
    Params,
    Prefixed,
    Rfc2822,
    WholeBody,
    csv_or_file,
)

MAX_BATCH = 1000
MAX_CSV_BYTES = 25 * 1024 * 1024
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
_DOMAIN = re.compile(r"(?:[\w-]+\.)+[\w-]+")

CreatedAt = Annotated[Rfc2822, Field(description="RFC 2822 date; default now")]
Term = Annotated[str, Field(min_length=1, max_length=512, description="Only entries starting with this")]
Tag = Annotated[str, Field(min_length=1, max_length=128)]
BounceCode = Annotated[str, Field(pattern=r"^\d{3}$", description="SMTP code; default 550")]
BounceError = Annotated[str, Field(max_length=1024, description="SMTP error text")]


def _address_or_domain(value: str) -> str:
    if not _ADDRESS.fullmatch(value) and not _DOMAIN.fullmatch(value):
        raise ValueError("must be an address (bob@example.com) or a domain (example.com)")
    return value


AllowValue = Annotated[
    str,
    Field(min_length=3, max_length=512, description="An address (bob@example.com) or a whole domain (example.com)"),
    AfterValidator(_address_or_domain),
]


class _Import(Params):
    """Shared by the CSV imports: ``csv`` text or a ``file``, sent as the multipart part ``file``."""

    key_columns: ClassVar[frozenset[str]] = frozenset({"address"})

    domain: Domain
    csv: Annotated[str | None, Local] = Field(
        None, min_length=1, max_length=MAX_CSV_BYTES, description="CSV text with a header row"
    )
    file: Annotated[Attachment | None, Files] = Field(None, description="A CSV file, instead of csv")

    @model_validator(mode="after")
    def _source(self):
        self.file = csv_or_file(self.csv, self.file, filename="import.csv", max_bytes=MAX_CSV_BYTES)
        if self.csv is not None:
            header = {h.strip().lower() for h in next(csv.reader(io.StringIO(self.csv)), [])}
            if not header & self.key_columns:
                raise ValueError(f"csv needs a header row naming {' or '.join(sorted(self.key_columns))}")
        return self


class _List(Params):
    domain: Domain
    limit: Limit = 100
    term: Term | None = None
    cursor: Cursor = None


class _One(Params):
    domain: Domain
    address: Address


class _Domain(Params):
    domain: Domain


# -- bounces ---------------------------------------------------------------------------------------


class ListBounces(_List):
    """List addresses that hard-bounced on a domain (alphabetical); Mailgun no longer sends to them."""


class GetBounce(_One):
    """Show whether and why (SMTP code and error) an address is on a domain's bounce list."""


class BounceRecord(Params):
    """One bounce: address, and optionally code, error and created_at."""

    address: Address
    code: BounceCode | None = None
    error: BounceError | None = None
    created_at: CreatedAt | None = None


class AddBounce(BounceRecord, _Domain):
    """Put one address on a domain's bounce list so Mailgun stops sending to it (updates it if there)."""


class AddBounces(_Domain):
    """Put up to 1000 addresses on a domain's bounce list in one call."""

    records: Annotated[list[BounceRecord], WholeBody] = Field(min_length=1, max_length=MAX_BATCH)


class ImportBounces(_Import):
    """Bulk-load bounces from CSV (columns address, code, error, created_at; up to 25 MB)."""


class DeleteBounce(_One):
    """Remove an address from the bounce list so Mailgun delivers to it again."""


class ClearBounces(_Domain):
    """Empty a domain's bounce list: Mailgun will try every bounced address again. Irreversible."""


# -- unsubscribes ----------------------------------------------------------------------------------


class ListUnsubscribes(_List):
    """List addresses that unsubscribed from a domain's mail, with the tags they left ('*' = all)."""


class GetUnsubscribe(_One):
    """Show whether an address unsubscribed on a domain, and from which tags ('*' = all mail)."""


class AddUnsubscribe(_One):
    """Unsubscribe an address from a domain's mail, or only from mail with one tag."""

    tag: Tag | None = Field(None, description="Only mail with this tag; default '*' (all)")
    created_at: CreatedAt | None = None


class UnsubscribeRecord(Params):
    """One unsubscribe: address, and optionally tags and created_at."""

    address: Address
    tags: list[Tag] | None = Field(None, max_length=100, description="Default ['*'] (all mail)")
    created_at: CreatedAt | None = None


class AddUnsubscribes(_Domain):
    """Unsubscribe up to 1000 addresses in one call."""

    records: Annotated[list[UnsubscribeRecord], WholeBody] = Field(min_length=1, max_length=MAX_BATCH)


class ImportUnsubscribes(_Import):
    """Bulk-load unsubscribes from CSV (columns address, tags, created_at; up to 25 MB)."""


class DeleteUnsubscribe(_One):
    """Resubscribe an address (only do this at the recipient's request), or just for one tag."""

    tag: Tag | None = Field(None, description="Remove only this tag")


class ClearUnsubscribes(_Domain):
    """Empty a domain's unsubscribe list: mail goes again to everyone who opted out. Irreversible."""


# -- complaints ------------------------------------------------------------------------------------


class ListComplaints(_List):
    """List addresses that marked a domain's mail as spam; Mailgun no longer sends to them."""


class GetComplaint(_One):
    """Show whether an address marked a domain's mail as spam, and when."""


class ComplaintRecord(Params):
    """One complaint: address, and optionally created_at."""

    address: Address
    created_at: CreatedAt | None = None


class AddComplaint(ComplaintRecord, _Domain):
    """Record a spam complaint for an address so Mailgun stops sending to it."""


class AddComplaints(_Domain):
    """Record spam complaints for up to 1000 addresses in one call."""

    records: Annotated[list[ComplaintRecord], WholeBody] = Field(min_length=1, max_length=MAX_BATCH)


class ImportComplaints(_Import):
    """Bulk-load spam complaints from CSV (columns address, created_at; up to 25 MB)."""


class DeleteComplaint(_One):
    """Remove an address's spam complaint so Mailgun delivers to it again; only with their consent."""


class ClearComplaints(_Domain):
    """Empty a domain's complaint list: mail goes again to everyone who reported spam. Irreversible."""


# -- allowlist -------------------------------------------------------------------------------------


class ListAllowlist(_List):
    """List the addresses and domains a domain never puts on its bounce list."""


class GetAllowlistEntry(_Domain):
    """Show whether an address or a whole domain is on a domain's allowlist."""

    value: AllowValue


class AddAllowlistEntry(_Domain):
    """Allowlist an address or a whole domain: bounces from it never suppress it."""

    value: Annotated[AllowValue, Local]
    # Mailgun wants the field `address` or `domain`; `domain` is already this model's path field.
    entry: Annotated[SkipJsonSchema[dict[str, str] | None], Prefixed("")] = None

    @model_validator(mode="after")
    def _entry(self):
        self.entry = {"address" if "@" in self.value else "domain": self.value}
        return self


class ImportAllowlist(_Import):
    """Bulk-load allowlist entries from CSV (a column address or domain; up to 25 MB)."""

    key_columns: ClassVar[frozenset[str]] = frozenset({"address", "domain"})


class DeleteAllowlistEntry(GetAllowlistEntry):
    """Take an address or domain off the allowlist; its future bounces suppress it again."""


class ClearAllowlist(_Domain):
    """Empty a domain's allowlist. Irreversible."""


# -- composite -------------------------------------------------------------------------------------


class CheckSuppression(_One):
    """Is this address suppressed on this domain, on which lists and why? One verdict from the
    bounce, unsubscribe, complaint and allowlist lookups; use before re-sending or removing."""

    tags: list[Tag] | None = Field(None, max_length=10, description="Tags of the mail you plan to send")


_ADVICE = {
    "bounces": "hard-bounced: confirm the address is fixed before delete_bounce, or mail bounces again",
    "complaints": "reported spam: remove the complaint only if the recipient asked for mail again",
    "unsubscribes": "unsubscribed: resubscribe only at the recipient's request",
}


async def check_suppression(args: CheckSuppression, call) -> dict[str, Any]:
    address = args.address.lower()
    allowlisted = [
        value
        for value in (address, address.rpartition("@")[2])
        if await _lookup(call, "get_allowlist_entry", {"domain": args.domain, "value": value})
    ]
    tags = {t.lower() for t in args.tags or ()}
    lists = []
    for name, lookup in (
        ("bounces", "get_bounce"),
        ("unsubscribes", "get_unsubscribe"),
        ("complaints", "get_complaint"),
    ):
        record = await _lookup(call, lookup, {"domain": args.domain, "address": args.address})
        if record is None:
            continue
        entry = {"list": name, **{k: v for k, v in record.items() if k != "address"}}
        if name == "unsubscribes":
            left = record.get("tags") or ([record["tag"]] if record.get("tag") else ["*"])
            entry["blocks"] = "*" in left or bool(tags & {t.lower() for t in left})
        else:
            entry["blocks"] = True
        lists.append(entry)
    blocking = [e["list"] for e in lists if e["blocks"]]
    if blocking:
        advice = f"Suppressed: {'; '.join(_ADVICE[name] for name in blocking)}."
    elif lists:
        advice = "Not suppressed for this mail: the unsubscribe covers other tags only."
    else:
        advice = "Not suppressed: Mailgun will deliver to this address."
    if allowlisted:
        advice += f" Allowlisted ({', '.join(allowlisted)}): new bounces will not put it on the bounce list."
    return {
        "address": args.address,
        "suppressed": bool(blocking),
        "lists": lists,
        "allowlisted": bool(allowlisted),
        "advice": advice,
    }


async def _lookup(call, name: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return await call(name, arguments)
    except NotFound as exc:
        if exc.mailgun_message.lower().startswith("domain not found"):
            raise  # not "not listed": the whole question is about a domain that does not exist
        return None


# fmt: off
OPERATIONS = (
    # A bounce's error is the remote mail server's reply: untrusted text.
    Operation("list_bounces", "GET", "/v3/{domain}/bounces", ListBounces, Access.READ, paging=Paging.URLS, untrusted=True),
    Operation("get_bounce", "GET", "/v3/{domain}/bounces/{address}", GetBounce, Access.READ, untrusted=True),
    Operation("add_bounce", "POST", "/v3/{domain}/bounces", AddBounce, Access.WRITE),
    Operation("add_bounces", "POST", "/v3/{domain}/bounces", AddBounces, Access.WRITE, encoding="json"),
    Operation("import_bounces", "POST", "/v3/{domain}/bounces/import", ImportBounces, Access.WRITE),
    Operation("delete_bounce", "DELETE", "/v3/{domain}/bounces/{address}", DeleteBounce, Access.DELETE),
    Operation("clear_bounces", "DELETE", "/v3/{domain}/bounces", ClearBounces, Access.DELETE),
    Operation("list_unsubscribes", "GET", "/v3/{domain}/unsubscribes", ListUnsubscribes, Access.READ, paging=Paging.URLS),
    Operation("get_unsubscribe", "GET", "/v3/{domain}/unsubscribes/{address}", GetUnsubscribe, Access.READ),
    Operation("add_unsubscribe", "POST", "/v3/{domain}/unsubscribes", AddUnsubscribe, Access.WRITE),
    Operation("add_unsubscribes", "POST", "/v3/{domain}/unsubscribes", AddUnsubscribes, Access.WRITE, encoding="json"),
    Operation("import_unsubscribes", "POST", "/v3/{domain}/unsubscribes/import", ImportUnsubscribes, Access.WRITE),
    Operation("delete_unsubscribe", "DELETE", "/v3/{domain}/unsubscribes/{address}", DeleteUnsubscribe, Access.DELETE),
    Operation("clear_unsubscribes", "DELETE", "/v3/{domain}/unsubscribes", ClearUnsubscribes, Access.DELETE),
    Operation("list_complaints", "GET", "/v3/{domain}/complaints", ListComplaints, Access.READ, paging=Paging.URLS),
    Operation("get_complaint", "GET", "/v3/{domain}/complaints/{address}", GetComplaint, Access.READ),
    Operation("add_complaint", "POST", "/v3/{domain}/complaints", AddComplaint, Access.WRITE),
    Operation("add_complaints", "POST", "/v3/{domain}/complaints", AddComplaints, Access.WRITE, encoding="json"),
    Operation("import_complaints", "POST", "/v3/{domain}/complaints/import", ImportComplaints, Access.WRITE),
    Operation("delete_complaint", "DELETE", "/v3/{domain}/complaints/{address}", DeleteComplaint, Access.DELETE),
    Operation("clear_complaints", "DELETE", "/v3/{domain}/complaints", ClearComplaints, Access.DELETE),
    Operation("list_allowlist", "GET", "/v3/{domain}/whitelists", ListAllowlist, Access.READ, paging=Paging.URLS),
    Operation("get_allowlist_entry", "GET", "/v3/{domain}/whitelists/{value}", GetAllowlistEntry, Access.READ),
    Operation("add_allowlist_entry", "POST", "/v3/{domain}/whitelists", AddAllowlistEntry, Access.WRITE),
    Operation("import_allowlist", "POST", "/v3/{domain}/whitelists/import", ImportAllowlist, Access.WRITE),
    Operation("delete_allowlist_entry", "DELETE", "/v3/{domain}/whitelists/{value}", DeleteAllowlistEntry, Access.DELETE),
    Operation("clear_allowlist", "DELETE", "/v3/{domain}/whitelists", ClearAllowlist, Access.DELETE),
    Operation("check_suppression", "", "", CheckSuppression, Access.READ, handler=check_suppression),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_allowlist_entry": ("is it whitelisted",),
    "get_bounce": ("why did an address bounce", "bounce record"),
    "get_unsubscribe": ("did someone opt out",),
    "get_complaint": ("did someone mark us as spam",),
    "list_bounces": ("hard bounced recipients", "mailbox does not exist"),
    "add_bounce": ("mark an address as bounced",),
    "add_bounces": ("many bounces in one call",),
    "import_bounces": ("bounce list from another provider",),
    "delete_bounce": (
        "allow sending to an address again",
        "mailbox works again",
        "unblock a bounced address",
        "deliver again after a full inbox",
    ),
    "clear_bounces": ("retry every bounced address", "reset the bounce list"),
    "list_unsubscribes": ("everyone who opted out",),
    "add_unsubscribe": ("stop emailing someone", "do not email again", "opt out", "remove from marketing mail"),
    "add_unsubscribes": ("unsubscribe a batch of addresses", "many opt outs"),
    "import_unsubscribes": ("opt outs from another provider", "csv of unsubscribed addresses"),
    "delete_unsubscribe": ("resubscribe", "opt back in", "undo an unsubscribe", "wants our emails again"),
    "clear_unsubscribes": ("empty the opt outs",),
    "list_complaints": ("who complained", "who reported spam"),
    "add_complaint": ("reported as spam", "feedback loop complaint"),
    "add_complaints": ("many spam complaints at once",),
    "import_complaints": ("spam complaints from a file",),
    "delete_complaint": ("spam report was a mistake", "receive our mail again after a complaint"),
    "clear_complaints": ("empty the spam complaints",),
    "list_allowlist": ("whitelisted addresses and domains",),
    "add_allowlist_entry": ("never suppress an address", "whitelist a domain", "safelist"),
    "import_allowlist": ("upload a whitelist csv",),
    "delete_allowlist_entry": ("take off the whitelist",),
    "clear_allowlist": ("empty the whitelist",),
    "check_suppression": (
        "can we email this address",
        "is the address blocked or suppressed",
        "why is mail to someone not sent",
        "mail to an address gets dropped",
    ),
}

register_operations = registering(OPERATIONS, asks=ASKS)
