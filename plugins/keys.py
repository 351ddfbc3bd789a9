"""Keys: the account's API keys, and its public validation key."""

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, model_validator

from mg_tools import Access, Operation, registering
from mg_tools.types import Domain, Params

KeyKind = Literal["user", "domain", "web"]
#: The domain of a key of kind ``domain``; Mailgun calls it ``domain_name``, which is accepted too.
KeyDomain = Annotated[
    Domain | None,
    Field(serialization_alias="domain_name", validation_alias=AliasChoices("domain", "domain_name")),
]


class ListKeys(Params):
    """List the account's API keys (id, kind, role, domain, expiry; never their secrets)."""

    kind: KeyKind | None = None
    domain: KeyDomain = None


class CreateKey(Params):
    """Create an API key; its secret is in this answer only. role 'sending' with kind 'domain' makes a
    key that can only send mail for that domain; 'basic' is read-only."""

    role: Literal["admin", "developer", "basic", "sending"]
    kind: KeyKind | None = Field(None, description="Default user; web keys expire within a day")
    domain: KeyDomain = None
    description: str | None = Field(None, max_length=512)
    expiration: int | None = Field(None, ge=1, description="Lifetime in seconds")
    user_id: str | None = Field(None, min_length=1, max_length=128)
    user_name: str | None = Field(None, max_length=256)
    user_email: str | None = Field(
        None,
        min_length=3,
        max_length=512,
        pattern=r"^[^@\s]+@[^@\s]+$",
        serialization_alias="email",
        validation_alias=AliasChoices("user_email", "email"),
    )

    @model_validator(mode="after")
    def _kind_needs(self):
        if self.kind == "domain" and not self.domain:
            raise ValueError("a key of kind 'domain' needs the domain it sends for")
        if self.role == "sending" and self.kind != "domain":
            raise ValueError("role 'sending' is only for keys of kind 'domain' (set kind and domain)")
        if self.kind == "web" and not (self.user_id and self.user_email):
            raise ValueError("a key of kind 'web' needs user_id and user_email")
        return self


class DeleteKey(Params):
    """Revoke an API key at once: requests made with it fail from now on. Irreversible."""

    key_id: str = Field(min_length=1, max_length=128)


class RegeneratePublicKey(Params):
    """Replace the account's public validation key (the one web pages embed); the old one stops working."""


# fmt: off
OPERATIONS = (
    Operation("list_keys", "GET", "/v1/keys", ListKeys, Access.READ),
    Operation("create_key", "POST", "/v1/keys", CreateKey, Access.WRITE, secret_fields=("secret",)),
    Operation("delete_key", "DELETE", "/v1/keys/{key_id}", DeleteKey, Access.DELETE),
    Operation("regenerate_public_key", "POST", "/v1/keys/public", RegeneratePublicKey, Access.WRITE, secret_fields=("key",)),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_keys": ("our api keys",),
    "create_key": ("new api key", "api token", "sending key for one domain"),
    "delete_key": ("revoke an api key", "leaked api key"),
    "regenerate_public_key": ("new public validation key",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
