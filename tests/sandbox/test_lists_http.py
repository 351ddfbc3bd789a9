"""The sandbox's mailing lists API, spoken to directly over HTTP."""

import json

import pytest

L = "dev@mg.example.com"


@pytest.fixture
def listed(client):
    assert client.post("/v3/lists", data={"address": f"Developers <{L}>"}).status_code == 200


def test_create_list_defaults_and_errors(client):
    r = client.post("/v3/lists", data={"address": f"Developers <{L}>", "description": "devs"})
    body = r.json()
    assert body["message"] == "Mailing list has been created"
    assert body["list"] == {
        **body["list"],
        "address": L,
        "name": "Developers",
        "description": "devs",
        "access_level": "readonly",
        "reply_preference": "list",
        "members_count": 0,
    }
    assert client.post("/v3/lists", data={"address": L}).status_code == 400  # duplicate
    bad = client.post("/v3/lists", data={"address": "x@mg.example.com", "access_level": "fake_access_level"})
    assert bad.json()["message"] == (
        "Invalid access level 'fake_access_level'. It can be any of: 'readonly', 'members', 'everyone'."
    )
    bad = client.post("/v3/lists", data={"address": "x@mg.example.com", "reply_preference": "wrong"})
    assert bad.status_code == 400 and "reply preference" in bad.json()["message"]
    assert client.post("/v3/lists", data={"address": "not-an-address"}).status_code == 400
    assert client.get("/v3/lists/nope@mg.example.com").json() == {
        "message": "Mailing list nope@mg.example.com not found"
    }


def test_lists_skip_paging_and_url_paging(client):
    for name in ("c", "a", "b"):
        client.post("/v3/lists", data={"address": f"{name}@mg.example.com"})
    page = client.get("/v3/lists", params={"limit": 2, "skip": 1}).json()
    assert page["total_count"] == 3
    assert [x["address"] for x in page["items"]] == ["a@mg.example.com", "b@mg.example.com"]  # creation order
    assert client.get("/v3/lists", params={"address": "B@mg.example.com"}).json()["total_count"] == 1
    first = client.get("/v3/lists/pages", params={"limit": 2}).json()
    assert [x["address"] for x in first["items"]] == ["a@mg.example.com", "b@mg.example.com"]
    nxt = client.get(first["paging"]["next"]).json()
    assert [x["address"] for x in nxt["items"]] == ["c@mg.example.com"]


def test_update_rename_and_delete_list(client, sb, listed):
    client.post(f"/v3/lists/{L}/members", data={"address": "a@example.com"})
    r = client.put(
        f"/v3/lists/{L}",
        data={"address": "devs@mg.example.com", "access_level": "members", "reply_preference": "sender"},
    )
    assert r.json()["message"] == "Mailing list has been updated"
    assert r.json()["list"]["address"] == "devs@mg.example.com"
    assert r.json()["list"]["members_count"] == 1
    assert client.get(f"/v3/lists/{L}").status_code == 404
    assert client.get("/v3/lists/devs@mg.example.com/members/a@example.com").status_code == 200
    r = client.delete("/v3/lists/devs@mg.example.com")
    assert r.json() == {"address": "devs@mg.example.com", "message": "Mailing list has been removed"}
    assert sb.state.count("member", "devs@mg.example.com/") == 0


def test_members_crud(client, listed):
    M = f"/v3/lists/{L}/members"
    r = client.post(M, data={"address": "Alice <Alice@Example.com>", "vars": json.dumps({"age": 27})})
    assert r.json() == {
        "member": {"address": "alice@example.com", "name": "Alice", "subscribed": True, "vars": {"age": 27}},
        "message": "Mailing list member has been created",
    }
    assert (
        client.post(M, data={"address": "alice@example.com"}).json()["message"]
        == "Address already exists 'alice@example.com'"
    )
    r = client.post(M, data={"address": "alice@example.com", "name": "Al", "upsert": "yes", "subscribed": "no"})
    assert r.json()["member"]["name"] == "Al" and r.json()["member"]["subscribed"] is False
    assert client.post(M, data={"address": "bob@example.com", "vars": "[1]"}).status_code == 400
    client.post(M, data={"address": "bob@example.com"})
    assert client.get(f"/v3/lists/{L}").json()["list"]["members_count"] == 2
    assert client.get(M, params={"subscribed": "yes"}).json()["items"][0]["address"] == "bob@example.com"
    assert client.get(M, params={"limit": 101}).status_code == 400  # members pages hold at most 100
    got = client.get(f"{M}/ALICE@example.com").json()
    assert got["member"]["address"] == "alice@example.com"
    r = client.put(f"{M}/alice@example.com", data={"subscribed": "yes", "vars": '{"k": "v"}'})
    assert r.json()["message"] == "Mailing list member has been updated"
    assert r.json()["member"]["vars"] == {"k": "v"} and r.json()["member"]["name"] == "Al"
    r = client.delete(f"{M}/alice@example.com")
    assert r.json() == {"member": {"address": "alice@example.com"}, "message": "Mailing list member has been deleted"}
    assert client.get(f"{M}/alice@example.com").status_code == 404
    assert client.get(f"/v3/lists/{L}").json()["list"]["members_count"] == 1
    assert client.post("/v3/lists/nope@mg.example.com/members", data={"address": "x@example.com"}).status_code == 404


def test_plus_and_slash_in_encoded_addresses(client):
    odd = "news+weekly/eu@mg.example.com"
    client.post("/v3/lists", data={"address": odd})
    encoded = "news%2Bweekly%2Feu%40mg.example.com"
    assert client.get(f"/v3/lists/{encoded}").json()["list"]["address"] == odd
    client.post(f"/v3/lists/{encoded}/members", data={"address": "a+b@example.com"})
    member = client.get(f"/v3/lists/{encoded}/members/a%2Bb%40example.com").json()["member"]
    assert member["address"] == "a+b@example.com"


def test_bulk_json_upload(client, listed):
    url = f"/v3/lists/{L}/members.json"
    members = ["bob@example.com", {"address": "Alice <alice@example.com>", "vars": {"age": 26}, "subscribed": False}]
    r = client.post(url, data={"members": json.dumps(members)})
    assert r.json()["message"] == "Mailing list has been updated"
    assert r.json()["list"]["members_count"] == 2
    alice = client.get(f"/v3/lists/{L}/members/alice@example.com").json()["member"]
    assert alice == {"address": "alice@example.com", "name": "Alice", "subscribed": False, "vars": {"age": 26}}
    # Without upsert, existing members are left alone; with it they are updated.
    client.post(url, data={"members": json.dumps([{"address": "bob@example.com", "name": "Bob"}])})
    assert client.get(f"/v3/lists/{L}/members/bob@example.com").json()["member"]["name"] == ""
    client.post(url, data={"members": json.dumps([{"address": "bob@example.com", "name": "Bob"}]), "upsert": "yes"})
    assert client.get(f"/v3/lists/{L}/members/bob@example.com").json()["member"]["name"] == "Bob"
    many = [f"u{i}@example.com" for i in range(150)]
    r = client.post(url, data={"members": json.dumps(many)}).json()
    assert r["message"] == "Mailing list upload started in background" and r["task-id"]
    assert r["list"]["members_count"] == 152
    too_many = [f"v{i}@example.com" for i in range(1001)]
    assert client.post(url, data={"members": json.dumps(too_many)}).status_code == 400
    assert client.post(url, data={"members": "not json"}).status_code == 400
    assert client.post(url, data={"members": json.dumps(["nope"])}).status_code == 400


def test_members_pages(client, listed):
    for name in ("c", "a", "b"):
        client.post(f"/v3/lists/{L}/members", data={"address": f"{name}@example.com"})
    first = client.get(f"/v3/lists/{L}/members/pages", params={"limit": 2}).json()
    assert [m["address"] for m in first["items"]] == ["a@example.com", "b@example.com"]
    assert "address=b%40example.com" in first["paging"]["next"]
    nxt = client.get(first["paging"]["next"]).json()
    assert [m["address"] for m in nxt["items"]] == ["c@example.com"]


def test_bulk_csv_upload(client, listed):
    csv_text = 'address,name,vars\nann@example.com,Ann,"{""a"": 1}"\nben@example.com,,\n'
    r = client.post(
        f"/v3/lists/{L}/members.csv",
        files={"members": ("m.csv", csv_text.encode(), "text/csv")},
        data={"subscribed": "no"},
    )
    body = r.json()
    assert body["message"] == "Mailing list upload started in background" and body["task-id"]
    assert body["list"]["members_count"] == 2
    ann = client.get(f"/v3/lists/{L}/members/ann@example.com").json()["member"]
    assert ann == {"address": "ann@example.com", "name": "Ann", "subscribed": False, "vars": {"a": 1}}
    assert client.post(f"/v3/lists/{L}/members.csv", data={"upsert": "yes"}).status_code == 400
    bad = client.post(f"/v3/lists/{L}/members.csv", files={"members": ("m.csv", b"email\nx@example.com\n", "text/csv")})
    assert bad.status_code == 400
