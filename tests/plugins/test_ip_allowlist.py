import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest

PRODUCTION = "https://api.mailgun.net"
GRANTS = ("ip_allowlist",)


@pytest.mark.vcr
def test_list_ip_allowlist(mg):
    assert mg.call("list_ip_allowlist") == {"addresses": []}
    mg.call("add_ip_allowlist_entry", ip="203.0.113.7", description="office")
    assert mg.call("list_ip_allowlist") == {"addresses": [{"ip_address": "203.0.113.7", "description": "office"}]}


@pytest.mark.vcr
def test_add_ip_allowlist_entry(mg):
    out = mg.call("add_ip_allowlist_entry", ip="198.51.100.9/24")
    assert out == {"addresses": [{"ip_address": "198.51.100.0/24", "description": ""}]}
    with pytest.raises(BadRequest, match="IP already exists"):
        mg.call("add_ip_allowlist_entry", ip="198.51.100.0/24")


@pytest.mark.vcr
def test_update_ip_allowlist_entry(mg):
    mg.call("add_ip_allowlist_entry", ip="2001:db8::1", description="old")
    out = mg.call("update_ip_allowlist_entry", ip="2001:db8::1", description="vpn")
    assert out == {"addresses": [{"ip_address": "2001:db8::1", "description": "vpn"}]}
    with pytest.raises(BadRequest, match="IP not found"):
        mg.call("update_ip_allowlist_entry", ip="192.0.2.200", description="x")


@pytest.mark.vcr
def test_delete_ip_allowlist_entry(mg):
    mg.call("add_ip_allowlist_entry", ip="192.0.2.1")
    mg.call("add_ip_allowlist_entry", ip="192.0.2.2")
    out = mg.call("delete_ip_allowlist_entry", ip="192.0.2.1")
    assert out == {"addresses": [{"ip_address": "192.0.2.2", "description": ""}]}
    with pytest.raises(BadRequest, match="IP not found"):
        mg.call("delete_ip_allowlist_entry", ip="192.0.2.1")


def test_the_ip_travels_as_mailgun_s_address(dry):
    assert dry.dry_run("add_ip_allowlist_entry", ip="10.1.2.3/8")["form"] == [["address", "10.0.0.0/8"]]
    assert dry.dry_run("delete_ip_allowlist_entry", address="::1")["query"] == [["address", "::1"]]


@pytest.mark.parametrize("ip", ["ten.eleven", "300.1.1.1", "10.0.0.1/33", "bob@example.com"])
def test_what_is_not_an_ip_is_refused_before_sending(dry, ip):
    with pytest.raises(InvalidArguments, match="IP address"):
        dry.dry_run("add_ip_allowlist_entry", ip=ip)
