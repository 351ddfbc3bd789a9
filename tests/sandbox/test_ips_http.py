"""The sandbox's IPs, dedicated IP pools, dynamic IP pools and IP warmups."""

from __future__ import annotations

import pytest

from mg_tools.sandbox import DEFAULT_DOMAIN
from mg_tools.sandbox.areas.ips import DAY, SEED_DEDICATED, SHARED_IP, WARMUP_LIMITS

D = DEFAULT_DOMAIN
IP1, IP2 = SEED_DEDICATED


def add_domain(client, name: str) -> str:
    return client.post("/v4/domains", data={"name": name}).json()["domain"]["id"]


def ips_of(client, ip: str) -> dict[str, list[str]]:
    return {i["domain"]: i["ips"] for i in client.get(f"/v3/ips/{ip}/domains").json()["items"]}


def new_pool(client, name: str = "pool", ips: tuple[str, ...] = ()) -> str:
    out = client.post("/v3/ip_pools", data={"name": name, "description": f"{name} pool", "ip": list(ips)})
    assert out.status_code == 200, out.json()
    return out.json()["pool_id"]


def events(sb, domain: str, **counts: int) -> None:
    """Store events: accepted=N, failed=N (permanent), complained=N."""
    for kind, n in counts.items():
        for _ in range(n):
            doc = {"event": kind, **({"severity": "permanent"} if kind == "failed" else {})}
            sb.state.put("event", f"{domain}/{sb.state.next_id('test-event'):012d}", doc)


def set_dynamic(client, good=(IP1,), poor=(IP2,), new=(IP2,)):
    return client.post(
        "/v3/dynamic_pools/all",
        data={"good_reputation": list(good), "poor_reputation": list(poor), "new_senders": list(new)},
    )


@pytest.fixture
def dynamic(client):
    client.post("/v3/ips/request/new")
    third = client.get("/v3/ips", params={"dedicated": "true"}).json()["items"][-1]
    assert set_dynamic(client, new=(third,)).status_code == 200
    return third


# -- account IPs ----------------------------------------------------------------------------------


def test_list_ips(client):
    out = client.get("/v3/ips").json()
    assert out["items"] == [SHARED_IP, IP1, IP2] and out["total_count"] == 3
    assert out["assignable_to_pools"] == [IP1, IP2]
    assert out["details"][0] == {"ip": SHARED_IP, "is_on_warmup": False}
    assert client.get("/v3/ips", params={"dedicated": "true"}).json()["items"] == [IP1, IP2]
    assert client.get("/v3/ips", params={"dedicated": "maybe"}).status_code == 400
    new_pool(client, ips=(IP1,))
    assert client.get("/v3/ips").json()["assignable_to_pools"] == [IP2]


def test_get_ip(client):
    assert client.get(f"/v3/ips/{IP1}").json() == {
        "ip": IP1,
        "dedicated": True,
        "rdns": "ip-198-51-100-1.sandbox.mailgun.test",
    }
    assert client.get(f"/v3/ips/{SHARED_IP}").json()["dedicated"] is False
    missing = client.get("/v3/ips/203.0.113.9")
    assert missing.status_code == 404 and missing.json() == {"message": "IP not found"}


def test_list_ip_domains(client):
    add_domain(client, "one.example.com")
    add_domain(client, "two.example.org")
    assert ips_of(client, SHARED_IP) == {D: [SHARED_IP], "one.example.com": [SHARED_IP], "two.example.org": [SHARED_IP]}
    out = client.get(f"/v3/ips/{SHARED_IP}/domains", params={"search": "one, org", "limit": 1, "skip": 1}).json()
    assert out == {"items": [{"ips": [SHARED_IP], "domain": "two.example.org"}], "total_count": 2}
    assert client.get(f"/v3/ips/{IP1}/domains").json() == {"items": [], "total_count": 0}
    assert client.get("/v3/ips/203.0.113.9/domains").status_code == 404


def test_assign_ip_to_all_domains(client):
    add_domain(client, "one.example.com")
    out = client.post(f"/v3/ips/{IP1}/domains").json()
    assert out["message"] == "started" and out["reference_id"]
    assert ips_of(client, IP1) == {D: [SHARED_IP, IP1], "one.example.com": [SHARED_IP, IP1]}
    assert client.post("/v3/ips/203.0.113.9/domains").status_code == 404


def test_remove_ip_from_all_domains(client):
    add_domain(client, "one.example.com")
    client.post(f"/v3/ips/{IP1}/domains")
    client.delete(f"/v3/ips/{SHARED_IP}/domains", params={"alternative": IP2})
    assert ips_of(client, IP2) == {D: [IP1, IP2], "one.example.com": [IP1, IP2]}
    client.delete(f"/v3/ips/{IP1}/domains")
    assert ips_of(client, IP1) == {}
    bad = client.delete(f"/v3/ips/{IP2}/domains", params={"alternative": "203.0.113.9"})
    assert bad.status_code == 400
    client.delete(f"/v3/ips/{IP2}/domains")
    assert ips_of(client, SHARED_IP)[D] == [SHARED_IP]  # a domain never ends up with no IP


def test_set_ip_band(client):
    assert client.post(f"/v3/ips/{IP1}/ip_band", data={"ip_band": "transactional"}).json() == {"message": "success"}
    assert client.get(f"/v3/ips/{IP1}").json()["ip_band"] == "transactional"
    assert client.post(f"/v3/ips/{SHARED_IP}/ip_band", data={"ip_band": "x"}).status_code == 400
    assert client.post(f"/v3/ips/{IP1}/ip_band").status_code == 400
    assert client.post("/v3/ips/203.0.113.9/ip_band", data={"ip_band": "x"}).status_code == 404


def test_request_new_ips(client):
    assert client.get("/v3/ips/request/new").json() == {"allowed": {"dedicated": 3, "shared": 0}}
    for _ in range(3):
        assert client.post("/v3/ips/request/new").json() == {"message": "success"}
    assert client.get("/v3/ips/request/new").json()["allowed"]["dedicated"] == 0
    assert client.get("/v3/ips", params={"dedicated": "true"}).json()["total_count"] == 5
    assert client.post("/v3/ips/request/new").status_code == 400


def test_remove_domain_ip(client):
    client.post(f"/v3/ips/{IP1}/domains")
    assert client.delete(f"/v3/domains/{D}/ips/{IP1}").json() == {"message": "success"}
    assert ips_of(client, SHARED_IP)[D] == [SHARED_IP]
    last = client.delete(f"/v3/domains/{D}/ips/{SHARED_IP}")
    assert last.status_code == 400 and last.json() == {"message": "cannot remove the last IP of the domain"}
    assert client.delete(f"/v3/domains/{D}/ips/{IP2}").status_code == 404
    assert client.delete(f"/v3/domains/{D}/ips/not-an-ip").status_code == 400
    assert client.delete(f"/v3/domains/nope.example.com/ips/{IP1}").status_code == 404


def test_remove_domain_pool(client):
    client.post(f"/v3/ips/{IP1}/domains")
    assert client.delete(f"/v3/domains/{D}/pool/all").json() == {"message": "success"}
    assert client.delete("/v3/domains/nope.example.com/pool/all").status_code == 404
    assert ips_of(client, SHARED_IP)[D] == [SHARED_IP]
    pool = new_pool(client, ips=(IP1,))
    other = new_pool(client, "other", ips=(IP2,))
    client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": D})
    assert client.delete(f"/v3/domains/{D}/ips/{SHARED_IP}").status_code == 400  # IPs come from the DIPP
    assert client.delete(f"/v3/domains/{D}/ips/ip_pool").status_code == 400  # no replacement given
    assert client.delete(f"/v3/domains/{D}/ips/ip_pool", params={"ip": "shared", "pool_id": other}).status_code == 400
    assert client.delete(f"/v3/domains/{D}/pool/ip_pool", params={"pool_id": other}).status_code == 200
    assert ips_of(client, IP2)[D] == [IP2]
    assert client.delete(f"/v3/domains/{D}/ips/ip_pool", params={"ip": "shared"}).status_code == 200
    assert ips_of(client, SHARED_IP)[D] == [SHARED_IP]
    assert client.delete(f"/v3/domains/{D}/ips/ip_pool", params={"ip": "shared"}).status_code == 400


# -- dedicated IP pools ---------------------------------------------------------------------------


def test_create_and_list_ip_pools(client):
    pool = new_pool(client, "main", ips=(IP1,))
    out = client.get("/v3/ip_pools").json()
    assert out["message"] == "success"
    assert out["ip_pools"] == [
        {
            "pool_id": pool,
            "name": "main",
            "description": "main pool",
            "ips": [IP1],
            "is_inherited": False,
            "is_linked": False,
        }
    ]


def test_create_ip_pool_validates(client):
    new_pool(client, "main", ips=(IP1,))
    post = lambda **data: client.post("/v3/ip_pools", data=data)  # noqa: E731
    assert post(description="d").json() == {"message": "'name' parameter is missing"}
    assert post(name="n").json() == {"message": "'description' parameter is missing"}
    assert post(name="main", description="d").status_code == 400
    assert post(name="n", description="d", ip=SHARED_IP).json() == {"message": f"IP {SHARED_IP} is not a dedicated IP"}
    assert post(name="n", description="d", ip=IP1).status_code == 400  # already in "main"
    assert post(name="n", description="d", ip="203.0.113.9").status_code == 400
    assert len(client.get("/v3/ip_pools").json()["ip_pools"]) == 1


def test_get_ip_pool(client):
    pool = new_pool(client, ips=(IP1, IP2))
    client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": D})
    details = client.get(f"/v3/ip_pools/{pool}").json()["details"]
    assert details["ips"] == [IP1, IP2] and details["is_linked"] is True and details["linked_domains"] == [D]
    assert client.get("/v3/ip_pools/nope").status_code == 404


def test_update_ip_pool(client):
    one_id = add_domain(client, "one.example.com")
    pool = new_pool(client, ips=(IP1,))
    out = client.patch(
        f"/v3/ip_pools/{pool}", data={"name": "renamed", "add_ip": IP2, "remove_ip": IP1, "link_domain": [D, one_id]}
    )
    assert out.json() == {"message": "success"}
    details = client.get(f"/v3/ip_pools/{pool}").json()["details"]
    assert details["name"] == "renamed" and details["ips"] == [IP2]
    assert details["linked_domains"] == [D, "one.example.com"]
    assert ips_of(client, IP2) == {D: [IP2], "one.example.com": [IP2]}
    client.patch(f"/v3/ip_pools/{pool}", data={"unlink_domain": "one.example.com"})
    assert client.get(f"/v3/ip_pools/{pool}").json()["details"]["linked_domains"] == [D]
    assert ips_of(client, SHARED_IP) == {"one.example.com": [SHARED_IP]}


def test_update_ip_pool_validates(client):
    pool = new_pool(client, ips=(IP1,))
    nothing = client.patch(f"/v3/ip_pools/{pool}", data={"name": "pool"})
    assert nothing.status_code == 400
    assert client.patch(f"/v3/ip_pools/{pool}", data={"remove_ip": IP2}).status_code == 400
    assert client.patch(f"/v3/ip_pools/{pool}", data={"unlink_domain": D}).status_code == 400
    assert client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": "nope.example.com"}).status_code == 400
    client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": D})
    empty = client.patch(f"/v3/ip_pools/{pool}", data={"remove_ip": IP1})
    assert empty.json() == {"message": "a DIPP linked to domains must keep at least one IP"}
    assert client.patch("/v3/ip_pools/nope", data={"name": "x"}).status_code == 404


def test_list_ip_pool_domains_pages(client):
    pool = new_pool(client, ips=(IP1,))
    names = [f"d{i:02}.example.com" for i in range(12)]
    for name in names:
        add_domain(client, name)
    client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": names})
    first = client.get(f"/v3/ip_pools/{pool}/domains", params={"limit": 10}).json()
    assert [d["name"] for d in first["domains"]] == names[:10] and set(first["domains"][0]) == {"id", "name"}
    rest = client.get(first["paging"]["next"]).json()
    assert [d["name"] for d in rest["domains"]] == names[10:]
    assert client.get(rest["paging"]["next"]).json()["domains"] == []
    assert client.get("/v3/ip_pools/nope/domains").status_code == 404
    for limit in (9, 501):  # the reference's bounds: 10 to 500
        too = client.get(f"/v3/ip_pools/{pool}/domains", params={"limit": limit})
        assert too.json() == {"message": "Invalid 'limit' parameter: must be between 10 and 500"}


def test_add_and_remove_pool_ip(client):
    pool = new_pool(client)
    assert client.put(f"/v3/ip_pools/{pool}/ips/{IP1}").json() == {"message": "started"}
    assert client.put(f"/v3/ip_pools/{pool}/ips/{IP1}").status_code == 200  # idempotent
    assert client.put(f"/v3/ip_pools/{pool}/ips/{SHARED_IP}").status_code == 400
    assert client.get(f"/v3/ip_pools/{pool}").json()["details"]["ips"] == [IP1]
    assert client.delete(f"/v3/ip_pools/{pool}/ips/{IP1}").json() == {"message": "started"}
    assert client.get(f"/v3/ip_pools/{pool}").json()["details"]["ips"] == []
    assert client.delete(f"/v3/ip_pools/{pool}/ips/{IP1}").status_code == 404
    assert client.put(f"/v3/ip_pools/nope/ips/{IP1}").status_code == 404


def test_add_pool_ips_json(client):
    pool = new_pool(client)
    assert client.post(f"/v3/ip_pools/{pool}/ips.json", json={"ips": [IP1, IP2]}).json() == {"message": "started"}
    assert client.get(f"/v3/ip_pools/{pool}").json()["details"]["ips"] == [IP1, IP2]
    other = new_pool(client, "other")
    assert client.post(f"/v3/ip_pools/{other}/ips.json", json={"ips": [IP1]}).status_code == 400
    assert client.post(f"/v3/ip_pools/{other}/ips.json", json={"ips": "nope"}).status_code == 400
    assert client.post(f"/v3/ip_pools/{other}/ips.json", data={"ips": IP1}).status_code == 400
    assert client.get(f"/v3/ip_pools/{other}").json()["details"]["ips"] == []


def test_delete_ip_pool(client):
    pool = new_pool(client, ips=(IP1,))
    other = new_pool(client, "other", ips=(IP2,))
    client.patch(f"/v3/ip_pools/{pool}", data={"link_domain": D})
    assert client.delete(f"/v3/ip_pools/{pool}").status_code == 400  # has IPs, no replacement
    both = client.delete(f"/v3/ip_pools/{pool}", params={"ip": "shared", "pool_id": other})
    assert both.status_code == 400
    assert client.delete(f"/v3/ip_pools/{pool}", params={"pool_id": pool}).status_code == 400
    assert client.delete(f"/v3/ip_pools/{pool}", params={"pool_id": other}).json() == {"message": "started"}
    assert client.get(f"/v3/ip_pools/{pool}").status_code == 404
    assert client.get(f"/v3/ip_pools/{other}").json()["details"]["linked_domains"] == [D]
    assert client.delete(f"/v3/ip_pools/{other}", params={"ip": IP1}).status_code == 200
    assert ips_of(client, IP1) == {D: [IP1]}
    assert client.delete(f"/v3/ip_pools/{other}").status_code == 404


# -- dynamic IP pools -----------------------------------------------------------------------------


def test_set_and_list_dynamic_pools(client, dynamic):
    out = client.get("/v3/dynamic_pools").json()
    assert out["good_reputation"] == [IP1] and out["poor_reputation"] == [IP2] and out["new_senders"] == [dynamic]
    assert [p["name"] for p in out["pools"]] == ["dynamic_good", "dynamic_poor", "dynamic_new"]
    assert all(p["enabled"] and p["account_id"] for p in out["pools"])
    assert client.get("/v3/ips").json()["assignable_to_pools"] == []


def test_set_dynamic_pools_validates(client):
    assert client.get("/v3/dynamic_pools").json() == {
        "good_reputation": [],
        "poor_reputation": [],
        "new_senders": [],
        "pools": [],
    }
    missing = client.post("/v3/dynamic_pools/all", data={"good_reputation": IP1})
    assert missing.status_code == 400 and missing.json() == {"message": "'poor_reputation' parameter is missing"}
    assert set_dynamic(client).json() == {"message": "an IP can belong to one dynamic IP pool only"}
    assert set_dynamic(client, good=(SHARED_IP,), new=(f"{IP1}",)).status_code == 400
    client.post("/v3/ip_warmups/" + IP1)
    client.post("/v3/ips/request/new")
    third = client.get("/v3/ips").json()["items"][-1]
    warming = set_dynamic(client, new=(third,))
    assert warming.json() == {"message": "dynamic IP pool dynamic_good needs at least one IP that is not warming up"}
    assert client.get("/v3/dynamic_pools").json()["pools"] == []


def test_add_ip_to_dynamic_pool(client, dynamic):
    client.post("/v3/ips/request/new")
    fourth = client.get("/v3/ips").json()["items"][-1]
    assert client.post(f"/v3/dynamic_pools/dynamic_good/{fourth}").json() == {"message": "success"}
    assert client.get("/v3/dynamic_pools").json()["good_reputation"] == [IP1, fourth]
    assert client.post(f"/v3/dynamic_pools/dynamic_poor/{fourth}").status_code == 400
    missing = client.post(f"/v3/dynamic_pools/dynamic_nope/{fourth}")
    assert missing.status_code == 404 and missing.json() == {"Description": "dynamic IP pool dynamic_nope not found"}


def test_update_dynamic_pool(client, dynamic):
    client.post("/v3/ips/request/new")
    fourth = client.get("/v3/ips").json()["items"][-1]
    out = client.patch("/v3/dynamic_pools/dynamic_good", data={"add_ip": fourth, "remove_ip": IP1})
    assert out.json() == {"message": "success"}
    assert client.get("/v3/dynamic_pools").json()["good_reputation"] == [fourth]
    assert client.patch("/v3/dynamic_pools/dynamic_good").status_code == 400
    assert client.patch("/v3/dynamic_pools/dynamic_good", data={"remove_ip": IP1}).status_code == 400
    assert client.patch("/v3/dynamic_pools/dynamic_good", data={"remove_ip": fourth}).status_code == 400
    assert client.patch("/v3/dynamic_pools/nope", data={"add_ip": IP1}).status_code == 404


def test_enroll_domain(client, sb, dynamic):
    assert client.post("/v3/domains/nope.example.com/dynamic_pools").status_code == 404
    assert client.post(f"/v3/domains/{D}/dynamic_pools").json() == {"message": "success"}
    assert ips_of(client, dynamic) == {D: [dynamic]}  # no traffic yet: a new sender
    assert client.post(f"/v3/domains/{D}/dynamic_pools").status_code == 400
    events(sb, D, accepted=100)
    items = client.get("/v1/dynamic_pools/domains").json()["items"]
    assert items[0]["pool"] == "dynamic_good" and items[0]["processed_count"] == 100
    assert ips_of(client, IP1) == {D: [IP1]}


def test_enroll_needs_configured_pools(client):
    out = client.post(f"/v3/domains/{D}/dynamic_pools")
    assert out.status_code == 400 and "not configured" in out.json()["message"]
    assert client.post("/v3/domains/all/dynamic_pools/enroll").status_code == 400


def test_unenroll_domain(client, dynamic):
    client.post(f"/v3/domains/{D}/dynamic_pools")
    url = f"/v3/domains/{D}/dynamic_pools"
    assert client.delete(url).status_code == 400
    assert client.delete(url, params={"replacement_ip": "shared", "replacement_pool_id": "x"}).status_code == 400
    assert client.delete(url, params={"replacement_ip": "shared"}).json() == {"message": "success"}
    assert ips_of(client, SHARED_IP) == {D: [SHARED_IP]}
    assert client.delete(url, params={"replacement_ip": "shared"}).status_code == 400  # not enrolled any more


def test_unenroll_domain_onto_a_dipp(client, dynamic):
    client.post("/v3/ips/request/new")
    fourth = client.get("/v3/ips").json()["items"][-1]
    pool = new_pool(client, ips=(fourth,))
    client.post(f"/v3/domains/{D}/dynamic_pools")
    assert client.delete(f"/v3/domains/{D}/dynamic_pools", params={"replacement_pool_id": "nope"}).status_code == 400
    assert client.delete(f"/v3/domains/{D}/dynamic_pools", params={"replacement_pool_id": pool}).status_code == 200
    assert client.get(f"/v3/ip_pools/{pool}").json()["details"]["linked_domains"] == [D]


def test_list_assignable_domains(client, dynamic):
    one = add_domain(client, "one.example.com")
    client.post(f"/v3/domains/{D}/dynamic_pools")
    items = client.get("/v3/domains/dynamic_pools/assignable").json()["items"]
    assert [(i["id"], i["name"]) for i in items] == [(one, "one.example.com")] and items[0]["account_id"]
    assert client.get("/v3/domains/dynamic_pools/assignable", params={"domain": "^two"}).json()["items"] == []
    assert client.get("/v3/domains/dynamic_pools/assignable", params={"domain": "("}).status_code == 400
    assert client.get("/v3/domains/dynamic_pools/assignable", params={"subaccount_id": "nope"}).status_code == 400


def test_enroll_all_domains(client, dynamic):
    add_domain(client, "one.example.com")
    assert client.post("/v3/domains/all/dynamic_pools/enroll").json() == {"message": "started"}
    assert client.get("/v3/domains/dynamic_pools/assignable").json()["items"] == []
    assert client.get("/v1/dynamic_pools/domains").json()["total_items"] == 2


def test_list_dynamic_domains_filters_sorts_and_pages(client, sb, dynamic):
    for name in ("a.example.com", "b.example.com"):
        add_domain(client, name)
    events(sb, "a.example.com", accepted=100, failed=10)
    events(sb, "b.example.com", accepted=200)
    client.post("/v3/domains/all/dynamic_pools/enroll")
    out = client.get("/v1/dynamic_pools/domains", params={"sort_by": "bounce_rate", "sort_order": "descending"}).json()
    assert [(i["name"], i["pool"]) for i in out["items"]] == [
        ("a.example.com", "dynamic_poor"),
        ("b.example.com", "dynamic_good"),
        (D, "dynamic_new"),
    ]
    assert out["total_items"] == 3 and set(out["paging"]) == {"First", "Last", "Next", "Previous"}
    page = client.get("/v1/dynamic_pools/domains", params={"limit": 2}).json()
    assert [i["name"] for i in page["items"]] == ["a.example.com", "b.example.com"]
    assert [i["name"] for i in client.get(page["paging"]["Next"]).json()["items"]] == [D]
    only_new = client.get("/v1/dynamic_pools/domains", params={"pool": "dynamic_new"}).json()["items"]
    assert [i["name"] for i in only_new] == [D]
    assert client.get("/v1/dynamic_pools/domains", params={"account": "someone-else"}).json()["items"] == []
    assert client.get("/v1/dynamic_pools/domains", params={"sort_by": "size"}).status_code == 400
    assert client.get("/v1/dynamic_pools/domains", params={"limit": 101}).status_code == 400


def test_preview_domain(client, sb):
    events(sb, D, accepted=1000, complained=2)
    out = client.get(f"/v1/dynamic_pools/domains/{D}/preview").json()
    assert out["pool"] == "dynamic_poor"
    assert out["results"]["complaint_rate"] == {"value": 0.002, "band": "dynamic_poor"}
    assert out["results"]["processed_count"] == {"value": 1000, "band": "dynamic_good"}
    missing = client.get("/v1/dynamic_pools/domains/nope.example.com/preview")
    assert missing.status_code == 404 and missing.json() == {"Description": "domain not found"}


def test_override_domain_pool(client, sb, dynamic):
    client.post(f"/v3/domains/{D}/dynamic_pools")
    url = f"/v1/dynamic_pools/domains/{D}/override"
    bad = client.put(url, data={"pool": "dynamic_best"})
    assert bad.status_code == 400 and bad.json() == {"Field": "pool", "Value": "dynamic_best"}
    assert client.put(url, data={"pool": "dynamic_poor"}).json() == {"message": "success"}
    events(sb, D, accepted=100)
    item = client.get("/v1/dynamic_pools/domains").json()["items"][0]
    assert item["pool"] == "dynamic_poor" and item["override"] == "dynamic_poor"  # health checks leave it alone
    not_enrolled = client.put("/v1/dynamic_pools/domains/other.example.com/override", data={"pool": "dynamic_poor"})
    assert not_enrolled.status_code == 404


def test_remove_domain_override(client, sb, dynamic):
    client.post(f"/v3/domains/{D}/dynamic_pools")
    url = f"/v1/dynamic_pools/domains/{D}/override"
    assert client.delete(url).status_code == 404
    client.put(url, data={"pool": "dynamic_poor"})
    events(sb, D, accepted=100)
    assert client.delete(url).json() == {"message": "success"}
    item = client.get("/v1/dynamic_pools/domains").json()["items"][0]
    assert item["pool"] == "dynamic_good" and "override" not in item


def test_domain_history(client, sb, dynamic):
    client.post(f"/v3/domains/{D}/dynamic_pools")
    events(sb, D, accepted=100)
    out = client.get(f"/v1/dynamic_pools/domains/{D}/history").json()
    moves = [(r["prev_band"], r["new_band"], r["initiated_by"]) for r in out["items"]]
    assert moves == [("dynamic_new", "dynamic_good", "system"), ("", "dynamic_new", "user")]
    assert out["items"][0]["processed_count"] == 100 and out["total_items"] == 2
    assert client.get("/v1/dynamic_pools/domains/nope.example.com/history").status_code == 404


def test_account_history(client, sb, clock, dynamic):
    add_domain(client, "one.example.com")
    client.post("/v3/domains/all/dynamic_pools/enroll")
    clock.now += 3600
    client.put(f"/v1/dynamic_pools/domains/{D}/override", data={"pool": "dynamic_poor"})
    everything = client.get("/v1/dynamic_pools/history").json()
    assert everything["total_items"] == 3 and everything["items"][0]["new_band"] == "dynamic_poor"
    page = client.get("/v1/dynamic_pools/history", params={"Limit": 2}).json()
    assert len(page["items"]) == 2 and len(client.get(page["paging"]["Next"]).json()["items"]) == 1
    assert client.get("/v1/dynamic_pools/history", params={"domain": "one.example.com"}).json()["total_items"] == 1
    assert client.get("/v1/dynamic_pools/history", params={"moved_to": "dynamic_poor"}).json()["total_items"] == 1
    assert client.get("/v1/dynamic_pools/history", params={"moved_from": "dynamic_new"}).json()["total_items"] == 1
    before = client.get("/v1/dynamic_pools/history", params={"before": "Sun, 15 Jun 2025 16:00:00 +0000"}).json()
    assert before["total_items"] == 2
    assert client.get("/v1/dynamic_pools/history", params={"after": "yesterday"}).status_code == 400


def test_delete_dynamic_pools(client, dynamic):
    client.post(f"/v3/domains/{D}/dynamic_pools")
    blocked = client.delete("/v3/dynamic_pools/all")
    assert blocked.status_code == 400
    client.delete(f"/v3/domains/{D}/dynamic_pools", params={"replacement_ip": "shared"})
    assert client.delete("/v3/dynamic_pools/all").json() == {"message": "success"}
    assert client.get("/v3/dynamic_pools").json()["pools"] == []
    again = client.delete("/v3/dynamic_pools/all")
    assert again.status_code == 404 and again.json() == {"Description": "dynamic IP pools are not configured"}


# -- IP warmups -----------------------------------------------------------------------------------


def test_create_warmup(client):
    assert client.post(f"/v3/ip_warmups/{IP1}").json() == {"message": "success"}
    assert client.post(f"/v3/ip_warmups/{IP1}").status_code == 400
    assert client.post(f"/v3/ip_warmups/{SHARED_IP}").status_code == 400
    assert client.post("/v3/ip_warmups/203.0.113.9").status_code == 404
    assert client.get("/v3/ips").json()["details"][1] == {"ip": IP1, "is_on_warmup": True}


def test_warmup_progress(client, clock):
    client.post(f"/v3/ip_warmups/{IP1}")
    first = client.get(f"/v3/ip_warmups/{IP1}").json()["details"]
    assert first["stage"] == 1 and first["stage_limit"] == WARMUP_LIMITS[0] and first["stage_history"] == []
    assert first["total_stages"] == len(WARMUP_LIMITS) and first["plan_started_at"] == "2025-06-15T15:06:40Z"
    clock.now += 2 * DAY
    third = client.get(f"/v3/ip_warmups/{IP1}").json()["details"]
    assert third["stage"] == 3 and third["stage_limit"] == WARMUP_LIMITS[2]
    assert [s["limit"] for s in third["stage_history"]] == list(WARMUP_LIMITS[:2])
    clock.now += len(WARMUP_LIMITS) * DAY
    done = client.get(f"/v3/ip_warmups/{IP1}")
    assert done.status_code == 404  # the plan has finished
    assert client.get("/v3/ips").json()["details"][1]["is_on_warmup"] is False


def test_list_warmups_pages(client):
    for ip in (IP2, IP1):
        client.post(f"/v3/ip_warmups/{ip}")
    first = client.get("/v3/ip_warmups", params={"limit": 1}).json()
    assert [w["ip"] for w in first["items"]] == [IP1]
    assert first["items"][0]["stage_number"] == 1 and first["items"][0]["stage_volume_limit"] == WARMUP_LIMITS[0]
    assert [w["ip"] for w in client.get(first["paging"]["next"]).json()["items"]] == [IP2]
    assert [w["ip"] for w in client.get("/v3/ip_warmups").json()["items"]] == [IP1, IP2]
    assert client.get("/v3/ip_warmups", params={"page": "garbage"}).status_code == 400


def test_cancel_warmup(client):
    client.post(f"/v3/ip_warmups/{IP1}")
    assert client.delete(f"/v3/ip_warmups/{IP1}").json() == {"message": "success"}
    assert client.get("/v3/ip_warmups").json()["items"] == []
    missing = client.delete(f"/v3/ip_warmups/{IP1}")
    assert missing.status_code == 404 and missing.json() == {"message": f"no warmup in progress for IP {IP1}"}
