"""Account: the account's settings, webhook signing key, sandbox recipients and monthly sending limit."""

from typing import Annotated

from pydantic import AliasChoices, Field

from mg_tools import Access, Operation, registering
from mg_tools.types import Address, MonthlyLimit, Params, Query

#: The sandbox recipient a tool is about; Mailgun calls it ``email``, which is accepted too.
RecipientAddress = Annotated[
    Address, Field(serialization_alias="email", validation_alias=AliasChoices("address", "email"))
]


class UpdateAccount(Params):
    """Change the account's name, session timeouts or logout redirect URL."""

    name: Annotated[str | None, Query] = Field(None, min_length=1, max_length=256)
    inactive_session_timeout: Annotated[int | None, Query] = Field(None, ge=1, description="Seconds")
    absolute_session_timeout: Annotated[int | None, Query] = Field(None, ge=1, description="Seconds")
    logout_redirect_url: Annotated[str | None, Query] = Field(None, pattern=r"^https?://\S+$", max_length=2048)


class GetWebhookSigningKey(Params):
    """Show the key that signs the account's webhook payloads, to verify their signatures."""


class RegenerateWebhookSigningKey(Params):
    """Replace the webhook signing key; receivers must verify with the new key from now on."""


class ListSandboxRecipients(Params):
    """List the addresses sandbox domains may send to, and whether each confirmed."""


class AddSandboxRecipient(Params):
    """Invite an address to receive mail from the account's sandbox domains (it must confirm)."""

    address: Annotated[RecipientAddress, Query]


class DeleteSandboxRecipient(Params):
    """Stop sandbox domains from sending to an address."""

    address: RecipientAddress


class ResendActivationEmail(Params):
    """Send the account owner the account activation email again."""


class GetSendingLimit(Params):
    """Show the account's custom monthly sending limit and how much of it this month used."""


class SetSendingLimit(Params):
    """Cap how many messages the account may send per calendar month."""

    monthly_limit: MonthlyLimit


class DeleteSendingLimit(Params):
    """Remove the account's custom monthly sending limit."""


class ReenableAccountSending(Params):
    """Let an account stopped by its monthly sending limit send again for the rest of the month."""


# fmt: off
OPERATIONS = (
    Operation("update_account", "PUT", "/v5/accounts", UpdateAccount, Access.WRITE),
    Operation("get_webhook_signing_key", "GET", "/v5/accounts/http_signing_key", GetWebhookSigningKey, Access.READ, secret_fields=("http_signing_key",)),
    Operation("regenerate_webhook_signing_key", "POST", "/v5/accounts/http_signing_key", RegenerateWebhookSigningKey, Access.WRITE, secret_fields=("http_signing_key",)),
    Operation("list_sandbox_recipients", "GET", "/v5/sandbox/auth_recipients", ListSandboxRecipients, Access.READ),
    Operation("add_sandbox_recipient", "POST", "/v5/sandbox/auth_recipients", AddSandboxRecipient, Access.WRITE),
    Operation("delete_sandbox_recipient", "DELETE", "/v5/sandbox/auth_recipients/{address}", DeleteSandboxRecipient, Access.DELETE),
    Operation("resend_activation_email", "POST", "/v5/accounts/resend_activation_email", ResendActivationEmail, Access.WRITE),
    Operation("get_sending_limit", "GET", "/v5/accounts/limit/custom/monthly", GetSendingLimit, Access.READ),
    Operation("set_sending_limit", "PUT", "/v5/accounts/limit/custom/monthly", SetSendingLimit, Access.WRITE),
    Operation("delete_sending_limit", "DELETE", "/v5/accounts/limit/custom/monthly", DeleteSendingLimit, Access.DELETE),
    Operation("reenable_account_sending", "PUT", "/v5/accounts/limit/custom/enable", ReenableAccountSending, Access.WRITE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "update_account": ("account name", "session timeout"),
    "get_webhook_signing_key": ("verify webhook signatures", "http signing key"),
    "regenerate_webhook_signing_key": ("rotate the webhook signing key", "new signing key"),
    "list_sandbox_recipients": ("authorized recipients of the sandbox domain",),
    "add_sandbox_recipient": ("authorize a recipient for the sandbox", "let the sandbox email my address"),
    "delete_sandbox_recipient": ("remove an authorized sandbox recipient",),
    "resend_activation_email": ("activation email never arrived", "resend account activation"),
    "get_sending_limit": ("monthly sending quota", "how much of our cap is used"),
    "set_sending_limit": ("cap monthly sending", "monthly quota of messages"),
    "delete_sending_limit": ("remove the monthly cap", "no monthly quota"),
    "reenable_account_sending": ("sending stopped after hitting the limit", "turn sending back on"),
}

register_operations = registering(OPERATIONS, asks=ASKS)
