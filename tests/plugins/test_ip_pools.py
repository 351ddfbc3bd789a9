import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound
from mg_tools.sandbox.areas.ips import SEED_DEDICATED, SHARED_IP

D = "mg.example.com"
IP1, IP2 = SEED_DEDICATED


def pool_ips(mg, pool_id):
    return mg.call("get_ip_pool", pool_id=pool_id)["details"]["ips"]


def domain_id(mg, name=D):
    return mg.call("get_domain", domain=name)["domain"]["id"]


def linked_pool(mg, ips=(IP1,), name="main"):
    """A pool with ``ips`` that D sends from; its id."""
    pool_id = mg.call("create_ip_pool", name=name, description=f"{name} pool", ips=list(ips))["pool_id"]
    mg.call("update_ip_pool", pool_id=pool_id, link_domains=[domain_id(mg)])
    return pool_id


def sends_from(mg, ip):
    return [item["domain"] for item in mg.call("list_ip_domains", ip=ip)["items"]]


def dynamic(mg):
    """Configure the dynamic pools (good IP1, poor IP2, new: a third IP); the third IP."""
    mg.call("request_ip")
    third = mg.call("list_ips", dedicated=True)["items"][-1]
    mg.call("set_dynamic_pools", good_reputation=[IP1], poor_reputation=[IP2], new_senders=[third])
    return third


def enrolled(mg):
    return {row["name"]: row for row in mg.call("list_dynamic_pool_domains")["items"]}


# -- dedicated IP pools ----------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_ip_pools(mg):
    assert mg.call("list_ip_pools")["ip_pools"] == []
    pool_id = linked_pool(mg)
    (pool,) = mg.call("list_ip_pools")["ip_pools"]
    assert (pool["pool_id"], pool["name"], pool["ips"], pool["is_linked"]) == (pool_id, "main", [IP1], True)


@pytest.mark.vcr
def test_create_ip_pool(mg):
    out = mg.call("create_ip_pool", name="bulk", description="newsletters", ips=[IP1, IP2])
    assert out["message"] == "success"
    details = mg.call("get_ip_pool", pool_id=out["pool_id"])["details"]
    assert (details["name"], details["description"], details["ips"]) == ("bulk", "newsletters", [IP1, IP2])
    with pytest.raises(BadRequest, match=f"IP {IP1} already belongs to DIPP"):
        mg.call("create_ip_pool", name="other", description="x", ips=[IP1])


def test_create_ip_pool_repeats_the_ip_field(dry):
    out = dry.run(dry.execute("create_ip_pool", {"name": "a", "description": "b", "ips": [IP1, IP2]}, dry_run=True))
    assert out.data["form"] == [["name", "a"], ["description", "b"], ["ip", IP1], ["ip", IP2]]


@pytest.mark.vcr
def test_get_ip_pool(mg):
    pool_id = linked_pool(mg)
    details = mg.call("get_ip_pool", pool_id=pool_id)["details"]
    assert details["linked_domains"] == [D] and details["ips"] == [IP1]
    with pytest.raises(NotFound, match="IP pool nope not found"):
        mg.call("get_ip_pool", pool_id="nope")


@pytest.mark.vcr
def test_delete_ip_pool(mg):
    pool_id = linked_pool(mg)
    other = mg.call("create_ip_pool", name="spare", description="spare", ips=[IP2])["pool_id"]
    with pytest.raises(BadRequest, match="the DIPP has IPs: give a replacement"):
        mg.call("delete_ip_pool", pool_id=pool_id)  # Mailgun refuses: where would D's mail go?
    assert mg.call("delete_ip_pool", pool_id=pool_id, replacement_pool_id=other) == {"message": "started"}
    assert mg.call("get_ip_pool", pool_id=other)["details"]["linked_domains"] == [D]
    assert mg.call("delete_ip_pool", pool_id=other, replacement_ip="shared") == {"message": "started"}
    assert sends_from(mg, SHARED_IP) == [D]
    assert mg.call("list_ip_pools")["ip_pools"] == []


def test_delete_ip_pool_sends_the_replacement_under_mailgun_names(dry):
    out = dry.run(dry.execute("delete_ip_pool", {"pool_id": "p1", "replacement_pool_id": "p2"}, dry_run=True)).data
    assert out["url"].endswith("/v3/ip_pools/p1") and out["query"] == [["pool_id", "p2"]]
    with pytest.raises(InvalidArguments, match="give replacement_ip or replacement_pool_id, not both"):
        dry.run(dry.execute("delete_ip_pool", {"pool_id": "p1", "replacement_ip": IP1, "replacement_pool_id": "p2"}))


@pytest.mark.vcr
def test_update_ip_pool(mg):
    pool_id = mg.call("create_ip_pool", name="a", description="first")["pool_id"]
    out = mg.call("update_ip_pool", pool_id=pool_id, name="b", add_ips=[IP1, IP2], link_domains=[domain_id(mg)])
    assert out == {"message": "success"}
    details = mg.call("get_ip_pool", pool_id=pool_id)["details"]
    assert (details["name"], details["ips"], details["linked_domains"]) == ("b", [IP1, IP2], [D])
    mg.call("update_ip_pool", pool_id=pool_id, remove_ips=[IP2])
    assert sends_from(mg, IP1) == [D] and sends_from(mg, IP2) == []
    with pytest.raises(BadRequest, match="nothing to change"):
        mg.call("update_ip_pool", pool_id=pool_id, name="b")


def test_update_ip_pool_needs_a_change(dry):
    with pytest.raises(InvalidArguments, match="nothing to change"):
        dry.run(dry.execute("update_ip_pool", {"pool_id": "p1"}, dry_run=True))
    out = dry.run(dry.execute("update_ip_pool", {"pool_id": "p1", "remove_ips": [IP1, IP2]}, dry_run=True)).data
    assert out["method"] == "PATCH" and out["form"] == [["remove_ip", IP1], ["remove_ip", IP2]]


@pytest.mark.vcr
def test_list_ip_pool_domains(mg):
    mg.call("create_domain", domain="two.example.com")
    pool_id = linked_pool(mg)
    mg.call("update_ip_pool", pool_id=pool_id, link_domains=[domain_id(mg, "two.example.com")])
    page = mg.run(mg.execute("list_ip_pool_domains", {"pool_id": pool_id, "limit": 10}))
    assert [d["name"] for d in page.data["domains"]] == [D, "two.example.com"]
    assert page.next_cursor is None and "paging" not in page.data


@pytest.mark.vcr
def test_add_ip_to_pool(mg):
    pool_id = linked_pool(mg)
    assert mg.call("add_ip_to_pool", pool_id=pool_id, ip=IP2) == {"message": "started"}
    assert pool_ips(mg, pool_id) == [IP1, IP2]
    assert sends_from(mg, IP2) == [D]
    with pytest.raises(BadRequest, match="is not a dedicated IP"):
        mg.call("add_ip_to_pool", pool_id=pool_id, ip=SHARED_IP)


@pytest.mark.vcr
def test_remove_ip_from_pool(mg):
    pool_id = linked_pool(mg, ips=(IP1, IP2))
    assert mg.call("remove_ip_from_pool", pool_id=pool_id, ip=IP2) == {"message": "started"}
    assert pool_ips(mg, pool_id) == [IP1]
    with pytest.raises(BadRequest, match="must keep at least one IP"):
        mg.call("remove_ip_from_pool", pool_id=pool_id, ip=IP1)
    with pytest.raises(NotFound, match=f"IP {IP2} is not in the DIPP"):
        mg.call("remove_ip_from_pool", pool_id=pool_id, ip=IP2)


@pytest.mark.vcr
def test_add_ips_to_pool(mg):
    pool_id = mg.call("create_ip_pool", name="a", description="a")["pool_id"]
    assert mg.call("add_ips_to_pool", pool_id=pool_id, ips=[IP1, IP2]) == {"message": "started"}
    assert pool_ips(mg, pool_id) == [IP1, IP2]


def test_add_ips_to_pool_sends_json(dry):
    out = dry.run(dry.execute("add_ips_to_pool", {"pool_id": "p1", "ips": [IP1]}, dry_run=True)).data
    assert out["url"].endswith("/v3/ip_pools/p1/ips.json") and out["json"] == {"ips": [IP1]}


@pytest.mark.vcr
def test_unlink_domain_ip_pool(mg):
    linked_pool(mg)
    with pytest.raises(BadRequest, match="not a dedicated IP"):
        mg.call("unlink_domain_ip_pool", domain=D, replacement_ip=SHARED_IP)
    assert mg.call("unlink_domain_ip_pool", domain=D, replacement_ip=IP2) == {"message": "success"}
    assert sends_from(mg, IP2) == [D] and sends_from(mg, IP1) == []
    with pytest.raises(BadRequest, match=f"no DIPP is linked to {D}"):
        mg.call("unlink_domain_ip_pool", domain=D, replacement_ip="shared")


def test_unlink_domain_ip_pool_needs_a_replacement(dry):
    with pytest.raises(InvalidArguments, match="the domain's mail must go somewhere"):
        dry.run(dry.execute("unlink_domain_ip_pool", {"domain": D}, dry_run=True))
    out = dry.run(dry.execute("unlink_domain_ip_pool", {"domain": D, "replacement_ip": "shared"}, dry_run=True)).data
    assert out["url"].endswith(f"/v3/domains/{D}/pool/ip_pool") and out["query"] == [["ip", "shared"]]


# -- dynamic IP pools ------------------------------------------------------------------------------


@pytest.mark.vcr
def test_enroll_domain_dynamic_pools(mg):
    with pytest.raises(BadRequest, match="dynamic IP pools are not configured"):
        mg.call("enroll_domain_dynamic_pools", domain=D)
    third = dynamic(mg)
    assert mg.call("enroll_domain_dynamic_pools", domain=D) == {"message": "success"}
    assert enrolled(mg)[D]["pool"] == "dynamic_new"  # no mail sent yet
    assert sends_from(mg, third) == [D]


@pytest.mark.vcr
def test_unenroll_domain_dynamic_pools(mg):
    dynamic(mg)
    mg.call("enroll_domain_dynamic_pools", domain=D)
    out = mg.call("unenroll_domain_dynamic_pools", domain=D, replacement_ips=["shared"])
    assert out == {"message": "success"}
    assert enrolled(mg) == {} and sends_from(mg, SHARED_IP) == [D]
    with pytest.raises(BadRequest, match="not enrolled"):
        mg.call("unenroll_domain_dynamic_pools", domain=D, replacement_ips=["shared"])


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "exactly one of replacement_ips or replacement_pool_id"),
        ({"replacement_ips": ["shared"], "replacement_pool_id": "p"}, "exactly one of"),
        ({"replacement_ips": ["shared", IP1]}, "'shared' cannot be combined"),
        ({"replacement_ips": ["nope"]}, "must be an IP address or 'shared'"),
    ],
)
def test_unenroll_domain_dynamic_pools_needs_one_replacement(dry, arguments, problem):
    with pytest.raises(InvalidArguments, match=problem):
        dry.run(dry.execute("unenroll_domain_dynamic_pools", {"domain": D, **arguments}, dry_run=True))


def test_unenroll_domain_dynamic_pools_repeats_replacement_ip(dry):
    out = dry.run(
        dry.execute("unenroll_domain_dynamic_pools", {"domain": D, "replacement_ips": [IP1, IP2]}, dry_run=True)
    )
    assert out.data["query"] == [["replacement_ip", IP1], ["replacement_ip", IP2]]


@pytest.mark.vcr
def test_list_assignable_domains(mg):
    mg.call("create_domain", domain="news.example.org")
    assert [d["name"] for d in mg.call("list_assignable_domains")["items"]] == [D, "news.example.org"]
    assert [d["name"] for d in mg.call("list_assignable_domains", pattern=r"\.org$")["items"]] == ["news.example.org"]


@pytest.mark.vcr
def test_enroll_all_domains_dynamic_pools(mg):
    mg.call("create_domain", domain="news.example.org")
    dynamic(mg)
    assert mg.call("enroll_all_domains_dynamic_pools", include_subaccounts=False) == {"message": "started"}
    assert sorted(enrolled(mg)) == [D, "news.example.org"]
    assert mg.call("list_assignable_domains")["items"] == []


@pytest.mark.vcr
def test_list_dynamic_pools(mg):
    third = dynamic(mg)
    out = mg.call("list_dynamic_pools")
    assert (out["good_reputation"], out["poor_reputation"], out["new_senders"]) == ([IP1], [IP2], [third])
    assert {p["name"] for p in out["pools"]} == {"dynamic_good", "dynamic_poor", "dynamic_new"}


@pytest.mark.vcr
def test_set_dynamic_pools(mg):
    mg.call("request_ip")
    mg.call("request_ip")
    third, fourth = mg.call("list_ips", dedicated=True)["items"][-2:]
    out = mg.call("set_dynamic_pools", good_reputation=[IP1], poor_reputation=[IP2, third], new_senders=[fourth])
    assert out == {"good_reputation": [IP1], "poor_reputation": [IP2, third], "new_senders": [fourth]}
    assert mg.call("list_dynamic_pools")["poor_reputation"] == [IP2, third]


def test_set_dynamic_pools_refuses_an_ip_in_two_pools(dry):
    arguments = {"good_reputation": [IP1], "poor_reputation": [IP2], "new_senders": [IP1]}
    with pytest.raises(InvalidArguments, match="an IP can be in one dynamic pool only"):
        dry.run(dry.execute("set_dynamic_pools", arguments, dry_run=True))


@pytest.mark.vcr
def test_delete_dynamic_pools(mg):
    dynamic(mg)
    mg.call("enroll_domain_dynamic_pools", domain=D)
    with pytest.raises(BadRequest, match="remove every domain from dynamic IP pools"):
        mg.call("delete_dynamic_pools")
    mg.call("unenroll_domain_dynamic_pools", domain=D, replacement_ips=["shared"])
    assert mg.call("delete_dynamic_pools") == {"message": "success"}
    assert mg.call("list_dynamic_pools")["pools"] == []


@pytest.mark.vcr
def test_add_ip_to_dynamic_pool(mg):
    third = dynamic(mg)
    mg.call("request_ip")
    fourth = mg.call("list_ips", dedicated=True)["items"][-1]
    assert mg.call("add_ip_to_dynamic_pool", pool_name="dynamic_good", ip=fourth) == {"message": "success"}
    assert mg.call("list_dynamic_pools")["good_reputation"] == [IP1, fourth]
    with pytest.raises(BadRequest, match="already belongs to dynamic IP pool dynamic_new"):
        mg.call("add_ip_to_dynamic_pool", pool_name="dynamic_good", ip=third)


@pytest.mark.vcr
def test_update_dynamic_pool(mg):
    dynamic(mg)
    mg.call("request_ip")
    fourth = mg.call("list_ips", dedicated=True)["items"][-1]
    out = mg.call("update_dynamic_pool", pool_name="dynamic_good", add_ips=[fourth], remove_ips=[IP1])
    assert out == {"message": "success"}
    assert mg.call("list_dynamic_pools")["good_reputation"] == [fourth]


@pytest.mark.vcr
def test_list_dynamic_pool_domains(mg):
    mg.call("create_domain", domain="news.example.org")
    dynamic(mg)
    mg.call("enroll_all_domains_dynamic_pools")
    first = mg.run(mg.execute("list_dynamic_pool_domains", {"limit": 1, "sort_order": "descending"}))
    assert [r["name"] for r in first.data["items"]] == ["news.example.org"] and first.next_cursor
    rest = mg.run(mg.execute("list_dynamic_pool_domains", {"limit": 1, "cursor": first.next_cursor}))
    assert [r["name"] for r in rest.data["items"]] == [D]
    assert mg.call("list_dynamic_pool_domains", pool_names=["dynamic_good"])["items"] == []


@pytest.mark.vcr
def test_preview_dynamic_pool_domain(mg):
    out = mg.call("preview_dynamic_pool_domain", domain=D)
    assert out["pool"] == "dynamic_new"
    assert out["results"]["processed_count"] == {"value": 0, "band": "dynamic_new"}


@pytest.mark.vcr
def test_list_dynamic_pool_domain_history(mg):
    dynamic(mg)
    mg.call("enroll_domain_dynamic_pools", domain=D)
    mg.call("override_dynamic_pool", domain=D, pool_name="dynamic_good")
    items = mg.call("list_dynamic_pool_domain_history", domain=D)["items"]
    assert [(i["prev_band"], i["new_band"], i["reason"]) for i in items] == [
        ("dynamic_new", "dynamic_good", "override"),
        ("", "dynamic_new", "domain enrolled"),
    ]


@pytest.mark.vcr
def test_override_dynamic_pool(mg):
    dynamic(mg)
    mg.call("enroll_domain_dynamic_pools", domain=D)
    assert mg.call("override_dynamic_pool", domain=D, pool_name="dynamic_good") == {"message": "success"}
    row = enrolled(mg)[D]
    assert (row["pool"], row["override"]) == ("dynamic_good", "dynamic_good")
    with pytest.raises(InvalidArguments, match="pool_name"):
        mg.call("override_dynamic_pool", domain=D, pool_name="dynamic_best")


@pytest.mark.vcr
def test_remove_dynamic_pool_override(mg):
    dynamic(mg)
    mg.call("enroll_domain_dynamic_pools", domain=D)
    mg.call("override_dynamic_pool", domain=D, pool_name="dynamic_poor")
    assert mg.call("remove_dynamic_pool_override", domain=D) == {"message": "success"}
    row = enrolled(mg)[D]
    assert row["pool"] == "dynamic_new" and "override" not in row
    with pytest.raises(NotFound, match="has no dynamic IP pool override"):
        mg.call("remove_dynamic_pool_override", domain=D)


@pytest.mark.vcr
def test_list_dynamic_pool_history(mg):
    mg.call("create_domain", domain="news.example.org")
    dynamic(mg)
    mg.call("enroll_all_domains_dynamic_pools")
    mg.call("override_dynamic_pool", domain=D, pool_name="dynamic_poor")
    everything = mg.call("list_dynamic_pool_history")["items"]
    assert [(i["domain_name"], i["new_band"]) for i in everything] == [
        (D, "dynamic_poor"),
        ("news.example.org", "dynamic_new"),
        (D, "dynamic_new"),
    ]
    moved = mg.call("list_dynamic_pool_history", moved_to="dynamic_poor", limit=5)["items"]
    assert [i["domain_name"] for i in moved] == [D]
    assert mg.call("list_dynamic_pool_history", domain="news.example.org", moved_from="dynamic_new")["items"] == []


def test_list_dynamic_pool_history_sends_limit_capitalised(dry):
    out = dry.run(
        dry.execute("list_dynamic_pool_history", {"limit": 5, "before": "Mon, 02 Jan 2006 15:04:05 MST"}, dry_run=True)
    )
    assert out.data["query"] == [["before", "Mon, 02 Jan 2006 15:04:05 MST"], ["Limit", "5"]]
