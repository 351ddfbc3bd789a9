"""The sandbox's bounces, unsubscribes, complaints and allowlist, spoken to directly over HTTP."""

from urllib.parse import urlsplit

D = "mg.example.com"


def csv_file(text: str) -> dict:
    return {"file": ("list.csv", text.encode(), "text/csv")}


def test_records_are_stored_as_the_state_table_says(client, sb):
    client.post(f"/v3/{D}/bounces", data={"address": "Bob@X.com", "code": "554", "error": "Relay denied"})
    client.post(f"/v3/{D}/unsubscribes", data={"address": "u@x.com", "tag": "news"})
    client.post(f"/v3/{D}/complaints", data={"address": "c@x.com"})
    client.post(f"/v3/{D}/whitelists", data={"domain": "Partner.com"})
    state = sb.state
    assert state.get("bounce", f"{D}/bob@x.com") == {
        "address": "bob@x.com",
        "code": "554",
        "error": "Relay denied",
        "created_at": state.get("bounce", f"{D}/bob@x.com")["created_at"],
    }
    assert state.get("unsubscribe", f"{D}/u@x.com")["tags"] == ["news"]
    assert set(state.get("complaint", f"{D}/c@x.com")) == {"address", "created_at"}
    assert set(state.get("allowlist", f"{D}/partner.com")) == {"value", "type", "reason", "createdAt"}
    assert state.get("allowlist", f"{D}/partner.com")["type"] == "domain"


def test_single_add_get_update_and_errors(client):
    r = client.post(f"/v3/{D}/bounces", data={"address": "bob@x.com", "created_at": "Thu, 13 Oct 2011 18:02:00 GMT"})
    assert r.json() == {"message": "Address has been added to the bounces table", "address": "bob@x.com"}
    assert client.get(f"/v3/{D}/bounces/BOB@x.com").json() == {
        "address": "bob@x.com",
        "code": "550",
        "error": "",
        "created_at": "Thu, 13 Oct 2011 18:02:00 UTC",
    }
    client.post(f"/v3/{D}/bounces", data={"address": "bob@x.com", "code": "552"})
    assert client.get(f"/v3/{D}/bounces/bob@x.com").json()["code"] == "552"
    assert client.post(f"/v3/{D}/bounces", data={}).json() == {"message": "'address' parameter is missing"}
    assert client.post(f"/v3/{D}/bounces", data={"address": "nope"}).status_code == 400
    bad_date = client.post(f"/v3/{D}/complaints", data={"address": "a@x.com", "created_at": "yesterday"})
    assert bad_date.status_code == 400 and "created_at" in bad_date.json()["message"]
    missing = client.get(f"/v3/{D}/complaints/a@x.com")
    assert (missing.status_code, missing.json()) == (404, {"message": "No spam complaints found for this address"})
    assert client.get("/v3/nope.example.com/bounces").json() == {"message": "Domain not found"}


def test_addresses_with_plus_and_slash_stay_one_segment(client):
    client.post(f"/v3/{D}/bounces", data={"address": "a+b/c@x.com"})
    assert client.get(f"/v3/{D}/bounces/a%2Bb%2Fc%40x.com").json()["address"] == "a+b/c@x.com"
    assert client.delete(f"/v3/{D}/bounces/a%2Bb%2Fc%40x.com").json() == {
        "message": "Bounced address has been removed",
        "address": "a+b/c@x.com",
    }
    assert client.get(f"/v3/{D}/bounces/a%2Bb%2Fc%40x.com").status_code == 404


def test_json_bulk_add_is_all_or_nothing(client):
    r = client.post(
        f"/v3/{D}/unsubscribes",
        json=[{"address": "a@x.com", "tags": ["news"]}, {"address": "b@x.com"}, {"address": "c@x.com", "tag": "promo"}],
    )
    assert r.json() == {"message": "3 addresses have been added to the unsubscribes table"}
    assert [client.get(f"/v3/{D}/unsubscribes/{a}@x.com").json()["tags"] for a in "abc"] == [["news"], ["*"], ["promo"]]
    r = client.post(f"/v3/{D}/bounces", json=[{"address": "ok@x.com"}, {"code": "550"}])
    assert r.status_code == 400 and r.json()["message"].startswith("Record 1: 'address' parameter is missing")
    assert client.get(f"/v3/{D}/bounces/ok@x.com").status_code == 404
    too_many = client.post(f"/v3/{D}/complaints", json=[{"address": f"u{i}@x.com"} for i in range(1001)])
    assert (too_many.status_code, too_many.json()) == (400, {"message": "Batch size should be less than 1000"})
    assert client.post(f"/v3/{D}/complaints", json=[]).status_code == 400
    assert client.post(f"/v3/{D}/complaints", json=["a@x.com"]).status_code == 400
    exact = client.post(f"/v3/{D}/complaints", json=[{"address": f"u{i:04}@x.com"} for i in range(1000)])
    assert exact.json()["message"] == "1000 complaint addresses have been added to the complaints table"


def test_url_paging_follows_next_and_previous(client):
    client.post(f"/v3/{D}/bounces", json=[{"address": f"{c}@x.com"} for c in "edcba"])
    page = client.get(f"/v3/{D}/bounces", params={"limit": 2}).json()
    seen = []
    while page["items"]:
        seen += [i["address"] for i in page["items"]]
        assert urlsplit(page["paging"]["next"]).netloc == "api.mailgun.net"
        page = client.get(page["paging"]["next"]).json()
    assert seen == ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"]
    last = client.get(f"/v3/{D}/bounces", params={"limit": 2, "page": "last"}).json()
    assert [i["address"] for i in last["items"]] == ["d@x.com", "e@x.com"]
    previous = client.get(last["paging"]["previous"]).json()
    assert [i["address"] for i in previous["items"]] == ["b@x.com", "c@x.com"]
    assert client.get(f"/v3/{D}/bounces", params={"limit": 1001}).status_code == 400
    assert len(client.get(f"/v3/{D}/bounces").json()["items"]) == 5  # default limit 100


def test_term_filters_by_prefix(client):
    client.post(f"/v3/{D}/complaints", json=[{"address": a} for a in ("ann@x.com", "anna@y.com", "bob@x.com")])
    page = client.get(f"/v3/{D}/complaints", params={"term": "ann"}).json()
    assert [i["address"] for i in page["items"]] == ["ann@x.com", "anna@y.com"]
    assert "term=ann" in page["paging"]["next"]


def test_csv_import(client):
    r = client.post(
        f"/v3/{D}/bounces/import",
        files=csv_file("address, code, error, created_at\na@x.com,551,gone,\nnot-an-address,,,\n"),
    )
    assert (r.status_code, r.json()) == (202, {"message": "file uploaded successfully for processing. standby..."})
    assert [i["address"] for i in client.get(f"/v3/{D}/bounces").json()["items"]] == ["a@x.com"]
    assert client.get(f"/v3/{D}/bounces/a@x.com").json()["error"] == "gone"
    bad = client.post(f"/v3/{D}/complaints/import", files=csv_file("email\na@x.com\n"))
    assert (bad.status_code, bad.json()) == (400, {"message": "while reading csv header"})
    assert client.post(f"/v3/{D}/complaints/import", data={"x": "1"}).status_code == 400
    client.post(f"/v3/{D}/unsubscribes/import", files=csv_file('address,tags\nu@x.com,"news,promo"\nv@x.com,\n'))
    assert client.get(f"/v3/{D}/unsubscribes/u@x.com").json()["tags"] == ["news", "promo"]
    assert client.get(f"/v3/{D}/unsubscribes/v@x.com").json()["tags"] == ["*"]
    client.post(f"/v3/{D}/whitelists/import", files=csv_file("address,domain\nann@x.com,\n,partner.com\n"))
    items = client.get(f"/v3/{D}/whitelists").json()["items"]
    assert {(i["value"], i["type"]) for i in items} == {("ann@x.com", "address"), ("partner.com", "domain")}


def test_unsubscribe_tags_add_up_and_come_off_one_by_one(client):
    client.post(f"/v3/{D}/unsubscribes", data={"address": "u@x.com", "tag": "news"})
    client.post(f"/v3/{D}/unsubscribes", data={"address": "u@x.com", "tag": "promo"})
    assert client.get(f"/v3/{D}/unsubscribes/u@x.com").json()["tags"] == ["news", "promo"]
    assert client.delete(f"/v3/{D}/unsubscribes/u@x.com", params={"tag": "news"}).status_code == 200
    assert client.get(f"/v3/{D}/unsubscribes/u@x.com").json()["tags"] == ["promo"]
    missing = client.delete(f"/v3/{D}/unsubscribes/u@x.com", params={"tag": "news"})
    assert missing.json() == {"message": "Unsubscribe event for this tag does not exist"}
    client.delete(f"/v3/{D}/unsubscribes/u@x.com", params={"tag": "promo"})  # the last tag takes the record
    assert client.get(f"/v3/{D}/unsubscribes/u@x.com").json() == {"message": "Address not found in unsubscribers table"}


def test_allowlist_takes_an_address_or_a_domain(client):
    r = client.post(f"/v3/{D}/whitelists", data={"address": "ann@x.com"})
    assert r.json() == {
        "message": "Address/Domain has been added to the allowlists table",
        "type": "address",
        "value": "ann@x.com",
    }
    missing = client.post(f"/v3/{D}/whitelists", data={})
    assert missing.json() == {"message": "Missing mandatory parameter: address/domain"}
    assert client.post(f"/v3/{D}/whitelists", data={"address": "a@x.com", "domain": "x.com"}).status_code == 400
    assert client.post(f"/v3/{D}/whitelists", data={"domain": "not a domain"}).status_code == 400
    assert client.get(f"/v3/{D}/whitelists/ann@x.com").json()["type"] == "address"
    assert client.delete(f"/v3/{D}/whitelists/ann@x.com").json() == {
        "message": "Allowlist address/domain has been removed",
        "value": "ann@x.com",
    }
    gone = client.get(f"/v3/{D}/whitelists/ann@x.com")
    assert gone.json() == {"message": "Address/Domain not found in allowlist table"}


def test_clear_all_touches_one_list_of_one_domain(client):
    assert client.post("/v4/domains", data={"name": "other.example.com"}).status_code == 200
    for domain in (D, "other.example.com"):
        client.post(f"/v3/{domain}/bounces", data={"address": "a@x.com"})
        client.post(f"/v3/{domain}/complaints", data={"address": "a@x.com"})
    assert client.delete(f"/v3/{D}/bounces").json() == {
        "message": "Bounced addresses for this domain have been removed"
    }
    assert client.get(f"/v3/{D}/bounces").json()["items"] == []
    assert len(client.get(f"/v3/{D}/complaints").json()["items"]) == 1
    assert len(client.get("/v3/other.example.com/bounces").json()["items"]) == 1
    assert client.delete(f"/v3/{D}/whitelists").json()["message"] == (
        "Allowlist addresses/domains for this domain have been removed"
    )
