import pytest

from mg_tools import InvalidArguments

D = "mg.example.com"
DOMAIN_FILTER = {"AND": [{"attribute": "domain", "comparator": "=", "values": [{"label": D, "value": D}]}]}


@pytest.mark.vcr
def test_get_metrics(mg):
    for to, tag in (("ann@example.com", "receipts"), ("bob@example.com", "receipts"), ("cy@example.com", "news")):
        mg.call("send_message", domain=D, sender=f"shop@{D}", to=[to], subject="Hi", text="Hi", tags=[tag])
    out = mg.call(
        "get_metrics",
        metrics=["accepted_count", "delivered_count"],
        filter=DOMAIN_FILTER,
        duration="1d",
        resolution="day",
        include_aggregates=True,
    )
    assert out["aggregates"]["metrics"]["accepted_count"] == 3
    assert out["aggregates"]["metrics"]["delivered_count"] == 3
    by_tag = {
        "metrics": ["delivered_count"],
        "dimensions": ["tag"],
        "filter": DOMAIN_FILTER,
        "duration": "1d",
        "pagination": {"sort": "tag:asc", "limit": 1},
    }
    first = mg.run(mg.execute("get_metrics", by_tag))
    assert len(first.data["items"]) == 1 and first.next_cursor == "1"
    rest = mg.run(mg.execute("get_metrics", {**by_tag, "cursor": first.next_cursor}))
    assert len(rest.data["items"]) == 1 and rest.next_cursor is None
    counts = {
        item["dimensions"][0]["value"]: item["metrics"]["delivered_count"]
        for item in first.data["items"] + rest.data["items"]
    }
    assert counts == {"news": 1, "receipts": 2}


@pytest.mark.vcr
def test_get_usage_metrics(mg):
    out = mg.call(
        "get_usage_metrics",
        metrics=["email_validation_count", "processed_count"],
        dimensions=["time"],
        duration="7d",
        resolution="day",
        include_aggregates=True,
    )
    assert out["resolution"] == "day" and out["dimensions"] == ["time"]
    assert isinstance(out["items"], list)
    assert "email_validation_count" in out["aggregates"]["metrics"]


# -- wire format and validation ---------------------------------------------------------------------


def test_metrics_query_is_a_json_body_with_the_cursor_as_pagination_skip(dry):
    req = dry.dry_run(
        "get_metrics",
        metrics=["delivered_count", "opened_rate"],
        dimensions=["time"],
        resolution="hour",
        duration="24h",
        filter=DOMAIN_FILTER,
        pagination={"sort": "time:asc", "limit": 100},
        cursor="200",
    )
    assert req["method"] == "POST" and req["url"] == "https://api.mailgun.net/v1/analytics/metrics"
    assert req["json"] == {
        "duration": "24h",
        "resolution": "hour",
        "pagination": {"sort": "time:asc", "limit": 100, "skip": 200},
        "metrics": ["delivered_count", "opened_rate"],
        "dimensions": ["time"],
        "filter": DOMAIN_FILTER,
    }
    usage = dry.dry_run("get_usage_metrics", metrics=["email_validation_count"], cursor="10")
    assert usage["url"] == "https://api.mailgun.net/v1/analytics/usage/metrics"
    assert usage["json"] == {"metrics": ["email_validation_count"], "pagination": {"skip": 10}}


def test_metrics_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="metrics"):
        dry.dry_run("get_metrics", metrics=["email_validation_count"])
    with pytest.raises(InvalidArguments, match="metrics"):
        dry.dry_run("get_usage_metrics", metrics=["delivered_count"])
    with pytest.raises(InvalidArguments, match="dimensions"):
        dry.dry_run("get_usage_metrics", metrics=["processed_count"], dimensions=["domain"])
    with pytest.raises(InvalidArguments, match="resolution"):
        dry.dry_run("get_metrics", metrics=["delivered_count"], resolution="week")
    with pytest.raises(InvalidArguments, match="duration"):
        dry.dry_run("get_metrics", metrics=["delivered_count"], duration="7 days")
    with pytest.raises(InvalidArguments, match="attribute"):
        dry.dry_run(
            "get_metrics",
            metrics=["delivered_count"],
            filter={"AND": [{"attribute": "recipient", "comparator": "=", "values": [{"label": "a", "value": "a"}]}]},
        )
    with pytest.raises(InvalidArguments, match="cursor"):
        dry.dry_run("get_metrics", metrics=["delivered_count"], cursor="next-page")
