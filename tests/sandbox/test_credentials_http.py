"""The sandbox's SMTP credentials API."""

from __future__ import annotations

from mg_tools.sandbox import DEFAULT_DOMAIN

D = DEFAULT_DOMAIN
BASE = f"/v3/domains/{D}/credentials"


def logins(client, **params) -> list[str]:
    return [c["login"] for c in client.get(BASE, params=params).json()["items"]]


def stored(client, login: str) -> dict:
    return client.app.state.sandbox.state.get("credential", f"{D}/{login}")


def test_list_credentials(client):
    out = client.get(BASE).json()
    assert out["total_count"] == 1
    item = out["items"][0]
    assert item["login"] == item["mailbox"] == f"postmaster@{D}"
    assert item["size_bytes"] is None and item["created_at"].endswith("+0000")
    assert not any(k.startswith("_") or "password" in k for k in item)
    for name in ("a", "b", "c"):
        client.post(BASE, data={"login": name, "password": "secret-pw"})
    assert logins(client, skip=1, limit=2) == [f"a@{D}", f"b@{D}"]
    assert client.get(BASE, params={"limit": 1}).json()["total_count"] == 4
    too_many = client.get(BASE, params={"limit": 1001})
    assert too_many.status_code == 400 and too_many.json() == {"message": "Limit parameter can't be larger than 1000"}
    assert client.get("/v3/domains/nope.example.com/credentials").status_code == 404


def test_create_credentials(client):
    out = client.post(BASE, data={"login": f"alice@{D}", "password": "alice-pw"}).json()
    assert out == {"message": "Created 1 credentials pair(s)"}
    assert stored(client, f"alice@{D}")["_password"] == "alice-pw"
    generated = client.post(BASE, data={"login": "bob"}).json()
    secret = generated["credentials"][f"bob@{D}"]
    assert secret.startswith("sandbox-") and generated["note"]
    assert stored(client, f"bob@{D}")["_password"] == secret
    assert secret not in client.get(BASE).text
    assert logins(client) == [f"postmaster@{D}", f"alice@{D}", f"bob@{D}"]


def test_create_several_credentials_at_once(client):
    out = client.post(BASE, data={"login": ["x", "y"], "password": ["x-password"]}).json()
    assert out["message"] == "Created 2 credentials pair(s)"
    assert list(out["credentials"]) == [f"y@{D}"]
    assert stored(client, f"x@{D}")["_password"] == "x-password"


def test_create_credentials_validates(client):
    missing = client.post(BASE, data={"password": "whatever"})
    assert missing.status_code == 400 and missing.json() == {"message": "Parameter 'login' is missing"}
    assert client.post(BASE, data={"login": "eve@other.example.com"}).status_code == 400
    assert client.post(BASE, data={"login": "eve", "password": "abc"}).status_code == 400
    client.post(BASE, data={"login": "eve"})
    assert "already exist" in client.post(BASE, data={"login": f"eve@{D}"}).json()["message"]
    assert client.post("/v3/domains/nope.example.com/credentials", data={"login": "a"}).status_code == 404
    assert logins(client) == [f"postmaster@{D}", f"eve@{D}"]


def test_update_credentials(client):
    client.post(BASE, data={"login": "alice", "password": "first-pw"})
    out = client.put(f"{BASE}/alice%40{D}", data={"password": "second-pw"})
    assert out.json() == {"message": "Password changed"}
    assert stored(client, f"alice@{D}")["_password"] == "second-pw"
    generated = client.put(f"{BASE}/alice").json()
    assert stored(client, f"alice@{D}")["_password"] == generated["credentials"][f"alice@{D}"]
    assert client.put(f"{BASE}/alice", data={"password": "x"}).status_code == 400
    missing = client.put(f"{BASE}/nobody%40{D}", data={"password": "whatever"})
    assert missing.status_code == 404 and missing.json() == {"message": "Credentials not found"}


def test_update_mailbox(client):
    client.post(BASE, data={"login": "carol", "password": "first-pw"})
    assert client.put(f"/v3/{D}/mailboxes/carol%40{D}", data={"password": "mailbox-pw"}).status_code == 200
    assert stored(client, f"carol@{D}")["_password"] == "mailbox-pw"
    assert client.put(f"/v3/{D}/mailboxes/nobody%40{D}", data={"password": "whatever"}).status_code == 404


def test_delete_credentials(client):
    client.post(BASE, data={"login": "alice", "password": "first-pw"})
    out = client.delete(f"{BASE}/alice%40{D}").json()
    assert out == {"message": "Credentials have been deleted", "spec": f"alice@{D}"}
    assert logins(client) == [f"postmaster@{D}"]
    assert client.delete(f"{BASE}/alice%40{D}").status_code == 404
    system = client.delete(f"{BASE}/postmaster%40{D}")
    assert system.status_code == 400 and system.json() == {"message": f"Cannot delete system mailbox: postmaster@{D}"}


def test_delete_all_credentials(client):
    for name in ("a", "b"):
        client.post(BASE, data={"login": name, "password": "secret-pw"})
    assert client.delete(BASE).json() == {"message": "All domain credentials have been deleted", "count": 2}
    assert logins(client) == [f"postmaster@{D}"]
    assert client.delete(BASE).json()["count"] == 0
    assert client.delete("/v3/domains/nope.example.com/credentials").status_code == 404


def test_credentials_of_a_deleted_domain_do_not_come_back(client):
    client.post("/v4/domains", data={"name": "gone.example.com"})
    client.post("/v3/domains/gone.example.com/credentials", data={"login": "old", "password": "secret-pw"})
    client.delete("/v3/domains/gone.example.com")
    client.post("/v4/domains", data={"name": "gone.example.com"})
    items = client.get("/v3/domains/gone.example.com/credentials").json()["items"]
    assert [c["login"] for c in items] == ["postmaster@gone.example.com"]
