import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import NotFound

D = "mg.example.com"


def _send(mg, to="ann@example.com", tags=("spring",)):
    mg.call("send_message", domain=D, sender=f"shop@{D}", to=[to], subject="Hi", text="Hi", tags=list(tags))


@pytest.mark.vcr
def test_list_tags(mg):
    _send(mg, tags=["spring", "news"])
    _send(mg, "bob@example.com", tags=["spring"])
    everything = mg.call("list_tags")
    assert {t["tag"] for t in everything["items"]} == {"spring", "news"}
    [spring] = mg.call("list_tags", tag="spring", include_metrics=True)["items"]
    assert spring["metrics"]["accepted_count"] == 2 and spring["first_seen"]
    first = mg.run(mg.execute("list_tags", {"pagination": {"sort": "tag:asc", "limit": 1}}))
    assert [t["tag"] for t in first.data["items"]] == ["news"] and first.next_cursor == "1"


@pytest.mark.vcr
def test_update_tag(mg):
    _send(mg)
    assert mg.call("update_tag", tag="spring", description="Spring sale")["message"] == "Tag updated"
    assert mg.call("list_tags", tag="spring")["items"][0]["description"] == "Spring sale"


@pytest.mark.vcr
def test_delete_tag(mg):
    _send(mg, tags=["spring", "news"])
    assert mg.call("delete_tag", tag="news")["message"] == "Tag deleted"
    assert [t["tag"] for t in mg.call("list_tags")["items"]] == ["spring"]
    with pytest.raises(NotFound, match="Tag not found"):
        mg.call("delete_tag", tag="news")


@pytest.mark.vcr
def test_get_tag_limits(mg):
    _send(mg, tags=["spring", "news"])
    out = mg.call("get_tag_limits")
    assert out["count"] == 2 and out["limit"] > 2 and out["limit_reached"] is False


@pytest.mark.vcr
def test_list_domain_tags(mg):
    _send(mg, tags=["spring", "news", "summer"])
    first = mg.run(mg.execute("list_domain_tags", {"domain": D, "limit": 2}))
    rest = mg.run(mg.execute("list_domain_tags", {"domain": D, "limit": 2, "cursor": first.next_cursor}))
    assert [t["tag"] for t in first.data["items"] + rest.data["items"]] == ["news", "spring", "summer"]
    assert [t["tag"] for t in mg.call("list_domain_tags", domain=D, prefix="s")["items"]] == ["spring", "summer"]


@pytest.mark.vcr
def test_get_domain_tag(mg):
    _send(mg)
    out = mg.call("get_domain_tag", domain=D, tag="spring")
    assert out["tag"] == "spring" and out["first-seen"]
    with pytest.raises(NotFound, match="Tag not found"):
        mg.call("get_domain_tag", domain=D, tag="autumn")


@pytest.mark.vcr
def test_update_domain_tag(mg):
    _send(mg)
    assert mg.call("update_domain_tag", domain=D, tag="spring", description="Spring sale")["message"] == "Tag updated"
    assert mg.call("get_domain_tag", domain=D, tag="spring")["description"] == "Spring sale"


@pytest.mark.vcr
def test_delete_domain_tag(mg):
    _send(mg)
    assert mg.call("delete_domain_tag", domain=D, tag="spring")["message"] == "Tag deleted"
    with pytest.raises(NotFound, match="Tag not found"):
        mg.call("get_domain_tag", domain=D, tag="spring")


@pytest.mark.vcr
def test_get_domain_tag_stats(mg):
    mg.call("add_unsubscribe", domain=D, address="bob@example.com")
    _send(mg)
    _send(mg, "bob@example.com")
    _send(mg, "cy@example.com", tags=["other"])
    out = mg.call("get_domain_tag_stats", domain=D, tag="spring", events=["accepted", "failed"], duration="1d")
    assert out["tag"] == "spring"
    assert sum(s["accepted"]["total"] for s in out["stats"]) == 2
    assert sum(s["failed"]["permanent"]["suppress-unsubscribe"] for s in out["stats"]) == 1


@pytest.mark.vcr
def test_get_domain_tag_aggregates(mg):
    _send(mg)
    _send(mg, "bob@example.org")
    out = mg.call("get_domain_tag_aggregates", domain=D, tag="spring", type="provider")
    assert out["tag"] == "spring"
    assert {name: counts["accepted"] for name, counts in out["provider"].items()} == {
        "example.com": 1,
        "example.org": 1,
    }


@pytest.mark.vcr
def test_get_domain_tag_limits(mg):
    _send(mg, tags=["spring", "news"])
    out = mg.call("get_domain_tag_limits", domain=D)
    assert out["count"] == 2 and out["limit"] > 2


# -- wire format -----------------------------------------------------------------------------------------


def test_account_tags_travel_as_json_even_on_delete(dry):
    assert dry.dry_run("delete_tag", tag="spring")["json"] == {"tag": "spring"}
    update = dry.dry_run("update_tag", tag="spring", description="Sale")
    assert (update["method"], update["json"]) == ("PUT", {"tag": "spring", "description": "Sale"})
    listed = dry.dry_run("list_tags", tag="spr", pagination={"limit": 5}, cursor="10")
    assert listed["json"] == {"tag": "spr", "pagination": {"limit": 5, "include_total": True, "skip": 10}}


def test_the_old_tag_update_sends_its_fields_in_the_query(dry):
    req = dry.dry_run("update_domain_tag", domain=D, tag="spring sale", description="Big")
    assert req["method"] == "PUT" and req["url"].endswith(f"/v3/{D}/tag")
    assert req["query"] == [["tag", "spring sale"], ["description", "Big"]] and "form" not in req


def test_a_tag_must_be_named(dry):
    with pytest.raises(InvalidArguments, match="tag"):
        dry.dry_run("delete_tag", tag="")
    with pytest.raises(InvalidArguments, match="type"):
        dry.dry_run("get_domain_tag_aggregates", domain=D, tag="spring", type="city")
