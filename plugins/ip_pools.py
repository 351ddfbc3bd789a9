"""IP pools: dedicated IP pools (DIPPs) that domains send from, and dynamic IP pools that move each
enrolled domain between IP sets by its reputation."""

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, model_validator

from mg_tools import Access, Operation, Paging, registering
from mg_tools.types import Cursor, Domain, IpAddress, IpOr, Params, Query, Rfc2822

PoolId = Annotated[str, Field(min_length=1, max_length=64)]
DynamicPool = Literal["dynamic_good", "dynamic_poor", "dynamic_new"]
IpList = Annotated[list[IpAddress], Field(min_length=1, max_length=100)]
DomainRefs = Annotated[list[Annotated[str, Field(min_length=1, max_length=253)]], Field(min_length=1, max_length=100)]
DynamicLimit = Annotated[int, Field(ge=1, le=100)]


#: A dedicated IP, or 'shared' for one of Mailgun's shared IPs.
IpOrShared = IpOr("shared")


def _wire(name: str, mailgun: str, **kwargs) -> dict:
    """A field's Mailgun name: sent as it, accepted as input too."""
    return {"serialization_alias": mailgun, "validation_alias": AliasChoices(name, mailgun), **kwargs}


class _Pool(Params):
    pool_id: PoolId


class _Replacement(Params):
    """Where the traffic goes: a replacement IP or a replacement pool, not both."""

    replacement_ip: IpOrShared | None = Field(None, serialization_alias="ip", description="A dedicated IP or 'shared'")
    replacement_pool_id: PoolId | None = Field(None, serialization_alias="pool_id")

    @model_validator(mode="after")
    def _one_replacement(self):
        if self.replacement_ip is not None and self.replacement_pool_id is not None:
            raise ValueError("give replacement_ip or replacement_pool_id, not both")
        return self


# -- dedicated IP pools ----------------------------------------------------------------------------


class ListIpPools(Params):
    """List the dedicated IP pools with their IPs and whether domains use them."""


class CreateIpPool(Params):
    """Create a dedicated IP pool from dedicated IPs that are in no other pool."""

    name: str = Field(min_length=1, max_length=128)
    description: str = Field(min_length=1, max_length=1024)
    ips: IpList | None = Field(None, **_wire("ips", "ip"))


class GetIpPool(_Pool):
    """Show a dedicated IP pool: its IPs and linked domains."""


class DeleteIpPool(_Replacement, _Pool):
    """Delete a dedicated IP pool. Moves live sending traffic: a pool with IPs needs replacement_ip or
    replacement_pool_id, where its domains then send from."""


class UpdateIpPool(_Pool):
    """Rename a dedicated IP pool, add or remove IPs, link or unlink domains. Moves live sending traffic."""

    name: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = Field(None, min_length=1, max_length=1024)
    add_ips: IpList | None = Field(None, **_wire("add_ips", "add_ip"))
    remove_ips: IpList | None = Field(None, **_wire("remove_ips", "remove_ip"))
    link_domains: DomainRefs | None = Field(None, description="Domain ids", **_wire("link_domains", "link_domain"))
    unlink_domains: DomainRefs | None = Field(
        None, description="Domain ids", **_wire("unlink_domains", "unlink_domain")
    )

    @model_validator(mode="after")
    def _some_change(self):
        if all(getattr(self, f) is None for f in type(self).model_fields if f != "pool_id"):
            raise ValueError("nothing to change: give name, description, add_ips, remove_ips or (un)link_domains")
        return self


class ListIpPoolDomains(_Pool):
    """List the domains linked to a dedicated IP pool."""

    limit: Annotated[int, Field(ge=10, le=500)] = 100
    cursor: Cursor = None


class AddIpToPool(_Pool):
    """Add a dedicated IP to a pool; its linked domains start sending from it. Moves live sending traffic."""

    ip: IpAddress


class RemoveIpFromPool(AddIpToPool):
    """Remove an IP from a dedicated IP pool. Moves live sending traffic."""


class AddIpsToPool(_Pool):
    """Add several dedicated IPs to a pool at once (all or none). Moves live sending traffic."""

    ips: IpList


class UnlinkDomainIpPool(_Replacement):
    """Unlink a domain from its dedicated IP pool onto replacement_ip or replacement_pool_id (one is
    required). Moves live sending traffic."""

    domain: Domain
    # The endpoint is /pool/{ip} with the word "ip_pool" in place of an IP.
    ip: Literal["ip_pool"] = "ip_pool"

    @model_validator(mode="after")
    def _needs_replacement(self):
        if self.replacement_ip is None and self.replacement_pool_id is None:
            raise ValueError("give replacement_ip or replacement_pool_id: the domain's mail must go somewhere")
        return self


# -- dynamic IP pools ------------------------------------------------------------------------------


class _DynamicDomain(Params):
    domain: Domain


class EnrollDomainDynamicPools(_DynamicDomain):
    """Enroll a domain in dynamic IP pools: its IPs then follow its reputation (drops its dedicated pool).
    Moves live sending traffic."""


class UnenrollDomainDynamicPools(_DynamicDomain):
    """Take a domain out of dynamic IP pools onto replacement_ips or replacement_pool_id (exactly one).
    Moves live sending traffic."""

    replacement_ips: Annotated[list[IpOrShared], Field(min_length=1, max_length=100)] | None = Field(
        None, description="Dedicated IPs, or ['shared']", **_wire("replacement_ips", "replacement_ip")
    )
    replacement_pool_id: PoolId | None = None

    @model_validator(mode="after")
    def _one_replacement(self):
        if (self.replacement_ips is None) == (self.replacement_pool_id is None):
            raise ValueError("give exactly one of replacement_ips or replacement_pool_id")
        if self.replacement_ips and "shared" in self.replacement_ips and len(self.replacement_ips) > 1:
            raise ValueError("replacement_ips: 'shared' cannot be combined with other IPs")
        return self


class ListAssignableDomains(Params):
    """List the domains not yet enrolled in dynamic IP pools."""

    pattern: str | None = Field(
        None, min_length=1, max_length=253, description="Regex on the domain name", **_wire("pattern", "domain")
    )
    subaccount_id: str | None = Field(None, min_length=1, max_length=64)


class EnrollAllDomainsDynamicPools(Params):
    """Enroll every domain of the account in dynamic IP pools. Moves live sending traffic."""

    include_subaccounts: Annotated[bool | None, Query] = None


class ListDynamicPools(Params):
    """List the dynamic IP pools (good, poor, new senders) and their IPs."""


class SetDynamicPools(Params):
    """Set the IPs of all three dynamic IP pools, replacing what they had. Moves live sending traffic."""

    good_reputation: IpList
    poor_reputation: IpList
    new_senders: IpList

    @model_validator(mode="after")
    def _disjoint(self):
        ips = self.good_reputation + self.poor_reputation + self.new_senders
        if len(ips) != len(set(ips)):
            raise ValueError("an IP can be in one dynamic pool only")
        return self


class DeleteDynamicPools(Params):
    """Remove the dynamic IP pools; unenroll every domain first."""


class AddIpToDynamicPool(Params):
    """Add a dedicated IP to a dynamic IP pool. Moves live sending traffic."""

    pool_name: DynamicPool
    ip: IpAddress


class UpdateDynamicPool(Params):
    """Add and remove IPs of one dynamic IP pool (it keeps one not warming up). Moves live sending traffic."""

    pool_name: DynamicPool
    add_ips: IpList | None = Field(None, **_wire("add_ips", "add_ip"))
    remove_ips: IpList | None = Field(None, **_wire("remove_ips", "remove_ip"))

    @model_validator(mode="after")
    def _some_change(self):
        if self.add_ips is None and self.remove_ips is None:
            raise ValueError("give add_ips or remove_ips")
        return self


class ListDynamicPoolDomains(Params):
    """List the domains in dynamic IP pools with their pool, bounce and complaint rates."""

    pool_names: list[DynamicPool] | None = Field(None, max_length=3, **_wire("pool_names", "pool"))
    accounts: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=100, description="Account ids", **_wire("accounts", "account")
    )
    sort_by: Literal["name", "bounce_rate", "complaint_rate"] | None = None
    sort_order: Literal["ascending", "descending"] | None = None
    limit: DynamicLimit = 100
    cursor: Cursor = None


class PreviewDynamicPoolDomain(_DynamicDomain):
    """Which dynamic IP pool a health check would put a domain in now, and why (changes nothing)."""


class ListDynamicPoolDomainHistory(_DynamicDomain):
    """List a domain's moves between dynamic IP pools, newest first."""

    limit: DynamicLimit = Field(100, **_wire("limit", "Limit"))
    cursor: Cursor = None


class OverrideDynamicPool(_DynamicDomain):
    """Pin an enrolled domain to a dynamic IP pool; health checks leave it there. Moves live sending traffic."""

    pool_name: DynamicPool = Field(**_wire("pool_name", "pool"))


class RemoveDynamicPoolOverride(_DynamicDomain):
    """Drop a domain's dynamic pool override; the health check places it again. Moves live sending traffic."""


class ListDynamicPoolHistory(Params):
    """List moves of domains between dynamic IP pools, newest first."""

    domain: Domain | None = None
    moved_to: DynamicPool | None = None
    moved_from: DynamicPool | None = None
    before: Rfc2822 | None = None
    after: Rfc2822 | None = None
    include_subaccounts: bool | None = None
    limit: DynamicLimit = Field(100, **_wire("limit", "Limit"))
    cursor: Cursor = None


# fmt: off
OPERATIONS = (
    Operation("list_ip_pools", "GET", "/v3/ip_pools", ListIpPools, Access.READ, items_key="ip_pools"),
    Operation("create_ip_pool", "POST", "/v3/ip_pools", CreateIpPool, Access.WRITE),
    Operation("get_ip_pool", "GET", "/v3/ip_pools/{pool_id}", GetIpPool, Access.READ),
    Operation("delete_ip_pool", "DELETE", "/v3/ip_pools/{pool_id}", DeleteIpPool, Access.DELETE),
    Operation("update_ip_pool", "PATCH", "/v3/ip_pools/{pool_id}", UpdateIpPool, Access.WRITE),
    Operation("list_ip_pool_domains", "GET", "/v3/ip_pools/{pool_id}/domains", ListIpPoolDomains, Access.READ, paging=Paging.URLS, items_key="domains"),
    Operation("add_ip_to_pool", "PUT", "/v3/ip_pools/{pool_id}/ips/{ip}", AddIpToPool, Access.WRITE),
    Operation("remove_ip_from_pool", "DELETE", "/v3/ip_pools/{pool_id}/ips/{ip}", RemoveIpFromPool, Access.DELETE),
    Operation("add_ips_to_pool", "POST", "/v3/ip_pools/{pool_id}/ips.json", AddIpsToPool, Access.WRITE, encoding="json"),
    Operation("unlink_domain_ip_pool", "DELETE", "/v3/domains/{domain}/pool/{ip}", UnlinkDomainIpPool, Access.DELETE),
    Operation("enroll_domain_dynamic_pools", "POST", "/v3/domains/{domain}/dynamic_pools", EnrollDomainDynamicPools, Access.WRITE),
    Operation("unenroll_domain_dynamic_pools", "DELETE", "/v3/domains/{domain}/dynamic_pools", UnenrollDomainDynamicPools, Access.DELETE),
    Operation("list_assignable_domains", "GET", "/v3/domains/dynamic_pools/assignable", ListAssignableDomains, Access.READ),
    Operation("enroll_all_domains_dynamic_pools", "POST", "/v3/domains/all/dynamic_pools/enroll", EnrollAllDomainsDynamicPools, Access.WRITE),
    Operation("list_dynamic_pools", "GET", "/v3/dynamic_pools", ListDynamicPools, Access.READ, items_key="pools"),
    Operation("set_dynamic_pools", "POST", "/v3/dynamic_pools/all", SetDynamicPools, Access.WRITE),
    Operation("delete_dynamic_pools", "DELETE", "/v3/dynamic_pools/all", DeleteDynamicPools, Access.DELETE),
    Operation("add_ip_to_dynamic_pool", "POST", "/v3/dynamic_pools/{pool_name}/{ip}", AddIpToDynamicPool, Access.WRITE),
    Operation("update_dynamic_pool", "PATCH", "/v3/dynamic_pools/{pool_name}", UpdateDynamicPool, Access.WRITE),
    Operation("list_dynamic_pool_domains", "GET", "/v1/dynamic_pools/domains", ListDynamicPoolDomains, Access.READ, paging=Paging.URLS),
    Operation("preview_dynamic_pool_domain", "GET", "/v1/dynamic_pools/domains/{domain}/preview", PreviewDynamicPoolDomain, Access.READ),
    Operation("list_dynamic_pool_domain_history", "GET", "/v1/dynamic_pools/domains/{domain}/history", ListDynamicPoolDomainHistory, Access.READ, paging=Paging.URLS),
    Operation("override_dynamic_pool", "PUT", "/v1/dynamic_pools/domains/{domain}/override", OverrideDynamicPool, Access.WRITE),
    Operation("remove_dynamic_pool_override", "DELETE", "/v1/dynamic_pools/domains/{domain}/override", RemoveDynamicPoolOverride, Access.DELETE),
    Operation("list_dynamic_pool_history", "GET", "/v1/dynamic_pools/history", ListDynamicPoolHistory, Access.READ, paging=Paging.URLS),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "list_ip_pools": ("our ip pools",),
    "create_ip_pool": ("new ip pool",),
    "get_ip_pool": ("ip pool details",),
    "delete_ip_pool": ("remove an ip pool",),
    "update_ip_pool": ("rename an ip pool", "link a domain to a pool"),
    "list_ip_pool_domains": ("domains that use a pool",),
    "add_ip_to_pool": ("put an ip into a pool",),
    "remove_ip_from_pool": ("take an ip out of a pool",),
    "add_ips_to_pool": ("several ips into a pool at once",),
    "unlink_domain_ip_pool": ("detach a domain from its pool",),
    "enroll_domain_dynamic_pools": ("ips follow the domain's reputation", "join dynamic pools"),
    "unenroll_domain_dynamic_pools": ("take a domain out of dynamic pools",),
    "list_assignable_domains": ("domains not yet in dynamic pools",),
    "enroll_all_domains_dynamic_pools": ("every domain into dynamic pools",),
    "list_dynamic_pools": ("good poor new senders pools",),
    "set_dynamic_pools": ("replace the ips of the dynamic pools",),
    "delete_dynamic_pools": ("remove dynamic pools",),
    "add_ip_to_dynamic_pool": ("put an ip into a dynamic pool",),
    "update_dynamic_pool": ("change the ips of a dynamic pool",),
    "list_dynamic_pool_domains": ("domains in dynamic pools",),
    "preview_dynamic_pool_domain": ("which pool would a domain land in",),
    "list_dynamic_pool_domain_history": ("when was the domain moved between pools",),
    "override_dynamic_pool": ("force a domain into a dynamic pool", "pin to a pool"),
    "remove_dynamic_pool_override": ("unpin a domain",),
    "list_dynamic_pool_history": ("recent dynamic pool moves",),
}

register_operations = registering(OPERATIONS, asks=ASKS)
