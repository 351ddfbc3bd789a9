"""Credentials: the SMTP logins of a domain."""

from typing import Annotated

from pydantic import AliasChoices, Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, Limit, Params, Skip

#: An SMTP login: an address at the domain, or its local part. Mailgun's path calls it ``spec``.
Login = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        pattern=r"^[^@\s/]+(@[^@\s/]+)?$",
        description="user@domain, or just user",
        validation_alias=AliasChoices("login", "spec"),
    ),
]
Password = Annotated[
    str | None, Field(min_length=5, max_length=32, description="5-32 characters; omit to get a generated one")
]
#: Results holding a generated password: ``credentials`` maps each login to it.
GENERATED = ("credentials",)


class ListCredentials(Params):
    """List a domain's SMTP logins (never their passwords)."""

    domain: Domain
    limit: Limit = 100
    skip: Skip | None = None
    cursor: Cursor = None


class CreateCredentials(Params):
    """Create an SMTP login on a domain, for sending through smtp.mailgun.org."""

    domain: Domain
    login: Login
    password: Password = None


class UpdateCredentials(CreateCredentials):
    """Reset the password of a domain's SMTP login: the one given, or a generated one when omitted."""


class UpdateMailbox(UpdateCredentials):
    """Set a new password for an SMTP login, through Mailgun's older mailboxes path; prefer update_credentials."""


class DeleteCredentials(Params):
    """Delete one SMTP login of a domain; mail sent with it is refused from now on."""

    domain: Domain
    login: Login


class ClearCredentials(Params):
    """Delete every SMTP login of a domain except the system postmaster one. Irreversible."""

    domain: Domain


# fmt: off
OPERATIONS = (
    Operation("list_credentials", "GET", "/v3/domains/{domain}/credentials", ListCredentials, Access.READ, paging=Paging.SKIP),
    Operation("create_credentials", "POST", "/v3/domains/{domain}/credentials", CreateCredentials, Access.WRITE, secret_fields=GENERATED),
    Operation("update_credentials", "PUT", "/v3/domains/{domain}/credentials/{login}", UpdateCredentials, Access.WRITE, secret_fields=GENERATED),
    Operation("update_mailbox", "PUT", "/v3/{domain}/mailboxes/{login}", UpdateMailbox, Access.WRITE, secret_fields=GENERATED),
    Operation("delete_credentials", "DELETE", "/v3/domains/{domain}/credentials/{login}", DeleteCredentials, Access.DELETE),
    Operation("clear_credentials", "DELETE", "/v3/domains/{domain}/credentials", ClearCredentials, Access.DELETE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_credentials": ("smtp users", "smtp logins of a domain"),
    "create_credentials": ("new smtp user", "send over smtp from our app", "smtp username and password"),
    "update_credentials": ("change the smtp password", "forgot the smtp password", "new smtp password"),
    "update_mailbox": ("legacy mailbox password",),
    "delete_credentials": ("revoke smtp access", "remove an smtp user"),
    "clear_credentials": ("delete every smtp login", "remove all smtp users"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
