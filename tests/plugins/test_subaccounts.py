import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

GRANTS = ("subaccounts",)
FEATURES = {"email_preview", "inbox_placement", "sending", "validations", "validations_bulk"}


def _new(mg, name: str = "Client A") -> str:
    return mg.call("create_subaccount", name=name)["subaccount"]["id"]


@pytest.mark.vcr
def test_list_subaccounts(mg):
    for name in ("Bravo", "alpha", "Charlie"):
        _new(mg, name)
    first = mg.run(mg.execute("list_subaccounts", {"sort": "asc", "limit": 2}))
    assert [s["name"] for s in first.data["subaccounts"]] == ["alpha", "Bravo"] and first.data["total"] == 3
    rest = mg.run(mg.execute("list_subaccounts", {"sort": "asc", "limit": 2, "cursor": first.next_cursor}))
    assert [s["name"] for s in rest.data["subaccounts"]] == ["Charlie"] and rest.next_cursor is None
    assert [s["name"] for s in mg.call("list_subaccounts", filter="rav")["subaccounts"]] == ["Bravo"]


@pytest.mark.vcr
def test_create_subaccount(mg):
    sub = mg.call("create_subaccount", name="Client A")["subaccount"]
    assert sub["name"] == "Client A" and sub["status"] == "open" and len(sub["id"]) == 24
    assert set(sub["features"]) == FEATURES and sub["features"]["sending"] == {"enabled": True}


@pytest.mark.vcr
def test_get_subaccount(mg):
    sub_id = _new(mg)
    assert mg.call("get_subaccount", subaccount_id=sub_id)["subaccount"]["name"] == "Client A"
    with pytest.raises(NotFound, match="Not Found"):
        mg.call("get_subaccount", subaccount_id="0" * 24)


@pytest.mark.vcr
def test_delete_subaccount(mg):
    sub_id = _new(mg)
    assert mg.call("delete_subaccount", subaccount_id=sub_id) == {"message": "Subaccount successfully deleted"}
    assert mg.call("get_subaccount", subaccount_id=sub_id)["subaccount"]["status"] == "closed"
    with pytest.raises(BadRequest, match="already closed"):
        mg.call("delete_subaccount", subaccount_id=sub_id)


@pytest.mark.vcr
def test_disable_subaccount(mg):
    sub_id = _new(mg)
    out = mg.call("disable_subaccount", subaccount_id=sub_id, reason="billing", note="card expired")
    assert out["subaccount"]["status"] == "disabled"
    assert [s["id"] for s in mg.call("list_subaccounts", enabled=False)["subaccounts"]] == [sub_id]
    with pytest.raises(BadRequest, match="already disabled"):
        mg.call("disable_subaccount", subaccount_id=sub_id)


@pytest.mark.vcr
def test_enable_subaccount(mg):
    sub_id = _new(mg)
    mg.call("disable_subaccount", subaccount_id=sub_id)
    assert mg.call("enable_subaccount", subaccount_id=sub_id)["subaccount"]["status"] == "open"
    with pytest.raises(BadRequest, match="already enabled"):
        mg.call("enable_subaccount", subaccount_id=sub_id)


@pytest.mark.vcr
def test_get_subaccount_sending_limit(mg):
    sub_id = _new(mg)
    with pytest.raises(NotFound, match="No threshold"):
        mg.call("get_subaccount_sending_limit", subaccount_id=sub_id)
    mg.call("set_subaccount_sending_limit", subaccount_id=sub_id, monthly_limit=10000)
    assert mg.call("get_subaccount_sending_limit", subaccount_id=sub_id)["limit"] == 10000


@pytest.mark.vcr
def test_set_subaccount_sending_limit(mg):
    sub_id = _new(mg)
    assert mg.call("set_subaccount_sending_limit", subaccount_id=sub_id, limit=2500) == {"success": True}
    with pytest.raises(BadRequest, match="Invalid subaccount ID"):
        mg.call("set_subaccount_sending_limit", subaccount_id="0" * 24, monthly_limit=2500)


@pytest.mark.vcr
def test_delete_subaccount_sending_limit(mg):
    sub_id = _new(mg)
    mg.call("set_subaccount_sending_limit", subaccount_id=sub_id, monthly_limit=2500)
    assert mg.call("delete_subaccount_sending_limit", subaccount_id=sub_id) == {"success": True}
    with pytest.raises(BadRequest, match="Could not delete threshold"):
        mg.call("delete_subaccount_sending_limit", subaccount_id=sub_id)


@pytest.mark.vcr
def test_update_subaccount_features(mg):
    sub_id = _new(mg)
    features = mg.call("update_subaccount_features", subaccount_id=sub_id, sending=False, validations=True)["features"]
    assert features["sending"] == {"enabled": False} and features["validations"] == {"enabled": True}
    assert mg.call("get_subaccount", subaccount_id=sub_id)["subaccount"]["features"] == features


def test_features_are_sent_as_json_objects_in_a_form(dry):
    out = dry.dry_run("update_subaccount_features", subaccount_id="a" * 24, sending=False, email_preview=True)
    assert out["encoding"] == "application/x-www-form-urlencoded"
    assert out["form"] == [["sending", '{"enabled":false}'], ["email_preview", '{"enabled":true}']]
    with pytest.raises(InvalidArguments, match="at least one of sending"):
        dry.dry_run("update_subaccount_features", subaccount_id="a" * 24)


def test_delete_names_the_subaccount_in_the_on_behalf_of_header(dry):
    out = dry.dry_run("delete_subaccount", subaccount_id="A" * 24)
    assert out["url"].endswith("/v5/accounts/subaccounts") and out["headers"] == {"X-Mailgun-On-Behalf-Of": "a" * 24}


def test_create_sends_the_name_in_the_query(dry):
    assert dry.dry_run("create_subaccount", name="Client A")["query"] == [["name", "Client A"]]


@pytest.mark.parametrize("bad", ["123", "g" * 24, "a" * 25, "../" + "a" * 21])
def test_subaccount_ids_are_24_hex_characters(dry, bad):
    with pytest.raises(InvalidArguments, match="subaccount_id"):
        dry.dry_run("get_subaccount", subaccount_id=bad)
