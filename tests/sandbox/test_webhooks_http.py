"""The sandbox's domain webhooks, spoken to directly over HTTP."""

import asyncio

import httpx
import pytest

from mg_tools.sandbox import DEFAULT_API_KEY, create_app

BASE = "https://api.mailgun.net"
D = "mg.example.com"
HOOKS = f"/v3/domains/{D}/webhooks"
A, B, C = "https://a.example.com/h", "https://b.example.com/h", "https://c.example.com/h"


class Http:
    """A synchronous face on an async httpx client bound to a fresh sandbox app."""

    def __init__(self) -> None:
        self.app = create_app()
        self.state = self.app.state.sandbox.state
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE,
                                        auth=("api", DEFAULT_API_KEY))

    def __getattr__(self, method):
        def call(url, **kw):
            return self.loop.run_until_complete(self.client.request(method.upper(), url, **kw))
        return call

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def http():
    client = Http()
    yield client
    client.close()


def test_create_takes_repeated_urls_and_stores_them_by_event_id(http):
    r = http.post(HOOKS, data={"id": "delivered", "url": [A, B]})
    assert r.json() == {"message": "Webhook has been created", "webhook": {"urls": [A, B]}}
    assert http.state.get("webhook", f"{D}/delivered") == {"urls": [A, B]}
    http.post(HOOKS, files={"id": (None, "opened"), "url": (None, C)})  # multipart works the same
    assert http.get(HOOKS).json() == {"webhooks": {"delivered": {"urls": [A, B]}, "opened": {"urls": [C]}}}


@pytest.mark.parametrize("data, message", [
    ({"id": "bounce", "url": A}, "Invalid webhook id 'bounce'"),
    ({"url": A}, "'id' parameter is missing"),
    ({"id": "delivered"}, "'url' parameter is missing"),
    ({"id": "delivered", "url": [A, B, C, "https://d.example.com/h"]}, "at most 3"),
    ({"id": "delivered", "url": "not a url"}, "is not a valid url"),
    ({"id": "delivered", "url": "ftp://a.example.com/h"}, "is not a valid url"),
    ({"id": "delivered", "url": "https://[::1"}, "is not a valid url"),
])
def test_create_rejects_bad_input(http, data, message):
    r = http.post(HOOKS, data=data)
    assert r.status_code == 400 and message in r.json()["message"]
    assert http.get(HOOKS).json() == {"webhooks": {}}


def test_create_twice_is_refused(http):
    http.post(HOOKS, data={"id": "clicked", "url": A})
    r = http.post(HOOKS, data={"id": "clicked", "url": B})
    assert r.status_code == 400 and "already exists" in r.json()["message"]
    assert http.get(f"{HOOKS}/clicked").json() == {"webhook": {"urls": [A]}}


def test_get_update_delete(http):
    assert http.get(f"{HOOKS}/complained").json() == {"message": "Webhook not found"}
    assert http.put(f"{HOOKS}/complained", data={"url": A}).status_code == 404
    http.post(HOOKS, data={"id": "complained", "url": A})
    r = http.put(f"{HOOKS}/complained", data={"url": [B, C]})
    assert r.json() == {"message": "Webhook has been updated", "webhook": {"urls": [B, C]}}
    assert http.put(f"{HOOKS}/complained", data={"url": [A, B, C, A + "x"]}).status_code == 400
    assert http.get(f"{HOOKS}/complained").json() == {"webhook": {"urls": [B, C]}}
    assert http.delete(f"{HOOKS}/complained").json() == {"message": "Webhook has been deleted",
                                                           "webhook": {"urls": [B, C]}}
    assert http.get(f"{HOOKS}/complained").status_code == 404
    assert http.get(f"{HOOKS}/bounce").status_code == 400


def test_unknown_domain_is_404(http):
    r = http.get("/v3/domains/nope.example.com/webhooks")
    assert (r.status_code, r.json()) == (404, {"message": "Domain not found"})
    assert http.post("/v3/domains/nope.example.com/webhooks", data={"id": "opened", "url": A}).status_code == 404
