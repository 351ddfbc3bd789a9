import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

GRANTS = ("users", "subaccounts:write")


def _developer(mg) -> dict:
    return mg.call("list_users", role="developer")["users"][0]


@pytest.mark.vcr
def test_list_users(mg):
    first = mg.run(mg.execute("list_users", {"limit": 1}))
    assert first.data["total"] == 2 and len(first.data["users"]) == 1
    rest = mg.run(mg.execute("list_users", {"limit": 1, "cursor": first.next_cursor}))
    emails = {first.data["users"][0]["email"], rest.data["users"][0]["email"]}
    assert emails == {"owner@example.com", "dev@example.com"} and rest.next_cursor is None


@pytest.mark.vcr
def test_get_user(mg):
    dev = _developer(mg)
    assert mg.call("get_user", user_id=dev["id"])["email"] == "dev@example.com"
    with pytest.raises(NotFound, match="No such user exists"):
        mg.call("get_user", user_id="nobody")


@pytest.mark.vcr
def test_get_current_user(mg):
    me = mg.call("get_current_user")
    assert me["email"] == "owner@example.com" and me["is_master"] is True


@pytest.mark.vcr
def test_add_user_to_org(mg):
    dev = _developer(mg)
    org = mg.call("create_subaccount", name="Org")["subaccount"]["id"]
    assert mg.call("add_user_to_org", user_id=dev["id"], org_id=org) == {"message": "success"}
    with pytest.raises(BadRequest, match="not in org"):
        mg.call("add_user_to_org", user_id=dev["id"], org_id="0" * 24)


@pytest.mark.vcr
def test_remove_user_from_org(mg):
    dev = _developer(mg)
    org = mg.call("create_subaccount", name="Org")["subaccount"]["id"]
    mg.call("add_user_to_org", user_id=dev["id"], org_id=org)
    assert mg.call("remove_user_from_org", user_id=dev["id"], org_id=org) == {"message": "success"}
    with pytest.raises(NotFound, match="not a member"):
        mg.call("remove_user_from_org", user_id=dev["id"], org_id=org)


def test_org_ids_are_subaccount_ids(dry):
    with pytest.raises(InvalidArguments, match="org_id"):
        dry.dry_run("add_user_to_org", user_id="u1", org_id="../../v1/keys")
    url = dry.dry_run("remove_user_from_org", user_id="u1", org_id="a" * 24)["url"]
    assert url.endswith(f"/v5/users/u1/org/{'a' * 24}")
