import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, NotFound

GRANTS = ("account",)
SECRET = "*** (secret: grant it with MG_TOOLS_ALLOW_SECRETS)"


@pytest.mark.vcr
def test_update_account(mg):
    out = mg.call("update_account", name="Acme Mail", inactive_session_timeout=1800)
    assert out == {"message": "Account info has been updated"}
    with pytest.raises(BadRequest, match="must be provided to update account info"):
        mg.call("update_account")


@pytest.mark.vcr
def test_get_webhook_signing_key(mg):
    assert mg.call("get_webhook_signing_key") == {"http_signing_key": SECRET}


@pytest.mark.vcr
def test_regenerate_webhook_signing_key(mg):
    out = mg.call("regenerate_webhook_signing_key")
    assert out == {"message": "regenerated HTTP signing key for account", "http_signing_key": SECRET}


@pytest.mark.vcr
def test_list_sandbox_recipients(mg):
    mg.call("add_sandbox_recipient", address="Ann@Example.com")
    assert mg.call("list_sandbox_recipients")["recipients"] == [{"email": "ann@example.com", "activated": False}]


@pytest.mark.vcr
def test_add_sandbox_recipient(mg):
    out = mg.call("add_sandbox_recipient", address="bob@example.com")
    assert out["recipient"] == {"email": "bob@example.com", "activated": False}
    with pytest.raises(BadRequest, match="Recipient already exists"):
        mg.call("add_sandbox_recipient", address="bob@example.com")


@pytest.mark.vcr
def test_delete_sandbox_recipient(mg):
    mg.call("add_sandbox_recipient", address="cy@example.com")
    assert mg.call("delete_sandbox_recipient", address="cy@example.com") == {"message": "Sandbox recipient deleted."}
    assert mg.call("list_sandbox_recipients")["recipients"] == []
    with pytest.raises(NotFound, match="Sandbox recipient not found"):
        mg.call("delete_sandbox_recipient", address="cy@example.com")


@pytest.mark.vcr
def test_resend_activation_email(mg):
    assert mg.call("resend_activation_email") == {"success": True}


@pytest.mark.vcr
def test_get_sending_limit(mg):
    with pytest.raises(NotFound, match="No threshold for account"):
        mg.call("get_sending_limit")
    mg.call("set_sending_limit", monthly_limit=5000)
    assert mg.call("get_sending_limit") == {"limit": 5000, "current": 0, "period": "1m"}


@pytest.mark.vcr
def test_set_sending_limit(mg):
    assert mg.call("set_sending_limit", limit=2000) == {"success": True}
    assert mg.call("get_sending_limit")["limit"] == 2000


@pytest.mark.vcr
def test_delete_sending_limit(mg):
    mg.call("set_sending_limit", monthly_limit=3000)
    assert mg.call("delete_sending_limit") == {"success": True}
    with pytest.raises(BadRequest, match="Could not delete threshold"):
        mg.call("delete_sending_limit")


@pytest.mark.vcr
def test_reenable_account_sending(mg):
    mg.call("set_sending_limit", monthly_limit=1000)
    with pytest.raises(BadRequest, match="not disabled for hitting its sending limit"):
        mg.call("reenable_account_sending")


def test_account_settings_travel_in_the_query(dry):
    out = dry.dry_run("update_account", name="Acme", logout_redirect_url="https://acme.example/bye")
    assert out["query"] == [["name", "Acme"], ["logout_redirect_url", "https://acme.example/bye"]]
    assert "form" not in out


def test_limits_go_as_mailgun_s_limit_and_below_1000_are_refused(dry):
    assert dry.dry_run("set_sending_limit", monthly_limit=1000)["query"] == [["limit", "1000"]]
    with pytest.raises(InvalidArguments, match="monthly_limit"):
        dry.dry_run("set_sending_limit", monthly_limit=999)


def test_sandbox_recipients_are_sent_as_mailgun_s_email(dry):
    assert dry.dry_run("add_sandbox_recipient", email="ann@example.com")["query"] == [["email", "ann@example.com"]]
    url = dry.dry_run("delete_sandbox_recipient", address="a/b@example.com")["url"]
    assert url.endswith("/v5/sandbox/auth_recipients/a%2Fb%40example.com")
