"""Sandbox: the subaccount a request acts for, and the domains it may see.

As with Mailgun, a request carrying ``X-Mailgun-On-Behalf-Of: <subaccount id>`` acts for that
subaccount: a domain it creates belongs to the subaccount (the domain's ``subaccount_id``), and it
sees, reads and sends from its own domains only. The account itself (no header) does not see its
subaccounts' domains, except in a domain listing with ``include_subaccounts=true``. A domain that is
not the caller's is answered like one that does not exist. An id that names no open or disabled
subaccount of the account is refused (403), and a disabled subaccount's domains cannot send (403).
"""

from __future__ import annotations

from typing import Any

from mg_tools.sandbox.core import ApiError, Ctx

__all__ = ["HEADER", "acting_for", "claim", "domain", "sending_domain", "visible"]

HEADER = "x-mailgun-on-behalf-of"


def acting_for(ctx: Ctx) -> dict[str, Any] | None:
    """The subaccount document the request acts for; None when it acts for the account itself."""
    given = ctx.header(HEADER).strip()
    if not given:
        return None
    doc = ctx.state.get("subaccount", given.lower())
    if doc is None or doc["status"] == "closed":
        raise ApiError(403, f"Forbidden: {given[:64]!r} is not a subaccount of this account")
    return doc


def _owner(ctx: Ctx) -> str | None:
    sub = acting_for(ctx)
    return sub["id"] if sub else None


def claim(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """A new domain document, made the acting subaccount's when the request acts for one."""
    owner = _owner(ctx)
    if owner:
        doc["subaccount_id"] = owner
    return doc


def visible(ctx: Ctx, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The domain documents the request may list: its own, and with ``include_subaccounts`` (the
    account itself only) its subaccounts' as well."""
    owner = _owner(ctx)
    if owner is None and ctx.bool_arg("include_subaccounts"):
        return docs
    return [d for d in docs if d.get("subaccount_id") == owner]


def domain(ctx: Ctx, name: str) -> dict[str, Any]:
    """The domain document when it is the acting account's, else Mailgun's 404."""
    owner = _owner(ctx)
    doc = ctx.sb.domain(name)
    if doc.get("subaccount_id") != owner:
        raise ApiError(404, "Domain not found")
    return doc


def sending_domain(ctx: Ctx, name: str) -> dict[str, Any]:
    """:func:`domain`, refused (403) when it belongs to a disabled subaccount."""
    doc = domain(ctx, name)
    owner = doc.get("subaccount_id")
    sub = ctx.state.get("subaccount", owner) if owner else None
    if sub is not None and sub["status"] != "open":
        raise ApiError(403, f"Forbidden: the subaccount {owner} is {sub['status']} and cannot send")
    return doc
