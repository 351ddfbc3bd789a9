"""The sandbox's domain tracking settings and tracking-host TLS certificates."""

from __future__ import annotations

from mg_tools.sandbox import DEFAULT_DOMAIN
from mg_tools.sandbox.areas.tracking import CERT_LIFETIME, CERT_SECONDS

D = DEFAULT_DOMAIN
HOST = f"email.{D}"


def tracking(client, name: str = D) -> dict:
    return client.get(f"/v3/domains/{name}/tracking").json()["tracking"]


def test_get_tracking_defaults(client):
    out = tracking(client)
    assert out["open"]["active"] is False and out["click"]["active"] is False
    assert out["unsubscribe"]["active"] is False
    assert "%unsubscribe_url%" in out["unsubscribe"]["html_footer"]
    assert out["web_scheme"] == "http"
    missing = client.get("/v3/domains/nope.example.com/tracking")
    assert missing.status_code == 404 and missing.json() == {"message": "Domain not found"}


def test_update_click_tracking(client):
    out = client.put(f"/v3/domains/{D}/tracking/click", data={"active": "htmlonly"}).json()
    assert out == {"message": "Domain tracking settings have been updated", "click": {"active": "htmlonly"}}
    assert tracking(client)["click"]["active"] == "htmlonly"
    assert client.put(f"/v3/domains/{D}/tracking/click", data={"active": "true"}).json()["click"]["active"] is True
    assert client.put(f"/v3/domains/{D}/tracking/click").json()["click"]["active"] is True  # omitted: no change
    assert client.put(f"/v3/domains/{D}/tracking/click", data={"active": "sometimes"}).status_code == 400
    assert client.put("/v3/domains/nope.example.com/tracking/click", data={"active": "true"}).status_code == 404


def test_update_open_tracking(client):
    out = client.put(f"/v3/domains/{D}/tracking/open", data={"active": "yes", "place_at_the_top": "true"}).json()
    assert out["open"] == {"active": True, "place_at_the_top": True}
    client.put(f"/v3/domains/{D}/tracking/open", data={"active": "false"})
    assert tracking(client)["open"] == {"active": False, "place_at_the_top": True}
    assert client.put(f"/v3/domains/{D}/tracking/open", data={"active": "perhaps"}).status_code == 400


def test_update_unsubscribe_tracking(client):
    out = client.put(
        f"/v3/domains/{D}/tracking/unsubscribe",
        data={"active": "true", "html_footer": "<a href='%unsubscribe_url%'>bye</a>"},
    ).json()
    assert out["unsubscribe"]["active"] is True
    saved = tracking(client)["unsubscribe"]
    assert saved["html_footer"] == "<a href='%unsubscribe_url%'>bye</a>"
    assert "%unsubscribe_url%" in saved["text_footer"]  # untouched
    assert client.put("/v3/domains/nope.example.com/tracking/unsubscribe", data={"active": "true"}).status_code == 404


def test_tracking_settings_go_with_the_domain(client):
    client.post("/v4/domains", data={"name": "t.example.com"})
    client.put("/v3/domains/t.example.com/tracking/open", data={"active": "true"})
    client.delete("/v3/domains/t.example.com")
    assert client.get("/v3/domains/t.example.com/tracking").status_code == 404
    client.post("/v4/domains", data={"name": "t.example.com"})
    assert tracking(client, "t.example.com")["open"]["active"] is False


def test_generate_certificate(client, clock):
    out = client.post(f"/v2/x509/{HOST}")
    assert out.status_code == 202
    assert out.json() == {"message": "Initiated x509 key pair generation", "location": f"/v2/x509/{HOST}/status"}
    again = client.post(f"/v2/x509/{HOST}")
    assert again.status_code == 409
    assert again.json() == {"Description": f"x509 key pair generation has already been initiated for {HOST}"}
    unknown = client.post("/v2/x509/email.nope.example.com")
    assert unknown.status_code == 404 and unknown.json() == {"Description": "domain not found"}
    client.post("/v4/domains", data={"name": "new.example.com"})
    unverified = client.post("/v2/x509/email.new.example.com")
    assert unverified.status_code == 400 and unverified.json() == {"Reason": "invalid CNAME record"}


def test_get_certificate_status_over_time(client, clock):
    missing = client.get(f"/v2/x509/{HOST}/status")
    assert missing.status_code == 404
    assert missing.json() == {"Description": f"Please initiate x509 key pair generation at POST /v2/x509/{HOST}"}
    client.post(f"/v2/x509/{HOST}")
    assert client.get(f"/v2/x509/{HOST}/status").json() == {
        "status": "processing",
        "error": "Waiting for x509 key pair generation",
    }
    clock.now += CERT_SECONDS
    active = client.get(f"/v2/x509/{HOST}/status").json()
    assert active["status"] == "active" and active["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    clock.now += CERT_LIFETIME
    expired = client.get(f"/v2/x509/{HOST}/status").json()
    assert expired["status"] == "expired" and expired["error"] == "x509 certificate has expired"


def test_regenerate_certificate(client, clock):
    assert client.put(f"/v2/x509/{HOST}").json() == {"Description": "x509 cert not found"}
    client.post(f"/v2/x509/{HOST}")
    busy = client.put(f"/v2/x509/{HOST}")
    assert busy.status_code == 429
    assert busy.json() == {"Description": f"x509 key pair generation job is already in progress for {HOST}"}
    clock.now += CERT_SECONDS
    valid = client.put(f"/v2/x509/{HOST}")
    assert valid.status_code == 409 and valid.json()["Description"].startswith("x509 certificate is still valid until")
    clock.now += CERT_LIFETIME
    renewed = client.put(f"/v2/x509/{HOST}")
    assert renewed.status_code == 202
    assert client.get(f"/v2/x509/{HOST}/status").json()["status"] == "processing"


def test_certificate_follows_the_tracking_host(client, clock):
    client.post(f"/v2/x509/{HOST}")
    client.put(f"/v4/domains/{D}", data={"web_prefix": "track"})
    assert client.get(f"/v2/x509/{HOST}/status").status_code == 404
    assert client.get(f"/v2/x509/track.{D}/status").status_code == 404
    assert client.post(f"/v2/x509/track.{D}").status_code == 202
