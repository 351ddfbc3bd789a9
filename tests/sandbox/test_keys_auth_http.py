"""Keys created in the sandbox authenticate, with what their kind and role allow; revoked ones stop."""

from __future__ import annotations

import pytest

from mg_tools import Policy, Toolkit
from mg_tools.errors import Unauthorized
from mg_tools.sandbox import DEFAULT_DOMAIN
from mg_tools.sandbox.server import BackgroundSandbox

D = DEFAULT_DOMAIN
MESSAGE = {"from": f"ann@{D}", "to": "bob@example.com", "subject": "Hi", "text": "Hello"}


@pytest.fixture
def as_key(client):
    """``as_key(**fields)``: the secret of a new key, made with the primary key."""

    def make(**fields) -> str:
        return client.post("/v1/keys", data=fields).json()["key"]["secret"]

    return make


def call(client, secret: str, method: str, path: str, **kw):
    """One request authenticated with ``secret`` instead of the primary key."""
    return client.request(method, path, auth=("api", secret), **kw)


def test_a_domain_sending_key_sends_for_its_domain_only(client, as_key):
    other = "other.example.com"
    client.post("/v4/domains", data={"name": other})
    secret = as_key(role="sending", kind="domain", domain_name=D)
    sent = call(client, secret, "POST", f"/v3/{D}/messages", data=MESSAGE)
    assert sent.status_code == 200 and sent.json()["message"] == "Queued. Thank you."
    mime = call(
        client,
        secret,
        "POST",
        f"/v3/{D}/messages.mime",
        data={"to": "bob@example.com"},
        files={"message": ("m.eml", b"From: ann@mg.example.com\r\nSubject: Hi\r\n\r\nHello\r\n", "message/rfc822")},
    )
    assert mime.status_code == 200, mime.text
    for method, path, data in (
        ("POST", f"/v3/{other}/messages", MESSAGE),
        ("GET", f"/v3/{D}/events", None),
        ("GET", "/v4/domains", None),
        ("POST", "/v1/keys", {"role": "admin"}),
        ("DELETE", f"/v3/{D}/bounces/bob@example.com", None),
    ):
        refused = call(client, secret, method, path, data=data)
        assert (refused.status_code, refused.json()) == (401, "Forbidden"), (method, path)
    assert len(client.get("/_sandbox/messages").json()["items"]) == 2


def test_users_me_needs_a_key_held_by_a_user(client, as_key):
    domain_key = as_key(role="sending", kind="domain", domain_name=D)
    refused = call(client, domain_key, "GET", "/v5/users/me")
    assert refused.status_code == 403 and refused.json() == {"message": "Incompatible key for this endpoint"}
    for fields in ({"role": "basic"}, {"role": "admin", "kind": "web", "user_id": "u1", "email": "w@example.com"}):
        assert call(client, as_key(**fields), "GET", "/v5/users/me").json()["email"] == "owner@example.com"
    assert client.get("/v5/users/me").json()["is_master"] is True  # the primary key is the owner's


def test_roles_decide_what_a_user_key_may_do(client, as_key):
    analyst, developer, admin = (as_key(role=role) for role in ("basic", "developer", "admin"))
    assert call(client, analyst, "GET", "/v4/domains").status_code == 200
    for method, path in (("POST", "/v3/routes"), ("GET", "/v1/keys"), ("DELETE", f"/v3/{D}/bounces")):
        refused = call(client, analyst, method, path)
        assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"}), (method, path)
    route = {"expression": "catch_all()", "action": "stop()"}
    assert call(client, developer, "POST", "/v3/routes", data=route).status_code == 200
    assert call(client, developer, "GET", "/v1/keys").status_code == 200
    for method, path, data in (
        ("POST", "/v1/keys", {"role": "admin"}),
        ("POST", f"/v3/domains/{D}/credentials", {"login": "dev", "password": "pass-word"}),
        ("POST", "/v2/ip_whitelist", {"address": "192.0.2.1"}),
    ):
        assert call(client, developer, method, path, data=data).status_code == 403, path
    assert call(client, admin, "POST", "/v1/keys", data={"role": "basic"}).status_code == 200


def test_a_deleted_key_is_revoked_at_once(client):
    key = client.post("/v1/keys", data={"role": "admin"}).json()["key"]
    assert call(client, key["secret"], "GET", "/v4/domains").status_code == 200
    client.delete(f"/v1/keys/{key['id']}")
    gone = call(client, key["secret"], "GET", "/v4/domains")
    assert gone.status_code == 401 and gone.json() == {"message": "Invalid private key"}


def test_an_expired_key_no_longer_authenticates(client, clock, as_key):
    secret = as_key(role="admin", expiration="60")
    assert call(client, secret, "GET", "/v4/domains").status_code == 200
    clock.now += 60
    assert call(client, secret, "GET", "/v4/domains").status_code == 401


def test_only_the_primary_key_reaches_the_sandbox_controls(client, as_key):
    admin = as_key(role="admin")
    assert call(client, admin, "POST", "/_sandbox/reset").status_code == 403
    assert call(client, "not-a-key", "GET", "/v4/domains").status_code == 401
    assert client.get("/_sandbox/health").status_code == 200


def test_a_sending_key_made_with_create_key_sends_through_the_tools_and_nothing_else():
    grants = Policy.build(grants="*:*,keys", allow_secrets=True)
    message = {"sender": "ann@mg.example.com", "to": ["bob@example.com"], "subject": "Hi", "text": "Hi"}
    with BackgroundSandbox(log_level="critical") as sandbox:
        with Toolkit(api_key=sandbox.api_key, base_url=sandbox.url, policy=grants) as owner:
            secret = owner.call("create_key", role="sending", kind="domain", domain=D)["key"]["secret"]
            owner.call("create_domain", domain="other.example.com")
        with Toolkit(api_key=secret, base_url=sandbox.url, policy=grants) as sender:
            assert sender.call("send_message", domain=D, **message)["message"] == "Queued. Thank you."
            with pytest.raises(Unauthorized, match="Forbidden"):
                sender.call("send_message", domain="other.example.com", **message)
            for name, args in (("list_domains", {}), ("create_key", {"role": "admin"}), ("list_events", {"domain": D})):
                with pytest.raises(Unauthorized):
                    sender.call(name, **args)
        assert len(sandbox.sandbox.state.list("message")) == 1
