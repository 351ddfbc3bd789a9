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
