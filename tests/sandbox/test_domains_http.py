"""The sandbox's domains: what goes, and what stays, when a domain is deleted."""

from __future__ import annotations

from mg_tools.sandbox import DEFAULT_DOMAIN

D = DEFAULT_DOMAIN


def test_deleting_a_domain_keeps_its_mailing_lists(client):
    assert client.post("/v4/domains", data={"name": "gone.example.com"}).status_code == 200
    client.post("/v3/lists", data={"address": "news@gone.example.com"})
    client.post("/v3/lists/news@gone.example.com/members", data={"address": "ann@example.org"})
    client.post("/v3/gone.example.com/bounces", data={"address": "bob@example.org"})
    client.post("/v1/dkim/keys", data={"signing_domain": "gone.example.com", "selector": "s1"})

    assert client.delete("/v3/domains/gone.example.com").json() == {
        "message": "Domain will be deleted in the background"
    }

    assert client.get("/v3/lists/news@gone.example.com").json()["list"]["members_count"] == 1
    assert client.get("/v3/lists/news@gone.example.com/members/ann@example.org").status_code == 200
    assert client.get("/v1/dkim/keys", params={"signing_domain": "gone.example.com"}).json()["items"] == []
    client.post("/v4/domains", data={"name": "gone.example.com"})
    assert client.get("/v3/gone.example.com/bounces/bob@example.org").status_code == 404
    selectors = [k["selector"] for k in client.get("/v4/domains/gone.example.com/keys").json()["items"]]
    assert selectors == ["mx"]


def test_a_dkim_authority_cannot_be_deleted(client):
    client.post("/v4/domains", data={"name": f"sub.{D}"})
    client.put(f"/v3/domains/sub.{D}/dkim_authority", data={"self": "false"})
    refused = client.delete(f"/v3/domains/{D}")
    assert refused.status_code == 400
    assert refused.json() == {"message": f"{D} is the DKIM authority of sub.{D}: it cannot be deleted"}
    client.put(f"/v3/domains/sub.{D}/dkim_authority", data={"self": "true"})
    assert client.delete(f"/v3/domains/{D}").status_code == 200


def test_a_disabled_domain_cannot_be_deleted(client, sb):
    doc = sb.state.get("domain", D)
    sb.state.put("domain", D, {**doc, "state": "disabled", "is_disabled": True})
    refused = client.delete(f"/v3/domains/{D}")
    assert refused.status_code == 400 and refused.json() == {"message": "a disabled domain cannot be deleted"}
    assert client.get(f"/v4/domains/{D}").status_code == 200


def test_legacy_v3_routes_share_the_v4_domains(client):
    created = client.post("/v3/domains", data={"name": "old.example.com", "spam_action": "tag"}).json()
    assert created["message"] == "Domain has been created"
    assert created["domain"]["spam_action"] == "tag" and created["sending_dns_records"]
    assert client.get("/v4/domains/old.example.com").json()["domain"]["id"] == created["domain"]["id"]

    page = client.get("/v3/domains", params={"limit": 1, "skip": 1}).json()
    assert page["total_count"] == 2 and [d["name"] for d in page["items"]] == ["old.example.com"]
    assert client.get("/v3/domains", params={"limit": 1001}).status_code == 400

    updated = client.put("/v3/domains/old.example.com", data={"wildcard": "true"}).json()
    assert updated["domain"]["wildcard"] is True
    assert client.get("/v3/domains/old.example.com").json()["domain"]["wildcard"] is True
    verified = client.put("/v3/domains/old.example.com/verify").json()
    assert verified["domain"]["state"] == "active"
    assert client.get("/v3/domains/nope.example.com").json() == {"message": "Domain not found"}


def test_legacy_connection_settings(client):
    assert client.get(f"/v3/domains/{D}/connection").json() == {
        "connection": {"require_tls": False, "skip_verification": False}
    }
    out = client.put(f"/v3/domains/{D}/connection", data={"require_tls": "true"}).json()
    assert out == {
        "message": "Domain connection settings have been updated, may take 10 minutes to fully propagate",
        "require-tls": True,
        "skip-verification": False,
    }
    assert client.get(f"/v4/domains/{D}").json()["domain"]["require_tls"] is True
    bad = client.put(f"/v3/domains/{D}/connection", data={"skip_verification": "maybe"})
    assert bad.status_code == 400 and "skip_verification" in bad.json()["message"]


def test_legacy_web_prefix_moves_the_tracking_host(client):
    out = client.put(f"/v3/domains/{D}/web_prefix", data={"web_prefix": "track"}).json()
    assert out["message"] == "Domain web prefix updated" and out["domain"]["web_prefix"] == "track"
    cname = [r["name"] for r in out["sending_dns_records"] if r["record_type"] == "CNAME"]
    assert cname == [f"track.{D}"]
    assert client.get(f"/v4/domains/{D}").json()["domain"]["web_prefix"] == "track"
    assert client.put(f"/v3/domains/{D}/web_prefix", data={}).json() == {"message": "'web_prefix' parameter is missing"}
    assert client.put(f"/v3/domains/{D}/web_prefix", data={"web_prefix": "a.b"}).status_code == 400
