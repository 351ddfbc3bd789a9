"""Sandbox: mailing lists and their members.

Lists are stored under kind ``list`` keyed by the (lower-cased) list address; members under kind
``member`` keyed ``list_address/member_address``. ``members_count`` is kept up to date on every
member change, so the message pipeline can read lists and members directly.
"""

from __future__ import annotations

import csv
import io
import re
from email.utils import parseaddr
from operator import itemgetter
from typing import Any

from mg_tools.sandbox.core import (
    ApiError,
    Ctx,
    Router,
    check_page,
    json_object,
    loads_json,
    page_by_skip,
    page_by_urls,
    rfc2822,
)

router = Router()

MAX_BULK = 1000
MAX_CSV_BYTES = 5 * 1024 * 1024
ASYNC_THRESHOLD = 100  # Mailgun answers bulk uploads above this size "in background"
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCESS = ("readonly", "members", "everyone")
_REPLY = ("sender", "list")
_BAD_PAGE = "Invalid 'page' parameter: must be one of first, last, next, prev"


def _parse_address(raw: Any, what: str = "address") -> tuple[str, str]:
    """``'Alice <alice@example.com>'`` or ``'alice@example.com'`` -> (name, lower-cased address)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, f"'{what}' parameter is missing")
    name, address = parseaddr(raw.strip())
    address = address.strip().lower()
    if not _ADDRESS.match(address):
        raise ApiError(400, f"'{raw}' is not a valid {what}")
    return name, address


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "on"}:
        return True
    if text in {"no", "false", "0", "off"}:
        return False
    raise ApiError(400, f"Invalid '{what}' parameter: expected yes/no or true/false")


def _vars(raw: Any) -> dict[str, Any]:
    return json_object(raw, "Invalid 'vars' parameter: must be a JSON object") or {}


def _list(ctx: Ctx, address: str | None = None) -> dict[str, Any]:
    address = (address or ctx.path["list_address"]).lower()
    return ctx.sb.existing("list", address, f"Mailing list {address} not found")


def _member_key(list_address: str, member: str) -> str:
    return f"{list_address}/{member.lower()}"


def _recount(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    doc["members_count"] = ctx.state.count("member", f"{doc['address']}/")
    ctx.state.put("list", doc["address"], doc)
    return doc


def _set_list_fields(ctx: Ctx, doc: dict[str, Any]) -> None:
    for field in ("name", "description"):
        if ctx.has(field):
            doc[field] = ctx.arg(field) or ""
    access = ctx.arg("access_level")
    if access not in (None, ""):
        if access not in _ACCESS:
            raise ApiError(
                400, f"Invalid access level '{access}'. It can be any of: 'readonly', 'members', 'everyone'."
            )
        doc["access_level"] = access
    # The spec spells the update field "reply_reference"; Mailgun's clients send "reply_preference".
    reply = ctx.arg("reply_preference") or ctx.arg("reply_reference")
    if reply not in (None, ""):
        if reply not in _REPLY:
            raise ApiError(400, f"Invalid reply preference '{reply}'. It can be any of: 'sender', 'list'")
        doc["reply_preference"] = reply


def _by_address(ctx: Ctx, items: list[dict[str, Any]], max_limit: int) -> dict[str, Any]:
    """Lists or members in skip/limit pages, only the query's ``address`` when it is given."""
    address = ctx.arg("address")
    if address:
        items = [d for d in items if d["address"] == address.strip().lower()]
    return page_by_skip(items, ctx, default_limit=100, max_limit=max_limit)


def _address_pages(ctx: Ctx, items: list[dict[str, Any]], max_limit: int) -> dict[str, Any]:
    """Lists or members in URL pages, by address."""
    key = itemgetter("address")
    return page_by_urls(sorted(items, key=key), ctx, pivot="address", key=key, default_limit=100, max_limit=max_limit)


# -- lists --------------------------------------------------------------------------------------


@router.get("/v3/lists")
async def list_lists(ctx: Ctx) -> dict:
    return _by_address(ctx, ctx.state.list("list"), 1000)


@router.get("/v3/lists/pages")
async def list_lists_pages(ctx: Ctx) -> dict:
    check_page(ctx, _BAD_PAGE)
    return _address_pages(ctx, ctx.state.list("list"), 1000)


@router.post("/v3/lists")
async def create_list(ctx: Ctx) -> dict:
    display, address = _parse_address(ctx.arg("address"))
    with ctx.state.transaction():
        ctx.sb.absent("list", address, f"Mailing list with address '{address}' already exists")
        doc = {
            "address": address,
            "name": display,
            "description": "",
            "access_level": "readonly",
            "reply_preference": "list",
            "created_at": rfc2822(ctx.sb.now()),
            "members_count": 0,
        }
        _set_list_fields(ctx, doc)
        ctx.state.put("list", address, doc)
    return {"list": doc, "message": "Mailing list has been created"}


@router.get("/v3/lists/{list_address}")
async def get_list(ctx: Ctx) -> dict:
    return {"list": _list(ctx)}


@router.put("/v3/lists/{list_address}")
async def update_list(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = _list(ctx)
        old = doc["address"]
        if ctx.arg("address"):
            _, new = _parse_address(ctx.arg("address"))
            if new != old:
                ctx.sb.absent("list", new, f"Mailing list with address '{new}' already exists")
                members = ctx.state.list("member", f"{old}/")
                ctx.state.clear("member", f"{old}/")
                for member in members:
                    ctx.state.put("member", _member_key(new, member["address"]), member)
                ctx.state.delete("list", old)
                doc["address"] = new
        _set_list_fields(ctx, doc)
        _recount(ctx, doc)
    return {"message": "Mailing list has been updated", "list": doc}


@router.delete("/v3/lists/{list_address}")
async def delete_list(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = _list(ctx)
        ctx.state.clear("member", f"{doc['address']}/")
        ctx.state.delete("list", doc["address"])
    return {"address": doc["address"], "message": "Mailing list has been removed"}


# -- members ------------------------------------------------------------------------------------


def _members(ctx: Ctx, doc: dict[str, Any]) -> list[dict[str, Any]]:
    items = ctx.state.list("member", f"{doc['address']}/")
    if ctx.has("subscribed") and ctx.arg("subscribed") != "":
        wanted = _bool(ctx.arg("subscribed"), "subscribed")
        items = [m for m in items if m["subscribed"] is wanted]
    return items


@router.get("/v3/lists/{list_address}/members")
async def list_members(ctx: Ctx) -> dict:
    return _by_address(ctx, _members(ctx, _list(ctx)), 100)


@router.get("/v3/lists/{list_address}/members/pages")
async def list_members_pages(ctx: Ctx) -> dict:
    check_page(ctx, _BAD_PAGE)
    return _address_pages(ctx, _members(ctx, _list(ctx)), 100)


def _upsert(ctx: Ctx, list_address: str, entry: dict[str, Any], *, upsert: bool) -> str:
    """Add or update one member; returns "created", "updated" or "exists"."""
    key = _member_key(list_address, entry["address"])
    existing = ctx.state.get("member", key)
    if existing is not None and not upsert:
        return "exists"
    member = existing or {"address": entry["address"], "name": "", "subscribed": True, "vars": {}}
    for field in ("name", "subscribed", "vars"):
        if field in entry:
            member[field] = entry[field]
    ctx.state.put("member", key, member)
    return "updated" if existing else "created"


@router.post("/v3/lists/{list_address}/members")
async def add_member(ctx: Ctx) -> dict:
    display, address = _parse_address(ctx.arg("address"))
    entry: dict[str, Any] = {
        "address": address,
        "name": ctx.arg("name") or display,
        "subscribed": _bool(ctx.arg("subscribed", "yes"), "subscribed"),
    }
    entry["vars"] = _vars(ctx.arg("vars"))
    upsert = _bool(ctx.arg("upsert", "no"), "upsert")
    with ctx.state.transaction():
        doc = _list(ctx)
        if _upsert(ctx, doc["address"], entry, upsert=upsert) == "exists":
            raise ApiError(400, f"Address already exists '{address}'")
        _recount(ctx, doc)
        member = ctx.state.get("member", _member_key(doc["address"], address))
    return {"member": member, "message": "Mailing list member has been created"}


def _bulk_entry(item: Any, default_subscribed: bool | None = None) -> dict[str, Any]:
    if isinstance(item, str):
        display, address = _parse_address(item, "member address")
        entry: dict[str, Any] = {"address": address}
        if display:
            entry["name"] = display
        if default_subscribed is not None:
            entry["subscribed"] = default_subscribed
        return entry
    if not isinstance(item, dict):
        raise ApiError(400, "Invalid 'members' parameter: each member is an address or an object")
    display, address = _parse_address(item.get("address"), "member address")
    entry = {"address": address}
    if item.get("name") or display:
        entry["name"] = item.get("name") or display
    if item.get("subscribed") not in (None, ""):
        entry["subscribed"] = _bool(item["subscribed"], "subscribed")
    elif default_subscribed is not None:
        entry["subscribed"] = default_subscribed
    if item.get("vars") not in (None, ""):
        entry["vars"] = _vars(item["vars"])
    return entry


def _bulk(ctx: Ctx, entries: list[dict[str, Any]], *, upsert: bool) -> dict[str, Any]:
    if len(entries) > MAX_BULK:
        raise ApiError(400, f"Too many members: at most {MAX_BULK} per call")
    with ctx.state.transaction():
        doc = _list(ctx)
        for entry in entries:
            _upsert(ctx, doc["address"], entry, upsert=upsert)
        _recount(ctx, doc)
    if len(entries) > ASYNC_THRESHOLD:
        return {"list": doc, "task-id": ctx.sb.new_id(8), "message": "Mailing list upload started in background"}
    return {"list": doc, "message": "Mailing list has been updated"}


@router.post("/v3/lists/{list_address}/members.json")
async def add_members_json(ctx: Ctx) -> dict:
    raw = ctx.arg("members")
    if raw in (None, ""):
        raise ApiError(400, "'members' parameter is missing")
    try:
        items = loads_json(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ApiError(400, "Invalid 'members' parameter: must be a JSON array") from None
    if not isinstance(items, list):
        raise ApiError(400, "Invalid 'members' parameter: must be a JSON array")
    _list(ctx)
    entries = [_bulk_entry(item) for item in items]
    return _bulk(ctx, entries, upsert=_bool(ctx.arg("upsert", "no"), "upsert"))


@router.post("/v3/lists/{list_address}/members.csv")
async def add_members_csv(ctx: Ctx) -> dict:
    files = ctx.files.get("members") or ctx.files.get("file")
    if not files:
        raise ApiError(400, "'members' file is missing")
    data = files[0][1]
    if len(data) > MAX_CSV_BYTES:
        raise ApiError(400, "CSV file is too big, max allowed size is 5 MB")
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        raise ApiError(400, "Invalid CSV file") from None
    _list(ctx)
    subscribed = _bool(ctx.arg("subscribed"), "subscribed") if ctx.arg("subscribed") not in (None, "") else None
    entries = []
    for row in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if "address" not in row:
            raise ApiError(400, "Invalid CSV file: an 'address' column is required")
        entries.append(_bulk_entry(row, subscribed))
    out = _bulk(ctx, entries, upsert=_bool(ctx.arg("upsert", "no"), "upsert"))
    out.setdefault("task-id", ctx.sb.new_id(8))
    out["message"] = "Mailing list upload started in background"
    return out


def _member(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    member_address = ctx.path["address"].lower()
    return ctx.sb.existing(
        "member",
        _member_key(doc["address"], member_address),
        f"Member {member_address} of mailing list {doc['address']} not found",
    )


@router.get("/v3/lists/{list_address}/members/{address}")
async def get_member(ctx: Ctx) -> dict:
    return {"member": _member(ctx, _list(ctx))}


@router.put("/v3/lists/{list_address}/members/{address}")
async def update_member(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = _list(ctx)
        member = _member(ctx, doc)
        old_key = _member_key(doc["address"], member["address"])
        if ctx.arg("address"):
            display, new = _parse_address(ctx.arg("address"))
            if new != member["address"]:
                ctx.sb.absent("member", _member_key(doc["address"], new), f"Address already exists '{new}'")
                member["address"] = new
                if display and not ctx.arg("name"):
                    member["name"] = display
        if ctx.has("name"):
            member["name"] = ctx.arg("name") or ""
        if ctx.arg("subscribed") not in (None, ""):
            member["subscribed"] = _bool(ctx.arg("subscribed"), "subscribed")
        if ctx.has("vars"):
            member["vars"] = _vars(ctx.arg("vars"))
        new_key = _member_key(doc["address"], member["address"])
        if new_key != old_key:
            ctx.state.delete("member", old_key)
        ctx.state.put("member", new_key, member)
    return {"member": member, "message": "Mailing list member has been updated"}


@router.delete("/v3/lists/{list_address}/members/{address}")
async def delete_member(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = _list(ctx)
        member = _member(ctx, doc)
        ctx.state.delete("member", _member_key(doc["address"], member["address"]))
        _recount(ctx, doc)
    return {"member": {"address": member["address"]}, "message": "Mailing list member has been deleted"}
