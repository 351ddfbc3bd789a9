"""Domains: the sending domains of the account."""

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, Limit, Params, Skip

SpamAction = Literal["disabled", "block", "tag"]
WebScheme = Literal["http", "https"]
SmtpPassword = Field(None, min_length=5, max_length=32, description="SMTP password for postmaster@domain")
#: The domain a domain tool is about; Mailgun calls it ``name``, which is accepted too.
DomainName = Annotated[Domain, Field(serialization_alias="name", validation_alias=AliasChoices("domain", "name"))]


class ListDomains(Params):
    """List the account's domains with their state (active, unverified, disabled)."""

    limit: Limit = 100
    skip: Skip | None = None
    state: Literal["active", "unverified", "disabled"] | None = None
    sort: Literal["name:asc", "name:desc"] | None = None
    authority: Domain | None = Field(None, description="Only domains under this DKIM authority")
    search: str | None = Field(None, max_length=253, description="Substring of the domain name")
    include_subaccounts: bool | None = None
    cursor: Cursor = None


class _DomainSettings(Params):
    require_tls: bool | None = Field(None, description="Only deliver over TLS")
    skip_verification: bool | None = Field(None, description="Skip TLS certificate checks")
    spam_action: SpamAction | None = Field(None, description="What to do with inbound spam")
    smtp_password: str | None = SmtpPassword
    use_automatic_sender_security: bool | None = None
    web_scheme: WebScheme | None = Field(None, description="Scheme of tracking links")
    web_prefix: str | None = Field(None, max_length=63, description="Subdomain of tracking links")
    wildcard: bool | None = Field(None, description="Accept mail for subdomains")
    archive_to: str | None = Field(None, max_length=2048, description="URL receiving copies of sent mail")
    message_ttl: int | None = Field(None, ge=1, le=604800, description="Seconds to keep retrying delivery")


class CreateDomain(_DomainSettings):
    """Add a sending domain; returns the DNS records to publish before verify_domain."""

    domain: DomainName
    dkim_key_size: Literal["1024", "2048"] | None = None
    dkim_selector: str | None = Field(None, max_length=63)
    dkim_host_name: str | None = Field(None, max_length=253)
    encrypt_incoming_message: bool | None = None
    force_dkim_authority: bool | None = None
    force_root_dkim_host: bool | None = None
    pool_id: str | None = Field(None, description="IP pool to send from")
    ips: str | None = Field(None, description="Comma-separated dedicated IPs")


class GetDomain(Params):
    """Show a domain's settings, state and the DNS records it needs."""

    domain: DomainName


class UpdateDomain(_DomainSettings):
    """Change a domain's settings (TLS, spam action, tracking links, SMTP password...)."""

    domain: DomainName
    mailfrom_host: str | None = Field(None, max_length=253, description="Custom MAIL FROM host")


class VerifyDomain(GetDomain):
    """Re-check a domain's DNS records now; activates the domain when they are right."""


class DeleteDomain(GetDomain):
    """Delete a domain and everything stored under it. Irreversible."""


# fmt: off
OPERATIONS = (
    Operation("list_domains", "GET", "/v4/domains", ListDomains, Access.READ, paging=Paging.SKIP),
    Operation("create_domain", "POST", "/v4/domains", CreateDomain, Access.WRITE),
    Operation("get_domain", "GET", "/v4/domains/{domain}", GetDomain, Access.READ),
    Operation("update_domain", "PUT", "/v4/domains/{domain}", UpdateDomain, Access.WRITE),
    Operation("verify_domain", "PUT", "/v4/domains/{domain}/verify", VerifyDomain, Access.WRITE),
    Operation("delete_domain", "DELETE", "/v3/domains/{domain}", DeleteDomain, Access.DELETE),
)
# fmt: on


register_operations = registering(OPERATIONS)
