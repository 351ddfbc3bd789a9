import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

D = "mg.example.com"
HOOK = "https://hooks.example.com/mailgun"


@pytest.mark.vcr
def test_list_webhooks(mg):
    assert mg.call("list_webhooks", domain=D) == {"webhooks": {}}
    mg.call("create_webhook", domain=D, event="delivered", urls=[HOOK])
    mg.call("create_webhook", domain=D, event="permanent_fail", urls=[HOOK, "https://backup.example.com/mg"])
    assert mg.call("list_webhooks", domain=D) == {
        "webhooks": {
            "delivered": {"urls": [HOOK]},
            "permanent_fail": {"urls": [HOOK, "https://backup.example.com/mg"]},
        }
    }
    with pytest.raises(NotFound, match="Domain not found"):
        mg.call("list_webhooks", domain="nope.example.com")


@pytest.mark.vcr
def test_create_webhook(mg):
    out = mg.call("create_webhook", domain=D, event="opened", urls=[HOOK, "http://localhost:8025/hook"])
    assert out == {"message": "Webhook has been created", "webhook": {"urls": [HOOK, "http://localhost:8025/hook"]}}
    with pytest.raises(BadRequest, match="already exists"):
        mg.call("create_webhook", domain=D, event="opened", urls=[HOOK])


@pytest.mark.vcr
def test_get_webhook(mg):
    mg.call("create_webhook", domain=D, event="clicked", urls=[HOOK])
    assert mg.call("get_webhook", domain=D, event="clicked") == {"webhook": {"urls": [HOOK]}}
    with pytest.raises(NotFound, match="Webhook not found"):
        mg.call("get_webhook", domain=D, event="complained")


@pytest.mark.vcr
def test_update_webhook(mg):
    mg.call("create_webhook", domain=D, event="delivered", urls=[HOOK])
    out = mg.call("update_webhook", domain=D, event="delivered", urls=["https://new.example.com/a", HOOK])
    assert out == {"message": "Webhook has been updated", "webhook": {"urls": ["https://new.example.com/a", HOOK]}}
    assert mg.call("get_webhook", domain=D, event="delivered")["webhook"]["urls"] == ["https://new.example.com/a", HOOK]
    with pytest.raises(NotFound):
        mg.call("update_webhook", domain=D, event="opened", urls=[HOOK])


@pytest.mark.vcr
def test_delete_webhook(mg):
    mg.call("create_webhook", domain=D, event="unsubscribed", urls=[HOOK])
    out = mg.call("delete_webhook", domain=D, event="unsubscribed")
    assert out == {"message": "Webhook has been deleted", "webhook": {"urls": [HOOK]}}
    with pytest.raises(NotFound):
        mg.call("get_webhook", domain=D, event="unsubscribed")


def test_urls_are_repeated_fields(dry):
    out = dry.dry_run("create_webhook", domain=D, event="temporary_fail", urls=[HOOK, "http://127.0.0.1:9000/h"])
    assert (out["method"], out["url"]) == ("POST", "https://api.mailgun.net/v3/domains/mg.example.com/webhooks")
    assert out["form"] == [["id", "temporary_fail"], ["url", HOOK], ["url", "http://127.0.0.1:9000/h"]]
    out = dry.dry_run("update_webhook", domain=D, event="delivered", urls=[HOOK])
    assert out["method"] == "PUT" and out["url"].endswith("/webhooks/delivered") and out["form"] == [["url", HOOK]]


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://hooks.example.com/mailgun", "https"),
        ("ftp://hooks.example.com/mailgun", "https"),
        ("http://127.0.0.1.attacker.example/x", "https"),
        ("https://user:pass@hooks.example.com/mailgun", "credentials"),
        ("https://token@hooks.example.com/mailgun", "credentials"),
        ("https://hooks.example.com/a b", "pattern"),
    ],
)
def test_unsafe_webhook_urls_are_refused(dry, url, problem):
    with pytest.raises(InvalidArguments, match=problem) as info:
        dry.dry_run("create_webhook", domain=D, event="delivered", urls=[url])
    assert info.value.errors[0][0] == "urls.0"
    with pytest.raises(InvalidArguments, match=problem):
        dry.dry_run("update_webhook", domain=D, event="delivered", urls=[HOOK, url])


def test_webhook_ids_and_url_counts_are_checked(dry):
    with pytest.raises(InvalidArguments, match="event"):
        dry.dry_run("create_webhook", domain=D, event="bounce", urls=[HOOK])
    with pytest.raises(InvalidArguments, match="urls"):
        dry.dry_run("create_webhook", domain=D, event="delivered", urls=[f"{HOOK}/{i}" for i in range(4)])
    with pytest.raises(InvalidArguments, match="urls"):
        dry.dry_run("create_webhook", domain=D, event="delivered", urls=[])
