import base64
import json

import pytest
from reliability.support import SEND

from mg_tools import InvalidArguments


def form(out):
    return [tuple(kv) for kv in out["form"]]


# -- the wire format of the tricky cases ------------------------------------------------------------


def test_repeated_recipients_tags_and_families(dry):
    out = dry.dry_run(
        "send_message",
        **{
            **SEND,
            "to": ["a+1@x.com", "Bo <b@x.com>"],
            "cc": ["c@x.com"],
            "tags": ["welcome", "beta"],
            "headers": {"Reply-To": "r@x.com"},
            "variables": {"uid": 42, "plan": {"tier": "pro"}},
        },
    )
    pairs = form(out)
    assert [v for k, v in pairs if k == "to"] == ["a+1@x.com", "Bo <b@x.com>"]
    assert [v for k, v in pairs if k == "o:tag"] == ["welcome", "beta"]
    assert ("h:Reply-To", "r@x.com") in pairs
    assert ("v:uid", "42") in pairs and ("v:plan", '{"tier":"pro"}') in pairs
    assert ("from", "Ann <ann@mg.example.com>") in pairs
    assert out["url"] == "https://api.mailgun.net/v3/mg.example.com/messages" and out["method"] == "POST"


def test_options_use_mailgun_wire_names_and_values(dry):
    out = dry.dry_run(
        "send_message",
        **SEND,
        test_mode=True,
        tracking="htmlonly",
        tracking_opens=False,
        require_tls=True,
        delivery_time="Thu, 26 Nov 2026 10:00:00 +0000",
        template_variables={"name": "Bob"},
        recipient_variables={"bob@example.com": {"id": 1}},
    )
    pairs = form(out)
    for pair in [
        ("o:testmode", "yes"),
        ("o:tracking", "htmlonly"),
        ("o:tracking-opens", "no"),
        ("o:require-tls", "yes"),
        ("o:deliverytime", "Thu, 26 Nov 2026 10:00:00 +0000"),
        ("t:variables", '{"name":"Bob"}'),
        ("recipient-variables", '{"bob@example.com":{"id":1}}'),
    ]:
        assert pair in pairs


def test_attachments_from_a_path_and_from_base64(dry, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 fake")
    out = dry.dry_run(
        "send_message",
        **SEND,
        attachments=[{"path": str(path)}],
        inline=[{"content": base64.b64encode(b"PNG").decode(), "filename": "logo.png"}],
    )
    assert out["encoding"] == "multipart/form-data"
    assert out["files"] == [
        {"field": "attachment", "filename": "report.pdf", "content_type": "application/pdf", "size": 13},
        {"field": "inline", "filename": "logo.png", "content_type": "image/png", "size": 3},
    ]


def test_attachment_paths_outside_the_allowed_directories_are_refused(dry):
    with pytest.raises(InvalidArguments, match="outside the allowed file directories"):
        dry.dry_run("send_message", **SEND, attachments=[{"path": "/etc/passwd"}])


def test_test_mode_false_is_not_sent(dry):
    assert not any(k == "o:testmode" for k, _ in form(dry.dry_run("send_message", **SEND, test_mode=False)))


def test_path_segments_stay_segments(dry):
    out = dry.dry_run("get_stored_message", domain="mg.example.com", storage_key="../../v1/keys?x=1")
    assert out["url"] == "https://api.mailgun.net/v3/domains/mg.example.com/messages/..%2F..%2Fv1%2Fkeys%3Fx%3D1"
    assert out["query"] == []


def test_stored_message_by_storage_url_goes_to_the_storage_host(dry):
    url = "https://storage-us-east4.api.mailgun.net/v3/domains/mg.example.com/messages/BAABAQ%2Fx"
    out = dry.dry_run("get_stored_message", storage_url=url, accept="message/rfc2822")
    assert out["url"] == url and out["headers"] == {"Accept": "message/rfc2822"}


def test_mime_send_uploads_the_message_as_a_file(dry):
    out = dry.dry_run(
        "send_mime_message",
        domain="mg.example.com",
        to=["b@x.com"],
        mime="From: a@mg.example.com\r\nSubject: x\r\n\r\nbody",
        tags=["t"],
    )
    assert out["files"][0]["field"] == "message" and out["files"][0]["content_type"] == "message/rfc2822"
    assert ("to", "b@x.com") in form(out) and ("o:tag", "t") in form(out)


# -- Mailgun's limits, checked before anything is sent ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"to": [f"u{i}@x.com" for i in range(1001)]}, "1001 recipients"),
        (
            {"to": [",".join(f"u{i}@x.com" for i in range(600))], "cc": [f"c{i}@x.com" for i in range(401)]},
            "1001 recipients",
        ),
        ({"variables": {"blob": "x" * 17000}}, "16 KB"),
        ({"text": None}, "at least one of text, html, amp_html or template_name"),
        ({"html": "<p>x</p>", "template_name": "welcome"}, "html and template_name cannot be sent together"),
        ({"subject": None}, "subject is required"),
        ({"to": []}, "to"),
        ({"delivery_time": "tomorrow"}, "RFC 2822"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"sender": None}, "sender"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_limits_and_bad_input_are_refused_before_sending(dry, changes, problem):
    args = {k: v for k, v in {**SEND, **changes}.items() if v is not None}
    with pytest.raises(InvalidArguments) as info:
        dry.dry_run("send_message", **args)
    assert problem in str(info.value)


def test_a_25_mb_message_is_refused(dry):
    big = base64.b64encode(b"x" * (25 * 1024 * 1024 + 1)).decode()
    with pytest.raises(InvalidArguments, match="25 MB"):
        dry.dry_run("send_message", **SEND, attachments=[{"content": big, "filename": "big.bin"}])


def test_sender_is_serialised_as_from(dry):
    out = dry.dry_run("send_message", **SEND)
    assert json.dumps(out).count('"from"') == 1


@pytest.mark.parametrize("name", ["template_name", "template"])
def test_a_stored_template_is_named_by_template_name_or_mailgun_s_template(dry, name):
    args = {k: v for k, v in SEND.items() if k not in {"text", "subject"}}
    out = dry.dry_run("send_message", **args, **{name: "welcome"}, template_version="v2")
    assert ("template", "welcome") in form(out) and ("t:version", "v2") in form(out)


def test_binary_attachment_bytes_from_python_are_sent_as_they_are(dry):
    binary = {"content": b"\xff\xfe\x00", "filename": "a.bin"}
    out = dry.dry_run("send_message", **SEND, tags=["t"], attachments=[binary])
    assert out["files"] == [
        {"field": "attachment", "filename": "a.bin", "content_type": "application/octet-stream", "size": 3}
    ]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "give exactly one of mime or message"),
        ({"mime": "x", "message": {"content": "eA==", "filename": "m.eml"}}, "give exactly one of mime or message"),
        ({"mime": "x" * (25 * 1024 * 1024 + 1)}, "mime is larger than Mailgun's 25 MB"),
    ],
)
def test_a_mime_send_takes_exactly_one_message_within_25_mb(dry, arguments, problem):
    with pytest.raises(InvalidArguments, match=problem):
        dry.dry_run("send_mime_message", domain="mg.example.com", to=["b@x.com"], **arguments)


# -- against the API (recorded from the sandbox) -------------------------------------------------------


def _stored_url(mg, recipient):
    events = mg.call("list_events", domain="mg.example.com", recipient=recipient, event="accepted")
    return events["items"][0]["storage"]["url"]


@pytest.mark.vcr
def test_send_message(mg):
    sent = mg.call(
        "send_message",
        **{
            **SEND,
            "to": ["bob@example.com"],
            "tags": ["welcome"],
            "variables": {"uid": "42"},
            "headers": {"X-Campaign": "c1"},
        },
    )
    assert sent["message"] == "Queued. Thank you." and sent["id"].endswith("@mg.example.com>")
    stored = mg.call("get_stored_message", storage_url=_stored_url(mg, "bob@example.com"))
    assert stored["Subject"] == "Hi" and stored["body-plain"].strip() == "Hello"
    assert ["X-Campaign", "c1"] in stored["message-headers"]


@pytest.mark.vcr
def test_send_mime_message(mg):
    mime = "From: ann@mg.example.com\r\nTo: carl@example.com\r\nSubject: Raw\r\n\r\nraw body\r\n"
    sent = mg.call("send_mime_message", domain="mg.example.com", to=["carl@example.com"], mime=mime)
    assert sent["message"] == "Queued. Thank you."
    stored = mg.call("get_stored_message", storage_url=_stored_url(mg, "carl@example.com"))
    assert stored["Subject"] == "Raw" and "raw body" in stored["body-plain"]


@pytest.mark.vcr
def test_get_stored_message(mg):
    mg.call("send_message", **{**SEND, "to": ["dora@example.com"], "html": "<p>Hello</p>"})
    url = _stored_url(mg, "dora@example.com")
    key = url.rsplit("/", 1)[1]
    by_key = mg.run(mg.execute("get_stored_message", {"domain": "mg.example.com", "storage_key": key}))
    assert by_key.untrusted and by_key.data["body-html"] == "<p>Hello</p>"
    raw = mg.call("get_stored_message", storage_url=url, accept="message/rfc2822")
    assert "Subject: Hi" in raw["body-mime"]


@pytest.mark.vcr
def test_get_sending_queues(mg):
    queues = mg.call("get_sending_queues", domain="mg.example.com")
    assert set(queues) == {"regular", "scheduled"} and queues["regular"]["is_disabled"] is False


@pytest.mark.vcr
def test_delete_scheduled_messages(mg):
    mg.call("send_message", **{**SEND, "to": ["eve@example.com"], "delivery_time": "Fri, 01 Jan 2100 10:00:00 +0000"})
    url = _stored_url(mg, "eve@example.com")
    out = mg.call("delete_scheduled_messages", domain="mg.example.com", storage_url=url)
    assert "message" in out
    from mg_tools.errors import NotFound

    with pytest.raises(NotFound):
        mg.call("get_stored_message", storage_url=url)


# -- Mailgun's own names, as pasted from its documentation and SDKs ----------------------------------

#: Each family of Mailgun's names: the arguments in the tool's names, and the same in Mailgun's.
MAILGUN_NAMES = {
    "from": ({"sender": "Ann <ann@mg.example.com>"}, {"from": "Ann <ann@mg.example.com>"}),
    "o:tag": ({"tags": ["welcome", "beta"]}, {"o:tag": ["welcome", "beta"]}),
    "o:tag, one": ({"tags": ["welcome"]}, {"o:tag": "welcome"}),
    "o:options": (
        {
            "test_mode": True,
            "delivery_time": "Thu, 26 Nov 2026 10:00:00 +0000",
            "deliver_within": "24h",
            "require_tls": True,
            "skip_verification": False,
            "dkim": True,
            "sending_ip_pool": "pool1",
        },
        {
            "o:testmode": "yes",
            "o:deliverytime": "Thu, 26 Nov 2026 10:00:00 +0000",
            "o:deliver-within": "24h",
            "o:require-tls": "true",
            "o:skip-verification": "no",
            "o:dkim": "yes",
            "o:sending-ip-pool": "pool1",
        },
    ),
    "o:tracking": (
        {"tracking": True, "tracking_clicks": "htmlonly", "tracking_opens": False},
        {"o:tracking": "yes", "o:tracking-clicks": "htmlonly", "o:tracking-opens": "no"},
    ),
    "h:": ({"headers": {"X-My-Header": "1", "Reply-To": "r@x.com"}}, {"h:X-My-Header": "1", "h:Reply-To": "r@x.com"}),
    "v:": ({"variables": {"order_id": 42, "plan": "pro"}}, {"v:order_id": 42, "v:plan": "pro"}),
    "t:": (
        {"template_name": "welcome", "template_version": "2", "template_text": True, "template_variables": {"a": 1}},
        {"template": "welcome", "t:version": 2, "t:text": "yes", "t:variables": '{"a": 1}'},
    ),
    "recipient-variables": (
        {"to": ["b@x.com"], "recipient_variables": {"b@x.com": {"id": 1}}},
        {"to": "b@x.com", "recipient-variables": '{"b@x.com": {"id": 1}}'},
    ),
    "amp-html": ({"amp_html": "<p>hi</p>"}, {"amp-html": "<p>hi</p>"}),
    "attachment": (
        {"attachments": [{"content": "aGk=", "filename": "a.txt"}]},
        {"attachment": {"content": "aGk=", "filename": "a.txt"}},
    ),
    "to as one string": (
        {"to": ['"Doe, Jo" <jo@x.com>', "ann@y.com", "Bo <bo@x.com>"], "cc": ["c@x.com"], "bcc": ["d@x.com", "e@x"]},
        {"to": '"Doe, Jo" <jo@x.com>, ann@y.com, Bo <bo@x.com>', "cc": "c@x.com", "bcc": "d@x.com,e@x"},
    ),
}


@pytest.mark.parametrize("family", MAILGUN_NAMES)
def test_a_send_in_mailguns_names_is_the_same_request(dry, family):
    ours, mailguns = MAILGUN_NAMES[family]
    base = {k: v for k, v in SEND.items() if not (k == "text" and "template_name" in ours)}
    clean = dry.dry_run("send_message", **{**base, **ours})
    pasted = {k: v for k, v in base.items() if not (k == "sender" and "from" in mailguns)}
    assert dry.dry_run("send_message", **{**pasted, **mailguns}) == clean


def test_a_mime_send_takes_mailguns_names_too(dry):
    ours = {"tags": ["a"], "test_mode": True, "headers": {"X-A": "1"}}
    mailguns = {"o:tag": "a", "o:testmode": "yes", "h:X-A": "1"}
    base = {"domain": "mg.example.com", "to": "b@x.com", "mime": "Subject: hi\r\n\r\nhello"}
    assert dry.dry_run("send_mime_message", **base, **mailguns) == dry.dry_run("send_mime_message", **base, **ours)


def test_a_field_given_in_both_names_is_refused_naming_both(dry):
    with pytest.raises(InvalidArguments) as info:
        dry.dry_run("send_message", **SEND, **{"from": "Bo <bo@mg.example.com>"})
    assert info.value.errors == [("sender", "given twice, as sender and as from (Mailgun's name for it): give one")]


def test_a_header_given_in_headers_and_as_h_is_refused(dry):
    with pytest.raises(InvalidArguments, match=r"X-A given twice, in headers and as h:X-A"):
        dry.dry_run("send_message", **SEND, headers={"X-A": "1"}, **{"h:X-A": "2"})


def test_headers_and_h_keys_join(dry):
    pairs = form(dry.dry_run("send_message", **SEND, headers={"X-A": "1"}, **{"h:X-B": "2"}))
    assert ("h:X-A", "1") in pairs and ("h:X-B", "2") in pairs


def test_errors_name_a_field_as_the_caller_named_it(dry):
    with pytest.raises(InvalidArguments) as info:
        dry.dry_run("send_message", **SEND, **{"o:deliverytime": "tomorrow"})
    assert [field for field, _ in info.value.errors] == ["o:deliverytime"]


def test_bad_json_text_for_variables_is_refused(dry):
    with pytest.raises(InvalidArguments, match=r"t:variables: .*dictionary"):
        dry.dry_run("send_message", **SEND, **{"t:variables": "{not json"})


def test_a_display_name_with_a_comma_counts_as_one_recipient(dry):
    out = dry.dry_run("send_message", **{**SEND, "to": ['"Doe, Jo" <jo@x.com>'] * 1000})
    assert len([k for k, _ in form(out) if k == "to"]) == 1000


@pytest.mark.vcr
def test_send_batch(mg, monkeypatch):
    from mg_tools.bulk import job

    monkeypatch.setattr(job, "BATCH_SIZE", 2)
    people = [{"address": f"p{i}@example.com", "variables": {"name": f"P{i}"}} for i in range(5)]
    message = {"domain": "mg.example.com", "sender": "shop@mg.example.com", "subject": "Hi %recipient.name%"}
    out = mg.call("send_batch", **message, text="Hello", recipients=people, job="welcome-1")
    assert out["status"] == "done" and out["batches"] == 3 and out["recipients_sent"] == 5
    stored = mg.call("get_stored_message", storage_url=_stored_url(mg, "p4@example.com"))
    assert stored["Subject"] == "Hi P4" and stored["To"] == "p4@example.com"
    again = mg.call("send_batch", **message, text="Hello", recipients=people, job="welcome-1")
    assert again["batches_sent"] == 3  # resuming a finished job sends nothing more (the cassette holds 3 sends)
    with pytest.raises(InvalidArguments, match="different message"):
        mg.call("send_batch", **message, text="Changed", recipients=people, job="welcome-1")
