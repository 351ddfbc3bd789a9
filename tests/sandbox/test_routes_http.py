"""The sandbox's inbound routes, spoken to directly over HTTP."""

import pytest

from mg_tools.sandbox.areas.routes import matching_routes

FORWARD = 'forward("https://app.example.com/in")'


def add_route(client, expression, *actions, priority=0, description=None):
    data = {"expression": expression, "action": list(actions) or ["stop()"], "priority": priority}
    if description is not None:
        data["description"] = description
    r = client.post("/v3/routes", data=data)
    assert r.status_code == 200, r.text
    return r.json()["route"]


def test_create_stores_the_route_by_id(client, sb):
    r = client.post(
        "/v3/routes",
        data={
            "expression": "match_recipient('.*@gmail.com')",
            "description": "gmail",
            "action": [FORWARD, 'store(notify="https://app.example.com/n")', "stop()"],
        },
    )
    body = r.json()
    assert body["message"] == "Route has been created"
    route = body["route"]
    assert route == {
        **route,
        "priority": 0,
        "description": "gmail",
        "expression": "match_recipient('.*@gmail.com')",
        "actions": [FORWARD, 'store(notify="https://app.example.com/n")', "stop()"],
    }
    assert sb.state.get("route", route["id"]) == route
    assert client.get(f"/v3/routes/{route['id']}").json() == {"route": route}


@pytest.mark.parametrize(
    "expression, problem",
    [
        ("", "'expression' parameter is missing"),
        ("match_everything()", "unknown filter"),
        ('match_recipient("a", "b")', "takes 1 quoted argument"),
        ('match_header("subject")', "takes 2 quoted argument"),
        ("match_recipient(.*)", "expected a quoted string"),
        ('match_recipient("(")', "bad regular expression"),
        ('match_recipient("a@x.com") or catch_all()', "combined with 'and'"),
        ('match_recipient("a@x.com', "unterminated string"),
        ('match_recipient("a@x.com") and', "expected a name"),
    ],
)
def test_bad_expressions_are_400(client, expression, problem):
    r = client.post("/v3/routes", data={"expression": expression, "action": "stop()"})
    assert r.status_code == 400 and problem in r.json()["message"], r.text
    assert client.get("/v3/routes").json()["total_count"] == 0


@pytest.mark.parametrize(
    "action, problem",
    [
        ("drop()", "unknown action"),
        ("forward()", "use forward("),
        ('forward("not a destination")', "use forward("),
        ('forward("https://[::1")', "use forward("),
        ('store(notify="ftp://x.example.com")', "use store()"),
        ('store(url="https://x.example.com")', "use store()"),
        ('stop("now")', "takes no arguments"),
        ("stop() stop()", "one action per value"),
    ],
)
def test_bad_actions_are_400(client, action, problem):
    r = client.post("/v3/routes", data={"expression": "catch_all()", "action": action})
    assert r.status_code == 400 and problem in r.json()["message"], r.text


def test_priority_must_be_a_non_negative_integer(client):
    for bad in ("-1", "high"):
        r = client.post("/v3/routes", data={"expression": "catch_all()", "action": "stop()", "priority": bad})
        assert r.status_code == 400 and "priority" in r.json()["message"]


def test_match_returns_the_first_route_by_priority(client, sb):
    later = add_route(client, 'match_recipient(".*@example.com")', priority=5)
    first = add_route(client, 'match_recipient("support@.*")', FORWARD, priority=1)
    catch_all = add_route(client, "catch_all()", priority=9)
    header_only = add_route(client, 'match_recipient(".*") and match_header("subject", "urgent")', priority=0)
    assert client.get("/v3/routes/match", params={"address": "support@example.com"}).json() == {"route": first}
    assert client.get("/v3/routes/match", params={"address": "SALES@EXAMPLE.COM"}).json() == {"route": later}
    assert client.get("/v3/routes/match", params={"address": "x@other.org"}).json() == {"route": catch_all}
    assert client.get("/v3/routes/match", params={}).status_code == 400
    # With headers (as the inbound pipeline has them) the header filter can match; catch_all then cannot.
    found = matching_routes(sb.state, "x@other.org", {"Subject": "urgent: help"})
    assert [r["id"] for r in found] == [header_only["id"]]
    found = matching_routes(sb.state, "support@example.com", {"subject": "hello"})
    assert [r["id"] for r in found] == [first["id"], later["id"]]


def test_match_without_routes_is_404(client):
    add_route(client, 'match_recipient("only@example.com")')
    r = client.get("/v3/routes/match", params={"address": "other@example.com"})
    assert (r.status_code, r.json()) == (404, {"message": "Route not found"})


def test_list_pages_with_skip_and_limit(client):
    ids = [add_route(client, "catch_all()", priority=p)["id"] for p in (3, 1, 2)]
    page = client.get("/v3/routes", params={"limit": 2}).json()
    assert page["total_count"] == 3 and [r["priority"] for r in page["items"]] == [1, 2]
    page = client.get("/v3/routes", params={"skip": 2, "limit": 2}).json()
    assert [r["id"] for r in page["items"]] == [ids[0]]
    assert client.get("/v3/routes", params={"limit": 1001}).json() == {
        "message": "The 'limit' parameter can't be larger than 1000"
    }


def test_update_changes_only_what_is_given(client):
    route = add_route(client, 'match_recipient("a@example.com")', FORWARD, priority=2, description="old")
    r = client.put(f"/v3/routes/{route['id']}", data={"description": "new"})
    assert r.json() == {"message": "Route has been updated", "route": {**route, "description": "new"}}
    r = client.put(f"/v3/routes/{route['id']}", data={"action": ["stop()"], "priority": "4"})
    assert r.json()["route"] == {**route, "description": "new", "actions": ["stop()"], "priority": 4}
    assert client.put(f"/v3/routes/{route['id']}", data={"expression": "nonsense"}).status_code == 400
    assert client.get(f"/v3/routes/{route['id']}").json()["route"]["expression"] == 'match_recipient("a@example.com")'
    assert client.put("/v3/routes/000000000000000000000000", data={"priority": "1"}).json() == {
        "message": "Route not found"
    }


def test_delete(client):
    route = add_route(client, "catch_all()")
    assert client.delete(f"/v3/routes/{route['id']}").json() == {"message": "Route has been deleted", "id": route["id"]}
    assert client.get(f"/v3/routes/{route['id']}").status_code == 404
    assert client.delete(f"/v3/routes/{route['id']}").status_code == 404
