import json

import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

L = "devs@mg.example.com"


@pytest.fixture
def devs(mg):
    mg.call("create_mailing_list", list_address=L, name="Developers")
    return mg


@pytest.mark.vcr
def test_create_mailing_list(mg):
    out = mg.call(
        "create_mailing_list",
        list_address=f"Developers <{L}>",
        description="All devs",
        access_level="members",
        reply_preference="sender",
    )
    assert out["message"] == "Mailing list has been created"
    assert out["list"] == {
        **out["list"],
        "address": L,
        "name": "Developers",
        "access_level": "members",
        "reply_preference": "sender",
        "members_count": 0,
    }
    with pytest.raises(BadRequest, match="already exists"):
        mg.call("create_mailing_list", list_address=L)


@pytest.mark.vcr
def test_list_mailing_lists(mg):
    for name in ("a", "b", "c"):
        mg.call("create_mailing_list", list_address=f"{name}@mg.example.com")
    first = mg.run(mg.execute("list_mailing_lists", {"limit": 2}))
    assert first.data["total_count"] == 3
    assert [x["address"] for x in first.data["items"]] == ["a@mg.example.com", "b@mg.example.com"]
    assert first.next_cursor == "2"
    rest = mg.run(mg.execute("list_mailing_lists", {"limit": 2, "cursor": first.next_cursor}))
    assert [x["address"] for x in rest.data["items"]] == ["c@mg.example.com"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_page_mailing_lists(mg):
    for name in ("c", "a", "b"):
        mg.call("create_mailing_list", list_address=f"{name}@mg.example.com")
    first = mg.run(mg.execute("page_mailing_lists", {"limit": 2}))
    assert [x["address"] for x in first.data["items"]] == ["a@mg.example.com", "b@mg.example.com"]
    assert first.next_cursor.startswith("/v3/lists/pages?")
    rest = mg.run(mg.execute("page_mailing_lists", {"limit": 2, "cursor": first.next_cursor}))
    assert [x["address"] for x in rest.data["items"]] == ["c@mg.example.com"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_get_mailing_list(devs):
    assert devs.call("get_mailing_list", list_address=L)["list"]["name"] == "Developers"
    with pytest.raises(NotFound, match="not found"):
        devs.call("get_mailing_list", list_address="nobody@mg.example.com")


@pytest.mark.vcr
def test_update_mailing_list(devs):
    devs.call("add_list_member", list_address=L, address="ann@example.com")
    out = devs.call(
        "update_mailing_list", list_address=L, new_list_address="team@mg.example.com", access_level="everyone"
    )
    assert out["message"] == "Mailing list has been updated"
    assert out["list"]["address"] == "team@mg.example.com" and out["list"]["access_level"] == "everyone"
    assert devs.call("get_list_member", list_address="team@mg.example.com", address="ann@example.com")
    with pytest.raises(NotFound):
        devs.call("get_mailing_list", list_address=L)


@pytest.mark.vcr
def test_delete_mailing_list(devs):
    out = devs.call("delete_mailing_list", list_address=L)
    assert out == {"address": L, "message": "Mailing list has been removed"}
    with pytest.raises(NotFound):
        devs.call("get_mailing_list", list_address=L)


@pytest.mark.vcr
def test_list_list_members(devs):
    devs.call(
        "add_list_members",
        list_address=L,
        members=["a@example.com", "b@example.com", {"address": "c@example.com", "subscribed": False}],
    )
    first = devs.run(devs.execute("list_list_members", {"list_address": L, "limit": 2}))
    assert first.data["total_count"] == 3 and first.next_cursor == "2"
    rest = devs.run(devs.execute("list_list_members", {"list_address": L, "limit": 2, "cursor": "2"}))
    assert [m["address"] for m in rest.data["items"]] == ["c@example.com"]
    unsubscribed = devs.call("list_list_members", list_address=L, subscribed=False)
    assert [m["address"] for m in unsubscribed["items"]] == ["c@example.com"]


@pytest.mark.vcr
def test_page_list_members(devs):
    devs.call("add_list_members", list_address=L, members=["c@example.com", "a@example.com", "b@example.com"])
    first = devs.run(devs.execute("page_list_members", {"list_address": L, "limit": 2}))
    assert [m["address"] for m in first.data["items"]] == ["a@example.com", "b@example.com"]
    rest = devs.run(devs.execute("page_list_members", {"list_address": L, "limit": 2, "cursor": first.next_cursor}))
    assert [m["address"] for m in rest.data["items"]] == ["c@example.com"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_add_list_member(devs):
    out = devs.call("add_list_member", list_address=L, address="Ann <ann@example.com>", vars={"plan": "pro"})
    assert out == {
        "member": {"address": "ann@example.com", "name": "Ann", "subscribed": True, "vars": {"plan": "pro"}},
        "message": "Mailing list member has been created",
    }
    with pytest.raises(BadRequest, match="already exists"):
        devs.call("add_list_member", list_address=L, address="ann@example.com")
    again = devs.call("add_list_member", list_address=L, address="ann@example.com", subscribed=False, upsert=True)
    assert again["member"]["subscribed"] is False
    assert devs.call("get_mailing_list", list_address=L)["list"]["members_count"] == 1


@pytest.mark.vcr
def test_add_list_members(devs):
    out = devs.call(
        "add_list_members",
        list_address=L,
        members=["ann@example.com", {"address": "Bob <bob@example.com>", "vars": {"age": 30}, "subscribed": False}],
    )
    assert out["message"] == "Mailing list has been updated" and out["list"]["members_count"] == 2
    bob = devs.call("get_list_member", list_address=L, address="bob@example.com")["member"]
    assert bob == {"address": "bob@example.com", "name": "Bob", "subscribed": False, "vars": {"age": 30}}


@pytest.mark.vcr
def test_import_list_members(devs):
    out = devs.call(
        "import_list_members",
        list_address=L,
        csv='address,name,vars\nann@example.com,Ann,"{""x"": 1}"\nben@example.com,Ben,\n',
        subscribed=True,
    )
    assert out["message"] == "Mailing list upload started in background" and out["task-id"]
    assert out["list"]["members_count"] == 2
    ann = devs.call("get_list_member", list_address=L, address="ann@example.com")["member"]
    assert ann["name"] == "Ann" and ann["vars"] == {"x": 1}


@pytest.mark.vcr
def test_get_list_member(devs):
    devs.call("add_list_member", list_address=L, address="a+tag@example.com", name="Tagged")
    out = devs.call("get_list_member", list_address=L, address="a+tag@example.com")
    assert out["member"]["name"] == "Tagged"
    with pytest.raises(NotFound):
        devs.call("get_list_member", list_address=L, address="nobody@example.com")


@pytest.mark.vcr
def test_update_list_member(devs):
    devs.call("add_list_member", list_address=L, address="ann@example.com", name="Ann")
    out = devs.call(
        "update_list_member", list_address=L, address="ann@example.com", subscribed=False, vars={"reason": "asked"}
    )
    assert out["message"] == "Mailing list member has been updated"
    assert out["member"] == {
        "address": "ann@example.com",
        "name": "Ann",
        "subscribed": False,
        "vars": {"reason": "asked"},
    }


@pytest.mark.vcr
def test_delete_list_member(devs):
    devs.call("add_list_member", list_address=L, address="ann@example.com")
    out = devs.call("delete_list_member", list_address=L, address="ann@example.com")
    assert out == {"member": {"address": "ann@example.com"}, "message": "Mailing list member has been deleted"}
    assert devs.call("get_mailing_list", list_address=L)["list"]["members_count"] == 0


# -- wire format and validation ---------------------------------------------------------------------


def test_bulk_members_are_one_json_form_field(dry):
    req = dry.dry_run(
        "add_list_members",
        list_address=L,
        upsert=True,
        members=["ann@example.com", {"address": "Bob <bob@example.com>", "vars": {"age": 30}, "subscribed": False}],
    )
    assert req["encoding"] == "application/x-www-form-urlencoded"
    fields = dict(req["form"])
    assert json.loads(fields["members"]) == [
        "ann@example.com",
        {"address": "Bob <bob@example.com>", "vars": {"age": 30}, "subscribed": False},
    ]
    assert fields["upsert"] == "yes"


def test_csv_import_is_a_multipart_file_named_members(dry):
    req = dry.dry_run("import_list_members", list_address=L, csv="address\nann@example.com\n", upsert=False)
    assert req["encoding"] == "multipart/form-data"
    assert req["files"] == [{"field": "members", "filename": "members.csv", "content_type": "text/csv", "size": 24}]
    assert req["form"] == [["upsert", "no"]]


def test_plus_and_slash_in_list_and_member_addresses_stay_in_one_segment(dry):
    req = dry.dry_run(
        "update_list_member", list_address="news+eu/de@mg.example.com", address="a+b@example.com", subscribed=False
    )
    assert req["url"] == (
        "https://api.mailgun.net/v3/lists/news%2Beu%2Fde%40mg.example.com/members/a%2Bb%40example.com"
    )
    assert req["form"] == [["subscribed", "no"]]


def test_member_vars_are_json_text(dry):
    req = dry.dry_run("add_list_member", list_address=L, address="a@example.com", vars={"age": 3})
    assert ["vars", '{"age":3}'] in req["form"]


def test_list_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="members"):
        dry.dry_run("add_list_members", list_address=L, members=[f"u{i}@example.com" for i in range(1001)])
    with pytest.raises(InvalidArguments, match="access_level"):
        dry.dry_run("create_mailing_list", list_address=L, access_level="public")
    with pytest.raises(InvalidArguments, match="csv or file"):
        dry.dry_run("import_list_members", list_address=L)
    with pytest.raises(InvalidArguments, match="list_address"):
        dry.dry_run("get_mailing_list", list_address="not-an-address")
    with pytest.raises(InvalidArguments, match="limit"):
        dry.dry_run("list_list_members", list_address=L, limit=101)


def test_a_member_update_sends_the_new_address_as_mailgun_s_address_field(dry):
    req = dry.dry_run("update_list_member", list_address=L, address="ann@example.com", new_address="anna@example.com")
    assert req["url"] == "https://api.mailgun.net/v3/lists/devs%40mg.example.com/members/ann%40example.com"
    assert req["form"] == [["address", "anna@example.com"]]


@pytest.mark.parametrize(
    ("tool", "arguments", "mailgun_name", "name"),
    [
        ("create_mailing_list", {}, "address", "list_address"),
        ("list_mailing_lists", {}, "address", "list_address"),
        ("update_mailing_list", {"list_address": L}, "address", "new_list_address"),
        ("get_list_member", {"list_address": L}, "member_address", "address"),
        ("delete_list_member", {"list_address": L}, "member_address", "address"),
    ],
)
def test_mailgun_s_names_are_accepted_for_renamed_fields(dry, tool, arguments, mailgun_name, name):
    value = "team@mg.example.com"
    assert dry.dry_run(tool, **arguments, **{mailgun_name: value}) == dry.dry_run(tool, **arguments, **{name: value})
    assert value in json.dumps(dry.dry_run(tool, **arguments, **{name: value})).replace("%40", "@")
