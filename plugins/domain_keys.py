"""Domain keys: the DKIM keys that sign a domain's mail, its DKIM authority and selector, and the
automatic key rotation of Automatic Sender Security."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, Field, model_validator

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, DomainName, Limit, Params

MAX_PEM_CHARS = 16_384
MIN_ROTATION_HOURS = 5 * 24
_PEM = re.compile(r"-----BEGIN (RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\s]+-----END \1?PRIVATE KEY-----")
_INTERVAL = re.compile(r"^(\d{1,5})([dh])$")


def _private_key(value: str) -> str:
    # The error never quotes the value: it is a private key.
    if not _PEM.fullmatch(value.strip()):
        raise ValueError("must be an RSA private key in PEM form (-----BEGIN RSA PRIVATE KEY----- ...)")
    return value


def _interval(value: str) -> str:
    found = _INTERVAL.match(value)
    if not found:
        raise ValueError("must be a number of days or hours, e.g. '30d' or '120h'")
    if int(found.group(1)) * (24 if found.group(2) == "d" else 1) < MIN_ROTATION_HOURS:
        raise ValueError("must be at least 5 days (120h)")
    return value


Selector = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")]
#: The domain whose mail a key signs; Mailgun calls it ``signing_domain``, which is accepted too.
SigningDomain = Annotated[
    Domain, Field(serialization_alias="signing_domain", validation_alias=AliasChoices("domain", "signing_domain"))
]
PrivateKey = Annotated[str, Field(max_length=MAX_PEM_CHARS), AfterValidator(_private_key)]


class ListDkimKeys(Params):
    """List DKIM keys across the account's domains, with their DNS records; filter by domain or selector."""

    domain: Domain | None = Field(
        None, serialization_alias="signing_domain", validation_alias=AliasChoices("domain", "signing_domain")
    )
    selector: Selector | None = None
    limit: Annotated[Limit, Field(le=100)] = 100
    cursor: Cursor = None


class CreateDkimKey(Params):
    """Add an inactive DKIM key to a domain: generated, or imported from private_key. Once its TXT
    record is in DNS, activate_dkim_key."""

    domain: SigningDomain
    selector: Selector
    bits: Literal[1024, 2048] | None = Field(None, description="Key size of a generated key; default 2048")
    private_key: PrivateKey | None = Field(
        None,
        serialization_alias="pem",
        validation_alias=AliasChoices("private_key", "pem"),
        description="RSA private key (PEM) to import; Mailgun never returns it",
    )


class DeleteDkimKey(Params):
    """Delete a domain's DKIM key for good; a domain's last active key cannot be deleted."""

    domain: SigningDomain
    selector: Selector


class ListDomainDkimKeys(Params):
    """List the DKIM keys of one domain (active or not) with the TXT record each needs."""

    domain: Domain


class ActivateDkimKey(Params):
    """Sign a domain's mail with this DKIM key; its TXT record must be valid first."""

    domain: Domain
    selector: Selector


class DeactivateDkimKey(ActivateDkimKey):
    """Stop signing with this DKIM key; mail goes unsigned until another key is active and its DNS
    valid: ask the user first."""


class UpdateDkimAuthority(Params):
    """Sign with the domain's own DKIM keys or its parent domain's. Breaks signing until DNS follows:
    ask the user first."""

    domain: DomainName
    own_authority: bool = Field(
        serialization_alias="self",
        validation_alias=AliasChoices("own_authority", "self"),
        description="true: own keys; false: the parent domain's",
    )


class UpdateDkimSelector(Params):
    """Rename the selector of a domain's DKIM key. Breaks signing until DNS follows: ask the user first."""

    domain: DomainName
    selector: Selector = Field(
        serialization_alias="dkim_selector", validation_alias=AliasChoices("selector", "dkim_selector")
    )


class UpdateDkimRotation(Params):
    """Turn automatic DKIM key rotation on or off (Automatic Sender Security domains)."""

    domain: DomainName
    rotation_enabled: bool
    rotation_interval: Annotated[str, AfterValidator(_interval)] | None = Field(
        None, description="e.g. '30d' (the default), at least '5d'"
    )

    @model_validator(mode="after")
    def _interval_needs_rotation(self):
        if self.rotation_interval is not None and not self.rotation_enabled:
            raise ValueError("rotation_interval is only allowed with rotation_enabled true")
        return self


class RotateDkimKey(Params):
    """Switch an Automatic Sender Security domain to its other DKIM key now. Breaks signing until DNS
    follows: ask the user first."""

    domain: DomainName


# fmt: off
OPERATIONS = (
    Operation("list_dkim_keys", "GET", "/v1/dkim/keys", ListDkimKeys, Access.READ, paging=Paging.URLS, area="domains", compact=("signing_domain", "selector", "dns_record.name", "dns_record.is_active", "dns_record.valid")),
    Operation("create_dkim_key", "POST", "/v1/dkim/keys", CreateDkimKey, Access.WRITE, area="domains"),
    Operation("delete_dkim_key", "DELETE", "/v1/dkim/keys", DeleteDkimKey, Access.DELETE, area="domains"),
    Operation("list_domain_dkim_keys", "GET", "/v4/domains/{domain}/keys", ListDomainDkimKeys, Access.READ, area="domains", compact=("signing_domain", "selector", "dns_record.name", "dns_record.is_active", "dns_record.valid")),
    Operation("activate_dkim_key", "PUT", "/v4/domains/{domain}/keys/{selector}/activate", ActivateDkimKey, Access.WRITE, area="domains"),
    Operation("deactivate_dkim_key", "PUT", "/v4/domains/{domain}/keys/{selector}/deactivate", DeactivateDkimKey, Access.WRITE, area="domains"),
    Operation("update_dkim_authority", "PUT", "/v3/domains/{domain}/dkim_authority", UpdateDkimAuthority, Access.WRITE, area="domains"),
    Operation("update_dkim_selector", "PUT", "/v3/domains/{domain}/dkim_selector", UpdateDkimSelector, Access.WRITE, area="domains"),
    Operation("update_dkim_rotation", "PUT", "/v1/dkim_management/domains/{domain}/rotation", UpdateDkimRotation, Access.WRITE, area="domains"),
    Operation("rotate_dkim_key", "POST", "/v1/dkim_management/domains/{domain}/rotate", RotateDkimKey, Access.WRITE, area="domains"),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_dkim_keys": ("dkim keys of every domain",),
    "create_dkim_key": ("new dkim key", "import a private key for dkim", "generate domain key"),
    "delete_dkim_key": ("remove an old domain key",),
    "list_domain_dkim_keys": ("dkim keys and txt records of one domain",),
    "activate_dkim_key": ("start signing with a dkim key", "use the new domain key"),
    "deactivate_dkim_key": ("stop signing with a dkim key",),
    "update_dkim_authority": ("use the parent domain's dkim keys", "subdomain signs with its own keys"),
    "update_dkim_selector": ("rename the dkim selector",),
    "update_dkim_rotation": ("automatic dkim rotation on or off",),
    "rotate_dkim_key": ("switch to the other dkim key now",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
