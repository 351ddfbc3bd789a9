"""The sandbox scopes domains by ``X-Mailgun-On-Behalf-Of``, as Mailgun does for subaccounts."""

from __future__ import annotations

import pytest

from mg_tools.sandbox import DEFAULT_DOMAIN

SUBS = "/v5/accounts/subaccounts"
UNKNOWN = "0123456789abcdef01234567"
SEND = {"from": "a@client.example.com", "to": "bob@example.com", "subject": "Hi", "text": "Hello"}


@pytest.fixture
def sub(client) -> str:
    return client.post(SUBS, params={"name": "Client"}).json()["subaccount"]["id"]


def acting(sub_id: str) -> dict[str, str]:
    return {"X-Mailgun-On-Behalf-Of": sub_id}


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [d["name"] for d in response.json()["items"]]


def create(client, sub_id: str, name: str = "client.example.com") -> dict:
    response = client.post("/v4/domains", data={"name": name}, headers=acting(sub_id))
    assert response.status_code == 200, response.text
    return response.json()["domain"]


def test_a_domain_created_for_a_subaccount_belongs_to_it(client, sub):
    assert create(client, sub)["subaccount_id"] == sub
    assert names(client.get("/v4/domains", headers=acting(sub))) == ["client.example.com"]
    assert names(client.get("/v4/domains")) == [DEFAULT_DOMAIN]
    assert names(client.get("/v4/domains", params={"include_subaccounts": "true"})) == [
        "client.example.com",
        DEFAULT_DOMAIN,
    ]
    assert client.get("/v4/domains/client.example.com", headers=acting(sub)).status_code == 200


def test_a_domain_that_is_not_yours_is_not_found(client, sub):
    create(client, sub)
    parent = client.get("/v4/domains/client.example.com")
    assert parent.status_code == 404 and parent.json() == {"message": "Domain not found"}
    for method, path in (("GET", ""), ("PUT", "/verify"), ("DELETE", "")):
        prefix = "/v3/domains/" if method == "DELETE" else "/v4/domains/"
        answer = client.request(method, f"{prefix}{DEFAULT_DOMAIN}{path}", headers=acting(sub))
        assert answer.status_code == 404 and answer.json() == {"message": "Domain not found"}
    sent = client.post(f"/v3/{DEFAULT_DOMAIN}/messages", data=SEND, headers=acting(sub))
    assert sent.status_code == 404
    assert client.get(f"/v4/domains/{DEFAULT_DOMAIN}").status_code == 200  # still there for its owner


def test_a_subaccount_sends_from_its_own_domain_until_disabled(client, sub):
    create(client, sub)
    assert client.post("/v3/client.example.com/messages", data=SEND, headers=acting(sub)).status_code == 200
    client.post(f"{SUBS}/{sub}/disable")
    refused = client.post("/v3/client.example.com/messages", data=SEND, headers=acting(sub))
    assert refused.status_code == 403
    assert refused.json() == {"message": f"Forbidden: the subaccount {sub} is disabled and cannot send"}
    client.post(f"{SUBS}/{sub}/enable")
    assert client.post("/v3/client.example.com/messages", data=SEND, headers=acting(sub)).status_code == 200


@pytest.mark.parametrize("given", [UNKNOWN, "not-an-id"])
def test_an_unknown_subaccount_is_refused(client, given):
    for response in (
        client.get("/v4/domains", headers=acting(given)),
        client.post("/v4/domains", data={"name": "x.example.com"}, headers=acting(given)),
        client.post(f"/v3/{DEFAULT_DOMAIN}/messages", data=SEND, headers=acting(given)),
    ):
        assert response.status_code == 403
        assert response.json() == {"message": f"Forbidden: {given!r} is not a subaccount of this account"}
    assert names(client.get("/v4/domains")) == [DEFAULT_DOMAIN]


def test_a_closed_subaccount_is_refused(client, sub):
    assert client.delete(SUBS, headers=acting(sub)).status_code == 200
    assert client.get("/v4/domains", headers=acting(sub)).status_code == 403


def test_domain_names_stay_unique_across_subaccounts(client, sub):
    taken = client.post("/v4/domains", data={"name": DEFAULT_DOMAIN}, headers=acting(sub))
    assert taken.status_code == 400 and "already taken" in taken.json()["message"]
