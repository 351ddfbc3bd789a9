import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import Gone, NotFound

D = "mg.example.com"


def _bounces(mg):
    mg.call("add_bounce", domain=D, address="ann@gmail.com", code="550", error="5.1.1 user unknown")
    mg.call("add_bounce", domain=D, address="bob@gmail.com", code="550", error="No such user here")
    mg.call("add_bounce", domain=D, address="cy@yahoo.com", code="554", error="blocked using zen.spamhaus.org")


@pytest.mark.vcr
def test_get_bounce_stats(mg):
    _bounces(mg)
    out = mg.call("get_bounce_stats", group=["entity-id", "rule-id"])
    rows = [(i["entity-id"], i["rule-id"], i["bounced"]["total"]) for i in out["items"]]
    assert rows == [("gmail", "5b02", 2), ("spamhaus", "5b01", 1)]
    assert "domain" not in out["items"][0]


@pytest.mark.vcr
def test_get_bounce_stats_by_domain(mg):
    _bounces(mg)
    mg.call("create_domain", domain="news.example.com")
    mg.call("add_bounce", domain="news.example.com", address="dan@example.com")
    first = mg.run(mg.execute("get_bounce_stats_by_domain", {"limit": 1}))
    assert first.data["items"] == [{"domain": {"name": D}, "bounced": {"total": 3}}] and first.next_cursor == "1"
    rest = mg.run(mg.execute("get_bounce_stats_by_domain", {"limit": 1, "cursor": first.next_cursor}))
    assert rest.data["items"][0]["domain"]["name"] == "news.example.com" and rest.next_cursor is None
    only = mg.call("get_bounce_stats_by_domain", query="domain.name:news.example.com")
    assert only["total"] == 1


@pytest.mark.vcr
def test_get_bounce_stats_by_entity(mg):
    _bounces(mg)
    out = mg.call("get_bounce_stats_by_entity", domain=D)
    assert {i["entity-id"]: i["bounced"]["total"] for i in out["items"]} == {"gmail": 2, "spamhaus": 1}


@pytest.mark.vcr
def test_get_bounce_stats_by_rule(mg):
    _bounces(mg)
    [rule] = mg.call("get_bounce_stats_by_rule", domain=D, entity_id="gmail")["items"]
    assert (rule["rule-id"], rule["category"], rule["bounced"]["total"]) == ("5b02", "BOUNCE", 2)
    with pytest.raises(NotFound, match="Entity not found"):
        mg.call("get_bounce_stats_by_rule", domain=D, entity_id="nowhere")


@pytest.mark.vcr
def test_list_bounce_entities(mg):
    out = mg.call("list_bounce_entities")
    assert out["gmail"] == {"name": "Gmail"} and "spamhaus" in out


@pytest.mark.vcr
def test_list_bounce_rules(mg):
    out = mg.call("list_bounce_rules")
    assert out["5b01"]["class"] == "BLOCKLIST" and out["5b02"]["short-explanation"] == "Unknown recipient"


@pytest.mark.vcr
def test_list_bounce_logs(mg):
    with pytest.raises(Gone, match="POST /v1/analytics/logs"):
        mg.call("list_bounce_logs", domain=D, rule_id="5b02")


# -- wire format -----------------------------------------------------------------------------------------


def test_group_fields_travel_as_one_comma_separated_value(dry):
    req = dry.dry_run("get_bounce_stats", group=["rule-id", "domain.name", "rule-id"], limit=5)
    assert req["query"] == [["group", "rule-id,domain.name"], ["limit", "5"]]


def test_bounce_log_filters_use_mailgun_names(dry):
    req = dry.dry_run("list_bounce_logs", domain=D, rule_id="5b02", entity_id="gmail", sort="@timestamp:desc")
    assert req["query"] == [["rule-id", "5b02"], ["entity-id", "gmail"], ["sort", "@timestamp:desc"]]


def test_unknown_group_fields_and_queries_are_refused(dry):
    with pytest.raises(InvalidArguments, match="group"):
        dry.dry_run("get_bounce_stats", group=["tag"])
    with pytest.raises(InvalidArguments, match="query"):
        dry.dry_run("get_bounce_stats_by_domain", query="mg.example.com")
