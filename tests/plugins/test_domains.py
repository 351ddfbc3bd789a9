import pytest

from mg_tools import InvalidArguments
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
