"""IP allowlist: the addresses and networks allowed to use the account's API keys."""

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, Field

from mg_tools import Access, Operation, registering
from mg_tools.types import Params


def _ip_or_network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False) if "/" in value else ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IP address (203.0.113.7) or a CIDR network (203.0.113.0/24)") from None


#: Mailgun calls it ``address``; here that name means an email address, so ``ip``.
Ip = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        description="IP address or CIDR network",
        serialization_alias="address",
        validation_alias=AliasChoices("ip", "address"),
    ),
    AfterValidator(_ip_or_network),
]
Description = Annotated[str | None, Field(max_length=256)]


class ListIpAllowlist(Params):
    """List the IP addresses and networks allowed to use the account's API keys (empty: any IP)."""


class AddIpAllowlistEntry(Params):
    """Allow an IP address or network to use the account's API keys; once the list is not empty, requests
    from other IPs are refused."""

    ip: Ip
    description: Description = None


class UpdateIpAllowlistEntry(AddIpAllowlistEntry):
    """Change the description of an allowed IP address or network."""


class DeleteIpAllowlistEntry(Params):
    """Stop allowing an IP address or network to use the account's API keys."""

    ip: Ip


# fmt: off
OPERATIONS = (
    Operation("list_ip_allowlist", "GET", "/v2/ip_whitelist", ListIpAllowlist, Access.READ, items_key="addresses"),
    Operation("add_ip_allowlist_entry", "POST", "/v2/ip_whitelist", AddIpAllowlistEntry, Access.WRITE),
    Operation("update_ip_allowlist_entry", "PUT", "/v2/ip_whitelist", UpdateIpAllowlistEntry, Access.WRITE),
    Operation("delete_ip_allowlist_entry", "DELETE", "/v2/ip_whitelist", DeleteIpAllowlistEntry, Access.DELETE),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_ip_allowlist": ("ips allowed to call the api", "api ip whitelist"),
    "add_ip_allowlist_entry": ("only allow api calls from our network", "whitelist an ip for api access"),
    "update_ip_allowlist_entry": ("describe an allowed ip",),
    "delete_ip_allowlist_entry": ("drop an ip from api access",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
