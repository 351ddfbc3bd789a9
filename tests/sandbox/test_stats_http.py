"""Sandbox v3 Stats and (deprecated) Tags APIs, computed from events and recorded tags."""

from __future__ import annotations

import pytest

from mg_tools.sandbox.areas.domains import new_domain

DOMAIN = "mg.example.com"
OTHER = "news.example.org"
DAY = 86400.0
T0 = 1_790_035_200.0  # Tue, 22 Sep 2026 00:00:00 +0000
RANGE = {"start": "Mon, 21 Sep 2026 00:00:00 +0000", "end": "Wed, 23 Sep 2026 12:00:00 +0000"}


def _engagement(sb, name, at, recipient, device, country, tags=("news",)):
    """An opened/clicked event as tracking would record it (the sandbox sends no real mail)."""
    seq = sb.state.next_id("event")
    sb.state.put(
        "event",
        f"{DOMAIN}/{seq:012d}",
        {
            "id": f"e{seq}",
            "event": name,
            "timestamp": at,
            "log-level": "info",
            "recipient": recipient,
            "recipient-domain": recipient.rpartition("@")[2],
            "tags": list(tags),
            "message": {"headers": {"message-id": "m1@mg.example.com"}},
            "client-info": {"device-type": device},
            "geolocation": {"country": country},
        },
    )


@pytest.fixture
def traffic(sb, clock, send_at):
    sb.state.put("domain", OTHER, {**new_domain(sb, OTHER), "state": "active"})
    sb.state.put("unsubscribe", f"{DOMAIN}/gone@example.com", {"address": "gone@example.com", "tags": ["*"]})
    send_at(T0 + 3600, to=["bob@gmail.com", "gone@example.com"], **{"o:tag": "news"})
    send_at(T0 + DAY + 60, to="cy@yahoo.com", **{"o:tag": "promo"})
    send_at(T0 + 120, domain=OTHER, to="dee@gmail.com")
    _engagement(sb, "opened", T0 + 4000, "bob@gmail.com", "mobile", "US")
    _engagement(sb, "opened", T0 + 4100, "bob@gmail.com", "desktop", "US")
    _engagement(sb, "clicked", T0 + 4200, "bob@gmail.com", "mobile", "NO")
    clock.now = T0 + 2 * DAY


def _get(client, path, params, status=200):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    return response.json()


def test_domain_stats_by_day(client, traffic):
    params = [("event", "accepted"), ("event", "delivered"), ("event", "failed"), ("event", "opened"), *RANGE.items()]
    out = _get(client, f"/v3/{DOMAIN}/stats/total", params)
    assert out["resolution"] == "day" and out["start"] == "Mon, 21 Sep 2026 00:00:00 UTC"
    assert [s["time"] for s in out["stats"]] == [
        "Mon, 21 Sep 2026 00:00:00 UTC",
        "Tue, 22 Sep 2026 00:00:00 UTC",
        "Wed, 23 Sep 2026 00:00:00 UTC",
    ]
    day = out["stats"][1]
    assert set(day) == {"time", "accepted", "delivered", "failed", "opened"}
    assert day["accepted"] == {"incoming": 0, "outgoing": 2, "total": 2}
    assert day["delivered"] == {"smtp": 1, "http": 0, "optimized": 0, "total": 1}
    assert day["failed"]["permanent"]["suppress-unsubscribe"] == 1 and day["failed"]["permanent"]["total"] == 1
    assert day["failed"]["temporary"] == {"espblock": 0, "total": 0}
    assert day["opened"] == {"total": 2, "unique": 1}
    assert out["stats"][2]["accepted"]["total"] == 1 and out["stats"][0]["accepted"]["total"] == 0


def test_stats_resolution_and_duration(client, traffic):
    out = _get(
        client,
        f"/v3/{DOMAIN}/stats/total",
        {"event": "accepted", "resolution": "hour", "duration": "3h", "end": str(T0 + 3 * 3600)},
    )
    assert [s["accepted"]["total"] for s in out["stats"]] == [0, 2, 0, 0]
    month = _get(client, "/v3/stats/total", {"event": "delivered", "resolution": "month", **RANGE})
    assert month["stats"] == [
        {"time": "Tue, 01 Sep 2026 00:00:00 UTC", "delivered": {"smtp": 3, "http": 0, "optimized": 0, "total": 3}}
    ]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "'event' parameter is missing"),
        ({"event": "bounced"}, "not a valid event"),
        ({"event": "accepted", "resolution": "week"}, "resolution"),
        ({"event": "accepted", "start": "soon"}, "start"),
    ],
)
def test_stats_rejects_bad_queries(client, params, fragment):
    out = _get(client, f"/v3/{DOMAIN}/stats/total", params, status=400)
    assert fragment in out["message"]


def test_unknown_domain(client):
    assert client.get("/v3/nope.example.com/stats/total", params={"event": "accepted"}).status_code == 404


def test_account_stats_per_domain_and_filtered(client, traffic):
    domains = _get(
        client, "/v3/stats/total/domains", {"event": "accepted", "timestamp": "Tue, 22 Sep 2026 10:00:00 +0000"}
    )
    assert domains["start"] == "Tue, 22 Sep 2026 00:00:00 UTC" and domains["end"] == "Wed, 23 Sep 2026 00:00:00 UTC"
    assert [(s["domain"], s["accepted"]["total"]) for s in domains["stats"]] == [(DOMAIN, 2), (OTHER, 1)]
    assert _get(client, "/v3/stats/total/domains", {"event": "accepted"}, status=400)["message"]
    filtered = _get(client, "/v3/stats/filter", {"event": "accepted", "filter": f"domain:{OTHER}", **RANGE})
    assert sum(s["accepted"]["total"] for s in filtered["stats"]) == 1
    grouped = _get(client, "/v3/stats/filter", {"event": "accepted", "group": "tag", **RANGE})
    totals = {}
    for stat in grouped["stats"]:
        totals[stat["tag"]] = totals.get(stat["tag"], 0) + stat["accepted"]["total"]
    assert totals == {"news": 2, "promo": 1}


def test_aggregates(client, traffic):
    providers = _get(client, f"/v3/{DOMAIN}/aggregates/providers", {})
    assert providers["providers"]["gmail.com"] == {
        "accepted": 1,
        "clicked": 1,
        "opened": 2,
        "unique_clicked": 1,
        "unsubscribed": 0,
    }
    devices = _get(client, f"/v3/{DOMAIN}/aggregates/devices", {})
    assert devices["devices"]["mobile"]["opened"] == 1 and devices["devices"]["mobile"]["clicked"] == 1
    countries = _get(client, f"/v3/{DOMAIN}/aggregates/countries", {})
    assert countries["countries"]["us"]["opened"] == 2 and countries["countries"]["no"]["clicked"] == 1


def test_tags_list_get_update_delete(client, traffic):
    out = _get(client, f"/v3/{DOMAIN}/tags", {"limit": 1})
    assert [t["tag"] for t in out["items"]] == ["news"]
    assert set(out["items"][0]) == {"tag", "description", "first-seen", "last-seen"}
    assert out["items"][0]["first-seen"] == "2026-09-22 01:00:00 +0000 UTC"
    rest = client.get(out["paging"]["next"]).json()
    assert [t["tag"] for t in rest["items"]] == ["promo"]
    assert [t["tag"] for t in _get(client, f"/v3/{DOMAIN}/tags", {"prefix": "pro"})["items"]] == ["promo"]
    updated = client.put(f"/v3/{DOMAIN}/tag", params={"tag": "news", "description": "Weekly"})
    assert updated.json() == {"message": "Tag updated"}
    assert _get(client, f"/v3/{DOMAIN}/tag", {"tag": "news"})["description"] == "Weekly"
    limits = _get(client, f"/v3/domains/{DOMAIN}/limits/tag", {})
    assert limits["count"] == 2 and limits["limit"] == 20000
    deleted = client.delete(f"/v3/{DOMAIN}/tag", params={"tag": "news"})
    assert deleted.json() == {"message": "Tag deleted"}
    assert client.get(f"/v3/{DOMAIN}/tag", params={"tag": "news"}).status_code == 404


def test_tag_stats_and_aggregates(client, traffic):
    out = _get(client, f"/v3/{DOMAIN}/tag/stats", {"tag": "news", "event": ["accepted", "clicked"], **RANGE})
    assert out["tag"] == "news" and "description" in out
    assert [s["accepted"]["total"] for s in out["stats"]] == [0, 2, 0]
    assert out["stats"][1]["clicked"] == {"total": 1, "unique": 1}
    by_device = _get(
        client, f"/v3/{DOMAIN}/tag/stats", {"tag": "news", "event": "opened", "device": "desktop", **RANGE}
    )
    assert sum(s["opened"]["total"] for s in by_device["stats"]) == 1
    aggregate = _get(client, f"/v3/{DOMAIN}/tag/stats/aggregates", {"tag": "news", "type": "country"})
    assert aggregate["tag"] == "news" and aggregate["country"]["us"]["opened"] == 2
    bad = _get(client, f"/v3/{DOMAIN}/tag/stats/aggregates", {"tag": "news", "type": "planet"}, status=400)
    assert "type" in bad["message"]
    assert client.get(f"/v3/{DOMAIN}/tag/stats", params={"tag": "nope", "event": "accepted"}).status_code == 404


def test_path_style_tag_routes_share_the_query_style_state(client, traffic):
    assert client.put(f"/v3/{DOMAIN}/tags/news", data={"description": "News"}).json() == {"message": "Tag updated"}
    assert _get(client, f"/v3/{DOMAIN}/tag", {"tag": "news"})["description"] == "News"
    assert _get(client, f"/v3/{DOMAIN}/tags/news", {})["description"] == "News"
    by_path = _get(client, f"/v3/{DOMAIN}/tags/news/stats", [("event", "accepted"), *RANGE.items()])
    by_query = _get(client, f"/v3/{DOMAIN}/tag/stats", [("tag", "news"), ("event", "accepted"), *RANGE.items()])
    assert by_path == by_query and sum(s["accepted"]["total"] for s in by_path["stats"]) == 2
    providers = _get(client, f"/v3/{DOMAIN}/tags/news/stats/aggregates/providers", {})
    assert providers == _get(client, f"/v3/{DOMAIN}/tag/stats/aggregates", {"tag": "news", "type": "provider"})
    assert _get(client, f"/v3/{DOMAIN}/tags/news/stats/aggregates/cities", {}, 404)["message"].startswith("Unknown")
    assert client.delete(f"/v3/{DOMAIN}/tags/news").json() == {"message": "Tag deleted"}
    assert _get(client, f"/v3/{DOMAIN}/tag", {"tag": "news"}, 404) == {"message": "Tag not found"}


def test_a_tagged_send_counts_in_the_tag_stats_and_the_totals(client, sb):
    sent = client.post(
        f"/v3/{DOMAIN}/messages",
        data={"from": f"a@{DOMAIN}", "to": "zed@example.com", "subject": "s", "text": "t", "o:tag": "launch"},
    )
    assert sent.status_code == 200, sent.text
    window = [("event", "accepted"), ("event", "delivered"), ("duration", "1d")]
    tagged = _get(client, f"/v3/{DOMAIN}/tags/launch/stats", window)
    totals = _get(client, f"/v3/{DOMAIN}/stats/total", window)
    for out in (tagged, totals):
        assert sum(s["accepted"]["total"] for s in out["stats"]) == 1
        assert sum(s["delivered"]["total"] for s in out["stats"]) == 1


def test_unknown_routes_and_methods_answer_in_mailgun_shape(client):
    missing = client.get("/v9/nothing/here")
    assert missing.status_code == 404 and missing.json() == {"message": "Not found: no endpoint GET /v9/nothing/here"}
    wrong = client.patch(f"/v3/{DOMAIN}/tag")
    assert wrong.status_code == 405 and wrong.json()["message"] == f"Method PATCH is not allowed on /v3/{DOMAIN}/tag"
    assert "GET" in wrong.headers["allow"]
