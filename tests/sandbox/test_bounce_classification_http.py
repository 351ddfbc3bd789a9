"""The sandbox's (deprecated) bounce classification statistics, computed from the bounce lists."""

from __future__ import annotations

import pytest

from mg_tools.sandbox import DEFAULT_DOMAIN

D = DEFAULT_DOMAIN
OTHER = "other.example.com"
BASE = "/v1/bounce-classification"


def bounce(client, domain: str, address: str, error: str, code: str = "550") -> None:
    client.app.state.sandbox.state.put(
        "bounce", f"{domain}/{address}", {"address": address, "code": code, "error": error, "created_at": "x"}
    )


@pytest.fixture
def bounces(client):
    client.post("/v4/domains", data={"name": OTHER})
    bounce(client, D, "a@gmail.com", "5.1.1 The email account that you tried to reach does not exist")
    bounce(client, D, "b@gmail.com", "User unknown")
    bounce(client, D, "c@hotmail.com", "5.4.1 Recipient address rejected: Access denied")
    bounce(client, D, "d@corp.example", "Client host blocked using zen.spamhaus.org", code="554")
    bounce(client, OTHER, "e@yahoo.com", "Mailbox full", code="552")


def test_list_stats(client, bounces):
    out = client.get(f"{BASE}/stats").json()
    assert out["_duration"] == "0s"
    top = out["items"][0]
    assert top == {
        "domain": {"name": D},
        "entity-id": "gmail",
        "rule-id": "5b02",
        "short-explanation": "Unknown recipient",
        "bounced": {"total": 2},
    }
    assert sum(i["bounced"]["total"] for i in out["items"]) == 5
    by_domain = client.get(f"{BASE}/stats", params={"group": "domain.name"}).json()["items"]
    assert by_domain == [
        {"domain": {"name": D}, "bounced": {"total": 4}},
        {"domain": {"name": OTHER}, "bounced": {"total": 1}},
    ]
    assert len(client.get(f"{BASE}/stats", params={"limit": 1}).json()["items"]) == 1
    assert client.get(f"{BASE}/stats", params={"group": "colour"}).status_code == 400


def test_list_domain_stats(client, bounces):
    out = client.get(f"{BASE}/domains").json()
    assert out == {
        "items": [
            {"domain": {"name": D}, "bounced": {"total": 4}},
            {"domain": {"name": OTHER}, "bounced": {"total": 1}},
        ],
        "total": 2,
    }
    page = client.get(f"{BASE}/domains", params={"skip": 1, "limit": 1}).json()
    assert page["items"] == [{"domain": {"name": OTHER}, "bounced": {"total": 1}}] and page["total"] == 2
    only = client.get(f"{BASE}/domains", params={"query": f"domain.name:{OTHER}"}).json()
    assert only["total"] == 1 and only["items"][0]["domain"]["name"] == OTHER
    assert client.get(f"{BASE}/domains", params={"query": "colour:blue"}).status_code == 400


def test_stats_follow_the_bounce_list(client, bounces):
    client.delete(f"/v3/domains/{OTHER}")
    assert client.get(f"{BASE}/domains").json()["total"] == 1
    assert client.get(f"{BASE}/domains").json()["items"][0]["bounced"]["total"] == 4


def test_list_entity_stats(client, bounces):
    out = client.get(f"{BASE}/domains/{D}/entities").json()["items"]
    assert out[0] == {"entity-id": "gmail", "entity-name": "Gmail", "bounced": {"total": 2}}
    assert {i["entity-id"] for i in out} == {"gmail", "hotmail", "spamhaus"}
    assert client.get(f"{BASE}/domains/{OTHER}/entities").json()["items"][0]["entity-id"] == "yahoo"
    assert client.get(f"{BASE}/domains/nope.example.com/entities").status_code == 404


def test_list_rule_stats(client, bounces):
    out = client.get(f"{BASE}/domains/{D}/entities/hotmail/rules").json()["items"]
    assert out == [
        {
            "rule-id": "55ff",
            "category": "ESPBLOCK",
            "severity": "PERMANENT",
            "sample-text": "5.4.1 recipient address rejected: access denied.",
            "explanation": "Access denied",
            "bounced": {"total": 1},
        }
    ]
    assert client.get(f"{BASE}/domains/{D}/entities/yahoo/rules").json()["items"] == []
    assert client.get(f"{BASE}/domains/{D}/entities/unknown/rules").status_code == 404
    assert client.get(f"{BASE}/domains/nope.example.com/entities/gmail/rules").status_code == 404


def test_list_entities(client):
    out = client.get(f"{BASE}/config/entities").json()
    assert out["gmail"] == {"name": "Gmail"} and "spamhaus" in out


def test_list_rules(client):
    out = client.get(f"{BASE}/config/rules").json()
    assert out["55ff"]["class"] == "ESPBLOCK" and out["5b01"]["entity_id"] == "spamhaus"
    assert all({"sample-text", "explanation", "short-explanation"} <= set(rule) for rule in out.values())


def test_list_bounce_logs_is_gone(client):
    out = client.get(f"{BASE}/domains/{D}/events")
    assert out.status_code == 410 and "/v1/analytics/logs" in out.json()["message"]


def test_v2_metrics_group_and_filter(client, bounces):
    body = {
        "dimensions": ["domain.name", "criticality"],
        "metrics": ["critical_bounce_count", "non_critical_bounce_count", "non_critical_delay_count"],
        "filter": {"AND": [{"attribute": "entity-name", "comparator": "!=", "values": [{"value": "Yahoo"}]}]},
        "duration": "24h",
    }
    out = client.post("/v2/bounce-classification/metrics", json=body).json()
    assert out["dimensions"] == ["domain.name", "criticality"] and out["pagination"]["total"] == 2
    assert out["duration"] == "24h" and out["start"] and out["end"]
    # Every count and rate comes back (Mailgun's schema requires them all); the ones asked for are these.
    for item in out["items"]:
        item["metrics"] = {k: v for k, v in item["metrics"].items() if k in body["metrics"]}
    assert out["items"] == [
        {
            "domain.name": D,
            "criticality": "CRITICAL",
            "metrics": {"critical_bounce_count": 2, "non_critical_bounce_count": 0, "non_critical_delay_count": 0},
        },
        {
            "domain.name": D,
            "criticality": "NON-CRITICAL",
            "metrics": {"critical_bounce_count": 0, "non_critical_bounce_count": 2, "non_critical_delay_count": 0},
        },
    ]
    everything = client.post("/v2/bounce-classification/metrics", json={"dimensions": ["category"]}).json()
    delay = next(i for i in everything["items"] if i["category"] == "MAILBOX_FULL")["metrics"]
    assert delay["non_critical_delay_count"] == 1 and delay["non_critical_delay_rate"] == 100


def test_v2_metrics_refuses_unknown_names(client):
    post = lambda body: client.post("/v2/bounce-classification/metrics", json=body)  # noqa: E731
    assert post({"dimensions": ["planet"]}).status_code == 400
    assert post({"metrics": ["opens"]}).json()["message"].startswith("invalid metric 'opens'")
    assert post({"resolution": "week"}).status_code == 400
