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
