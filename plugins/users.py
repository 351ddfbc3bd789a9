"""Users: the people with access to the account, and the organizations (subaccounts) they belong to."""

from typing import Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Limit, Params, Skip, SubaccountId

UserId = Field(min_length=1, max_length=64, pattern=r"^[\w-]+$")


class ListUsers(Params):
    """List the people with access to the account (its users): role, email, two-factor state."""

    role: Literal["basic", "billing", "support", "developer", "admin"] | None = None
    limit: Limit = 100
    skip: Skip | None = None
    cursor: Cursor = None


class GetUser(Params):
    """Show one user of the account: role, email, two-factor state, preferences."""

    user_id: str = UserId


class GetCurrentUser(Params):
    """Show the user the API key belongs to."""


class AddUserToOrg(Params):
    """Give a user access to an organization (a subaccount of this account)."""

    user_id: str = UserId
    org_id: SubaccountId = Field(description="The subaccount's id")


class RemoveUserFromOrg(AddUserToOrg):
    """Take a user's access to an organization (a subaccount) away."""


# fmt: off
OPERATIONS = (
    Operation("list_users", "GET", "/v5/users", ListUsers, Access.READ, paging=Paging.SKIP, items_key="users", compact=("id", "name", "email", "role", "activated", "is_disabled")),
    Operation("get_current_user", "GET", "/v5/users/me", GetCurrentUser, Access.READ),
    Operation("get_user", "GET", "/v5/users/{user_id}", GetUser, Access.READ),
    Operation("add_user_to_org", "PUT", "/v5/users/{user_id}/org/{org_id}", AddUserToOrg, Access.WRITE),
    Operation("remove_user_from_org", "DELETE", "/v5/users/{user_id}/org/{org_id}", RemoveUserFromOrg, Access.DELETE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_users": ("team members", "who has access to the account"),
    "get_current_user": ("who am i", "user of this api key"),
    "get_user": ("user details", "two factor"),
    "add_user_to_org": ("give a user access to a subaccount",),
    "remove_user_from_org": ("take a user's access to a subaccount away",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
