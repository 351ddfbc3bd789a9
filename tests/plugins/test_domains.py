import pytest

from mg_tools import InvalidArguments, Policy, Toolkit
from mg_tools.errors import NotFound


@pytest.mark.vcr
def test_list_domains(mg):
    first = mg.run(mg.execute("list_domains", {"limit": 1}))
    assert first.data["total_count"] >= 1
    assert [d["name"] for d in first.data["items"]] == ["mg.example.com"]


@pytest.mark.vcr
def test_create_domain(mg):
    out = mg.call("create_domain", domain="news.example.org", spam_action="tag", smtp_password="s3cret-pw")
    assert out["domain"]["name"] == "news.example.org"
    assert out["domain"]["spam_action"] == "tag"
    assert out["domain"]["state"] == "unverified"
    assert {r["record_type"] for r in out["sending_dns_records"]} == {"TXT", "CNAME"}
    page = mg.run(mg.execute("list_domains", {"limit": 1}))
    assert page.next_cursor == "1"
    rest = mg.run(mg.execute("list_domains", {"limit": 1, "cursor": page.next_cursor}))
    assert [d["name"] for d in rest.data["items"]] == ["news.example.org"]
    assert rest.next_cursor is None


@pytest.mark.vcr
def test_get_domain(mg):
    out = mg.call("get_domain", domain="mg.example.com")
    assert out["domain"]["state"] == "active"
    with pytest.raises(NotFound, match="Domain not found"):
        mg.call("get_domain", domain="nope.example.com")


@pytest.mark.vcr
def test_update_domain(mg):
    out = mg.call("update_domain", domain="mg.example.com", require_tls=True, web_scheme="https")
    assert out["domain"]["require_tls"] is True
    assert out["domain"]["web_scheme"] == "https"


@pytest.mark.vcr
def test_verify_domain(mg):
    mg.call("create_domain", domain="fresh.example.net")
    out = mg.call("verify_domain", domain="fresh.example.net")
    assert out["domain"]["state"] == "active"


@pytest.mark.vcr
def test_delete_domain(mg):
    mg.call("create_domain", domain="gone.example.net")
    assert mg.call("delete_domain", domain="gone.example.net")["message"].startswith("Domain will be deleted")
    with pytest.raises(NotFound):
        mg.call("get_domain", domain="gone.example.net")


def test_domain_names_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="domain"):
        dry.dry_run("get_domain", domain="../../v1/keys")


def test_create_domain_sends_the_domain_as_mailgun_s_name(dry):
    assert dry.dry_run("create_domain", domain="news.example.org")["form"] == [["name", "news.example.org"]]


@pytest.mark.parametrize("tool", ["create_domain", "get_domain", "update_domain", "verify_domain", "delete_domain"])
def test_mailgun_s_name_is_accepted_for_the_domain(dry, tool):
    assert dry.dry_run(tool, name="news.example.org") == dry.dry_run(tool, domain="news.example.org")


# -- check_domain_setup ------------------------------------------------------------------------------


@pytest.mark.vcr
def test_check_domain_setup(mg):
    out = mg.call("check_domain_setup", domain="mg.example.com")
    assert out["state"] == "active"
    assert out["dns_records"] and all(r["valid"] for r in out["dns_records"])
    assert {r["purpose"] for r in out["dns_records"]} == {"sending", "receiving"}
    assert [k["selector"] for k in out["dkim"]["active_keys"]] == ["mx"]
    assert out["dkim"]["rotation"] == "manual"
    assert out["tracking"]["https_certificate"] == {"host": "email.mg.example.com", "status": "not generated"}
    assert out["sending_queues"] == {"regular": "running", "scheduled": "running"}
    assert out["next_steps"] == ["Nothing to do: the domain is active and every record is valid"]


def test_check_domain_setup_names_the_records_of_an_unverified_domain(sandbox_mg):
    created = sandbox_mg.call("create_domain", domain="new.example.org")
    out = sandbox_mg.call("check_domain_setup", domain="new.example.org")
    assert out["state"] == "unverified"
    assert not any(r["valid"] for r in out["dns_records"])
    spf = next(r for r in created["sending_dns_records"] if r["value"].startswith("v=spf1"))
    dkim = next(r for r in created["sending_dns_records"] if "._domainkey." in r["name"])
    assert f"Add TXT record '{spf['value']}' at new.example.org" in out["next_steps"]
    assert f"Add TXT record '{dkim['value']}' at {dkim['name']}" in out["next_steps"]
    assert "Add CNAME record 'mailgun.org' at email.new.example.org" in out["next_steps"]
    assert any(s.startswith("Add MX record 'mxa.mailgun.org' (priority 10)") for s in out["next_steps"])
    assert out["next_steps"][-1] == "Verify the domain with verify_domain once DNS has propagated"


def test_check_domain_setup_asks_for_the_https_certificate(sandbox_mg):
    sandbox_mg.call("update_domain", domain="mg.example.com", web_scheme="https")
    out = sandbox_mg.call("check_domain_setup", domain="mg.example.com")
    assert out["tracking"]["web_scheme"] == "https"
    assert out["next_steps"] == [
        "Tracking links use https: issue a certificate for email.mg.example.com with generate_tracking_certificate"
    ]
    sandbox_mg.call("generate_tracking_certificate", domain="email.mg.example.com")
    out = sandbox_mg.call("check_domain_setup", domain="mg.example.com")
    assert out["tracking"]["https_certificate"]["status"] == "processing"


def test_check_domain_setup_reports_a_denied_part_as_unavailable():
    mg = Toolkit(sandbox=True, policy=Policy.build(grants="*:read", deny="get_sending_queues,list_domain_dkim_keys"))
    out = mg.call("check_domain_setup", domain="mg.example.com")
    mg.close()
    assert "get_sending_queues" in out["sending_queues"]["unavailable"]
    assert "list_domain_dkim_keys" in out["dkim"]["unavailable"]
    assert out["state"] == "active" and out["tracking"]["open"] is False
    assert out["next_steps"] == [
        "Nothing to do: the domain is active and every record is valid (not checked: dkim, sending_queues)"
    ]


def test_check_domain_setup_of_an_unknown_domain_is_not_found(sandbox_mg):
    with pytest.raises(NotFound, match="Domain not found"):
        sandbox_mg.call("check_domain_setup", domain="nope.example.com")
