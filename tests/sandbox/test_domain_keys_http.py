"""The sandbox's DKIM domain keys, DKIM authority/selector and Automatic Sender Security rotation."""

from __future__ import annotations

from mg_tools.sandbox import DEFAULT_DOMAIN

D = DEFAULT_DOMAIN
PEM = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEgcmVhbCBrZXk=\n-----END RSA PRIVATE KEY-----\n"


def add_domain(client, name: str, *, verify: bool = True, **settings) -> None:
    assert client.post("/v4/domains", data={"name": name, **settings}).status_code == 200
    if verify:
        assert client.put(f"/v4/domains/{name}/verify").status_code == 200


def keys_of(client, name: str) -> dict[str, dict]:
    return {k["selector"]: k for k in client.get(f"/v4/domains/{name}/keys").json()["items"]}


def test_list_all_keys_pages_across_domains(client):
    add_domain(client, "b.example.com")
    add_domain(client, "c.example.com")
    first = client.get("/v1/dkim/keys", params={"limit": 2}).json()
    assert [k["signing_domain"] for k in first["items"]] == ["b.example.com", "c.example.com"]
    assert first["items"][0]["dns_record"]["name"] == "mx._domainkey.b.example.com"
    rest = client.get(first["paging"]["next"]).json()
    assert [k["signing_domain"] for k in rest["items"]] == [D]
    assert client.get(rest["paging"]["next"]).json()["items"] == []
    back = client.get(rest["paging"]["previous"]).json()
    assert [k["signing_domain"] for k in back["items"]] == ["b.example.com", "c.example.com"]
    last = client.get(first["paging"]["last"]).json()
    assert [k["signing_domain"] for k in last["items"]] == ["c.example.com", D]


def test_list_all_keys_filters_and_rejects_bad_pages(client):
    add_domain(client, "b.example.com")
    only = client.get("/v1/dkim/keys", params={"signing_domain": "b.example.com"}).json()["items"]
    assert [(k["signing_domain"], k["selector"]) for k in only] == [("b.example.com", "mx")]
    assert client.get("/v1/dkim/keys", params={"selector": "nope"}).json()["items"] == []
    assert client.get("/v1/dkim/keys", params={"page": "%%%"}).status_code == 400
    assert client.get("/v1/dkim/keys", params={"limit": 101}).status_code == 400


def test_create_key(client):
    out = client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s1", "bits": "1024"})
    assert out.status_code == 200
    body = out.json()
    assert body["signing_domain"] == D and body["selector"] == "s1"
    assert body["dns_record"]["name"] == f"s1._domainkey.{D}"
    assert body["dns_record"]["value"].startswith("k=rsa; p=")
    assert body["dns_record"]["is_active"] is False
    assert set(keys_of(client, D)) == {"mx", "s1"}
    again = client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s1"})
    assert again.status_code == 400 and "already exists" in again.json()["message"]


def test_create_key_validates(client):
    post = lambda **data: client.post("/v1/dkim/keys", data=data)  # noqa: E731
    assert post(selector="s1").json() == {"message": "'signing_domain' parameter is missing"}
    assert post(signing_domain=D).status_code == 400
    assert post(signing_domain=D, selector="bad selector!").status_code == 400
    assert post(signing_domain=D, selector="s1", bits="512").json()["message"] == "bits must be 1024 or 2048"
    assert post(signing_domain=D, selector="s1", pem="not a key").status_code == 400
    assert post(signing_domain="nope.example.com", selector="s1").status_code == 404


BAD_PEM = "invalid PEM: expected an RSA private key in PKCS #1 format (-----BEGIN RSA PRIVATE KEY-----)"


def test_an_imported_pem_must_be_an_rsa_pkcs1_private_key(client):
    post = lambda pem: client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "imp", "pem": pem})  # noqa: E731
    for bad in (
        "-----BEGIN RSA PRIVATE KEY-----\nnot base64!\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEgcmVhbCBrZXk=\n",
    ):
        assert post(bad).json() == {"message": BAD_PEM}
    for label in ("CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY"):  # PKCS #8 and EC keys too
        assert post(PEM.replace("RSA PRIVATE KEY", label)).json() == {"message": f"{BAD_PEM}, not {label}"}
    assert client.get("/v1/dkim/keys", params={"selector": "imp"}).json()["items"] == []
    assert post(PEM).status_code == 200


def test_imported_pem_gives_the_same_public_key(client):
    add_domain(client, "b.example.com")
    one = client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "imp"}, files={"pem": ("k.pem", PEM)})
    two = client.post("/v1/dkim/keys", data={"signing_domain": "b.example.com", "selector": "imp", "pem": PEM})
    assert one.status_code == two.status_code == 200
    assert one.json()["dns_record"]["value"] == two.json()["dns_record"]["value"]


def test_delete_key(client):
    client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s1"})
    deleted = client.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "s1"})
    assert deleted.json() == {"message": "success"}
    assert set(keys_of(client, D)) == {"mx"}
    gone = client.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "s1"})
    assert gone.status_code == 404 and gone.json() == {"message": "domain key not found"}
    last = client.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "mx"})
    assert last.status_code == 400
    assert last.json()["message"] == "cannot delete domain key: must have at least one active domain key"
    assert client.delete("/v1/dkim/keys", params={"selector": "mx"}).status_code == 400


def test_list_domain_keys(client):
    keys = keys_of(client, D)
    assert keys["mx"]["dns_record"] == {
        **keys["mx"]["dns_record"],
        "is_active": True,
        "valid": "valid",
        "record_type": "TXT",
    }
    add_domain(client, "new.example.com", verify=False)
    assert keys_of(client, "new.example.com")["mx"]["dns_record"]["valid"] == "unknown"
    assert client.get("/v4/domains/nope.example.com/keys").status_code == 404


def test_activate_key(client):
    client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "s1"})
    out = client.put(f"/v4/domains/{D}/keys/s1/activate").json()
    assert out == {"message": "domain key activated", "authority": D, "selector": "s1", "active": True}
    assert keys_of(client, D)["s1"]["dns_record"]["is_active"] is True
    assert client.put(f"/v4/domains/{D}/keys/zz/activate").json() == {"message": "domain key not found"}
    add_domain(client, "new.example.com", verify=False)
    assert client.put("/v4/domains/new.example.com/keys/mx/activate").status_code == 400


def test_deactivate_key(client):
    out = client.put(f"/v4/domains/{D}/keys/mx/deactivate").json()
    assert out == {"message": "domain key deactivated", "authority": D, "selector": "mx", "active": False}
    assert keys_of(client, D)["mx"]["dns_record"]["is_active"] is False
    assert client.put(f"/v4/domains/{D}/keys/zz/deactivate").status_code == 404
    assert client.delete("/v1/dkim/keys", params={"signing_domain": D, "selector": "mx"}).status_code == 200


def test_keys_of_a_deleted_domain_do_not_come_back(client):
    add_domain(client, "b.example.com")
    client.post("/v1/dkim/keys", data={"signing_domain": "b.example.com", "selector": "old"})
    client.delete("/v3/domains/b.example.com")
    add_domain(client, "b.example.com")
    assert set(keys_of(client, "b.example.com")) == {"mx"}


def test_update_dkim_authority(client):
    add_domain(client, f"sub.{D}")
    out = client.put(f"/v3/domains/sub.{D}/dkim_authority", data={"self": "false"}).json()
    assert out["changed"] is True and out["message"]
    dkim = [r for r in out["sending_dns_records"] if "_domainkey" in r["name"]]
    assert dkim[0]["name"] == f"mx._domainkey.{D}"
    assert client.put(f"/v3/domains/sub.{D}/dkim_authority", data={"self": "false"}).json()["changed"] is False
    back = client.put(f"/v3/domains/sub.{D}/dkim_authority", data={"self": "true"}).json()
    assert back["changed"] is True
    assert any(r["name"] == f"mx._domainkey.sub.{D}" for r in back["sending_dns_records"])
    assert client.put(f"/v3/domains/{D}/dkim_authority", data={"self": "false"}).status_code == 400
    assert client.put(f"/v3/domains/{D}/dkim_authority").status_code == 400
    assert client.put("/v3/domains/nope.example.com/dkim_authority", data={"self": "true"}).status_code == 404


def test_update_dkim_selector(client):
    out = client.put(f"/v3/domains/{D}/dkim_selector", data={"dkim_selector": "s2024"})
    assert out.json() == {"message": "DKIM selector changed"}
    assert set(keys_of(client, D)) == {"s2024"}
    assert client.get(f"/v4/domains/{D}").json()["domain"]["dkim_selector"] == "s2024"
    client.post("/v1/dkim/keys", data={"signing_domain": D, "selector": "other"})
    assert client.put(f"/v3/domains/{D}/dkim_selector", data={"dkim_selector": "other"}).status_code == 400
    assert client.put(f"/v3/domains/{D}/dkim_selector", data={"dkim_selector": "-bad-"}).status_code == 400
    assert client.put(f"/v3/domains/{D}/dkim_selector").status_code == 200
    assert set(keys_of(client, D)) == {"s2024", "other"}
    assert client.put("/v3/domains/nope.example.com/dkim_selector", data={"dkim_selector": "x"}).status_code == 404


def test_update_rotation(client, clock):
    assert client.put(f"/v1/dkim_management/domains/{D}/rotation", data={"rotation_enabled": "true"}).json() == {
        "Description": "domain not found"
    }
    client.put(f"/v4/domains/{D}", data={"use_automatic_sender_security": "true"})
    out = client.put(
        f"/v1/dkim_management/domains/{D}/rotation", data={"rotation_enabled": "true", "rotation_interval": "5d"}
    ).json()["domain"]
    assert out["name"] == D and out["state"] == "enabled"
    assert out["rotation_enabled"] == "true" and out["rotation_interval"] == "120h"
    assert out["active_selector"] == "pdk1"
    assert [r["name"] for r in out["records"]] == [f"pdk1._domainkey.{D}", f"pdk2._domainkey.{D}"]
    clock.now += 5 * 86400
    again = client.put(f"/v1/dkim_management/domains/{D}/rotation", data={"rotation_enabled": "true"}).json()
    assert again["domain"]["active_selector"] == "pdk2"  # rotated automatically after one interval
    assert again["domain"]["rotation_interval"] == "720h"


def test_update_rotation_validates(client):
    client.put(f"/v4/domains/{D}", data={"use_automatic_sender_security": "true"})
    put = lambda **data: client.put(f"/v1/dkim_management/domains/{D}/rotation", data=data)  # noqa: E731
    assert put().json() == {"Reason": "rotation_enabled is required"}
    bad = put(rotation_enabled="false", rotation_interval="5d")
    assert bad.status_code == 400
    assert bad.json() == {"Reason": "rotation_interval is not allowed unless also enabling DKIM rotation"}
    short = put(rotation_enabled="true", rotation_interval="2d")
    assert short.json() == {"Reason": "rotation_interval must be at least 5 days"}
    assert put(rotation_enabled="true", rotation_interval="soon").status_code == 400
    off = put(rotation_enabled="false").json()["domain"]
    assert off["rotation_enabled"] == "false" and off["rotation_interval"] == ""


def test_rotate_now(client):
    assert client.post(f"/v1/dkim_management/domains/{D}/rotate").status_code == 404
    add_domain(client, "asd.example.com", verify=False, use_automatic_sender_security="true")
    waiting = client.post("/v1/dkim_management/domains/asd.example.com/rotate")
    assert waiting.status_code == 400
    assert waiting.json() == {"Reason": "only domains in enabled can rotate their keys. Current state: wait_verify"}
    client.put("/v4/domains/asd.example.com/verify")
    assert client.post("/v1/dkim_management/domains/asd.example.com/rotate").json() == {"message": "ok"}
    view = client.put("/v1/dkim_management/domains/asd.example.com/rotation", data={"rotation_enabled": "false"})
    assert view.json()["domain"]["active_selector"] == "pdk2"
