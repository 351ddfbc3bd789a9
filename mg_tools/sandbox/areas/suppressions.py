"""Sandbox: a domain's suppression lists (bounces, unsubscribes, complaints) and its allowlist.

Records live under the kinds ``bounce``, ``unsubscribe``, ``complaint`` and ``allowlist`` with the
keys of the table in ``mg_tools.sandbox.core``: ``domain/address`` (``domain/value`` for the
allowlist), the address or value lower-cased, since Mailgun treats addresses case-insensitively;
the message pipeline reads them to decide delivery.

Each list takes one record as form fields or up to 1000 as a JSON array, and a CSV ``file`` on
``/import`` (applied at once here, where Mailgun processes it in the background).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.responses import JSONResponse

from mg_tools.sandbox.core import ApiError, Ctx, Router, Sandbox, page_by_urls, rfc2822
from mg_tools.sandbox.state import State

__all__ = ["router"]

router = Router()

MAX_BATCH = 1000
MAX_FILE_BYTES = 25 * 1024 * 1024
IMPORT_ACCEPTED = "file uploaded successfully for processing. standby..."
ALL_TAGS = "*"

_ADDRESS = re.compile(r"^[^@\s]{1,256}@[^@\s]{1,255}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Record = Mapping[str, Any]


@dataclass(frozen=True)
class _Table:
    """One suppression list: its state kind, URL name, record builder and Mailgun's messages."""

    kind: str
    name: str
    build: Callable[[Sandbox, Record], dict[str, Any]]
    added: str
    added_many: str
    not_found: str
    removed: str
    cleared: str


# -- records ---------------------------------------------------------------------------------------


def _address(raw: Any) -> str:
    if raw in (None, ""):
        raise ApiError(400, "'address' parameter is missing")
    address = str(raw).strip().lower()
    if not _ADDRESS.match(address):
        raise ApiError(400, f"'address' parameter is not a valid email address: {raw}")
    return address


def _created_at(sb: Sandbox, raw: Any) -> str:
    if raw in (None, ""):
        return rfc2822(sb.now())
    try:
        return rfc2822(float(raw) if isinstance(raw, (int, float)) else parsedate_to_datetime(str(raw)).timestamp())
    except (TypeError, ValueError, IndexError):
        raise ApiError(400, f"Invalid 'created_at' parameter: expected an RFC 2822 date, got {raw!r}") from None


def _tags(raw: Any) -> list[str]:
    values = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
    tags = [t.strip() for v in values for t in str(v).split(",") if t.strip()]
    return list(dict.fromkeys(tags)) or [ALL_TAGS]


def _bounce(sb: Sandbox, rec: Record) -> dict[str, Any]:
    code = rec.get("code")
    return {
        "address": _address(rec.get("address")),
        "code": str(code) if code not in (None, "") else "550",
        "error": str(rec.get("error") or ""),
        "created_at": _created_at(sb, rec.get("created_at")),
    }


def _unsubscribe(sb: Sandbox, rec: Record) -> dict[str, Any]:
    raw = rec.get("tags")
    return {
        "address": _address(rec.get("address")),
        "tags": _tags(raw if raw not in (None, "", []) else rec.get("tag")),
        "created_at": _created_at(sb, rec.get("created_at")),
    }


def _complaint(sb: Sandbox, rec: Record) -> dict[str, Any]:
    return {"address": _address(rec.get("address")), "created_at": _created_at(sb, rec.get("created_at"))}


def _allowlist(sb: Sandbox, rec: Record) -> dict[str, Any]:
    address, domain = rec.get("address"), rec.get("domain")
    if address not in (None, "") and domain not in (None, ""):
        raise ApiError(400, "Give either address or domain, not both")
    if address not in (None, ""):
        kind, value = "address", _address(address)
    elif domain not in (None, ""):
        kind, value = "domain", str(domain).strip().lower()
        if not _DOMAIN.match(value):
            raise ApiError(400, f"'domain' parameter is not a valid domain name: {domain}")
    else:
        raise ApiError(400, "Missing mandatory parameter: address/domain")
    return {
        "value": value,
        "type": kind,
        "reason": str(rec.get("reason") or ""),
        "createdAt": _created_at(sb, rec.get("createdAt") or rec.get("created_at")),
    }


BOUNCES = _Table(
    "bounce",
    "bounces",
    _bounce,
    added="Address has been added to the bounces table",
    added_many="{n} {addresses} been added to the bounces table",
    not_found="Address not found in bounces table",
    removed="Bounced address has been removed",
    cleared="Bounced addresses for this domain have been removed",
)
UNSUBSCRIBES = _Table(
    "unsubscribe",
    "unsubscribes",
    _unsubscribe,
    added="Address has been added to the unsubscribes table",
    added_many="{n} {addresses} been added to the unsubscribes table",
    not_found="Address not found in unsubscribers table",
    removed="Unsubscribe event has been removed",
    cleared="Unsubscribe addresses for this domain have been removed",
)
COMPLAINTS = _Table(
    "complaint",
    "complaints",
    _complaint,
    added="Address has been added to the complaints table",
    added_many="{n} complaint {addresses} been added to the complaints table",
    not_found="No spam complaints found for this address",
    removed="Spam complaint has been removed",
    cleared="Complaint addresses for this domain have been removed",
)
ALLOWLIST = _Table(
    "allowlist",
    "whitelists",
    _allowlist,
    added="Address/Domain has been added to the allowlists table",
    added_many="{n} {addresses} been added to the allowlists table",
    not_found="Address/Domain not found in allowlist table",
    removed="Allowlist address/domain has been removed",
    cleared="Allowlist addresses/domains for this domain have been removed",
)


def _id(doc: dict[str, Any]) -> str:
    return doc.get("address") or doc["value"]


def _store(state: State, domain: str, table: _Table, doc: dict[str, Any]) -> dict[str, Any]:
    key = f"{domain}/{_id(doc)}"
    if table is UNSUBSCRIBES:
        # A second unsubscribe adds its tags to the first; "*" already covers every tag.
        old = state.get(table.kind, key)
        if old is not None:
            doc = {**doc, "tags": list(dict.fromkeys(old["tags"] + doc["tags"]))}
    return state.put(table.kind, key, doc)


# -- handlers shared by the four lists -------------------------------------------------------------


def _domain(ctx: Ctx) -> str:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    return domain


def _list(ctx: Ctx, table: _Table) -> dict[str, Any]:
    domain = _domain(ctx)
    items = sorted(ctx.state.list(table.kind, f"{domain}/"), key=_id)
    term = (ctx.arg("term") or "").strip().lower()
    if term:
        items = [doc for doc in items if _id(doc).startswith(term)]
    return page_by_urls(items, ctx, pivot="address", key=_id, default_limit=100, max_limit=MAX_BATCH)


def _get(ctx: Ctx, table: _Table, param: str = "address") -> dict[str, Any]:
    domain = _domain(ctx)
    return ctx.sb.existing(table.kind, f"{domain}/{ctx.path[param].strip().lower()}", table.not_found)


def _form_record(ctx: Ctx, table: _Table) -> dict[str, Any]:
    names = ("address", "domain", "reason") if table is ALLOWLIST else ("address", "code", "error", "created_at")
    record: dict[str, Any] = {name: ctx.arg(name) for name in names}
    if table is UNSUBSCRIBES:
        record["tags"] = ctx.args("tags") or ctx.args("tag")
    return record


def _add(ctx: Ctx, table: _Table) -> dict[str, Any]:
    domain = _domain(ctx)
    if isinstance(ctx.json, list):
        return _add_many(ctx, table, domain, ctx.json)
    doc = table.build(ctx.sb, ctx.json if isinstance(ctx.json, dict) else _form_record(ctx, table))
    _store(ctx.state, domain, table, doc)
    if table is ALLOWLIST:
        return {"message": table.added, "type": doc["type"], "value": doc["value"]}
    return {"message": table.added, "address": doc["address"]}


def _add_many(ctx: Ctx, table: _Table, domain: str, records: list[Any]) -> dict[str, Any]:
    if len(records) > MAX_BATCH:
        raise ApiError(400, f"Batch size should be less than {MAX_BATCH}")
    if not records:
        raise ApiError(400, "Batch is empty: send a JSON array of 1 to 1000 records")
    docs = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ApiError(400, f"Record {index} is not a JSON object")
        try:
            docs.append(table.build(ctx.sb, record))
        except ApiError as exc:
            raise ApiError(400, f"Record {index}: {exc.message}") from None
    with ctx.state.transaction():
        for doc in docs:
            _store(ctx.state, domain, table, doc)
    n = len(docs)
    return {"message": table.added_many.format(n=n, addresses="address has" if n == 1 else "addresses have")}


def _import(ctx: Ctx, table: _Table) -> JSONResponse:
    domain = _domain(ctx)
    files = ctx.files.get("file")
    if not files:
        raise ApiError(400, "'file' parameter is missing: upload a CSV file as multipart field 'file'")
    _, data, _ = files[0]
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(400, "file is larger than the 25 MB limit")
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        header = [(name or "").strip().lower() for name in reader.fieldnames or ()]
        rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except (UnicodeDecodeError, csv.Error):
        raise ApiError(400, "while reading csv header") from None
    needed = {"address", "domain"} if table is ALLOWLIST else {"address"}
    if not needed & set(header):
        raise ApiError(400, "while reading csv header")
    docs = []
    for row in rows:
        if table is UNSUBSCRIBES:
            row["tags"] = row.get("tags") or row.get("tag") or ""
        try:
            docs.append(table.build(ctx.sb, row))
        except ApiError:
            continue  # Mailgun skips rows it cannot read, as its background import does
    with ctx.state.transaction():
        for doc in docs:
            _store(ctx.state, domain, table, doc)
    return JSONResponse({"message": IMPORT_ACCEPTED}, status_code=202)


def _delete(ctx: Ctx, table: _Table, param: str = "address") -> dict[str, Any]:
    domain = _domain(ctx)
    value = ctx.path[param].strip().lower()
    key = f"{domain}/{value}"
    with ctx.state.transaction():
        doc = ctx.sb.existing(table.kind, key, table.not_found)
        tag = ctx.text("tag") if table is UNSUBSCRIBES else None
        if tag:
            if tag not in doc["tags"]:
                raise ApiError(404, "Unsubscribe event for this tag does not exist")
            rest = [t for t in doc["tags"] if t != tag]
            if rest:
                ctx.state.put(table.kind, key, {**doc, "tags": rest})
            else:
                ctx.state.delete(table.kind, key)
        else:
            ctx.state.delete(table.kind, key)
    if table is ALLOWLIST:
        return {"message": table.removed, "value": doc["value"]}
    return {"message": table.removed, "address": doc["address"]}


def _clear(ctx: Ctx, table: _Table) -> dict[str, Any]:
    domain = _domain(ctx)
    ctx.state.clear(table.kind, f"{domain}/")
    return {"message": table.cleared}


# -- bounces ---------------------------------------------------------------------------------------


@router.get("/v3/{domain}/bounces")
async def list_bounces(ctx: Ctx) -> dict:
    return _list(ctx, BOUNCES)


@router.post("/v3/{domain}/bounces")
async def add_bounces(ctx: Ctx) -> dict:
    return _add(ctx, BOUNCES)


@router.post("/v3/{domain}/bounces/import")
async def import_bounces(ctx: Ctx) -> JSONResponse:
    return _import(ctx, BOUNCES)


@router.get("/v3/{domain}/bounces/{address}")
async def get_bounce(ctx: Ctx) -> dict:
    return _get(ctx, BOUNCES)


@router.delete("/v3/{domain}/bounces/{address}")
async def delete_bounce(ctx: Ctx) -> dict:
    return _delete(ctx, BOUNCES)


@router.delete("/v3/{domain}/bounces")
async def clear_bounces(ctx: Ctx) -> dict:
    return _clear(ctx, BOUNCES)


# -- unsubscribes ----------------------------------------------------------------------------------


@router.get("/v3/{domain}/unsubscribes")
async def list_unsubscribes(ctx: Ctx) -> dict:
    return _list(ctx, UNSUBSCRIBES)


@router.post("/v3/{domain}/unsubscribes")
async def add_unsubscribes(ctx: Ctx) -> dict:
    return _add(ctx, UNSUBSCRIBES)


@router.post("/v3/{domain}/unsubscribes/import")
async def import_unsubscribes(ctx: Ctx) -> JSONResponse:
    return _import(ctx, UNSUBSCRIBES)


@router.get("/v3/{domain}/unsubscribes/{address}")
async def get_unsubscribe(ctx: Ctx) -> dict:
    return _get(ctx, UNSUBSCRIBES)


@router.delete("/v3/{domain}/unsubscribes/{address}")
async def delete_unsubscribe(ctx: Ctx) -> dict:
    return _delete(ctx, UNSUBSCRIBES)


@router.delete("/v3/{domain}/unsubscribes")
async def clear_unsubscribes(ctx: Ctx) -> dict:
    return _clear(ctx, UNSUBSCRIBES)


# -- complaints ------------------------------------------------------------------------------------


@router.get("/v3/{domain}/complaints")
async def list_complaints(ctx: Ctx) -> dict:
    return _list(ctx, COMPLAINTS)


@router.post("/v3/{domain}/complaints")
async def add_complaints(ctx: Ctx) -> dict:
    return _add(ctx, COMPLAINTS)


@router.post("/v3/{domain}/complaints/import")
async def import_complaints(ctx: Ctx) -> JSONResponse:
    return _import(ctx, COMPLAINTS)


@router.get("/v3/{domain}/complaints/{address}")
async def get_complaint(ctx: Ctx) -> dict:
    return _get(ctx, COMPLAINTS)


@router.delete("/v3/{domain}/complaints/{address}")
async def delete_complaint(ctx: Ctx) -> dict:
    return _delete(ctx, COMPLAINTS)


@router.delete("/v3/{domain}/complaints")
async def clear_complaints(ctx: Ctx) -> dict:
    return _clear(ctx, COMPLAINTS)


# -- allowlist (Mailgun's URLs still say "whitelists") ---------------------------------------------


@router.get("/v3/{domain}/whitelists")
async def list_allowlist(ctx: Ctx) -> dict:
    return _list(ctx, ALLOWLIST)


@router.post("/v3/{domain}/whitelists")
async def add_allowlist_entry(ctx: Ctx) -> dict:
    return _add(ctx, ALLOWLIST)


@router.post("/v3/{domain}/whitelists/import")
async def import_allowlist(ctx: Ctx) -> JSONResponse:
    return _import(ctx, ALLOWLIST)


@router.get("/v3/{domain}/whitelists/{value}")
async def get_allowlist_entry(ctx: Ctx) -> dict:
    return _get(ctx, ALLOWLIST, "value")


@router.delete("/v3/{domain}/whitelists/{value}")
async def delete_allowlist_entry(ctx: Ctx) -> dict:
    return _delete(ctx, ALLOWLIST, "value")


@router.delete("/v3/{domain}/whitelists")
async def clear_allowlist(ctx: Ctx) -> dict:
    return _clear(ctx, ALLOWLIST)
