"""Mailing lists: lists of the account and their members."""

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, model_validator

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import (
    Address,
    Attachment,
    Cursor,
    Files,
    JsonText,
    Limit,
    Local,
    Params,
    Skip,
    YesNo,
    csv_or_file,
)

MAX_BULK = 1000
MAX_CSV_BYTES = 5 * 1024 * 1024

AccessLevel = Literal["readonly", "members", "everyone"]
ReplyPreference = Literal["list", "sender"]
NewAddress = Annotated[str, Field(min_length=3, max_length=512, description="Address; 'Name <addr>' allowed")]
ListAddress = Address
#: A member's address in a path; Mailgun's name for it, member_address, is accepted too.
MemberAddress = Annotated[Address, Field(validation_alias=AliasChoices("address", "member_address"))]
MemberLimit = Annotated[Limit, Field(le=100)]
Vars = Annotated[dict[str, Any] | None, JsonText, Field(description="Custom data, used as %recipient.key%")]
Upsert = Annotated[YesNo | None, Field(description="Update members already there")]


class _ListSettings(Params):
    name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=1024)
    access_level: AccessLevel | None = Field(None, description="Who may post: readonly (API only), members, everyone")
    reply_preference: ReplyPreference | None = Field(None, description="Where replies go")


class CreateMailingList(_ListSettings):
    """Create a mailing list: mail sent to its address goes to every subscribed member."""

    list_address: NewAddress = Field(
        serialization_alias="address", validation_alias=AliasChoices("list_address", "address")
    )


class ListMailingLists(Params):
    """List the account's mailing lists with member counts."""

    limit: Limit = 100
    skip: Skip | None = None
    list_address: Address | None = Field(
        None,
        serialization_alias="address",
        validation_alias=AliasChoices("list_address", "address"),
        description="Only the list with this address",
    )
    cursor: Cursor = None


class PageMailingLists(Params):
    """Page through the account's mailing lists in address order."""

    limit: Limit = 100
    cursor: Cursor = None


class GetMailingList(Params):
    """Show a mailing list's settings and member count."""

    list_address: ListAddress


class UpdateMailingList(_ListSettings):
    """Change a mailing list's address, name, description, access level or reply preference."""

    list_address: ListAddress
    new_list_address: NewAddress | None = Field(
        None,
        serialization_alias="address",
        validation_alias=AliasChoices("new_list_address", "address"),
        description="New address (renames the list)",
    )


class DeleteMailingList(GetMailingList):
    """Delete a mailing list and all its members. Irreversible."""


class ListListMembers(Params):
    """List the members of a mailing list (address, name, vars, subscribed)."""

    list_address: ListAddress
    subscribed: YesNo | None = Field(None, description="Only subscribed (true) or unsubscribed (false)")
    address: Address | None = Field(None, description="Only this member")
    limit: MemberLimit = 100
    skip: Skip | None = None
    cursor: Cursor = None


class PageListMembers(Params):
    """Page through the members of a mailing list in address order."""

    list_address: ListAddress
    subscribed: YesNo | None = Field(None, description="Only subscribed (true) or unsubscribed (false)")
    limit: MemberLimit = 100
    cursor: Cursor = None


class AddListMember(Params):
    """Add one member to a mailing list."""

    list_address: ListAddress
    address: NewAddress
    name: str | None = Field(None, max_length=255)
    vars: Vars = None
    subscribed: YesNo | None = None
    upsert: Upsert = None


class Member(Params):
    address: NewAddress
    name: str | None = Field(None, max_length=255)
    vars: dict[str, Any] | None = None
    subscribed: bool | None = None


class AddListMembers(Params):
    """Add up to 1000 members to a mailing list in one call."""

    list_address: ListAddress
    members: Annotated[list[NewAddress | Member], JsonText] = Field(
        min_length=1, max_length=MAX_BULK, description="Addresses or member objects"
    )
    upsert: Upsert = None


class ImportListMembers(Params):
    """Add members to a mailing list from CSV with an address column (name and vars optional)."""

    list_address: ListAddress
    csv: Annotated[str | None, Local] = Field(None, description="The CSV as text, header row first")
    file: Annotated[Attachment | None, Files] = Field(
        None, serialization_alias="members", description="The CSV as a file"
    )
    subscribed: YesNo | None = Field(None, description="Subscription state of every imported member")
    upsert: Upsert = None

    @model_validator(mode="after")
    def _source(self):
        self.file = csv_or_file(self.csv, self.file, filename="members.csv", max_bytes=MAX_CSV_BYTES)
        return self


class GetListMember(Params):
    """Show one member of a mailing list."""

    list_address: ListAddress
    address: MemberAddress


class UpdateListMember(GetListMember):
    """Change a list member's address, name, vars or subscription (subscribed=false unsubscribes)."""

    new_address: NewAddress | None = Field(None, serialization_alias="address", description="New address of the member")
    name: str | None = Field(None, max_length=255)
    vars: Vars = None
    subscribed: YesNo | None = None


class DeleteListMember(GetListMember):
    """Remove a member from a mailing list."""


# fmt: off
OPERATIONS = (
    Operation("create_mailing_list", "POST", "/v3/lists", CreateMailingList, Access.WRITE),
    Operation("list_mailing_lists", "GET", "/v3/lists", ListMailingLists, Access.READ, paging=Paging.SKIP, compact=("address", "name", "access_level", "members_count", "created_at")),
    Operation("page_mailing_lists", "GET", "/v3/lists/pages", PageMailingLists, Access.READ, paging=Paging.URLS, compact=("address", "name", "access_level", "members_count", "created_at")),
    Operation("get_mailing_list", "GET", "/v3/lists/{list_address}", GetMailingList, Access.READ),
    Operation("update_mailing_list", "PUT", "/v3/lists/{list_address}", UpdateMailingList, Access.WRITE),
    Operation("delete_mailing_list", "DELETE", "/v3/lists/{list_address}", DeleteMailingList, Access.DELETE),
    # Member names and vars often come from public sign-up forms: untrusted text.
    Operation("list_list_members", "GET", "/v3/lists/{list_address}/members", ListListMembers, Access.READ, paging=Paging.SKIP, untrusted=True, compact=("address", "name", "subscribed")),
    Operation("page_list_members", "GET", "/v3/lists/{list_address}/members/pages", PageListMembers, Access.READ, paging=Paging.URLS, untrusted=True, compact=("address", "name", "subscribed")),
    Operation("add_list_member", "POST", "/v3/lists/{list_address}/members", AddListMember, Access.WRITE),
    Operation("add_list_members", "POST", "/v3/lists/{list_address}/members.json", AddListMembers, Access.WRITE),
    Operation("import_list_members", "POST", "/v3/lists/{list_address}/members.csv", ImportListMembers, Access.WRITE),
    Operation("get_list_member", "GET", "/v3/lists/{list_address}/members/{address}", GetListMember, Access.READ, untrusted=True),
    Operation("update_list_member", "PUT", "/v3/lists/{list_address}/members/{address}", UpdateListMember, Access.WRITE),
    Operation("delete_list_member", "DELETE", "/v3/lists/{list_address}/members/{address}", DeleteListMember, Access.DELETE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "create_mailing_list": ("new mailing list", "distribution list", "newsletter list"),
    "list_mailing_lists": ("all mailing lists", "our newsletters"),
    "page_mailing_lists": ("paginate mailing lists",),
    "get_mailing_list": ("list settings", "how many subscribers"),
    "update_mailing_list": ("who can post to the list", "only members can post", "readonly list", "access level"),
    "delete_mailing_list": ("remove a mailing list",),
    "list_list_members": ("who is on the list", "subscribers of a newsletter", "export contacts"),
    "page_list_members": ("next page of subscribers",),
    "add_list_member": ("subscribe someone to a list", "add a subscriber to the newsletter"),
    "add_list_members": ("add many people to a list", "bulk add subscribers", "upsert members"),
    "import_list_members": ("upload subscribers from csv", "import contacts"),
    "get_list_member": ("is someone on a list", "subscriber details"),
    "update_list_member": ("unsubscribe from a list but keep the member", "change a subscriber"),
    "delete_list_member": ("remove someone from a list", "take a subscriber off the newsletter"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
