import pytest

from mg_tools import InvalidArguments

D = "mg.example.com"
DOMAIN_FILTER = {"AND": [{"attribute": "domain", "comparator": "=", "values": [{"label": D, "value": D}]}]}


@pytest.mark.vcr
def test_list_logs(mg):
    for to in ("ann@example.com", "bob@example.com"):
        mg.call("send_message", domain=D, sender=f"shop@{D}", to=[to], subject="Receipt", text="Thanks")
    out = mg.call("list_logs", events=["delivered"], filter=DOMAIN_FILTER, include_totals=True)
    assert sorted(item["recipient"] for item in out["items"]) == ["ann@example.com", "bob@example.com"]
    assert {item["event"] for item in out["items"]} == {"delivered"}
    first = mg.run(
        mg.execute(
            "list_logs",
            {"events": ["delivered"], "filter": DOMAIN_FILTER, "pagination": {"sort": "timestamp:asc", "limit": 1}},
        )
    )
    assert [item["recipient"] for item in first.data["items"]] == ["ann@example.com"]
    assert first.next_cursor and first.untrusted
    rest = mg.run(
        mg.execute(
            "list_logs",
            {
                "events": ["delivered"],
                "filter": DOMAIN_FILTER,
                "pagination": {"sort": "timestamp:asc", "limit": 1},
                "cursor": first.next_cursor,
            },
        )
    )
    assert [item["recipient"] for item in rest.data["items"]] == ["bob@example.com"]


# -- wire format and validation ---------------------------------------------------------------------


def test_logs_query_is_a_json_body_and_the_cursor_is_the_pagination_token(dry):
    req = dry.executor.prepare(
        "list_logs",
        {
            "start": "Mon, 08 Jul 2024 00:00:00 -0000",
            "events": ["failed", "rejected"],
            "filter": DOMAIN_FILTER,
            "pagination": {"sort": "timestamp:desc", "limit": 50},
            "cursor": "tok-2",
        },
    ).request
    assert (req.method, req.path, req.query, req.form) == ("POST", "/v1/analytics/logs", [], [])
    assert req.json == {
        "start": "Mon, 08 Jul 2024 00:00:00 -0000",
        "events": ["failed", "rejected"],
        "filter": DOMAIN_FILTER,
        "pagination": {"sort": "timestamp:desc", "limit": 50, "token": "tok-2"},
    }
    first = dry.dry_run("list_logs", include_totals=True)
    assert first["json"] == {"include_totals": True} and "form" not in first


def test_logs_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="events"):
        dry.dry_run("list_logs", events=["bounced"])
    with pytest.raises(InvalidArguments, match="comparator"):
        dry.dry_run(
            "list_logs",
            filter={"AND": [{"attribute": "domain", "comparator": "~", "values": [{"label": D, "value": D}]}]},
        )
    with pytest.raises(InvalidArguments, match="OR"):
        dry.dry_run("list_logs", filter={"OR": []})
    with pytest.raises(InvalidArguments, match="limit"):
        dry.dry_run("list_logs", pagination={"limit": 101})
    with pytest.raises(InvalidArguments, match="start"):
        dry.dry_run("list_logs", start="2024-07-08")
