"""Input that once broke the sandbox: a lone surrogate stored from JSON made every later listing fail,
and values of the wrong JSON type crashed handlers. Each is now a 400 in Mailgun's shape, and an
unexpected failure still answers JSON, with the sandbox working on afterwards."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from mg_tools.sandbox import DEFAULT_API_KEY, DEFAULT_DOMAIN, create_app, scheduler

DOMAIN = DEFAULT_DOMAIN
SURROGATE = '"a\\ud800b"'  # a JSON string escape that decodes to a lone surrogate


def _json(client, method: str, path: str, raw: str):
    return client.request(method, path, content=raw.encode(), headers={"Content-Type": "application/json"})


def _send(client, **extra):
    form = {"from": f"ann@{DOMAIN}", "to": "bob@example.com", "subject": "Hi", "text": "Hi", **extra}
    response = client.post(f"/v3/{DOMAIN}/messages", data=form)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path", "raw", "listing"),
    [
        ("PUT", "/v1/analytics/tags", f'{{"tag": "news", "description": {SURROGATE}}}', ("GET", f"/v3/{DOMAIN}/tags")),
        ("POST", "/v3/lists", f'{{"address": "dev@{DOMAIN}", "name": {SURROGATE}}}', ("GET", "/v3/lists/pages")),
        (
            "POST",
            f"/v3/{DOMAIN}/unsubscribes",
            f'{{"address": "x@example.com", "tags": [{SURROGATE}]}}',
            ("GET", f"/v3/{DOMAIN}/unsubscribes"),
        ),
    ],
)
def test_json_with_an_unpaired_surrogate_is_400_and_listings_keep_working(client, method, path, raw, listing):
    _send(client, **{"o:tag": "news"})
    response = _json(client, method, path, raw)
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid JSON body: an unpaired surrogate escape (\\ud800-\\udfff must come in pairs)"
    }
    assert client.request(*listing).status_code == 200


def test_json_form_fields_with_an_unpaired_surrogate_are_refused_or_kept_as_text(client, sb):
    for name in ("t:variables", "recipient-variables"):
        response = client.post(
            f"/v3/{DOMAIN}/messages",
            data={
                "from": f"ann@{DOMAIN}",
                "to": "bob@example.com",
                "subject": "Hi",
                "text": "Hi",
                name: f'{{"bob@example.com": {{"n": {SURROGATE}}}}}',
            },
        )
        assert response.status_code == 400 and "is not a valid JSON" in response.json()["message"]
    _send(client, **{"v:data": f'{{"n": {SURROGATE}}}'})
    events = client.get(f"/v3/{DOMAIN}/events")
    assert events.status_code == 200
    assert events.json()["items"][0]["user-variables"] == {"data": f'{{"n": {SURROGATE}}}'}


def test_members_json_with_an_unpaired_surrogate_is_400(client):
    assert client.post("/v3/lists", data={"address": f"dev@{DOMAIN}"}).status_code == 200
    response = client.post(
        f"/v3/lists/dev@{DOMAIN}/members.json",
        data={"members": f'[{{"address": "bob@example.com", "name": {SURROGATE}}}]'},
    )
    assert response.status_code == 400
    assert client.get(f"/v3/lists/dev@{DOMAIN}/members/pages").status_code == 200


def test_json_nested_too_deeply_is_400(client):
    response = _json(client, "POST", "/v3/lists", "[" * 100_000)
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid JSON body: nested too deeply"}


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/v3/routes", {"expression": -1, "action": ["stop()"]}, "'expression' parameter must be a string"),
        (
            "POST",
            "/v3/routes",
            {"expression": "catch_all()", "action": [1]},
            "'action' parameter must be a string or a list of strings",
        ),
        ("POST", "/v4/domains", {"name": 1.5}, "'name' parameter must be a string"),
        (
            "POST",
            f"/v3/domains/{DOMAIN}/credentials",
            {"login": [1]},
            "'login' parameter must be a string or a list of strings",
        ),
        (
            "POST",
            f"/v3/domains/{DOMAIN}/credentials",
            {"login": "a", "password": 0},
            "'password' parameter must be a string or a list of strings",
        ),
        (
            "POST",
            f"/v3/domains/{DOMAIN}/webhooks",
            {"id": "delivered", "url": True},
            "'url' parameter must be a string or a list of strings",
        ),
        ("POST", "/v2/ip_whitelist", {"address": {"a": 1}}, "'address' parameter must be a string"),
        ("POST", f"/v3/{DOMAIN}/templates", {"name": "t", "template": {}}, "'template' parameter must be a string"),
        (
            "POST",
            "/v1/dkim/keys",
            {"signing_domain": {"a": 1}, "selector": "s1"},
            "'signing_domain' parameter must be a string",
        ),
        (
            "PUT",
            f"/v3/domains/{DOMAIN}/dkim_selector",
            {"dkim_selector": []},
            "'dkim_selector' parameter must be a string",
        ),
        (
            "PUT",
            f"/v1/dkim_management/domains/{DOMAIN}/rotation",
            {"rotation_enabled": True, "rotation_interval": [1]},
            "'rotation_interval' parameter must be a string",
        ),
        (
            "POST",
            f"/v3/{DOMAIN}/messages",
            {"from": f"ann@{DOMAIN}", "to": "bob@example.com", "subject": "s", "text": "t", "o:deliverytime": 1.5},
            "'o:deliverytime' parameter is not a valid RFC 2822 date",
        ),
    ],
)
def test_json_values_of_the_wrong_type_are_400(client, method, path, body, message):
    response = client.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"message": message}


@pytest.fixture
def lenient():
    """A client that gets the sandbox's 500 answers instead of the exceptions behind them."""
    with TestClient(create_app(), base_url="https://api.mailgun.net", raise_server_exceptions=False) as client:
        client.auth = ("api", DEFAULT_API_KEY)
        yield client


def test_a_failing_handler_answers_json_and_the_sandbox_works_on(lenient, monkeypatch):
    sb = lenient.app.state.sandbox
    monkeypatch.setattr(sb.state, "list", lambda *a, **k: 1 / 0)
    failed = lenient.get("/_sandbox/messages")
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal server error (ZeroDivisionError); the sandbox logged it"}
    assert failed.headers["X-Mailgun-Sandbox"] == "true"
    monkeypatch.undo()
    assert lenient.get("/_sandbox/messages").status_code == 200


def test_a_failing_hook_answers_json_and_the_sandbox_works_on(lenient, monkeypatch):
    async def broken(sb):
        raise RuntimeError("scheduled delivery failed")

    monkeypatch.setattr(scheduler, "deliver_due", broken)
    failed = lenient.get(f"/v3/{DOMAIN}/events")
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal server error (RuntimeError); the sandbox logged it"}
    assert failed.headers["X-Mailgun-Sandbox"] == "true"
    monkeypatch.undo()
    assert lenient.get(f"/v3/{DOMAIN}/events").status_code == 200


def test_a_handler_failing_behind_an_injected_drop_is_answered_as_json(lenient, monkeypatch):
    sb = lenient.app.state.sandbox
    monkeypatch.setattr(sb.state, "list", lambda *a, **k: json.loads("{"))
    failed = lenient.get("/v3/lists/pages", headers={"X-Sandbox-Fault": "drop=after"})
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal server error (JSONDecodeError); the sandbox logged it"}
    monkeypatch.undo()
    assert lenient.get("/v3/lists/pages").status_code == 200


@pytest.mark.parametrize("limit", ["nan", "inf", "-inf"])
def test_monthly_limit_that_is_not_a_finite_number_is_400(client, limit):
    response = client.put("/v5/accounts/limit/custom/monthly", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid 'limit' parameter: expected a number"}
