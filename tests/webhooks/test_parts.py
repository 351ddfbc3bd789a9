"""The listener's parts on their own: signature check, normalization of each event type, used tokens,
and registering a domain's webhooks through the tools."""

from __future__ import annotations

import pytest
from conftest import KEY, signature

from mg_tools import Toolkit
from mg_tools.errors import ConfigurationError
from mg_tools.redis_state import Redis
from mg_tools.triggers import RedisTokens, Refusal, SqliteTokens, Tokens, normalize, register_webhooks, verify

NOW = 1796463524.0
STORAGE = "https://storage-us-east4.api.mailgun.net/v3/domains/mg.example.com/messages/AgEAB"


def test_verify_accepts_mailguns_signature_within_the_window_either_way():
    signed = signature("1796463524", "tok")
    verify(KEY, **signed, now=NOW + 299)
    verify(KEY, **signed, now=NOW - 299)
    with pytest.raises(Refusal, match="300 s old") as stale:
        verify(KEY, **signed, now=NOW + 300.5)
    assert stale.value.reason == "stale" and stale.value.status == 403
    with pytest.raises(Refusal) as forged:
        verify("other", **signed, now=NOW)
    assert forged.value.reason == "forged" and forged.value.status == 401
    with pytest.raises(Refusal, match="not a number"):
        verify(KEY, **signature("soon", "tok"), now=NOW)


def _event(kind: str, **fields) -> dict:
    base = {
        "id": f"id-{kind}",
        "event": kind,
        "timestamp": NOW,
        "recipient": "bob@example.com",
        "tags": ["t"],
        "user-variables": {"order": "7"},
        "message": {"headers": {"message-id": "m1@mg.example.com"}},
        "storage": {"url": STORAGE},
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("accepted"), {"severity": None, "status_code": None}),
        (_event("delivered", **{"delivery-status": {"code": 250, "message": "OK"}}), {"status_code": 250}),
        (
            _event("failed", severity="permanent", reason="bounce", **{"delivery-status": {"code": 550}}),
            {"severity": "permanent", "reason": "bounce", "status_code": 550},
        ),
        (
            _event("failed", severity="temporary", reason="generic", **{"delivery-status": {"description": "later"}}),
            {"severity": "temporary", "status_message": "later"},
        ),
        (_event("opened", ip="203.0.113.9"), {"ip": "203.0.113.9", "url": None}),
        (_event("clicked", ip="203.0.113.9", url="https://shop.test/x"), {"url": "https://shop.test/x"}),
        (_event("unsubscribed", ip="203.0.113.9"), {"ip": "203.0.113.9"}),
        (_event("complained"), {"event": "complained"}),
    ],
    ids=lambda value: value.get("event", "") if isinstance(value, dict) and "id" in value else "",
)
def test_each_event_type_normalizes_to_the_flat_shape(event, expected):
    flat = normalize(event)
    assert set(flat) == {
        "id", "event", "timestamp", "time", "domain", "recipient", "message_id", "severity", "reason",
        "status_code", "status_message", "url", "ip", "tags", "user_variables", "storage_url",
    }  # fmt: skip
    assert flat["id"] == event["id"] and flat["event"] == event["event"]
    assert (flat["timestamp"], flat["time"]) == (NOW, "2026-12-05T09:38:44Z")
    assert flat["domain"] == "mg.example.com" and flat["message_id"] == "m1@mg.example.com"
    assert flat["tags"] == ["t"] and flat["user_variables"] == {"order": "7"} and flat["storage_url"] == STORAGE
    assert {key: flat[key] for key in expected} == expected
    assert normalize(event, raw=True)["raw"] is event


def test_legacy_message_id_comes_from_the_headers_when_not_a_field():
    fields = {"event": "opened", "timestamp": str(NOW), "message-headers": '[["Message-Id", "<m2@mg.example.com>"]]'}
    assert normalize(fields, legacy=True, token="t")["message_id"] == "m2@mg.example.com"


def test_sqlite_tokens_survive_a_restart_and_are_pruned_past_their_window(tmp_path):
    clock = [NOW]
    first = Tokens(SqliteTokens(tmp_path / "tokens.sqlite", clock=lambda: clock[0]), clock=lambda: clock[0])
    assert first.claim("a", NOW + 300) and not first.claim("a", NOW + 300)
    restarted = SqliteTokens(tmp_path / "tokens.sqlite", clock=lambda: clock[0])
    assert not restarted.claim("a", NOW + 300)
    clock[0] = NOW + 301
    assert restarted.claim("a", NOW + 601)  # the old record is past its window
    restarted.release("a")
    assert restarted.claim("a", NOW + 601)


def test_redis_tokens_are_shared_by_replicas(redis_url):
    one, two = Tokens(RedisTokens(Redis(redis_url))), Tokens(RedisTokens(Redis(redis_url)))
    assert one.claim("tok", NOW + 10**9)
    assert not two.claim("tok", NOW + 10**9)
    one.release("tok")
    assert two.claim("tok", NOW + 10**9)


@pytest.fixture
def toolkit(tmp_path):
    with Toolkit(sandbox=True, file_roots=[tmp_path]) as tk:
        yield tk


def test_register_creates_adds_to_and_keeps_webhooks(toolkit):
    domain, url = "mg.example.com", "http://127.0.0.1:8090/hook"
    toolkit.call("create_webhook", domain=domain, event="opened", urls=["https://other.example.com/h"])
    assert register_webhooks(toolkit, domain, url, ["delivered", "opened"]) == {
        "delivered": "created",
        "opened": "updated",
    }
    assert register_webhooks(toolkit, domain, url, ["delivered"]) == {"delivered": "unchanged"}
    assert toolkit.call("get_webhook", domain=domain, event="delivered")["webhook"]["urls"] == [url]
    assert toolkit.call("get_webhook", domain=domain, event="opened")["webhook"]["urls"] == [
        "https://other.example.com/h",
        url,
    ]


def test_register_refuses_unknown_events_before_sending_anything():
    with Toolkit(api_key=None) as offline:  # any request would fail: none is made
        with pytest.raises(ConfigurationError, match="unknown webhook event bounced: choose from accepted, clicked"):
            register_webhooks(offline, "mg.example.com", "http://127.0.0.1:8090/", ["delivered", "bounced"])
