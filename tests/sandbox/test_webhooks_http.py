"""The sandbox's domain webhooks, spoken to directly over HTTP."""

import pytest

D = "mg.example.com"
HOOKS = f"/v3/domains/{D}/webhooks"
A, B, C = "https://a.example.com/h", "https://b.example.com/h", "https://c.example.com/h"


def test_create_takes_repeated_urls_and_stores_them_by_event_id(client, sb):
    r = client.post(HOOKS, data={"id": "delivered", "url": [A, B]})
    assert r.json() == {"message": "Webhook has been created", "webhook": {"urls": [A, B]}}
    assert sb.state.get("webhook", f"{D}/delivered") == {"urls": [A, B]}
    client.post(HOOKS, files={"id": (None, "opened"), "url": (None, C)})  # multipart works the same
    assert client.get(HOOKS).json() == {"webhooks": {"delivered": {"urls": [A, B]}, "opened": {"urls": [C]}}}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": "bounce", "url": A}, "Invalid webhook id 'bounce'"),
        ({"url": A}, "'id' parameter is missing"),
        ({"id": "delivered"}, "'url' parameter is missing"),
        ({"id": "delivered", "url": [A, B, C, "https://d.example.com/h"]}, "at most 3"),
        ({"id": "delivered", "url": "not a url"}, "is not a valid url"),
        ({"id": "delivered", "url": "ftp://a.example.com/h"}, "is not a valid url"),
        ({"id": "delivered", "url": "https://[::1"}, "is not a valid url"),
    ],
)
def test_create_rejects_bad_input(client, data, message):
    r = client.post(HOOKS, data=data)
    assert r.status_code == 400 and message in r.json()["message"]
    assert client.get(HOOKS).json() == {"webhooks": {}}


def test_create_twice_is_refused(client):
    client.post(HOOKS, data={"id": "clicked", "url": A})
    r = client.post(HOOKS, data={"id": "clicked", "url": B})
    assert r.status_code == 400 and "already exists" in r.json()["message"]
    assert client.get(f"{HOOKS}/clicked").json() == {"webhook": {"urls": [A]}}


def test_get_update_delete(client):
    assert client.get(f"{HOOKS}/complained").json() == {"message": "Webhook not found"}
    assert client.put(f"{HOOKS}/complained", data={"url": A}).status_code == 404
    client.post(HOOKS, data={"id": "complained", "url": A})
    r = client.put(f"{HOOKS}/complained", data={"url": [B, C]})
    assert r.json() == {"message": "Webhook has been updated", "webhook": {"urls": [B, C]}}
    assert client.put(f"{HOOKS}/complained", data={"url": [A, B, C, A + "x"]}).status_code == 400
    assert client.get(f"{HOOKS}/complained").json() == {"webhook": {"urls": [B, C]}}
    assert client.delete(f"{HOOKS}/complained").json() == {
        "message": "Webhook has been deleted",
        "webhook": {"urls": [B, C]},
    }
    assert client.get(f"{HOOKS}/complained").status_code == 404
    assert client.get(f"{HOOKS}/bounce").status_code == 400


def test_unknown_domain_is_404(client):
    r = client.get("/v3/domains/nope.example.com/webhooks")
    assert (r.status_code, r.json()) == (404, {"message": "Domain not found"})
    assert client.post("/v3/domains/nope.example.com/webhooks", data={"id": "opened", "url": A}).status_code == 404
