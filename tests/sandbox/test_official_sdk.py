"""The official ``mailgun`` Python SDK, pointed at the sandbox served by uvicorn on a loopback port:
a templated send to a mailing list with one bounced member, then events, the stored message and
metrics read back through the SDK."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mg_tools.sandbox.server import BackgroundSandbox

mailgun_client = pytest.importorskip("mailgun.client")
routes = pytest.importorskip("mailgun.routes")

DOMAIN = "mg.example.com"
LIST = "team@mg.example.com"
SDK_METHODS = {"get", "create", "put", "patch", "update", "delete"}


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


# -- every SDK call the sandbox serves ------------------------------------------------------------------

#: An RSA private key in PKCS#1 PEM form (the shape the sandbox checks; not a usable key).
PEM = (
    b"-----BEGIN RSA PRIVATE KEY-----\n"
    b"TUlJRXBBSUJBQUtDQVFFQTBaN3NhbmRib3hvbmx5bm90YXJlYWxrZXlhdGFsbDAwMDAw\n"
    b"-----END RSA PRIVATE KEY-----\n"
)
Answers = dict[tuple[str, str], Any]


def _first(answers: Answers, call: tuple[str, str], *path: str | int) -> Any:
    """A value of an earlier call's JSON answer."""
    value = answers[call].json()
    for step in path:
        value = value[step]
    return value


def _own_key(answers: Answers) -> str:
    return next(k["id"] for k in _first(answers, ("keys", "get"), "items") if k.get("description") == "sdk")


#: (client attribute, method) -> the call's keyword arguments (or a function of the answers so far, for ids
#: made by an earlier call), the status and a key of the JSON answer. Run in this order against one sandbox:
#: what a call reads, updates or deletes was created above it.
SDK_CALLS: dict[tuple[str, str], tuple[dict[str, Any] | Callable[[Answers], dict[str, Any]], int, str]] = {
    ("domainlist", "get"): ({}, 200, "items"),
    ("domains", "create"): (
        {"data": {"name": "sdk.example.com", "use_automatic_sender_security": "true"}},
        200,
        "domain",
    ),
    ("domains", "get"): ({"domain": "sdk.example.com"}, 200, "domain"),
    ("domains", "put"): ({"domain": "sdk.example.com", "data": {"spam_action": "tag"}}, 200, "message"),
    # The older routes of Mailgun's legacy reference, which this SDK still calls.
    ("domains_connection", "get"): ({"domain": DOMAIN}, 200, "connection"),
    ("domains_connection", "put"): ({"domain": DOMAIN, "data": {"require_tls": "true"}}, 200, "message"),
    ("domains_webprefix", "put"): ({"domain": DOMAIN, "data": {"web_prefix": "track"}}, 200, "message"),
    ("domains_tracking", "get"): ({"domain": DOMAIN}, 200, "tracking"),
    ("domains_tracking_open", "put"): ({"domain": DOMAIN, "data": {"active": "yes"}}, 200, "open"),
    ("domains_tracking_click", "put"): ({"domain": DOMAIN, "data": {"active": "yes"}}, 200, "click"),
    ("domains_tracking_unsubscribe", "put"): ({"domain": DOMAIN, "data": {"active": "yes"}}, 200, "unsubscribe"),
    ("domains_dkimauthority", "put"): ({"domain": DOMAIN, "data": {"self": "true"}}, 200, "message"),
    ("domains_dkimselector", "put"): ({"domain": "sdk.example.com", "data": {"dkim_selector": "s1"}}, 200, "message"),
    ("domains_sendingqueues", "get"): ({"domain": DOMAIN}, 200, "regular"),
    ("domains_credentials", "create"): (
        {"domain": DOMAIN, "data": {"login": f"alice@{DOMAIN}", "password": "a-long-secret-1"}},
        200,
        "message",
    ),
    ("domains_credentials", "get"): ({"domain": DOMAIN}, 200, "items"),
    ("domains_credentials", "put"): (
        {"domain": DOMAIN, "login": f"alice@{DOMAIN}", "data": {"password": "another-secret-2"}},
        200,
        "message",
    ),
    ("domains_credentials", "delete"): ({"domain": DOMAIN, "login": f"alice@{DOMAIN}"}, 200, "message"),
    ("domains_webhooks", "create"): (
        {"domain": DOMAIN, "data": {"id": "clicked", "url": ["https://hooks.example.com/c"]}},
        200,
        "webhook",
    ),
    ("domains_webhooks", "get"): ({"domain": DOMAIN, "webhook_name": "clicked"}, 200, "webhook"),
    ("domains_webhooks", "put"): (
        {"domain": DOMAIN, "webhook_name": "clicked", "data": {"url": ["https://hooks.example.com/d"]}},
        200,
        "webhook",
    ),
    ("domains_webhooks", "delete"): ({"domain": DOMAIN, "webhook_name": "clicked"}, 200, "webhook"),
    ("dkim_keys", "create"): (
        {"data": {"signing_domain": DOMAIN, "selector": "sdk1"}, "files": [("pem", ("server.key", PEM))]},
        200,
        "signing_domain",
    ),
    ("dkim_keys", "get"): ({"filters": {"signing_domain": DOMAIN}}, 200, "items"),
    ("dkim_keys", "delete"): ({"filters": {"signing_domain": DOMAIN, "selector": "sdk1"}}, 200, "message"),
    ("bounces", "create"): ({"domain": DOMAIN, "data": {"address": "b@example.com", "code": "550"}}, 200, "message"),
    ("bounces_import", "create"): (
        {"domain": DOMAIN, "files": {"file": b"address,code\nb2@example.com,550\n"}},
        202,
        "message",
    ),
    ("bounces", "get"): ({"domain": DOMAIN, "bounce_address": "b@example.com"}, 200, "address"),
    ("bounces", "delete"): ({"domain": DOMAIN, "bounce_address": "b@example.com"}, 200, "message"),
    ("complaints", "create"): ({"domain": DOMAIN, "data": {"address": "c@example.com"}}, 200, "message"),
    ("complaints_import", "create"): (
        {"domain": DOMAIN, "files": {"file": b"address\nc2@example.com\n"}},
        202,
        "message",
    ),
    ("complaints", "get"): ({"domain": DOMAIN, "complaint_address": "c@example.com"}, 200, "address"),
    ("complaints", "delete"): ({"domain": DOMAIN, "complaint_address": "c@example.com"}, 200, "message"),
    ("unsubscribes", "create"): ({"domain": DOMAIN, "data": {"address": "u@example.com"}}, 200, "message"),
    ("unsubscribes_import", "create"): (
        {"domain": DOMAIN, "files": {"file": b"address\nu2@example.com\n"}},
        202,
        "message",
    ),
    ("unsubscribes", "get"): ({"domain": DOMAIN, "unsubscribe_address": "u@example.com"}, 200, "address"),
    ("unsubscribes", "delete"): ({"domain": DOMAIN, "unsubscribe_address": "u@example.com"}, 200, "message"),
    ("whitelists", "create"): ({"domain": DOMAIN, "data": {"address": "w@example.com"}}, 200, "message"),
    ("whitelists_import", "create"): (
        {"domain": DOMAIN, "files": {"file": b"address\nw2@example.com\n"}},
        202,
        "message",
    ),
    ("whitelists", "get"): ({"domain": DOMAIN, "whitelist_address": "w@example.com"}, 200, "value"),
    ("whitelists", "delete"): ({"domain": DOMAIN, "whitelist_address": "w@example.com"}, 200, "message"),
    ("templates", "create"): ({"domain": DOMAIN, "data": {"name": "sdk", "template": "<p>{{x}}</p>"}}, 200, "template"),
    ("templates", "get"): ({"domain": DOMAIN, "template_name": "sdk"}, 200, "template"),
    ("templates", "put"): ({"domain": DOMAIN, "template_name": "sdk", "data": {"description": "d"}}, 200, "template"),
    ("templates", "delete"): ({"domain": DOMAIN, "template_name": "sdk"}, 200, "template"),
    ("lists", "create"): ({"domain": DOMAIN, "data": {"address": "sdk@mg.example.com"}}, 200, "list"),
    ("lists", "get"): ({"domain": DOMAIN, "address": "sdk@mg.example.com"}, 200, "list"),
    ("lists", "put"): ({"domain": DOMAIN, "address": "sdk@mg.example.com", "data": {"name": "SDK"}}, 200, "list"),
    ("lists_pages", "get"): ({"domain": DOMAIN}, 200, "items"),
    ("lists_members", "create"): (
        {"domain": DOMAIN, "address": "sdk@mg.example.com", "data": {"address": "m@example.com"}},
        200,
        "member",
    ),
    ("lists_members", "get"): (
        {"domain": DOMAIN, "address": "sdk@mg.example.com", "member_address": "m@example.com"},
        200,
        "member",
    ),
    ("lists_members", "put"): (
        {"domain": DOMAIN, "address": "sdk@mg.example.com", "member_address": "m@example.com", "data": {"name": "M"}},
        200,
        "member",
    ),
    ("lists_members_pages", "get"): ({"domain": DOMAIN, "address": "sdk@mg.example.com"}, 200, "items"),
    ("lists_members", "delete"): (
        {"domain": DOMAIN, "address": "sdk@mg.example.com", "member_address": "m@example.com"},
        200,
        "member",
    ),
    ("lists", "delete"): ({"domain": DOMAIN, "address": "sdk@mg.example.com"}, 200, "address"),
    ("messages", "create"): (
        {
            "domain": DOMAIN,
            "data": {"from": "a@mg.example.com", "to": "z@example.com", "subject": "s", "text": "t", "o:tag": "sdk"},
        },
        200,
        "id",
    ),
    ("mimemessage", "create"): (
        {
            "domain": DOMAIN,
            "data": {"to": "z@example.com", "o:tag": "sdk2"},
            "files": {"message": ("m.eml", b"From: a@mg.example.com\r\nTo: z@example.com\r\nSubject: s\r\n\r\nhi\r\n")},
        },
        200,
        "id",
    ),
    ("events", "get"): ({"domain": DOMAIN}, 200, "items"),
    ("tags", "put"): ({"domain": DOMAIN, "tag_name": "sdk", "data": {"description": "SDK"}}, 200, "message"),
    ("tags", "get"): ({"domain": DOMAIN, "tag_name": "sdk"}, 200, "tag"),
    ("tags_stats", "get"): ({"domain": DOMAIN, "tag_name": "sdk", "filters": {"event": "accepted"}}, 200, "stats"),
    ("tags_stats_aggregates_countries", "get"): ({"domain": DOMAIN, "tag_name": "sdk"}, 200, "country"),
    ("tags_stats_aggregates_devices", "get"): ({"domain": DOMAIN, "tag_name": "sdk"}, 200, "device"),
    ("tags_stats_aggregates_providers", "get"): ({"domain": DOMAIN, "tag_name": "sdk"}, 200, "provider"),
    ("analytics_tags", "update"): ({"data": {"tag": "sdk2", "description": "New"}}, 200, "message"),
    ("analytics_tags", "create"): ({"data": {"tag": "sdk2"}}, 200, "items"),
    ("analytics_tags_limits", "get"): ({}, 200, "limit"),
    ("analytics_tags", "delete"): ({"data": {"tag": "sdk2"}}, 200, "message"),
    ("tags", "delete"): ({"domain": DOMAIN, "tag_name": "sdk"}, 200, "message"),
    ("analytics_metrics", "create"): ({"data": {"duration": "1d", "metrics": ["accepted_count"]}}, 200, "items"),
    ("analytics_usage_metrics", "create"): (
        {"data": {"duration": "1d", "metrics": ["email_preview_count"]}},
        200,
        "items",
    ),
    ("analytics_logs", "create"): ({"data": {"duration": "1d"}}, 200, "items"),
    ("bounce_classification", "create"): (
        {"data": {"duration": "1d", "metrics": ["critical_bounce_count"]}},
        200,
        "items",
    ),
    ("routes", "create"): (
        {"data": {"expression": 'match_recipient(".*@mg.example.com")', "action": ["stop()"]}},
        200,
        "route",
    ),
    ("routes", "get"): ({"filters": {"limit": 10}}, 200, "items"),
    ("routes", "put"): (
        lambda got: {"route_id": _first(got, ("routes", "create"), "route", "id"), "data": {"priority": "2"}},
        200,
        "message",
    ),
    ("routes_match", "get"): ({"filters": {"address": "x@mg.example.com"}}, 200, "route"),
    ("ips", "get"): ({"filters": {"dedicated": "true"}}, 200, "items"),
    ("ippools", "create"): ({"data": {"name": "sdk", "description": "SDK"}}, 200, "pool_id"),
    ("ippools", "get"): ({}, 200, "ip_pools"),
    ("ippools", "patch"): (
        lambda got: {"pool_id": _first(got, ("ippools", "create"), "pool_id"), "data": {"description": "SDK pool"}},
        200,
        "message",
    ),
    ("ippools", "delete"): (lambda got: {"pool_id": _first(got, ("ippools", "create"), "pool_id")}, 200, "message"),
    ("routes", "delete"): (lambda got: {"route_id": _first(got, ("routes", "create"), "route", "id")}, 200, "message"),
    ("keys", "create"): ({"data": {"role": "basic", "description": "sdk"}}, 200, "key"),
    ("keys", "get"): ({}, 200, "items"),
    ("keys", "delete"): (lambda got: {"key_id": _own_key(got)}, 200, "message"),
    ("keys_public", "create"): ({}, 200, "key"),
    ("users", "get"): ({}, 200, "users"),
    # Routes the SDK resolves by prefix, which its examples never call.
    ("ip_whitelist", "get"): ({}, 200, "addresses"),
    ("accounts_subaccounts", "get"): ({}, 200, "subaccounts"),
    ("ip_warmups", "get"): ({}, 200, "items"),
    ("dynamic_pools", "get"): ({}, 200, "pools"),
    ("stats_total", "get"): ({"domain": DOMAIN, "filters": {"event": "accepted"}}, 200, "stats"),
    ("x509", "create"): ({"domain": f"track.{DOMAIN}"}, 202, "location"),  # the web prefix set above
    ("x509_status", "get"): ({"domain": f"track.{DOMAIN}"}, 200, "status"),
    ("dkim_management_rotation", "put"): (
        {"domain": "sdk.example.com", "data": {"rotation_enabled": "true", "rotation_interval": "5d"}},
        200,
        "domain",
    ),
    # A domain still waiting for verification cannot rotate: Mailgun's 400 and its "Reason".
    ("dkim_management_rotate", "create"): ({"domain": "sdk.example.com"}, 400, "Reason"),
    ("domains", "delete"): ({"domain": "sdk.example.com"}, 200, "message"),
}

#: SDK calls outside what the sandbox serves, with the reason.
OUTSIDE: dict[tuple[str, str], str] = {
    (
        "domains_messages",
        "get",
    ): "the SDK drops the storage URL its examples pass and sends GET /v3/domains/{d}/messages",
    (
        "domains_ips",
        "create",
    ): "the SDK sends /v4/domains/{domain}/ips, a path Mailgun's reference lacks (v3 is served)",
    ("domains_ips", "delete"): "the SDK sends /v4/domains/{domain}/ips/{ip}, a path Mailgun's reference lacks",
    ("domains_ips", "get"): "the SDK sends /v4/domains/{domain}/ips, a path Mailgun's reference lacks",
    ("account_templates", "create"): "account-level templates (/v4/templates) are not among the served operations",
    ("account_templates", "delete"): "account-level templates (/v4/templates) are not among the served operations",
    ("account_templates", "get"): "account-level templates (/v4/templates) are not among the served operations",
    ("account_templates", "put"): "account-level templates (/v4/templates) are not among the served operations",
    ("addressvalidate", "create"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate", "get"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_bulk", "create"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_bulk", "get"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_bulk", "delete"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_preview", "create"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_preview", "get"): "Validations: a separate product the sandbox does not emulate",
    ("addressvalidate_preview", "delete"): "Validations: a separate product the sandbox does not emulate",
    ("inbox_tests", "create"): "Inbox placement: a separate product the sandbox does not emulate",
    ("inbox_tests", "delete"): "Inbox placement: a separate product the sandbox does not emulate",
    ("inbox_tests", "get"): "Inbox placement: a separate product the sandbox does not emulate",
    ("inbox", "get"): "Inbox placement: a separate product the sandbox does not emulate",
    ("resendmessage", "create"): "resending a stored message is not among the served operations",
}

#: Route keys of the SDK's routing table (``mailgun.routes``) that no call above reaches, with the reason.
OUTSIDE_ROUTES: dict[str, str] = {
    "credentials": "another name of a key called above",
    "webhooks": "another name of a key called above",
    "ip_pools": "another name of a key called above",
    "dkim": "another name of a key called above",
    "bounceclassification": "another name of a key called above",
    "resend_message": "another name of a key called above",
    "address": "another name of a key called above",
    "address_bulk": "a product or API the sandbox does not emulate",
    "address_preview": "a product or API the sandbox does not emulate",
    "addressparse": "a product or API the sandbox does not emulate",
    "addressvalidate": "a product or API the sandbox does not emulate",
    "inbox": "a product or API the sandbox does not emulate",
    "inboxready": "a product or API the sandbox does not emulate",
    "inspect": "a product or API the sandbox does not emulate",
    "preview": "a product or API the sandbox does not emulate",
    "preview_v2": "a product or API the sandbox does not emulate",
    "dmarc": "a product or API the sandbox does not emulate",
    "maverick_score": "a product or API the sandbox does not emulate",
    "monitoring": "a product or API the sandbox does not emulate",
    "reputation": "a product or API the sandbox does not emulate",
    "reputationanalytics": "a product or API the sandbox does not emulate",
    "reputationanalytics_v2": "a product or API the sandbox does not emulate",
    "alerts": "a product or API the sandbox does not emulate",
    "thresholds": "a product or API the sandbox does not emulate",
    "spamtraps": "a product or API the sandbox does not emulate",
    "envelopes": "a product or API the sandbox does not emulate",
    "forwards": "a product or API the sandbox does not emulate",
    "mailboxes": "the SDK sends PUT /v3/{domain}/credentials/{login}, not Mailgun's /v3/{domain}/mailboxes/{login}",
    "sandbox": "the SDK turns auth_recipients into /v5/sandbox/auth/recipients, a path Mailgun does not have",
    "account_webhooks": "a product or API the sandbox does not emulate",
    "account_templates": "a product or API the sandbox does not emulate",
    "subaccount_ip_pool": "a product or API the sandbox does not emulate",
    "subaccount_ip_pools": "a product or API the sandbox does not emulate",
}


def _route_key(attribute: str) -> str:
    """The key of the SDK's routing table an attribute resolves through (exact, prefix, then first part)."""
    if attribute in routes.EXACT_ROUTES or attribute in routes.PREFIX_ROUTES:
        return attribute
    return attribute.split("_")[0]


def _calls_in_the_sdk_examples() -> set[tuple[str, str]]:
    """Every ``client.<attribute>.<method>(...)`` the SDK's own examples make."""
    found = set()
    for path in (Path(mailgun_client.__file__).parent / "examples").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SDK_METHODS
                and isinstance(node.func.value, ast.Attribute)
                and isinstance(node.func.value.value, ast.Name)
                and node.func.value.value.id == "client"
            ):
                found.add((node.func.value.attr, node.func.attr))
    return found


def test_every_call_of_the_sdk_is_run_or_set_aside():
    examples = _calls_in_the_sdk_examples()
    assert len(examples) > 50, "the SDK's examples moved: enumerate its calls from their new place"
    assert not examples - SDK_CALLS.keys() - OUTSIDE.keys(), "new SDK calls: add them to SDK_CALLS or OUTSIDE"
    assert not SDK_CALLS.keys() & OUTSIDE.keys()
    reached = {_route_key(attribute) for attribute, _ in SDK_CALLS}
    table = set(routes.EXACT_ROUTES) | set(routes.PREFIX_ROUTES)
    assert not table - reached - OUTSIDE_ROUTES.keys(), "new SDK routes: call them or list them in OUTSIDE_ROUTES"
    assert not reached & OUTSIDE_ROUTES.keys()


@pytest.fixture(scope="module")
def answers(sandbox, sdk) -> dict[tuple[str, str], Any]:
    """Every call of SDK_CALLS, in order, against one sandbox."""
    got: Answers = {}
    for (attribute, method), (kwargs, _, _) in SDK_CALLS.items():
        arguments = kwargs(got) if callable(kwargs) else kwargs
        got[attribute, method] = getattr(getattr(sdk, attribute), method)(**arguments)
    return got


@pytest.mark.parametrize("call", list(SDK_CALLS), ids="{0[0]}.{0[1]}".format)
def test_each_sdk_call_the_sandbox_serves(answers, call):
    _, status, key = SDK_CALLS[call]
    response = answers[call]
    assert response.status_code == status, response.text
    assert key in response.json(), response.text
