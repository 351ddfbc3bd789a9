import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

PRODUCTION = "https://api.mailgun.net"
GRANTS = ("credentials",)
D = "mg.example.com"
SECRET_SHOWN = "*** (secret: grant it with MG_TOOLS_ALLOW_SECRETS)"


def logins(mg, **args) -> list[str]:
    return [c["login"] for c in mg.call("list_credentials", domain=D, **args)["items"]]


@pytest.mark.vcr
def test_list_credentials(mg):
    for name in ("a", "b"):
        mg.call("create_credentials", domain=D, login=name, password="pass-word")
    first = mg.run(mg.execute("list_credentials", {"domain": D, "limit": 2}))
    assert [c["login"] for c in first.data["items"]] == [f"postmaster@{D}", f"a@{D}"]
    assert first.data["total_count"] == 3 and first.next_cursor
    rest = mg.run(mg.execute("list_credentials", {"domain": D, "limit": 2, "cursor": first.next_cursor}))
    assert [c["login"] for c in rest.data["items"]] == [f"b@{D}"]
    assert not any("password" in k for item in first.data["items"] for k in item)


@pytest.mark.vcr
def test_create_credentials(mg):
    assert mg.call("create_credentials", domain=D, login=f"alice@{D}", password="alice-pw") == {
        "message": "Created 1 credentials pair(s)"
    }
    generated = mg.call("create_credentials", domain=D, login="bob")
    assert generated["credentials"] == SECRET_SHOWN and "once" in generated["note"]
    assert logins(mg) == [f"postmaster@{D}", f"alice@{D}", f"bob@{D}"]
    with pytest.raises(BadRequest, match="already exist"):
        mg.call("create_credentials", domain=D, login="bob")


@pytest.mark.vcr
def test_update_credentials(mg):
    mg.call("create_credentials", domain=D, login="carol", password="first-pw")
    assert mg.call("update_credentials", domain=D, login=f"carol@{D}", password="second-pw") == {
        "message": "Password changed"
    }
    generated = mg.call("update_credentials", domain=D, login="carol")
    assert generated["credentials"] == SECRET_SHOWN
    with pytest.raises(NotFound, match="Credentials not found"):
        mg.call("update_credentials", domain=D, login="nobody", password="whatever")


@pytest.mark.vcr
def test_update_mailbox(mg):
    mg.call("create_credentials", domain=D, login="dave", password="first-pw")
    assert mg.call("update_mailbox", domain=D, login=f"dave@{D}", password="second-pw") == {
        "message": "Password changed"
    }
    with pytest.raises(NotFound, match="Credentials not found"):
        mg.call("update_mailbox", domain=D, login="nobody", password="whatever")


@pytest.mark.vcr
def test_delete_credentials(mg):
    mg.call("create_credentials", domain=D, login="erin", password="erin-pw")
    assert mg.call("delete_credentials", domain=D, login="erin") == {
        "message": "Credentials have been deleted",
        "spec": f"erin@{D}",
    }
    assert logins(mg) == [f"postmaster@{D}"]
    with pytest.raises(BadRequest, match="Cannot delete system mailbox"):
        mg.call("delete_credentials", domain=D, login="postmaster")


@pytest.mark.vcr
def test_clear_credentials(mg):
    for name in ("f", "g"):
        mg.call("create_credentials", domain=D, login=name, password="pass-word")
    out = mg.call("clear_credentials", domain=D)
    assert out == {"message": "All domain credentials have been deleted", "count": 2}
    assert logins(mg) == [f"postmaster@{D}"]


@pytest.mark.parametrize("tool", ["create_credentials", "update_credentials", "update_mailbox"])
def test_passwords_sent_are_redacted_in_dry_runs(dry, tool):
    out = dry.dry_run(tool, domain=D, login="ann", password="plain-secret")
    assert ["password", "***"] in out["form"] and "plain-secret" not in str(out)


def test_a_login_is_one_path_segment_and_mailgun_s_spec_is_accepted(dry):
    out = dry.dry_run("delete_credentials", domain=D, spec=f"ann@{D}")
    assert out["url"] == f"{PRODUCTION}/v3/domains/{D}/credentials/ann%40{D}"
    with pytest.raises(InvalidArguments, match="login"):
        dry.dry_run("delete_credentials", domain=D, login="../../keys")


def test_passwords_mailgun_would_refuse_are_refused_before_sending(dry):
    with pytest.raises(InvalidArguments, match="password") as info:
        dry.dry_run("create_credentials", domain=D, login="ann", password="abc")
    assert "abc" not in str(info.value)
