from pathlib import Path

import httpx
import pytest

from mg_tools import InvalidArguments, Toolkit
from mg_tools.errors import BadRequest, NotFound

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "domain_keys"
D = "mg.example.com"
#: Not a usable key: the shape of one, to check it never leaves the process unredacted.
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "TUlJRXBBSUJBQUtDQVFFQTBaN3NhbmRib3hvbmx5bm90YXJlYWxrZXlhdGFsbDAwMDAw\n"
    "c2Vjb25kbGluZW9mdGhlZmFrZWtleWJvZHl0aGF0bXVzdG5vdGxlYWsxMjM0NTY3ODkw\n"
    "-----END RSA PRIVATE KEY-----\n"
)
PEM_LINE = PEM.splitlines()[1]


def _keys(mg, domain=D) -> dict[str, dict]:
    return {k["selector"]: k for k in mg.call("list_domain_dkim_keys", domain=domain)["items"]}


@pytest.mark.vcr
def test_list_dkim_keys(mg):
    mg.call("create_domain", domain="b.example.com")
    first = mg.run(mg.execute("list_dkim_keys", {"limit": 1}))
    assert [(k["signing_domain"], k["selector"]) for k in first.data["items"]] == [("b.example.com", "mx")]
    assert first.next_cursor
    rest = mg.run(mg.execute("list_dkim_keys", {"limit": 1, "cursor": first.next_cursor}))
    assert [k["signing_domain"] for k in rest.data["items"]] == [D]
    only = mg.call("list_dkim_keys", domain=D, selector="mx")["items"]
    assert only[0]["dns_record"]["name"] == f"mx._domainkey.{D}"


@pytest.mark.vcr
def test_create_dkim_key(mg):
    out = mg.call("create_dkim_key", domain=D, selector="s2024", bits=1024)
    assert out["selector"] == "s2024"
    assert out["dns_record"]["name"] == f"s2024._domainkey.{D}"
    assert out["dns_record"]["value"].startswith("k=rsa; p=")
    assert _keys(mg)["s2024"]["dns_record"]["is_active"] is False
    imported = mg.call("create_dkim_key", domain=D, selector="imported", private_key=PEM)
    assert imported["dns_record"]["value"].startswith("k=rsa; p=")
    assert PEM_LINE not in str(imported)
    with pytest.raises(BadRequest, match="already exists"):
        mg.call("create_dkim_key", domain=D, selector="s2024")


@pytest.mark.vcr
def test_delete_dkim_key(mg):
    mg.call("create_dkim_key", domain=D, selector="old")
    assert mg.call("delete_dkim_key", domain=D, selector="old") == {"message": "success"}
    assert "old" not in _keys(mg)
    with pytest.raises(BadRequest, match="at least one active domain key"):
        mg.call("delete_dkim_key", domain=D, selector="mx")


@pytest.mark.vcr
def test_list_domain_dkim_keys(mg):
    keys = _keys(mg)
    assert list(keys) == ["mx"]
    assert keys["mx"]["dns_record"]["is_active"] is True
    assert keys["mx"]["dns_record"]["valid"] == "valid"


@pytest.mark.vcr
def test_activate_dkim_key(mg):
    mg.call("create_dkim_key", domain=D, selector="next")
    out = mg.call("activate_dkim_key", domain=D, selector="next")
    assert out == {"message": "domain key activated", "authority": D, "selector": "next", "active": True}
    assert _keys(mg)["next"]["dns_record"]["is_active"] is True
    with pytest.raises(NotFound, match="domain key not found"):
        mg.call("activate_dkim_key", domain=D, selector="none")


@pytest.mark.vcr
def test_deactivate_dkim_key(mg):
    out = mg.call("deactivate_dkim_key", domain=D, selector="mx")
    assert out["active"] is False
    assert _keys(mg)["mx"]["dns_record"]["is_active"] is False


@pytest.mark.vcr
def test_update_dkim_authority(mg):
    mg.call("create_domain", domain=f"sub.{D}")
    out = mg.call("update_dkim_authority", domain=f"sub.{D}", own_authority=False)
    assert out["changed"] is True
    assert f"mx._domainkey.{D}" in {r["name"] for r in out["sending_dns_records"]}
    back = mg.call("update_dkim_authority", domain=f"sub.{D}", own_authority=True)
    assert f"mx._domainkey.sub.{D}" in {r["name"] for r in back["sending_dns_records"]}


@pytest.mark.vcr
def test_update_dkim_selector(mg):
    assert mg.call("update_dkim_selector", domain=D, selector="pic")["message"] == "DKIM selector changed"
    assert list(_keys(mg)) == ["pic"]


@pytest.mark.vcr
def test_update_dkim_rotation(mg):
    mg.call("create_domain", domain="asd.example.com", use_automatic_sender_security=True)
    mg.call("verify_domain", domain="asd.example.com")
    out = mg.call("update_dkim_rotation", domain="asd.example.com", rotation_enabled=True, rotation_interval="10d")
    assert out["domain"]["rotation_enabled"] == "true"
    assert out["domain"]["rotation_interval"] == "240h"
    with pytest.raises(NotFound):
        mg.call("update_dkim_rotation", domain=D, rotation_enabled=False)  # not an Automatic Sender Security domain


@pytest.mark.vcr
def test_rotate_dkim_key(mg):
    mg.call("create_domain", domain="asd.example.com", use_automatic_sender_security=True)
    with pytest.raises(BadRequest, match="Current state: wait_verify"):
        mg.call("rotate_dkim_key", domain="asd.example.com")
    mg.call("verify_domain", domain="asd.example.com")
    before = mg.call("update_dkim_rotation", domain="asd.example.com", rotation_enabled=False)["domain"]
    assert mg.call("rotate_dkim_key", domain="asd.example.com") == {"message": "ok"}
    after = mg.call("update_dkim_rotation", domain="asd.example.com", rotation_enabled=False)["domain"]
    assert {before["active_selector"], after["active_selector"]} == {"pdk1", "pdk2"}


# -- requests ----------------------------------------------------------------------------------------


def test_key_filters_travel_as_mailgun_s_query(dry):
    out = dry.dry_run("list_dkim_keys", domain=D, selector="mx", limit=5)
    assert out["method"] == "GET"
    assert out["query"] == [["signing_domain", D], ["selector", "mx"], ["limit", "5"]]
    assert dry.dry_run("delete_dkim_key", signing_domain=D, selector="mx")["query"] == [
        ["signing_domain", D],
        ["selector", "mx"],
    ]


def test_authority_selector_and_rotation_use_mailgun_s_names(dry):
    assert dry.dry_run("update_dkim_authority", domain=D, own_authority=False)["form"] == [["self", "false"]]
    assert dry.dry_run("update_dkim_authority", name=D, self=True)["url"].endswith(f"/v3/domains/{D}/dkim_authority")
    assert dry.dry_run("update_dkim_selector", domain=D, selector="pic")["form"] == [["dkim_selector", "pic"]]
    assert dry.dry_run("update_dkim_selector", domain=D, dkim_selector="pic")["form"] == [["dkim_selector", "pic"]]
    rotation = dry.dry_run("update_dkim_rotation", domain=D, rotation_enabled=True, rotation_interval="120h")
    assert rotation["form"] == [["rotation_enabled", "true"], ["rotation_interval", "120h"]]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"rotation_enabled": True, "rotation_interval": "4d"}, "at least 5 days"),
        ({"rotation_enabled": True, "rotation_interval": "weekly"}, "'30d' or '120h'"),
        ({"rotation_enabled": False, "rotation_interval": "30d"}, "only allowed with rotation_enabled"),
    ],
)
def test_rotation_interval_is_checked_before_sending(dry, arguments, problem):
    with pytest.raises(InvalidArguments, match=problem):
        dry.dry_run("update_dkim_rotation", domain=D, **arguments)


def test_selectors_are_dot_atoms(dry):
    with pytest.raises(InvalidArguments, match="selector"):
        dry.dry_run("activate_dkim_key", domain=D, selector="a/../b")


# -- the private key of an import --------------------------------------------------------------------


def test_private_key_travels_as_pem_and_is_redacted_in_dry_runs(dry):
    out = dry.dry_run("create_dkim_key", domain=D, selector="imported", private_key=PEM)
    assert out["form"][:2] == [["signing_domain", D], ["selector", "imported"]]
    assert out["form"][2][0] == "pem"
    assert "PRIVATE KEY" not in str(out) and PEM_LINE not in str(out)
    assert dry.dry_run("create_dkim_key", domain=D, selector="imported", pem=PEM) == out


def test_a_private_key_that_is_not_pem_is_refused_without_being_quoted(dry):
    with pytest.raises(InvalidArguments, match="RSA private key in PEM form") as raised:
        dry.dry_run("create_dkim_key", domain=D, selector="s1", private_key=PEM_LINE)
    assert PEM_LINE not in str(raised.value)


def test_a_private_key_echoed_in_an_error_is_redacted():
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": f"invalid PEM near {PEM_LINE}"})

    mg = Toolkit(api_key="fake-test-key-0000", transport=httpx.MockTransport(echo))
    with pytest.raises(BadRequest) as raised:
        mg.call("create_dkim_key", domain=D, selector="s1", private_key=PEM)
    mg.close()
    assert "invalid PEM near ***" in str(raised.value)
    assert PEM_LINE not in str(raised.value)


def test_recordings_hold_no_private_key():
    text = (CASSETTES / "test_create_dkim_key.yaml").read_text()
    assert "pem=%2A%2A%2A" in text
    assert "PRIVATE" not in text and PEM_LINE not in text
