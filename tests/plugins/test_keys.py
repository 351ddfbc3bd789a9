import pytest

from mg_tools import InvalidArguments, Policy, Toolkit
from mg_tools.errors import NotFound, PolicyDenied

PRODUCTION = "https://api.mailgun.net"
GRANTS = ("keys",)

SECRET_SHOWN = "*** (secret: grant it with MG_TOOLS_ALLOW_SECRETS)"


@pytest.mark.vcr
def test_list_keys(mg):
    mg.call("create_key", role="sending", kind="domain", domain="mg.example.com", description="app")
    mg.call("create_key", role="basic", description="reports")
    out = mg.call("list_keys", kind="domain", domain="mg.example.com")
    assert out["total_count"] == 1
    key = out["items"][0]
    assert (key["kind"], key["role"], key["domain_name"], key["description"]) == (
        "domain",
        "sending",
        "mg.example.com",
        "app",
    )
    assert "secret" not in key
    listed = mg.call("list_keys")
    assert listed["total_count"] == 3  # with the account's primary key
    assert [k["description"] for k in listed["items"]] == ["primary account key", "app", "reports"]


@pytest.mark.vcr
def test_create_key(mg):
    out = mg.call("create_key", role="developer", description="ci", expiration=3600)
    assert out["message"] == "great success"
    key = out["key"]
    assert (key["kind"], key["role"], key["description"]) == ("user", "developer", "ci")
    assert key["expires_at"] is not None and key["is_disabled"] is False
    assert key["secret"] == SECRET_SHOWN


@pytest.mark.vcr
def test_delete_key(mg):
    key_id = mg.call("create_key", role="basic")["key"]["id"]
    assert mg.call("delete_key", key_id=key_id) == {"message": "key deleted"}
    assert [k["id"] for k in mg.call("list_keys")["items"] if k["id"] == key_id] == []
    with pytest.raises(NotFound, match="no key matching id"):
        mg.call("delete_key", key_id=key_id)


@pytest.mark.vcr
def test_regenerate_public_key(mg):
    first = mg.call("regenerate_public_key")
    assert first["message"] == "The public API key has been successfully regenerated."
    assert first["key"] == SECRET_SHOWN


def test_create_key_sends_mailgun_s_field_names(dry):
    out = dry.dry_run(
        "create_key", role="sending", kind="domain", domain="mg.example.com", user_email="ann@example.com"
    )
    assert out["form"] == [
        ["role", "sending"],
        ["kind", "domain"],
        ["domain_name", "mg.example.com"],
        ["email", "ann@example.com"],
    ]
    same = dry.dry_run(
        "create_key", role="sending", kind="domain", domain_name="mg.example.com", email="ann@example.com"
    )
    assert same == out
    assert dry.dry_run("list_keys", domain="mg.example.com")["query"] == [["domain_name", "mg.example.com"]]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"role": "sending"}, "role 'sending' is only for keys of kind 'domain'"),
        ({"role": "admin", "kind": "domain"}, "needs the domain it sends for"),
        ({"role": "basic", "kind": "web", "user_id": "u1"}, "needs user_id and user_email"),
        ({"role": "owner"}, "role"),
        ({"role": "admin", "expiration": 0}, "expiration"),
    ],
)
def test_create_key_refuses_keys_mailgun_would_refuse(dry, args, problem):
    with pytest.raises(InvalidArguments, match=problem):
        dry.dry_run("create_key", **args)


def test_key_ids_stay_one_path_segment(dry):
    assert dry.dry_run("delete_key", key_id="../keys/public")["url"] == f"{PRODUCTION}/v1/keys/..%2Fkeys%2Fpublic"


def test_a_wildcard_grant_does_not_create_keys(tmp_path):
    with Toolkit(api_key=None, base_url=PRODUCTION, policy=Policy(), file_roots=[tmp_path]) as kit:
        with pytest.raises(PolicyDenied, match="keys is a sensitive area"):
            kit.dry_run("create_key", role="admin")
