import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import NotFound

D = "mg.example.com"
ODD = "a+b/c@example.org"  # "+" and "/" must survive as one path segment


def addresses(page):
    return [item["address"] for item in page["items"]]


# -- bounces ----------------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_bounces(mg):
    mg.call("add_bounces", domain=D, records=[{"address": a} for a in ("c@x.com", "a@x.com", "b@x.com", "z@y.com")])
    first = mg.run(mg.execute("list_bounces", {"domain": D, "limit": 2}))
    assert addresses(first.data) == ["a@x.com", "b@x.com"]
    assert "paging" not in first.data and first.next_cursor
    rest = mg.run(mg.execute("list_bounces", {"domain": D, "limit": 2, "cursor": first.next_cursor}))
    assert addresses(rest.data) == ["c@x.com", "z@y.com"]
    assert addresses(mg.call("list_bounces", domain=D, term="z")) == ["z@y.com"]


@pytest.mark.vcr
def test_get_bounce(mg):
    mg.call("add_bounce", domain=D, address=ODD, code="554", error="Relay access denied")
    got = mg.call("get_bounce", domain=D, address=ODD)
    assert (got["address"], got["code"], got["error"]) == (ODD, "554", "Relay access denied")
    with pytest.raises(NotFound, match="Address not found in bounces table"):
        mg.call("get_bounce", domain=D, address="never@x.com")


@pytest.mark.vcr
def test_add_bounce(mg):
    out = mg.call("add_bounce", domain=D, address="Bob@X.com", created_at="Thu, 13 Oct 2011 18:02:00 +0000")
    assert out == {"message": "Address has been added to the bounces table", "address": "bob@x.com"}
    got = mg.call("get_bounce", domain=D, address="bob@x.com")
    assert (got["code"], got["error"], got["created_at"]) == ("550", "", "Thu, 13 Oct 2011 18:02:00 UTC")
    mg.call("add_bounce", domain=D, address="bob@x.com", code="552", error="Mailbox full")
    assert mg.call("get_bounce", domain=D, address="bob@x.com")["code"] == "552"  # updated in place


@pytest.mark.vcr
def test_add_bounces(mg):
    out = mg.call(
        "add_bounces",
        domain=D,
        records=[
            {"address": "a@x.com", "code": "551", "error": "gone", "created_at": "Thu, 13 Oct 2011 18:02:00 +0000"},
            {"address": "b@x.com"},
        ],
    )
    assert out == {"message": "2 addresses have been added to the bounces table"}
    assert mg.call("get_bounce", domain=D, address="a@x.com")["error"] == "gone"
    assert mg.call("get_bounce", domain=D, address="b@x.com")["code"] == "550"


@pytest.mark.vcr
def test_import_bounces(mg):
    out = mg.call("import_bounces", domain=D, csv="address, code, error, created_at\na@x.com,552,full,\nb@x.com,,,\n")
    assert out["message"].startswith("file uploaded successfully")
    assert addresses(mg.call("list_bounces", domain=D)) == ["a@x.com", "b@x.com"]
    assert mg.call("get_bounce", domain=D, address="a@x.com")["code"] == "552"


@pytest.mark.vcr
def test_delete_bounce(mg):
    mg.call("add_bounce", domain=D, address=ODD)
    assert mg.call("delete_bounce", domain=D, address=ODD)["address"] == ODD
    with pytest.raises(NotFound):
        mg.call("get_bounce", domain=D, address=ODD)
    with pytest.raises(NotFound, match="Address not found in bounces table"):
        mg.call("delete_bounce", domain=D, address=ODD)


@pytest.mark.vcr
def test_clear_bounces(mg):
    mg.call("add_bounces", domain=D, records=[{"address": "a@x.com"}, {"address": "b@x.com"}])
    out = mg.call("clear_bounces", domain=D)
    assert out == {"message": "Bounced addresses for this domain have been removed"}
    assert mg.call("list_bounces", domain=D)["items"] == []


# -- unsubscribes -----------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_unsubscribes(mg):
    mg.call("add_unsubscribes", domain=D, records=[{"address": "b@x.com", "tags": ["news"]}, {"address": "a@x.com"}])
    page = mg.run(mg.execute("list_unsubscribes", {"domain": D, "limit": 1}))
    assert page.data["items"][0]["address"] == "a@x.com" and page.data["items"][0]["tags"] == ["*"]
    rest = mg.run(mg.execute("list_unsubscribes", {"domain": D, "limit": 1, "cursor": page.next_cursor}))
    assert rest.data["items"][0]["tags"] == ["news"]


@pytest.mark.vcr
def test_get_unsubscribe(mg):
    mg.call("add_unsubscribe", domain=D, address=ODD, tag="news")
    assert mg.call("get_unsubscribe", domain=D, address=ODD)["tags"] == ["news"]
    with pytest.raises(NotFound, match="Address not found in unsubscribers table"):
        mg.call("get_unsubscribe", domain=D, address="never@x.com")


@pytest.mark.vcr
def test_add_unsubscribe(mg):
    out = mg.call("add_unsubscribe", domain=D, address="u@x.com", tag="news")
    assert out == {"message": "Address has been added to the unsubscribes table", "address": "u@x.com"}
    mg.call("add_unsubscribe", domain=D, address="u@x.com", tag="promo")  # tags add up
    assert mg.call("get_unsubscribe", domain=D, address="u@x.com")["tags"] == ["news", "promo"]
    mg.call("add_unsubscribe", domain=D, address="all@x.com")
    assert mg.call("get_unsubscribe", domain=D, address="all@x.com")["tags"] == ["*"]


@pytest.mark.vcr
def test_add_unsubscribes(mg):
    out = mg.call("add_unsubscribes", domain=D, records=[{"address": "a@x.com", "tags": ["news", "promo"]}])
    assert out == {"message": "1 address has been added to the unsubscribes table"}
    assert mg.call("get_unsubscribe", domain=D, address="a@x.com")["tags"] == ["news", "promo"]


@pytest.mark.vcr
def test_import_unsubscribes(mg):
    mg.call("import_unsubscribes", domain=D, csv="address,tags,created_at\na@x.com,news,\nb@x.com,,\n")
    assert mg.call("get_unsubscribe", domain=D, address="a@x.com")["tags"] == ["news"]
    assert mg.call("get_unsubscribe", domain=D, address="b@x.com")["tags"] == ["*"]


@pytest.mark.vcr
def test_delete_unsubscribe(mg):
    mg.call("add_unsubscribes", domain=D, records=[{"address": "u@x.com", "tags": ["news", "promo"]}])
    out = mg.call("delete_unsubscribe", domain=D, address="u@x.com", tag="news")
    assert out["message"] == "Unsubscribe event has been removed"
    assert mg.call("get_unsubscribe", domain=D, address="u@x.com")["tags"] == ["promo"]
    with pytest.raises(NotFound, match="for this tag does not exist"):
        mg.call("delete_unsubscribe", domain=D, address="u@x.com", tag="news")
    mg.call("delete_unsubscribe", domain=D, address="u@x.com")
    with pytest.raises(NotFound):
        mg.call("get_unsubscribe", domain=D, address="u@x.com")


@pytest.mark.vcr
def test_clear_unsubscribes(mg):
    mg.call("add_unsubscribe", domain=D, address="u@x.com")
    out = mg.call("clear_unsubscribes", domain=D)
    assert out["message"] == "Unsubscribe addresses for this domain have been removed"
    assert mg.call("list_unsubscribes", domain=D)["items"] == []


# -- complaints -------------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_complaints(mg):
    mg.call("add_complaints", domain=D, records=[{"address": a} for a in ("b@x.com", "a@x.com", "q@y.com")])
    assert addresses(mg.call("list_complaints", domain=D)) == ["a@x.com", "b@x.com", "q@y.com"]
    assert addresses(mg.call("list_complaints", domain=D, term="q")) == ["q@y.com"]


@pytest.mark.vcr
def test_get_complaint(mg):
    mg.call("add_complaint", domain=D, address=ODD, created_at="Thu, 13 Oct 2011 18:02:00 +0000")
    assert mg.call("get_complaint", domain=D, address=ODD) == {
        "address": ODD,
        "created_at": "Thu, 13 Oct 2011 18:02:00 UTC",
    }
    with pytest.raises(NotFound, match="No spam complaints found for this address"):
        mg.call("get_complaint", domain=D, address="never@x.com")


@pytest.mark.vcr
def test_add_complaint(mg):
    out = mg.call("add_complaint", domain=D, address="c@x.com")
    assert out == {"message": "Address has been added to the complaints table", "address": "c@x.com"}
    assert mg.call("get_complaint", domain=D, address="c@x.com")["address"] == "c@x.com"


@pytest.mark.vcr
def test_add_complaints(mg):
    out = mg.call("add_complaints", domain=D, records=[{"address": "a@x.com"}, {"address": "b@x.com"}])
    assert out == {"message": "2 complaint addresses have been added to the complaints table"}
    assert len(mg.call("list_complaints", domain=D)["items"]) == 2


@pytest.mark.vcr
def test_import_complaints(mg):
    mg.call("import_complaints", domain=D, csv="address,created_at\na@x.com,\nnot-an-address,\n")
    assert addresses(mg.call("list_complaints", domain=D)) == ["a@x.com"]  # unreadable rows are skipped


@pytest.mark.vcr
def test_delete_complaint(mg):
    mg.call("add_complaint", domain=D, address="c@x.com")
    assert mg.call("delete_complaint", domain=D, address="c@x.com")["message"] == "Spam complaint has been removed"
    with pytest.raises(NotFound):
        mg.call("get_complaint", domain=D, address="c@x.com")


@pytest.mark.vcr
def test_clear_complaints(mg):
    mg.call("add_complaint", domain=D, address="c@x.com")
    assert mg.call("clear_complaints", domain=D)["message"] == "Complaint addresses for this domain have been removed"
    assert mg.call("list_complaints", domain=D)["items"] == []


# -- allowlist --------------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_allowlist(mg):
    mg.call("add_allowlist_entry", domain=D, value="partner.com")
    mg.call("add_allowlist_entry", domain=D, value="ann@x.com")
    items = mg.call("list_allowlist", domain=D)["items"]
    assert [(i["value"], i["type"]) for i in items] == [("ann@x.com", "address"), ("partner.com", "domain")]


@pytest.mark.vcr
def test_get_allowlist_entry(mg):
    mg.call("add_allowlist_entry", domain=D, value="partner.com")
    assert mg.call("get_allowlist_entry", domain=D, value="partner.com")["type"] == "domain"
    with pytest.raises(NotFound, match="not found in allowlist table"):
        mg.call("get_allowlist_entry", domain=D, value="other.com")


@pytest.mark.vcr
def test_add_allowlist_entry(mg):
    out = mg.call("add_allowlist_entry", domain=D, value="ann@x.com")
    assert out == {
        "message": "Address/Domain has been added to the allowlists table",
        "type": "address",
        "value": "ann@x.com",
    }
    assert mg.call("add_allowlist_entry", domain=D, value="x.com")["type"] == "domain"


@pytest.mark.vcr
def test_import_allowlist(mg):
    mg.call("import_allowlist", domain=D, csv="address,domain\nann@x.com,\n,partner.com\n")
    items = mg.call("list_allowlist", domain=D)["items"]
    assert {(i["value"], i["type"]) for i in items} == {("ann@x.com", "address"), ("partner.com", "domain")}


@pytest.mark.vcr
def test_delete_allowlist_entry(mg):
    mg.call("add_allowlist_entry", domain=D, value="partner.com")
    out = mg.call("delete_allowlist_entry", domain=D, value="partner.com")
    assert out == {"message": "Allowlist address/domain has been removed", "value": "partner.com"}
    with pytest.raises(NotFound):
        mg.call("get_allowlist_entry", domain=D, value="partner.com")


@pytest.mark.vcr
def test_clear_allowlist(mg):
    mg.call("add_allowlist_entry", domain=D, value="partner.com")
    assert mg.call("clear_allowlist", domain=D)["message"].startswith("Allowlist addresses/domains")
    assert mg.call("list_allowlist", domain=D)["items"] == []


# -- the composite ----------------------------------------------------------------------------------


@pytest.mark.vcr
def test_check_suppression(mg):
    mg.call("add_bounce", domain=D, address="gone@x.com", code="550", error="No such mailbox")
    mg.call("add_unsubscribe", domain=D, address="news@x.com", tag="news")
    mg.call("add_allowlist_entry", domain=D, value="x.com")

    bounced = mg.call("check_suppression", domain=D, address="gone@x.com")
    assert bounced["suppressed"] is True and bounced["allowlisted"] is True
    assert bounced["lists"] == [
        {
            "list": "bounces",
            "code": "550",
            "error": "No such mailbox",
            "created_at": bounced["lists"][0]["created_at"],
            "blocks": True,
        }
    ]
    assert "delete_bounce" in bounced["advice"]

    other_tag = mg.call("check_suppression", domain=D, address="news@x.com", tags=["promo"])
    assert other_tag["suppressed"] is False and other_tag["lists"][0]["tags"] == ["news"]
    assert mg.call("check_suppression", domain=D, address="news@x.com", tags=["news"])["suppressed"] is True

    clean = mg.call("check_suppression", domain=D, address="ok@elsewhere.com")
    assert clean == {
        "address": "ok@elsewhere.com",
        "suppressed": False,
        "lists": [],
        "allowlisted": False,
        "advice": "Not suppressed: Mailgun will deliver to this address.",
    }
    with pytest.raises(NotFound, match="Domain not found"):
        mg.call("check_suppression", domain="nope.example.com", address="ok@elsewhere.com")


# -- the wire format of the tricky cases ------------------------------------------------------------


def test_bulk_add_is_a_json_array(dry):
    out = dry.dry_run("add_bounces", domain=D, records=[{"address": "a@x.com", "code": "551"}, {"address": "b@x.com"}])
    assert (out["method"], out["url"]) == ("POST", "https://api.mailgun.net/v3/mg.example.com/bounces")
    assert out["json"] == [{"address": "a@x.com", "code": "551"}, {"address": "b@x.com"}]
    assert "form" not in out
    out = dry.dry_run("add_unsubscribes", domain=D, records=[{"address": "a@x.com", "tags": ["news"]}])
    assert out["json"] == [{"address": "a@x.com", "tags": ["news"]}]


def test_csv_import_is_one_multipart_file(dry):
    out = dry.dry_run("import_unsubscribes", domain=D, csv="address,tags\na@x.com,news\n")
    assert out["url"].endswith("/v3/mg.example.com/unsubscribes/import")
    assert out["encoding"] == "multipart/form-data" and out["form"] == []
    assert out["files"] == [{"field": "file", "filename": "import.csv", "content_type": "text/csv", "size": 26}]


def test_addresses_are_one_path_segment(dry):
    out = dry.dry_run("get_bounce", domain=D, address=ODD)
    assert out["url"] == "https://api.mailgun.net/v3/mg.example.com/bounces/a%2Bb%2Fc%40example.org"
    out = dry.dry_run("delete_unsubscribe", domain=D, address=ODD, tag="news")
    assert out["url"].endswith("/unsubscribes/a%2Bb%2Fc%40example.org") and out["query"] == [["tag", "news"]]


def test_allowlist_value_becomes_address_or_domain(dry):
    assert dry.dry_run("add_allowlist_entry", domain=D, value="ann@x.com")["form"] == [["address", "ann@x.com"]]
    out = dry.dry_run("add_allowlist_entry", domain=D, value="x.com")
    assert out["form"] == [["domain", "x.com"]] and out["url"].endswith("/v3/mg.example.com/whitelists")


# -- refused before anything is sent ----------------------------------------------------------------


def test_more_than_1000_records_are_refused(dry):
    with pytest.raises(InvalidArguments, match="records"):
        dry.dry_run("add_complaints", domain=D, records=[{"address": f"u{i}@x.com"} for i in range(1001)])
    with pytest.raises(InvalidArguments, match="records"):
        dry.dry_run("add_bounces", domain=D, records=[])


def test_bad_records_and_files_are_refused(dry):
    with pytest.raises(InvalidArguments, match="records.0.code"):
        dry.dry_run("add_bounces", domain=D, records=[{"address": "a@x.com", "code": "abc"}])
    with pytest.raises(InvalidArguments, match="created_at"):
        dry.dry_run("add_bounce", domain=D, address="a@x.com", created_at="yesterday")
    with pytest.raises(InvalidArguments, match="header row naming address"):
        dry.dry_run("import_bounces", domain=D, csv="email\na@x.com\n")
    with pytest.raises(InvalidArguments, match="exactly one of csv or file"):
        dry.dry_run("import_bounces", domain=D)
    with pytest.raises(InvalidArguments, match="address"):
        dry.dry_run("get_bounce", domain=D, address="not-an-address")
    with pytest.raises(InvalidArguments, match="value: must be an address .* or a domain"):
        dry.dry_run("add_allowlist_entry", domain=D, value="not a domain")
