"""Subaccounts: separate sending accounts under this one, their features and monthly sending limits.

Any tool can act for a subaccount instead of this account: ``--subaccount ID``, ``MG_TOOLS_SUBACCOUNT``
or ``Toolkit(subaccount=ID)``.
"""

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, PlainSerializer, model_validator

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Header, JsonText, Limit, MonthlyLimit, Params, Query, Skip, SubaccountId

#: A feature switch, sent as Mailgun's JSON ``{"enabled": true}``.
Feature = Annotated[bool | None, PlainSerializer(lambda on: {"enabled": on}), JsonText]
Note = Annotated[str | None, Query, Field(max_length=1024)]
_FEATURES = ("sending", "validations", "validations_bulk", "email_preview", "inbox_placement")


class ListSubaccounts(Params):
    """List subaccounts (id, name, status open/disabled/closed, features), optionally filtered by name."""

    filter: str | None = Field(None, max_length=256, description="Part of the name")
    enabled: bool | None = Field(None, description="true: only open ones; false: only disabled ones")
    closed: bool | None = Field(None, description="true: only closed ones; false: no closed ones")
    sort: Literal["asc", "desc"] | None = Field(None, description="By name")
    limit: Limit = 10
    skip: Skip | None = None
    cursor: Cursor = None


class GetSubaccount(Params):
    """Show one subaccount: name, status and features."""

    subaccount_id: SubaccountId


class CreateSubaccount(Params):
    """Create a subaccount: a separate sending account (own domains, limits) under this one."""

    name: Annotated[str, Query] = Field(min_length=1, max_length=256)


class DeleteSubaccount(Params):
    """Close a subaccount for good: it can no longer send or be re-enabled."""

    subaccount_id: Annotated[
        SubaccountId,
        Header("X-Mailgun-On-Behalf-Of"),
        Field(validation_alias=AliasChoices("subaccount_id", "X-Mailgun-On-Behalf-Of")),
    ]


class DisableSubaccount(GetSubaccount):
    """Disable an open subaccount: it cannot send until enabled again."""

    reason: Note = None
    note: Note = None


class EnableSubaccount(GetSubaccount):
    """Re-open a disabled subaccount so it can send again."""


class GetSubaccountSendingLimit(GetSubaccount):
    """Show a subaccount's custom monthly sending limit and how much of it this month used."""


class SetSubaccountSendingLimit(GetSubaccount):
    """Cap how many messages a subaccount may send per calendar month."""

    monthly_limit: MonthlyLimit


class DeleteSubaccountSendingLimit(GetSubaccount):
    """Remove a subaccount's custom monthly sending limit."""


class UpdateSubaccountFeatures(GetSubaccount):
    """Turn subaccount features on or off (sending, validations, email preview, inbox placement)."""

    sending: Feature = None
    validations: Feature = None
    validations_bulk: Feature = None
    email_preview: Feature = None
    inbox_placement: Feature = None

    @model_validator(mode="after")
    def _some_feature(self):
        if all(getattr(self, name) is None for name in _FEATURES):
            raise ValueError(f"give at least one of {', '.join(_FEATURES)}")
        return self


# fmt: off
OPERATIONS = (
    Operation("list_subaccounts", "GET", "/v5/accounts/subaccounts", ListSubaccounts, Access.READ, paging=Paging.SKIP, items_key="subaccounts"),
    Operation("create_subaccount", "POST", "/v5/accounts/subaccounts", CreateSubaccount, Access.WRITE),
    Operation("get_subaccount", "GET", "/v5/accounts/subaccounts/{subaccount_id}", GetSubaccount, Access.READ),
    Operation("delete_subaccount", "DELETE", "/v5/accounts/subaccounts", DeleteSubaccount, Access.DELETE),
    Operation("disable_subaccount", "POST", "/v5/accounts/subaccounts/{subaccount_id}/disable", DisableSubaccount, Access.WRITE),
    Operation("enable_subaccount", "POST", "/v5/accounts/subaccounts/{subaccount_id}/enable", EnableSubaccount, Access.WRITE),
    Operation("get_subaccount_sending_limit", "GET", "/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly", GetSubaccountSendingLimit, Access.READ),
    Operation("set_subaccount_sending_limit", "PUT", "/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly", SetSubaccountSendingLimit, Access.WRITE),
    Operation("delete_subaccount_sending_limit", "DELETE", "/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly", DeleteSubaccountSendingLimit, Access.DELETE),
    Operation("update_subaccount_features", "PUT", "/v5/accounts/subaccounts/{subaccount_id}/features", UpdateSubaccountFeatures, Access.WRITE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_subaccounts": ("our subaccounts", "client accounts"),
    "create_subaccount": ("new client account", "reseller customer account"),
    "get_subaccount": ("subaccount details",),
    "delete_subaccount": ("close a subaccount",),
    "disable_subaccount": ("suspend a subaccount", "customer did not pay"),
    "enable_subaccount": ("reopen a subaccount", "reactivate a client account"),
    "get_subaccount_sending_limit": ("monthly quota of a subaccount",),
    "set_subaccount_sending_limit": ("cap a subaccount's monthly sending",),
    "delete_subaccount_sending_limit": ("remove a subaccount's cap",),
    "update_subaccount_features": ("turn a subaccount feature on or off",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
