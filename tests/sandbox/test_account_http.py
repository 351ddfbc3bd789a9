"""The sandbox's account APIs: keys, IP allowlist, subaccounts, users, settings and sending limits."""

from __future__ import annotations

from mg_tools.sandbox import DEFAULT_DOMAIN, DEFAULT_SIGNING_KEY, create_app
from mg_tools.sandbox.areas import account as account_area

D = DEFAULT_DOMAIN
SUBS = "/v5/accounts/subaccounts"


def new_subaccount(client, name: str) -> str:
    return client.post(SUBS, params={"name": name}).json()["subaccount"]["id"]


# -- API keys -------------------------------------------------------------------------------------


def test_create_key_returns_the_secret_once(client):
    out = client.post("/v1/keys", data={"role": "admin", "description": "ci"}).json()
    key = out["key"]
    assert out["message"] == "great success"
    assert key["secret"].startswith("sandbox-") and key["kind"] == "user" and key["role"] == "admin"
    assert key["requestor"] == "owner@example.com" and key["is_disabled"] is False
    listed = client.get("/v1/keys").json()
    assert listed["total_count"] == 2 and listed["items"][1]["id"] == key["id"]
    assert "secret" not in listed["items"][1] and key["secret"] not in client.get("/v1/keys").text


def test_create_key_validates(client):
    post = lambda **data: client.post("/v1/keys", data=data)  # noqa: E731
    assert post().json() == {"message": "'role' parameter is missing"}
    assert post(role="boss").json() == {"message": "expected `role` param to be one of [admin basic sending developer]"}
    assert post(role="admin", kind="robot").json() == {
        "message": "expected `kind` param to be one of [domain user web] or absent"
    }
    assert post(role="sending", kind="domain").status_code == 400
    assert post(role="sending", kind="user").status_code == 400
    assert post(role="sending", kind="domain", domain_name="nope.example.com").status_code == 404
    assert post(role="basic", kind="web").status_code == 400
    assert post(role="admin", expiration="0").status_code == 400
    assert client.get("/v1/keys").json()["total_count"] == 1  # the primary key only


def test_create_key_account_limit(client, monkeypatch):
    monkeypatch.setattr(account_area, "MAX_API_KEYS", 1)
    assert client.post("/v1/keys", data={"role": "admin"}).status_code == 200
    full = client.post("/v1/keys", data={"role": "admin"})
    assert full.status_code == 403 and full.json() == {"message": "could not create key, account limit reached"}


def test_list_keys_filters_and_expiry(client, clock):
    client.post("/v1/keys", data={"role": "sending", "kind": "domain", "domain_name": D})
    web = client.post(
        "/v1/keys",
        data={"role": "basic", "kind": "web", "user_id": "u1", "email": "w@example.com", "expiration": "999999"},
    ).json()["key"]
    assert web["expires_at"] == "2025-06-16T15:06:40"  # web keys live one day at most
    assert [k["kind"] for k in client.get("/v1/keys", params={"kind": "domain"}).json()["items"]] == ["domain"]
    assert client.get("/v1/keys", params={"domain_name": D}).json()["total_count"] == 1
    assert client.get("/v1/keys", params={"kind": "x"}).status_code == 400
    clock.now += 86400
    listed = {k["kind"]: k for k in client.get("/v1/keys").json()["items"]}
    assert listed["web"]["is_disabled"] is True and listed["web"]["disabled_reason"] == "expired"
    assert listed["domain"]["is_disabled"] is False


def test_delete_key(client):
    key_id = client.post("/v1/keys", data={"role": "admin"}).json()["key"]["id"]
    assert client.delete(f"/v1/keys/{key_id}").json() == {"message": "key deleted"}
    assert [k["description"] for k in client.get("/v1/keys").json()["items"]] == ["primary account key"]
    gone = client.delete(f"/v1/keys/{key_id}")
    assert gone.status_code == 404 and gone.json() == {"message": "no key matching id"}


def test_the_primary_key_is_listed_and_kept(client):
    (primary,) = client.get("/v1/keys").json()["items"]
    assert (primary["kind"], primary["role"], primary["requestor"]) == ("user", "admin", "owner@example.com")
    assert primary["is_disabled"] is False and "secret" not in primary
    assert client.get("/v1/keys", params={"kind": "user"}).json()["items"] == [primary]
    assert client.get("/v1/keys", params={"kind": "domain"}).json()["items"] == []
    refused = client.delete(f"/v1/keys/{primary['id']}")
    assert refused.status_code == 400 and refused.json() == {"message": "the account's primary key cannot be deleted"}
    assert client.get("/v1/keys").json()["items"] == [primary]


def test_regenerate_public_key(client, sb):
    first = client.post("/v1/keys/public").json()
    second = client.post("/v1/keys/public").json()
    assert first["message"] == "The public API key has been successfully regenerated."
    assert first["key"].startswith("sandbox-pubkey-") and first["key"] != second["key"]
    assert sb.state.get("account", "main")["_public_key"] == second["key"]


# -- IP allowlist ---------------------------------------------------------------------------------


def test_allowlist_lifecycle(client):
    assert client.get("/v2/ip_whitelist").json() == {"addresses": []}
    out = client.post("/v2/ip_whitelist", data={"address": "10.11.11.111", "description": "office"}).json()
    assert out == {"addresses": [{"ip_address": "10.11.11.111", "description": "office"}]}
    cidr = client.post("/v2/ip_whitelist", data={"address": "10.0.0.7/8"}).json()["addresses"]
    assert [a["ip_address"] for a in cidr] == ["10.11.11.111", "10.0.0.0/8"]
    updated = client.put("/v2/ip_whitelist", data={"address": "10.0.0.0/8", "description": "vpn"}).json()
    assert updated["addresses"][1] == {"ip_address": "10.0.0.0/8", "description": "vpn"}
    remaining = client.delete("/v2/ip_whitelist", params={"address": "10.11.11.111"}).json()
    assert remaining == {"addresses": [{"ip_address": "10.0.0.0/8", "description": "vpn"}]}


def test_allowlist_errors(client):
    client.post("/v2/ip_whitelist", data={"address": "10.11.11.111"})
    assert client.post("/v2/ip_whitelist", data={"address": "10.11.11.111"}).status_code == 400
    assert client.post("/v2/ip_whitelist", data={"address": "ten.eleven"}).json() == {
        "message": "Invalid IP Address or CIDR"
    }
    assert client.post("/v2/ip_whitelist").json() == {"message": "IP address can not be blank"}
    assert client.put("/v2/ip_whitelist", data={"address": "10.9.9.9"}).json() == {"message": "IP not found"}
    assert client.delete("/v2/ip_whitelist").json() == {"message": "IP address can not be blank"}
    assert client.delete("/v2/ip_whitelist", params={"address": "10.9.9.9"}).status_code == 400


# -- account settings, signing key, activation, sandbox recipients --------------------------------


def test_update_account(client, sb):
    none = client.put("/v5/accounts")
    assert none.status_code == 400 and none.json()["message"].startswith("Either `name`")
    out = client.put("/v5/accounts", params={"name": "Acme", "inactive_session_timeout": "600"})
    assert out.json() == {"message": "Account info has been updated"}
    doc = sb.state.get("account", "main")
    assert doc["name"] == "Acme" and doc["inactive_session_timeout"] == 600
    assert client.put("/v5/accounts", params={"logout_redirect_url": "javascript:x"}).status_code == 400
    assert client.put("/v5/accounts", params={"absolute_session_timeout": "soon"}).status_code == 400


def test_signing_key(client, sb):
    assert client.get("/v5/accounts/http_signing_key").json() == {"http_signing_key": DEFAULT_SIGNING_KEY}
    new = client.post("/v5/accounts/http_signing_key").json()
    assert new["message"] == "regenerated HTTP signing key for account"
    assert new["http_signing_key"].startswith("sandbox-signing-")
    assert client.get("/v5/accounts/http_signing_key").json()["http_signing_key"] == new["http_signing_key"]
    assert sb.signing_key == new["http_signing_key"]  # webhooks are signed with the new key


def test_account_state_survives_a_restart(connect, tmp_path):
    path = str(tmp_path / "state.sqlite")
    with connect(create_app(state_path=path)) as first:
        sub = new_subaccount(first, "Kept")
        key = first.post("/v5/accounts/http_signing_key").json()["http_signing_key"]
    app = create_app(state_path=path)
    with connect(app) as second:
        assert second.get(f"{SUBS}/{sub}").json()["subaccount"]["name"] == "Kept"
        assert second.get("/v5/accounts/http_signing_key").json() == {"http_signing_key": key}
    assert app.state.sandbox.signing_key == key


def test_resend_activation_email(client, sb):
    assert client.post("/v5/accounts/resend_activation_email").json() == {"success": True}
    client.post("/v5/accounts/resend_activation_email")
    assert sb.state.get("account", "main")["_activation_emails_sent"] == 2


def test_sandbox_recipients(client, clock):
    out = client.post("/v5/sandbox/auth_recipients", params={"email": "Test@Example.com"}).json()
    assert out == {"recipient": {"email": "test@example.com", "activated": False}}
    assert client.get("/v5/sandbox/auth_recipients").json()["recipients"][0]["activated"] is False
    clock.now += account_area.CONFIRM_SECONDS
    assert client.get("/v5/sandbox/auth_recipients").json() == {
        "recipients": [{"email": "test@example.com", "activated": True}]
    }
    assert client.post("/v5/sandbox/auth_recipients", params={"email": "test@example.com"}).status_code == 400
    assert client.post("/v5/sandbox/auth_recipients", params={"email": "nope"}).json() == {
        "message": "Invalid email address."
    }


def test_sandbox_recipients_are_limited_to_five(client):
    for i in range(5):
        assert client.post("/v5/sandbox/auth_recipients", params={"email": f"r{i}@example.com"}).status_code == 200
    full = client.post("/v5/sandbox/auth_recipients", params={"email": "r5@example.com"})
    assert full.status_code == 400 and full.json() == {"message": "Only 5 sandbox recipients are allowed"}


def test_delete_sandbox_recipient(client):
    client.post("/v5/sandbox/auth_recipients", params={"email": "a@example.com"})
    out = client.delete("/v5/sandbox/auth_recipients/a%40example.com")
    assert out.json() == {"message": "Sandbox recipient deleted."}
    assert client.get("/v5/sandbox/auth_recipients").json() == {"recipients": []}
    assert client.delete("/v5/sandbox/auth_recipients/a%40example.com").status_code == 404
    assert client.delete("/v5/sandbox/auth_recipients/not-an-address").status_code == 400


# -- custom monthly limits ------------------------------------------------------------------------


def accepted(sb, n: int) -> None:
    for i in range(n):
        sb.state.put("event", f"{D}/{i:012d}", {"event": "accepted", "timestamp": sb.now()})


def test_account_limit_lifecycle(client, sb, clock):
    missing = client.get("/v5/accounts/limit/custom/monthly")
    assert missing.status_code == 404 and missing.json() == {"message": "No threshold for account"}
    assert client.put("/v5/accounts/limit/custom/monthly").status_code == 400
    low = client.put("/v5/accounts/limit/custom/monthly", params={"limit": "999"})
    assert low.json() == {"message": "The limit parameter minumum is 1000"}
    assert client.put("/v5/accounts/limit/custom/monthly", params={"limit": "5000"}).json() == {"success": True}
    accepted(sb, 3)
    assert client.get("/v5/accounts/limit/custom/monthly").json() == {"limit": 5000, "current": 3, "period": "1m"}
    assert client.delete("/v5/accounts/limit/custom/monthly").json() == {"success": True}
    assert client.get("/v5/accounts/limit/custom/monthly").status_code == 404
    again = client.delete("/v5/accounts/limit/custom/monthly")
    assert again.status_code == 400 and again.json() == {"message": "Could not delete threshold for account"}


def test_reenable_account(client, sb, clock, monkeypatch):
    monkeypatch.setattr(account_area, "MIN_MONTHLY_LIMIT", 1)
    client.put("/v5/accounts/limit/custom/monthly", params={"limit": "2"})
    assert client.put("/v5/accounts/limit/custom/enable").status_code == 400  # not at the limit yet
    accepted(sb, 2)
    assert client.put("/v5/accounts/limit/custom/enable").json() == {"success": True}
    assert client.put("/v5/accounts/limit/custom/enable").status_code == 400  # already re-enabled this month


def test_subaccount_limit_lifecycle(client):
    sub = new_subaccount(client, "Limited")
    url = f"{SUBS}/{sub}/limit/custom/monthly"
    assert client.get(url).json() == {"message": "No threshold for account"}
    assert client.put(url, params={"limit": "10000"}).json() == {"success": True}
    assert client.get(url).json() == {"limit": 10000, "current": 0, "period": "1m"}
    assert client.delete(url).json() == {"success": True}
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 400
    assert client.get(f"{SUBS}/unknown/limit/custom/monthly").json() == {"message": "Not a subaccount"}
    assert client.put(f"{SUBS}/unknown/limit/custom/monthly", params={"limit": "5000"}).json() == {
        "message": "Invalid subaccount ID"
    }
    assert client.put(url, params={"limit": "10"}).status_code == 400


# -- subaccounts ----------------------------------------------------------------------------------


def test_create_and_get_subaccount(client):
    out = client.post(SUBS, params={"name": "Marketing"}).json()["subaccount"]
    assert out["name"] == "Marketing" and out["status"] == "open"
    assert out["created_at"].endswith(" GMT") and out["features"]["sending"] == {"enabled": True}
    assert client.get(f"{SUBS}/{out['id']}").json() == {"subaccount": out}
    missing = client.get(f"{SUBS}/nope")
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    assert client.post(SUBS).status_code == 400


def test_list_subaccounts(client):
    ids = {name: new_subaccount(client, name) for name in ("beta", "Alpha", "gamma")}
    client.post(f"{SUBS}/{ids['gamma']}/disable")
    page = client.get(SUBS, params={"sort": "asc", "limit": 2}).json()
    assert page["total"] == 3 and [s["name"] for s in page["subaccounts"]] == ["Alpha", "beta"]
    rest = client.get(SUBS, params={"sort": "asc", "limit": 2, "skip": 2}).json()
    assert [s["name"] for s in rest["subaccounts"]] == ["gamma"]
    assert [s["name"] for s in client.get(SUBS, params={"sort": "desc"}).json()["subaccounts"]] == [
        "gamma",
        "beta",
        "Alpha",
    ]
    assert [s["name"] for s in client.get(SUBS, params={"filter": "ET"}).json()["subaccounts"]] == ["beta"]
    assert [s["name"] for s in client.get(SUBS, params={"enabled": "false"}).json()["subaccounts"]] == ["gamma"]
    assert client.get(SUBS, params={"sort": "sideways"}).status_code == 400
    assert client.get(SUBS, params={"limit": 1001}).status_code == 400


def test_disable_and_enable_subaccount(client):
    sub = new_subaccount(client, "Ops")
    out = client.post(f"{SUBS}/{sub}/disable", params={"reason": "billing", "note": "unpaid"}).json()
    assert out["subaccount"]["status"] == "disabled"
    again = client.post(f"{SUBS}/{sub}/disable")
    assert again.status_code == 400 and again.json() == {"message": "subaccount is already disabled"}
    assert client.post(f"{SUBS}/{sub}/enable").json()["subaccount"]["status"] == "open"
    assert client.post(f"{SUBS}/{sub}/enable").json() == {"message": "subaccount is already enabled"}
    assert client.post(f"{SUBS}/nope/enable").status_code == 404
    assert client.post(f"{SUBS}/nope/disable").status_code == 404


def test_delete_subaccount(client):
    sub = new_subaccount(client, "Temp")
    assert client.delete(SUBS).status_code == 400
    assert client.delete(SUBS, headers={"X-Mailgun-On-Behalf-Of": "nope"}).status_code == 404
    out = client.delete(SUBS, headers={"X-Mailgun-On-Behalf-Of": sub})
    assert out.json() == {"message": "Subaccount successfully deleted"}
    assert client.get(f"{SUBS}/{sub}").json()["subaccount"]["status"] == "closed"
    assert [s["id"] for s in client.get(SUBS, params={"closed": "false"}).json()["subaccounts"]] == []
    assert client.delete(SUBS, headers={"X-Mailgun-On-Behalf-Of": sub}).status_code == 400
    assert client.post(f"{SUBS}/{sub}/enable").json() == {"message": "subaccount is closed"}


def test_update_subaccount_features(client):
    sub = new_subaccount(client, "Features")
    out = client.put(
        f"{SUBS}/{sub}/features",
        content='validations={"enabled":true}&sending={"enabled":false}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    features = out.json()["features"]
    assert features["validations"] == {"enabled": True} and features["sending"] == {"enabled": False}
    assert client.get(f"{SUBS}/{sub}").json()["subaccount"]["features"] == features
    assert client.put(f"{SUBS}/{sub}/features", data={"sending": "yes please"}).status_code == 400
    assert client.put(f"{SUBS}/{sub}/features", data={"unknown": '{"enabled":true}'}).json() == {
        "message": "No valid updates provided"
    }
    assert client.put(f"{SUBS}/nope/features", data={"sending": '{"enabled":true}'}).status_code == 404


# -- users ----------------------------------------------------------------------------------------


def test_list_users(client):
    out = client.get("/v5/users").json()
    assert out["total"] == 2
    assert {u["role"] for u in out["users"]} == {"admin", "developer"}
    assert not any(k.startswith("_") for u in out["users"] for k in u)
    devs = client.get("/v5/users", params={"role": "developer"}).json()
    assert devs["total"] == 1 and devs["users"][0]["email"] == "dev@example.com"
    assert len(client.get("/v5/users", params={"limit": 1, "skip": 1}).json()["users"]) == 1
    assert len(client.get("/v5/users", params={"limit": 0}).json()["users"]) == 2  # 0: not given, as on Mailgun
    assert client.get("/v5/users", params={"limit": -1}).status_code == 400
    assert client.get("/v5/users", params={"role": "king"}).status_code == 400


def test_get_user_and_me(client):
    me = client.get("/v5/users/me").json()
    assert me["is_master"] is True and me["role"] == "admin"
    assert client.get(f"/v5/users/{me['id']}").json() == me
    missing = client.get("/v5/users/nobody")
    assert missing.status_code == 404 and missing.json() == {"message": "No such user exists"}


def test_user_organizations(client, sb):
    user = client.get("/v5/users/me").json()["id"]
    org = new_subaccount(client, "Org")
    assert client.put(f"/v5/users/{user}/org/{org}").json() == {"message": "success"}
    assert sb.state.get("user", user)["_orgs"] == [org]
    assert client.put(f"/v5/users/{user}/org/elsewhere").status_code == 400
    assert client.put(f"/v5/users/nobody/org/{org}").status_code == 404
    assert client.delete(f"/v5/users/{user}/org/{org}").json() == {"message": "success"}
    assert client.delete(f"/v5/users/{user}/org/{org}").status_code == 404
