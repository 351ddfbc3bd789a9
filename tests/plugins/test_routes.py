import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

SUPPORT = {
    "expression": 'match_recipient("support@.*")',
    "priority": 1,
    "description": "support inbox",
    "actions": ['forward("https://app.example.com/in")', "stop()"],
}
CATCH_ALL = {"expression": "catch_all()", "actions": ['store(notify="https://app.example.com/stored")'], "priority": 10}


@pytest.mark.vcr
def test_list_routes(mg):
    mg.call("create_route", **CATCH_ALL)
    mg.call("create_route", **SUPPORT)
    mg.call(
        "create_route", expression='match_recipient("sales@.*")', actions=['forward("sales@example.com")'], priority=5
    )
    first = mg.run(mg.execute("list_routes", {"limit": 2}))
    assert first.data["total_count"] == 3
    assert [r["priority"] for r in first.data["items"]] == [1, 5]  # the order they run in
    assert first.next_cursor == "2"
    rest = mg.run(mg.execute("list_routes", {"limit": 2, "cursor": first.next_cursor}))
    assert [r["expression"] for r in rest.data["items"]] == ["catch_all()"] and rest.next_cursor is None


@pytest.mark.vcr
def test_create_route(mg):
    out = mg.call("create_route", **SUPPORT)
    route = out["route"]
    assert out["message"] == "Route has been created"
    assert route["actions"] == ['forward("https://app.example.com/in")', "stop()"]
    assert (route["priority"], route["description"], route["expression"]) == (1, "support inbox", SUPPORT["expression"])
    assert len(route["id"]) == 24 and route["created_at"]
    with pytest.raises(BadRequest, match="bad regular expression"):
        mg.call("create_route", expression='match_recipient("(unclosed")', actions=["stop()"])


@pytest.mark.vcr
def test_get_route(mg):
    route = mg.call("create_route", **SUPPORT)["route"]
    assert mg.call("get_route", id=route["id"]) == {"route": route}
    with pytest.raises(NotFound, match="Route not found"):
        mg.call("get_route", id="000000000000000000000000")


@pytest.mark.vcr
def test_update_route(mg):
    route = mg.call("create_route", **SUPPORT)["route"]
    out = mg.call("update_route", id=route["id"], priority=3, actions=["stop()"])
    assert out["message"] == "Route has been updated"
    assert {**route, "priority": 3, "actions": ["stop()"]} == out["route"]
    assert mg.call("get_route", id=route["id"])["route"]["actions"] == ["stop()"]
    with pytest.raises(NotFound, match="Route not found"):
        mg.call("update_route", id="000000000000000000000000", priority=1)


@pytest.mark.vcr
def test_delete_route(mg):
    route = mg.call("create_route", **SUPPORT)["route"]
    assert mg.call("delete_route", id=route["id"]) == {"message": "Route has been deleted", "id": route["id"]}
    with pytest.raises(NotFound):
        mg.call("get_route", id=route["id"])


@pytest.mark.vcr
def test_match_route(mg):
    support = mg.call("create_route", **SUPPORT)["route"]
    with pytest.raises(NotFound, match="Route not found"):
        mg.call("match_route", address="bob@example.com")
    catch_all = mg.call("create_route", **CATCH_ALL)["route"]
    assert mg.call("match_route", address="support@example.com") == {"route": support}
    assert mg.call("match_route", address="bob@example.com") == {"route": catch_all}


def test_actions_are_repeated_fields(dry):
    out = dry.dry_run("create_route", **SUPPORT)
    assert (out["method"], out["url"]) == ("POST", "https://api.mailgun.net/v3/routes")
    assert out["encoding"] == "application/x-www-form-urlencoded"
    assert [v for k, v in out["form"] if k == "action"] == ['forward("https://app.example.com/in")', "stop()"]
    assert ["priority", "1"] in out["form"] and ["expression", SUPPORT["expression"]] in out["form"]
    out = dry.dry_run("match_route", address="a+b@example.com")
    assert out["url"] == "https://api.mailgun.net/v3/routes/match" and out["query"] == [["address", "a+b@example.com"]]


@pytest.mark.parametrize(
    "action",
    [
        "forward(https://no-quotes.example.com)",
        'forward("a b@example.com")',
        'store(notify="ftp://example.com/x")',
        'store(url="https://example.com/x")',
        "stop",
        'stop(); forward("x@example.com")',
        "drop()",
    ],
)
def test_bad_route_actions_are_refused(dry, action):
    with pytest.raises(InvalidArguments, match=r"actions\.0: must be forward"):
        dry.dry_run("create_route", expression="catch_all()", actions=[action])


def test_route_expressions_and_priorities_are_checked(dry):
    with pytest.raises(InvalidArguments, match="expression"):
        dry.dry_run("create_route", expression="recipient == 'a@b.c'", actions=["stop()"])
    with pytest.raises(InvalidArguments, match="priority"):
        dry.dry_run("create_route", expression="catch_all()", actions=["stop()"], priority=-1)
    with pytest.raises(InvalidArguments, match="actions"):
        dry.dry_run("create_route", expression="catch_all()", actions=[])
    with pytest.raises(InvalidArguments, match="id"):
        dry.dry_run("get_route", id="../keys")
