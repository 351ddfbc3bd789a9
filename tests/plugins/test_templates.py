import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import Conflict, NotFound

D = "mg.example.com"


@pytest.mark.vcr
def test_list_templates(mg):
    for name in ("gamma", "alpha", "beta"):
        mg.call("create_template", domain=D, name=name)
    first = mg.run(mg.execute("list_templates", {"domain": D, "limit": 2}))
    assert [t["name"] for t in first.data["items"]] == ["alpha", "beta"]
    assert "paging" not in first.data
    assert first.next_cursor and "p=beta" in first.next_cursor
    rest = mg.run(mg.execute("list_templates", {"domain": D, "limit": 2, "cursor": first.next_cursor}))
    assert [t["name"] for t in rest.data["items"]] == ["gamma"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_create_template(mg):
    out = mg.call("create_template", domain=D, name="Welcome", description="Greets new users",
                  content="<p>Hi {{name}}</p>", tag="v1", comment="first", headers={"Subject": "Hi {{name}}"})
    assert out["message"] == "template has been stored"
    assert out["template"]["name"] == "welcome"
    assert out["template"]["version"] == {**out["template"]["version"], "tag": "v1", "active": True,
                                          "template": "<p>Hi {{name}}</p>", "headers": {"Subject": "Hi {{name}}"}}
    with pytest.raises(Conflict):
        mg.call("create_template", domain=D, name="welcome")


@pytest.mark.vcr
def test_clear_templates(mg):
    mg.call("create_template", domain=D, name="one")
    mg.call("create_template", domain=D, name="two")
    assert mg.call("clear_templates", domain=D) == {"message": "templates have been deleted"}
    assert mg.call("list_templates", domain=D)["items"] == []


@pytest.mark.vcr
def test_get_template(mg):
    mg.call("create_template", domain=D, name="receipt", content="Total: {{total}}")
    plain = mg.call("get_template", domain=D, name="receipt")
    assert plain["template"]["name"] == "receipt" and "version" not in plain["template"]
    active = mg.call("get_template", domain=D, name="receipt", active=True)
    assert active["template"]["version"]["template"] == "Total: {{total}}"
    with pytest.raises(NotFound, match="template not found"):
        mg.call("get_template", domain=D, name="missing")


@pytest.mark.vcr
def test_update_template(mg):
    mg.call("create_template", domain=D, name="receipt", description="old")
    out = mg.call("update_template", domain=D, name="receipt", description="new")
    assert out == {"message": "template has been updated", "template": {"name": "receipt"}}
    assert mg.call("get_template", domain=D, name="receipt")["template"]["description"] == "new"


@pytest.mark.vcr
def test_delete_template(mg):
    mg.call("create_template", domain=D, name="gone", content="x")
    assert mg.call("delete_template", domain=D, name="gone")["message"] == "template has been deleted"
    with pytest.raises(NotFound):
        mg.call("get_template", domain=D, name="gone")


@pytest.mark.vcr
def test_list_template_versions(mg):
    mg.call("create_template", domain=D, name="news", content="one", tag="v1")
    mg.call("create_template_version", domain=D, name="news", tag="v2", content="two")
    out = mg.call("list_template_versions", domain=D, name="news", limit=10)
    versions = {v["tag"]: v["active"] for v in out["template"]["versions"]}
    assert versions == {"v1": True, "v2": False}
    assert "paging" not in out


@pytest.mark.vcr
def test_create_template_version(mg):
    mg.call("create_template", domain=D, name="news")
    first = mg.call("create_template_version", domain=D, name="news", tag="v1", content="one")
    assert first["message"] == "new version of the template has been stored"
    assert first["template"]["version"]["active"] is True  # a template's first version is active
    second = mg.call("create_template_version", domain=D, name="news", tag="v2", content="two", active=True,
                     comment="redesign", headers={"From": "News <news@mg.example.com>"})
    assert second["template"]["version"]["active"] is True
    assert mg.call("get_template_version", domain=D, name="news", tag="v1")["template"]["version"]["active"] is False
    with pytest.raises(Conflict):
        mg.call("create_template_version", domain=D, name="news", tag="v2", content="again")


@pytest.mark.vcr
def test_get_template_version(mg):
    mg.call("create_template", domain=D, name="news", content="Hello {{first}}", tag="v1", comment="c1")
    version = mg.call("get_template_version", domain=D, name="news", tag="v1")["template"]["version"]
    assert version["template"] == "Hello {{first}}" and version["comment"] == "c1"
    with pytest.raises(NotFound, match="version not found"):
        mg.call("get_template_version", domain=D, name="news", tag="v9")


@pytest.mark.vcr
def test_update_template_version(mg):
    mg.call("create_template", domain=D, name="news", content="one", tag="v1")
    mg.call("create_template_version", domain=D, name="news", tag="v2", content="two")
    out = mg.call("update_template_version", domain=D, name="news", tag="v2", content="TWO", active=True)
    assert out == {"message": "version has been updated", "template": {"name": "news", "version": {"tag": "v2"}}}
    active = mg.call("get_template", domain=D, name="news", active=True)["template"]["version"]
    assert active["tag"] == "v2" and active["template"] == "TWO"


@pytest.mark.vcr
def test_delete_template_version(mg):
    mg.call("create_template", domain=D, name="news", content="one", tag="v1")
    mg.call("create_template_version", domain=D, name="news", tag="v2", content="two")
    out = mg.call("delete_template_version", domain=D, name="news", tag="v2")
    assert out["message"] == "version has been deleted"
    with pytest.raises(NotFound):
        mg.call("get_template_version", domain=D, name="news", tag="v2")


@pytest.mark.vcr
def test_copy_template_version(mg):
    mg.call("create_template", domain=D, name="news", content="Hi {{name}}", tag="v1")
    out = mg.call("copy_template_version", domain=D, name="news", tag="v1", new_tag="v1 copy", comment="clone")
    assert out["message"] == "version has been copied"
    assert out["version"] == {**out["version"], "tag": "v1 copy", "template": "Hi {{name}}", "comment": "clone",
                              "active": False}
    tags = [v["tag"] for v in mg.call("list_template_versions", domain=D, name="news")["template"]["versions"]]
    assert tags == ["v1", "v1 copy"]


# -- wire format and validation ---------------------------------------------------------------------


def test_template_content_and_headers_travel_as_mailgun_fields(dry):
    req = dry.dry_run("create_template", domain=D, name="t", content="<p>{{x}}</p>", headers={"Subject": "Hi"},
                      created_by="me")
    assert req["form"] == [["name", "t"], ["template", "<p>{{x}}</p>"], ["headers", '{"Subject":"Hi"}'],
                           ["createdBy", "me"]]
    assert dry.dry_run("get_template", domain=D, name="t", active=True)["query"] == [["active", "yes"]]


def test_copy_comment_goes_in_the_query_and_tags_are_one_segment(dry):
    req = dry.dry_run("copy_template_version", domain=D, name="t", tag="v1", new_tag="a/b c", comment="c")
    assert req["method"] == "PUT"
    assert req["url"] == "https://api.mailgun.net/v3/mg.example.com/templates/t/versions/v1/copy/a%2Fb%20c"
    assert req["query"] == [["comment", "c"]] and "form" not in req


def test_template_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="name"):
        dry.dry_run("create_template", domain=D, name="has space")
    with pytest.raises(InvalidArguments, match="headers"):
        dry.dry_run("create_template", domain=D, name="t", headers={"X-Custom": "1"})
    with pytest.raises(InvalidArguments, match="limit"):
        dry.dry_run("list_templates", domain=D, limit=101)
    with pytest.raises(InvalidArguments, match="content"):
        dry.dry_run("create_template_version", domain=D, name="t", tag="v1")
