"""The sandbox's templates API, spoken to directly over HTTP."""

import json

BASE = "https://api.mailgun.net"
T = "/v3/mg.example.com/templates"


def test_create_with_content_makes_an_active_initial_version(client, sb):
    r = client.post(
        T,
        data={
            "name": "Welcome",
            "description": "hi",
            "template": "<p>{{name}}</p>",
            "headers": json.dumps({"subject": "Hello {{name}}"}),
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "template has been stored"
    assert body["template"]["name"] == "welcome"  # names are lower-cased
    version = body["template"]["version"]
    assert version["tag"] == "initial" and version["active"] is True and version["engine"] == "handlebars"
    assert version["headers"] == {"Subject": "Hello {{name}}"}
    got = client.get(f"{T}/WELCOME", params={"active": "yes"}).json()["template"]
    assert got["version"]["template"] == "<p>{{name}}</p>"
    assert "version" not in client.get(f"{T}/welcome").json()["template"]
    stored = sb.state.get("template", "mg.example.com/welcome")
    assert stored["versions"]["initial"]["active"] is True


def test_create_errors(client):
    assert client.post(T, data={"description": "x"}).status_code == 400
    assert client.post(T, data={"name": "has space"}).json()["message"] == "Invalid parameter: name is invalid"
    assert client.post(T, data={"name": "a", "template": "x", "engine": "jinja"}).status_code == 400
    assert client.post(T, data={"name": "b", "template": "x", "headers": '{"X-Other": "1"}'}).status_code == 400
    assert client.post(T, data={"name": "c", "template": "x" * (100 * 1024 + 1)}).status_code == 400
    assert client.post(T, data={"name": "dup"}).status_code == 200
    assert client.post(T, data={"name": "DUP"}).status_code == 409
    assert client.post("/v3/nope.example.com/templates", data={"name": "x"}).status_code == 404
    assert client.get(f"{T}/missing").json() == {"message": "template not found"}


def test_template_limit(client, sb):
    state = sb.state
    for i in range(100):
        state.put("template", f"mg.example.com/t{i:03}", {"name": f"t{i:03}", "versions": {}})
    r = client.post(T, data={"name": "one-more"})
    assert r.status_code == 400 and "100" in r.json()["message"]


def test_list_pages_with_pivot_p(client):
    for name in ("c", "a", "b"):
        client.post(T, data={"name": name})
    first = client.get(T, params={"limit": 2}).json()
    assert [t["name"] for t in first["items"]] == ["a", "b"]
    assert first["paging"]["next"].startswith(f"{BASE}{T}?")
    assert "page=next" in first["paging"]["next"] and "p=b" in first["paging"]["next"]
    second = client.get(first["paging"]["next"]).json()
    assert [t["name"] for t in second["items"]] == ["c"]
    last = client.get(T, params={"page": "last", "limit": 1}).json()
    assert [t["name"] for t in last["items"]] == ["c"]
    assert client.get(T).json()["paging"]["first"].endswith("limit=10")  # default page size
    assert client.get(T, params={"limit": 101}).status_code == 400
    assert client.get(T, params={"page": "sideways"}).status_code == 400


def test_update_and_delete(client):
    client.post(T, data={"name": "t", "template": "x"})
    assert client.put(f"{T}/t", data={}).json()["message"] == "No fields are provided to update"
    r = client.put(f"{T}/t", data={"description": "new"})
    assert r.json() == {"message": "template has been updated", "template": {"name": "t"}}
    assert client.get(f"{T}/t").json()["template"]["description"] == "new"
    assert client.delete(f"{T}/t").json() == {"message": "template has been deleted", "template": {"name": "t"}}
    assert client.get(f"{T}/t").status_code == 404
    client.post(T, data={"name": "u"})
    assert client.delete(T).json() == {"message": "templates have been deleted"}
    assert client.get(T).json()["items"] == []


def test_versions_activation_copy_and_limit(client):
    client.post(T, data={"name": "t"})
    V = f"{T}/t/versions"
    first = client.post(V, data={"tag": "v1", "template": "one"}).json()
    assert first["message"] == "new version of the template has been stored"
    assert first["template"]["version"]["active"] is True  # the first version is active
    second = client.post(V, data={"tag": "v2", "template": "two", "comment": "c"}).json()
    assert second["template"]["version"]["active"] is False
    assert client.post(V, data={"tag": "v2", "template": "again"}).status_code == 409
    assert client.post(V, data={"tag": "v3"}).status_code == 400  # template is required
    client.post(V, data={"tag": "v3", "template": "three", "active": "yes"})
    listed = client.get(V).json()
    assert {v["tag"]: v["active"] for v in listed["template"]["versions"]} == {"v1": False, "v2": False, "v3": True}
    assert "template" not in listed["template"]["versions"][0]  # content only per version
    r = client.put(f"{V}/v1", data={"template": "ONE", "active": "yes"})
    assert r.json() == {"message": "version has been updated", "template": {"name": "t", "version": {"tag": "v1"}}}
    got = client.get(f"{V}/v1").json()["template"]["version"]
    assert got["template"] == "ONE" and got["active"] is True
    assert client.get(f"{V}/v3").json()["template"]["version"]["active"] is False
    copied = client.put(f"{V}/v1/copy/v1-copy", params={"comment": "cloned"}).json()
    assert copied["message"] == "version has been copied"
    assert copied["version"]["tag"] == "v1-copy" and copied["version"]["template"] == "ONE"
    assert copied["template"] == copied["version"]  # a version object under its deprecated name, not the template
    assert copied["version"]["active"] is False and copied["version"]["comment"] == "cloned"
    assert client.delete(f"{V}/v2").json()["message"] == "version has been deleted"
    assert client.get(f"{V}/v2").status_code == 404
    page = client.get(V, params={"limit": 2}).json()
    assert [v["tag"] for v in page["template"]["versions"]] == ["v1", "v1-copy"]
    assert "p=v1-copy" in page["paging"]["next"]
    for i in range(37):
        assert client.post(V, data={"tag": f"x{i}", "template": "x"}).status_code == 200
    assert client.post(V, data={"tag": "over", "template": "x"}).status_code == 400  # 40 versions
    assert client.put(f"{V}/v1/copy/over").status_code == 400
    assert client.put(f"{V}/v1/copy/x0").status_code == 200  # overwriting is not a new version
