"""Sandbox v1 analytics: metrics, usage metrics, logs and account tags, computed from events."""

from __future__ import annotations

import json

import pytest

from mg_tools.sandbox.areas.domains import new_domain

DOMAIN = "mg.example.com"
OTHER = "news.example.org"
DAY = 86400.0
T0 = 1_790_035_200.0  # Tue, 22 Sep 2026 00:00:00 +0000
START, END = "Mon, 21 Sep 2026 00:00:00 +0000", "Thu, 24 Sep 2026 00:00:00 +0000"


@pytest.fixture
def traffic(sb, clock, send_at):
    """Day 1: two sends on mg.example.com (one bounced recipient); day 2: one send on another domain."""
    sb.state.put("domain", OTHER, {**new_domain(sb, OTHER), "state": "active"})
    sb.state.put("bounce", f"{DOMAIN}/bad@example.com", {"address": "bad@example.com"})
    send_at(T0 + 3600, to=["bob@gmail.com", "bad@example.com"], **{"o:tag": "news"})
    send_at(T0 + 7200, to="cy@yahoo.com", **{"o:tag": "promo"})
    send_at(T0 + DAY + 60, domain=OTHER, to="dee@gmail.com", **{"o:tag": "news"})
    clock.now = T0 + 2 * DAY


def _post(client, path, body, status=200):
    response = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    return response.json()


def test_metrics_by_day_zero_filled(client, traffic):
    body = {
        "start": START,
        "end": END,
        "resolution": "day",
        "dimensions": ["time"],
        "include_aggregates": True,
        "metrics": [
            "accepted_count",
            "delivered_count",
            "failed_count",
            "permanent_failed_count",
            "suppressed_bounces_count",
            "delivered_rate",
            "bounce_rate",
        ],
    }
    out = _post(client, "/v1/analytics/metrics", body)
    assert out["resolution"] == "day" and out["dimensions"] == ["time"]
    days = [item["dimensions"][0]["value"] for item in out["items"]]
    assert days == [
        "Mon, 21 Sep 2026 00:00:00 +0000",
        "Tue, 22 Sep 2026 00:00:00 +0000",
        "Wed, 23 Sep 2026 00:00:00 +0000",
        "Thu, 24 Sep 2026 00:00:00 +0000",
    ]
    by_day = [item["metrics"] for item in out["items"]]
    assert by_day[0]["accepted_count"] == 0
    assert by_day[1] == {
        "accepted_count": 3,
        "delivered_count": 2,
        "failed_count": 1,
        "permanent_failed_count": 1,
        "suppressed_bounces_count": 1,
        "delivered_rate": "1.0000",
        "bounce_rate": "0.0000",
    }
    assert by_day[2]["delivered_count"] == 1
    assert out["aggregates"]["metrics"]["accepted_count"] == 4
    assert out["pagination"] == {"sort": "time:asc", "skip": 0, "limit": 1500, "total": 4}


def test_metrics_filter_and_dimensions(client, traffic):
    only_news = {"AND": [{"attribute": "tag", "comparator": "=", "values": [{"label": "news", "value": "news"}]}]}
    out = _post(
        client,
        "/v1/analytics/metrics",
        {
            "start": START,
            "end": END,
            "dimensions": ["domain"],
            "metrics": ["delivered_count", "accepted_count"],
            "filter": only_news,
            "pagination": {"sort": "domain:asc"},
        },
    )
    assert [(i["dimensions"][0]["value"], i["metrics"]) for i in out["items"]] == [
        (DOMAIN, {"delivered_count": 1, "accepted_count": 2}),
        (OTHER, {"delivered_count": 1, "accepted_count": 1}),
    ]
    not_gmail = {
        "AND": [
            {
                "attribute": "recipient_domain",
                "comparator": "not contains",
                "values": [{"label": "gmail", "value": "gmail"}],
            }
        ]
    }
    out = _post(
        client,
        "/v1/analytics/metrics",
        {"duration": "7d", "dimensions": ["recipient_provider"], "metrics": ["accepted_count"], "filter": not_gmail},
    )
    assert {i["dimensions"][0]["value"]: i["metrics"]["accepted_count"] for i in out["items"]} == {
        "Other": 1,
        "Yahoo": 1,
    }
    assert out["duration"] == "7d"


def test_metrics_pagination(client, traffic):
    body = {
        "start": START,
        "end": END,
        "dimensions": ["tag"],
        "metrics": ["accepted_count"],
        "pagination": {"sort": "accepted_count:desc", "skip": 0, "limit": 1},
    }
    first = _post(client, "/v1/analytics/metrics", body)
    assert first["pagination"]["total"] == 2
    assert [(i["dimensions"][0]["value"], i["metrics"]["accepted_count"]) for i in first["items"]] == [("news", 3)]
    body["pagination"]["skip"] = 1
    second = _post(client, "/v1/analytics/metrics", body)
    assert [i["dimensions"][0]["value"] for i in second["items"]] == ["promo"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"metrics": ["bogus_count"]}, "bogus_count"),
        (
            {
                "metrics": [
                    "accepted_count",
                    "delivered_count",
                    "failed_count",
                    "opened_count",
                    "clicked_count",
                    "unsubscribed_count",
                    "complained_count",
                    "stored_count",
                    "sent_count",
                    "processed_count",
                    "bounced_count",
                ]
            },
            "at most 10 metrics",
        ),
        ({"dimensions": ["time", "domain", "tag", "ip"]}, "3 dimensions"),
        ({"dimensions": ["planet"]}, "planet"),
        ({"resolution": "week"}, "resolution"),
        ({"resolution": "hour", "dimensions": ["time"], "start": "Thu, 01 Jan 1970 00:00:00 +0000"}, "narrow"),
        ({"duration": "3w"}, "duration"),
        ({"start": END, "end": START}, "before"),
        ({"filter": {"OR": []}}, "AND"),
        ({"filter": {"AND": [{"attribute": "domain", "comparator": "~", "values": []}]}}, "comparator"),
    ],
)
def test_metrics_rejects_bad_queries(client, body, fragment):
    out = _post(client, "/v1/analytics/metrics", body, status=400)
    assert fragment in out["message"]


def test_usage_metrics(client, traffic):
    out = _post(
        client,
        "/v1/analytics/usage/metrics",
        {
            "start": START,
            "end": END,
            "resolution": "month",
            "dimensions": ["time"],
            "metrics": ["processed_count", "email_validation_count"],
        },
    )
    assert [i["metrics"] for i in out["items"]] == [{"processed_count": 4, "email_validation_count": 0}]
    bad = _post(client, "/v1/analytics/usage/metrics", {"metrics": ["delivered_count"]}, status=400)
    assert "delivered_count" in bad["message"]


def test_logs_items_and_filters(client, traffic):
    out = _post(
        client, "/v1/analytics/logs", {"start": START, "end": END, "events": ["failed"], "include_totals": True}
    )
    assert out["start"] == START and out["pagination"]["total"] == 1
    [item] = out["items"]
    assert item["event"] == "failed" and item["reason"] == "suppress-bounce"
    assert item["@timestamp"] == "2026-09-22T01:00:00.000Z"
    assert item["domain"] == {"name": DOMAIN} and item["account"]["id"]
    assert item["recipient"] == "bad@example.com"
    url = item["storage"]["url"]
    assert isinstance(url, list) and url[0].startswith("https://api.mailgun.net/")
    assert out["aggregates"] == {"all": 1, "metrics": {"failed": 1}}
    by_metric = _post(client, "/v1/analytics/logs", {"start": START, "end": END, "metric_events": ["delivered"]})
    assert {i["recipient"] for i in by_metric["items"]} == {"bob@gmail.com", "cy@yahoo.com", "dee@gmail.com"}
    by_domain = _post(
        client,
        "/v1/analytics/logs",
        {
            "start": START,
            "end": END,
            "filter": {
                "AND": [{"attribute": "domain", "comparator": "=", "values": [{"label": OTHER, "value": OTHER}]}]
            },
        },
    )
    assert {i["domain"]["name"] for i in by_domain["items"]} == {OTHER} and len(by_domain["items"]) == 2
    assert by_domain["items"][0]["event"] == "delivered"  # newest first by default


def test_logs_token_paging(client, traffic):
    body = {"start": START, "end": END, "pagination": {"sort": "timestamp:asc", "limit": 3}}
    seen, pages, token = [], [], None
    while True:
        if token:
            body["pagination"]["token"] = token
        page = _post(client, "/v1/analytics/logs", body)
        pages.append(page)
        seen += [i["id"] for i in page["items"]]
        token = page["pagination"].get("next")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 8 and len(pages) == 3
    body["pagination"]["token"] = pages[1]["pagination"]["previous"]
    back = _post(client, "/v1/analytics/logs", body)
    assert [i["id"] for i in back["items"]] == [i["id"] for i in pages[0]["items"]]
    body["pagination"]["token"] = pages[0]["pagination"]["last"]
    last = _post(client, "/v1/analytics/logs", body)
    assert [i["id"] for i in last["items"]] == seen[-3:]
    too_big = _post(client, "/v1/analytics/logs", {"pagination": {"limit": 101}}, status=400)
    assert "limit" in too_big["message"]


def test_account_tags(client, traffic):
    out = _post(
        client,
        "/v1/analytics/tags",
        {"pagination": {"sort": "tag:asc", "include_total": True}, "include_metrics": True},
    )
    assert [i["tag"] for i in out["items"]] == ["news", "promo"]
    assert out["pagination"]["total"] == 2
    news = out["items"][0]
    assert news["first_seen"] == "2026-09-22T01:00:00.000Z" and news["last_seen"] == "2026-09-23T00:01:00.000Z"
    assert news["metrics"]["accepted_count"] == 3
    put = client.put("/v1/analytics/tags", json={"tag": "news", "description": "Weekly news"})
    assert put.json() == {"message": "Tag updated"}
    found = _post(client, "/v1/analytics/tags", {"tag": "ne"})
    assert [(i["tag"], i["description"]) for i in found["items"]] == [("news", "Weekly news")]
    limits = client.get("/v1/analytics/tags/limits").json()
    assert limits["count"] == 2 and limits["limit_reached"] is False and limits["limit"] > 2
    deleted = client.request("DELETE", "/v1/analytics/tags", json={"tag": "promo"})
    assert deleted.json() == {"message": "Tag deleted"}
    assert client.get("/v1/analytics/tags/limits").json()["count"] == 1
    missing = client.request("DELETE", "/v1/analytics/tags", json={"tag": "promo"})
    assert missing.status_code == 404
