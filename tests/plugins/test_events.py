import pytest

from mg_tools import InvalidArguments

D = "mg.example.com"


def send(mg, to, subject="Your receipt", **extra):
    return mg.call(
        "send_message", domain=D, sender=f"Shop <shop@{D}>", to=to, subject=subject, text="Thanks!", **extra
    )["id"].strip("<>")


@pytest.mark.vcr
def test_list_events(mg):
    message_id = send(mg, ["ann@example.com", "bob@example.com"], tags=["receipts"])
    send(mg, ["ann@example.com"], subject="Another one")
    out = mg.call("list_events", domain=D, recipient="ann@example.com", message_id=message_id)
    assert {e["event"] for e in out["items"]} == {"accepted", "delivered"}
    assert all(e["recipient"] == "ann@example.com" for e in out["items"])
    assert all(e["message"]["headers"]["message-id"] == message_id for e in out["items"])
    assert "paging" not in out
    delivered = mg.call("list_events", domain=D, event="delivered", subject='"Your receipt"', tags="receipts")
    assert sorted(e["recipient"] for e in delivered["items"]) == ["ann@example.com", "bob@example.com"]
    first = mg.run(mg.execute("list_events", {"domain": D, "event": "accepted", "limit": 2}))
    assert len(first.data["items"]) == 2 and first.next_cursor
    assert first.untrusted  # subjects and senders are written by whoever sent the mail
    rest = mg.run(
        mg.execute("list_events", {"domain": D, "event": "accepted", "limit": 2, "cursor": first.next_cursor})
    )
    assert len(rest.data["items"]) == 1
    seen = {e["id"] for e in first.data["items"]} | {e["id"] for e in rest.data["items"]}
    assert len(seen) == 3
    # Events pages always link onwards; an empty page ends the walk.
    end = mg.run(mg.execute("list_events", {"domain": D, "event": "accepted", "cursor": rest.next_cursor}))
    assert end.data["items"] == [] and end.next_cursor is None


@pytest.mark.vcr
def test_trace_message(mg):
    delivered_id = send(mg, ["ann@example.com"], subject="Welcome aboard", tags=["onboarding"])
    mg.call("add_bounce", domain=D, address="ann@example.com", code="550", error="mailbox unavailable")
    bounced_id = send(mg, ["ann@example.com"], subject="Your receipt")
    out = mg.call("trace_message", domain=D, recipient="ann@example.com")
    assert out["recipient"] == "ann@example.com" and out["events_scanned"] == 4
    newest, oldest = out["messages"]
    assert newest["message_id"] == bounced_id and newest["status"] == "failed permanently"
    assert newest["subject"] == "Your receipt" and newest["sender"] == f"Shop <shop@{D}>"
    assert [s["event"] for s in newest["timeline"]] == ["accepted", "failed"]
    failure = newest["timeline"][-1]
    assert failure["severity"] == "permanent" and failure["reason"] == "suppress-bounce"
    assert "bounce list" in newest["advice"] and "delete_bounce" in newest["advice"]
    assert oldest["message_id"] == delivered_id and oldest["status"] == "delivered"
    assert oldest["tags"] == ["onboarding"]
    assert [s["event"] for s in oldest["timeline"]] == ["accepted", "delivered"]
    only = mg.call("trace_message", domain=D, recipient="ann@example.com", subject="Welcome aboard")
    assert [m["message_id"] for m in only["messages"]] == [delivered_id]
    by_id = mg.call("trace_message", domain=D, recipient="ann@example.com", message_id=f"<{bounced_id}>")
    assert [m["status"] for m in by_id["messages"]] == ["failed permanently"]
    nothing = mg.call("trace_message", domain=D, recipient="nobody@example.com")
    assert nothing["messages"] == [] and "no events" in nothing["advice"]


# -- wire format and validation ---------------------------------------------------------------------


def test_event_filters_use_mailgun_names(dry):
    req = dry.dry_run(
        "list_events",
        domain=D,
        message_id="abc@mg.example.com",
        sender="shop@mg.example.com",
        list_address="devs@mg.example.com",
        size=">10000 <20000",
        ascending=False,
        begin="Thu, 13 Oct 2011 18:02:00 +0000",
        end=1318500000,
    )
    assert req["query"] == [
        ["begin", "Thu, 13 Oct 2011 18:02:00 +0000"],
        ["end", "1318500000"],
        ["ascending", "no"],
        ["limit", "100"],
        ["message-id", "abc@mg.example.com"],
        ["from", "shop@mg.example.com"],
        ["list", "devs@mg.example.com"],
        ["size", ">10000 <20000"],
    ]


def test_event_cursor_is_the_next_page_url(dry):
    cursor = "/v3/mg.example.com/events/W3sicSI6W119"
    req = dry.dry_run("list_events", domain=D, limit=50, cursor=cursor)
    assert req["url"] == f"https://api.mailgun.net{cursor}" and req["query"] == []
    with pytest.raises(InvalidArguments, match="cursor"):
        dry.dry_run("list_events", domain=D, cursor="/v3/other.example.com/events/abc")


def test_event_arguments_are_validated_before_sending(dry):
    with pytest.raises(InvalidArguments, match="limit"):
        dry.dry_run("list_events", domain=D, limit=301)
    with pytest.raises(InvalidArguments, match="begin"):
        dry.dry_run("list_events", domain=D, begin="yesterday")
    with pytest.raises(InvalidArguments, match="severity"):
        dry.dry_run("list_events", domain=D, severity="fatal")
    with pytest.raises(InvalidArguments, match="recipient"):
        dry.dry_run("trace_message", domain=D, recipient="not-an-address")
    with pytest.raises(InvalidArguments, match="since must not be later"):
        dry.dry_run("trace_message", domain=D, recipient="a@example.com", since=1700000100, until=1700000000)
    with pytest.raises(InvalidArguments, match="max_pages"):
        dry.dry_run("trace_message", domain=D, recipient="a@example.com", max_pages=11)


def test_trace_message_follows_older_pages_within_max_pages(sandbox_mg, monkeypatch):
    from mg_tools_plugins import events

    monkeypatch.setattr(events, "TRACE_PAGE_SIZE", 3)
    for subject in ("first", "second", "third"):
        send(sandbox_mg, ["bob@example.com"], subject=subject)
    out = sandbox_mg.call("trace_message", domain=D, recipient="bob@example.com", max_pages=5)
    assert [m["subject"] for m in out["messages"]] == ["third", "second", "first"]
    assert out["events_scanned"] == 6 and "note" not in out
    assert all([s["event"] for s in m["timeline"]] == ["accepted", "delivered"] for m in out["messages"])
    short = sandbox_mg.call("trace_message", domain=D, recipient="bob@example.com", max_pages=1)
    assert [m["subject"] for m in short["messages"]] == ["third", "second"]
    assert "max_pages" in short["note"]


@pytest.mark.parametrize("name", ["list_address", "list", "mailing_list"])
def test_the_mailing_list_filter_is_list_address_sent_as_list(dry, name):
    out = dry.dry_run("list_events", domain=D, **{name: "devs@mg.example.com"})
    assert ["list", "devs@mg.example.com"] in out["query"]
