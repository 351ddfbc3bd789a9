import json

import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import Conflict, NotFound

D = "mg.example.com"
NEWS = {"domain": D, "template_name": "news"}


@pytest.mark.vcr
def test_list_templates(mg):
    for name in ("gamma", "alpha", "beta"):
        mg.call("create_template", domain=D, template_name=name)
    first = mg.run(mg.execute("list_templates", {"domain": D, "limit": 2}))
    assert [t["name"] for t in first.data["items"]] == ["alpha", "beta"]
    assert "paging" not in first.data
    assert first.next_cursor and "p=beta" in first.next_cursor
    rest = mg.run(mg.execute("list_templates", {"domain": D, "limit": 2, "cursor": first.next_cursor}))
    assert [t["name"] for t in rest.data["items"]] == ["gamma"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_create_template(mg):
    out = mg.call(
        "create_template",
        domain=D,
        template_name="Welcome",
        description="Greets new users",
        template="<p>Hi {{name}}</p>",
        template_version="v1",
        comment="first",
        headers={"Subject": "Hi {{name}}"},
    )
    assert out["message"] == "template has been stored"
    assert out["template"]["name"] == "welcome"
    assert out["template"]["version"] == {
        **out["template"]["version"],
        "tag": "v1",
        "active": True,
        "template": "<p>Hi {{name}}</p>",
        "headers": {"Subject": "Hi {{name}}"},
    }
    with pytest.raises(Conflict):
        mg.call("create_template", domain=D, template_name="welcome")


@pytest.mark.vcr
def test_clear_templates(mg):
    mg.call("create_template", domain=D, template_name="one")
    mg.call("create_template", domain=D, template_name="two")
    assert mg.call("clear_templates", domain=D) == {"message": "templates have been deleted"}
    assert mg.call("list_templates", domain=D)["items"] == []


@pytest.mark.vcr
def test_get_template(mg):
    mg.call("create_template", domain=D, template_name="receipt", template="Total: {{total}}")
    plain = mg.call("get_template", domain=D, template_name="receipt")
    assert plain["template"]["name"] == "receipt" and "version" not in plain["template"]
    active = mg.call("get_template", domain=D, template_name="receipt", active=True)
    assert active["template"]["version"]["template"] == "Total: {{total}}"
    with pytest.raises(NotFound, match="template not found"):
        mg.call("get_template", domain=D, template_name="missing")


@pytest.mark.vcr
def test_update_template(mg):
    mg.call("create_template", domain=D, template_name="receipt", description="old")
    out = mg.call("update_template", domain=D, template_name="receipt", description="new")
    assert out == {"message": "template has been updated", "template": {"name": "receipt"}}
    assert mg.call("get_template", domain=D, template_name="receipt")["template"]["description"] == "new"


@pytest.mark.vcr
def test_delete_template(mg):
    mg.call("create_template", domain=D, template_name="gone", template="x")
    assert mg.call("delete_template", domain=D, template_name="gone")["message"] == "template has been deleted"
    with pytest.raises(NotFound):
        mg.call("get_template", domain=D, template_name="gone")


@pytest.mark.vcr
def test_list_template_versions(mg):
    mg.call("create_template", **NEWS, template="one", template_version="v1")
    mg.call("create_template_version", **NEWS, template_version="v2", template="two")
    out = mg.call("list_template_versions", **NEWS, limit=10)
    versions = {v["tag"]: v["active"] for v in out["template"]["versions"]}
    assert versions == {"v1": True, "v2": False}
    assert "paging" not in out


@pytest.mark.vcr
def test_create_template_version(mg):
    mg.call("create_template", **NEWS)
    first = mg.call("create_template_version", **NEWS, template_version="v1", template="one")
    assert first["message"] == "new version of the template has been stored"
    assert first["template"]["version"]["active"] is True  # a template's first version is active
    second = mg.call(
        "create_template_version",
        **NEWS,
        template_version="v2",
        template="two",
        active=True,
        comment="redesign",
        headers={"From": "News <news@mg.example.com>"},
    )
    assert second["template"]["version"]["active"] is True
    v1 = mg.call("get_template_version", **NEWS, template_version="v1")
    assert v1["template"]["version"]["active"] is False
    with pytest.raises(Conflict):
        mg.call("create_template_version", **NEWS, template_version="v2", template="again")


@pytest.mark.vcr
def test_get_template_version(mg):
    mg.call("create_template", **NEWS, template="Hello {{first}}", template_version="v1", comment="c1")
    version = mg.call("get_template_version", **NEWS, template_version="v1")["template"]["version"]
    assert version["template"] == "Hello {{first}}" and version["comment"] == "c1"
    with pytest.raises(NotFound, match="version not found"):
        mg.call("get_template_version", **NEWS, template_version="v9")


@pytest.mark.vcr
def test_update_template_version(mg):
    mg.call("create_template", **NEWS, template="one", template_version="v1")
    mg.call("create_template_version", **NEWS, template_version="v2", template="two")
    out = mg.call("update_template_version", **NEWS, template_version="v2", template="TWO", active=True)
    assert out == {"message": "version has been updated", "template": {"name": "news", "version": {"tag": "v2"}}}
    active = mg.call("get_template", **NEWS, active=True)["template"]["version"]
    assert active["tag"] == "v2" and active["template"] == "TWO"


@pytest.mark.vcr
def test_delete_template_version(mg):
    mg.call("create_template", **NEWS, template="one", template_version="v1")
    mg.call("create_template_version", **NEWS, template_version="v2", template="two")
    out = mg.call("delete_template_version", **NEWS, template_version="v2")
    assert out["message"] == "version has been deleted"
    with pytest.raises(NotFound):
        mg.call("get_template_version", **NEWS, template_version="v2")


@pytest.mark.vcr
def test_copy_template_version(mg):
    mg.call("create_template", **NEWS, template="Hi {{name}}", template_version="v1")
    out = mg.call(
        "copy_template_version", **NEWS, template_version="v1", new_template_version="v1 copy", comment="clone"
    )
    assert out["message"] == "version has been copied"
    assert out["version"] == {
        **out["version"],
        "tag": "v1 copy",
        "template": "Hi {{name}}",
        "comment": "clone",
        "active": False,
    }
    assert out["template"] == out["version"]  # Mailgun's deprecated name for the same version
    tags = [v["tag"] for v in mg.call("list_template_versions", **NEWS)["template"]["versions"]]
    assert tags == ["v1", "v1 copy"]


# -- wire format and validation ---------------------------------------------------------------------


def test_template_content_and_headers_travel_as_mailgun_fields(dry):
    req = dry.dry_run(
        "create_template",
        domain=D,
        template_name="t",
        template="<p>{{x}}</p>",
        headers={"Subject": "Hi"},
        created_by="me",
    )
    assert req["form"] == [
        ["name", "t"],
        ["template", "<p>{{x}}</p>"],
        ["headers", '{"Subject":"Hi"}'],
        ["createdBy", "me"],
    ]
    assert dry.dry_run("get_template", domain=D, template_name="t", active=True)["query"] == [["active", "yes"]]


def test_copy_comment_goes_in_the_query_and_tags_are_one_segment(dry):
    req = dry.dry_run(
        "copy_template_version",
        domain=D,
        template_name="t",
        template_version="v1",
        new_template_version="a/b c",
        comment="c",
    )
    assert req["method"] == "PUT"
    assert req["url"] == "https://api.mailgun.net/v3/mg.example.com/templates/t/versions/v1/copy/a%2Fb%20c"
    assert req["query"] == [["comment", "c"]] and "form" not in req


def test_template_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="template_name"):
        dry.dry_run("create_template", domain=D, template_name="has space")
    with pytest.raises(InvalidArguments, match="headers"):
        dry.dry_run("create_template", domain=D, template_name="t", headers={"X-Custom": "1"})
    with pytest.raises(InvalidArguments, match="limit"):
        dry.dry_run("list_templates", domain=D, limit=101)
    with pytest.raises(InvalidArguments, match="template: required"):
        dry.dry_run("create_template_version", domain=D, template_name="t", template_version="v1")


@pytest.mark.parametrize(
    ("tool", "arguments", "mailgun_name", "name", "value"),
    [
        ("create_template", {"domain": D}, "name", "template_name", "t"),
        ("get_template", {"domain": D}, "name", "template_name", "t"),
        ("create_template", {"domain": D, "template_name": "t"}, "content", "template", "<p>x</p>"),
        ("create_template", {"domain": D, "template_name": "t"}, "tag", "template_version", "v1"),
        ("create_template_version", {**NEWS, "template": "x"}, "tag", "template_version", "v2"),
        ("update_template_version", {**NEWS, "template_version": "v1"}, "content", "template", "<p>x</p>"),
        ("get_template_version", {**NEWS}, "tag", "template_version", "v1"),
        ("copy_template_version", {**NEWS, "template_version": "v1"}, "new_tag", "new_template_version", "v2"),
    ],
)
def test_mailgun_s_names_are_accepted_for_renamed_fields(dry, tool, arguments, mailgun_name, name, value):
    expected = dry.dry_run(tool, **arguments, **{name: value})
    assert dry.dry_run(tool, **arguments, **{mailgun_name: value}) == expected
    assert value in json.dumps(expected)
