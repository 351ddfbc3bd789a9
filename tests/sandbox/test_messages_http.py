"""Sandbox messages area over HTTP: sending (validation, storage, events, templates, lists,
batches, tags, test mode, scheduling), stored messages, sending queues and envelopes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email import policy
from email.parser import Parser
from email.utils import format_datetime

import pytest

DOMAIN = "mg.example.com"


def _form(**extra):
    form = {"from": "Ann <ann@mg.example.com>", "to": "bob@example.com", "subject": "Hello", "text": "Hi Bob"}
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def _send(client, domain=DOMAIN, files=None, **fields):
    response = client.post(f"/v3/{domain}/messages", data=_form(**fields), files=files)
    assert response.status_code == 200, response.text
    return response.json()


def _rfc2822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC))


def _events(sb, event=None):
    items = sb.state.list("event", f"{DOMAIN}/")
    return [e for e in items if event is None or e["event"] == event]


def test_send_queues_and_stores_the_message(client, sb):
    out = _send(client, to=["bob@example.com", "Cy <cy@gmail.com>"], html="<p>Hi</p>", **{"v:order": "42"})
    assert out["message"] == "Queued. Thank you."
    assert re.fullmatch(r"<\d{14}\.[0-9A-F]+@mg\.example\.com>", out["id"])
    accepted, delivered = _events(sb, "accepted"), _events(sb, "delivered")
    assert [e["recipient"] for e in accepted] == ["bob@example.com", "cy@gmail.com"]
    assert [e["recipient"] for e in delivered] == ["bob@example.com", "cy@gmail.com"]
    event = delivered[1]
    assert event["message"]["headers"]["message-id"] == out["id"].strip("<>")
    assert event["recipient-domain"] == "gmail.com" and event["recipient-provider"] == "Gmail"
    assert event["delivery-status"]["code"] == 250
    assert event["user-variables"] == {"order": "42"}
    assert isinstance(event["timestamp"], float)
    stored = client.get(event["storage"]["url"]).json()
    assert stored["From"] == "Ann <ann@mg.example.com>"
    assert stored["To"] == "bob@example.com, Cy <cy@gmail.com>"
    assert stored["Subject"] == "Hello"
    assert stored["sender"] == "ann@mg.example.com"
    assert stored["recipients"] == "bob@example.com, cy@gmail.com"
    assert stored["body-plain"] == "Hi Bob" and stored["body-html"] == "<p>Hi</p>"
    assert ["Message-Id", out["id"]] in stored["message-headers"]
    assert not any(k.startswith("_") for k in stored)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"from": None}, "'from' parameter is missing"),
        ({"to": None}, "'to' parameter is missing"),
        ({"subject": None}, "'subject' parameter is missing"),
        ({"text": None}, "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"),
        ({"html": "<p>x</p>", "template": "welcome"}, "Only one parameters 'html' or 'template' is allowed"),
        ({"to": "not-an-address"}, "'to' parameter is not a valid address. please check documentation"),
        ({"from": "nobody"}, "'from' parameter is not a valid address. please check documentation"),
        ({"to": [f"u{i}@example.com" for i in range(1001)]}, "Too many recipients, max is 1000"),
        ({"cc": ",".join(f"u{i}@example.com" for i in range(1000))}, "Too many recipients, max is 1000"),
        (
            {"h:X-Note": "a\r\nBcc: eve@example.com"},
            "Header value of X-Note must not contain line breaks (U+000D at position 1)",
        ),
        ({"v:big": "x" * 17000}, "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total"),
        ({"recipient-variables": "{not json"}, "'recipient-variables' parameter is not a valid JSON"),
        ({"t:variables": "[1, 2"}, "'t:variables' parameter is not a valid JSON"),
        ({"o:deliverytime": "next tuesday"}, "'o:deliverytime' parameter is not a valid RFC 2822 date"),
    ],
)
def test_send_rejects_like_mailgun(client, sb, fields, message):
    response = client.post(f"/v3/{DOMAIN}/messages", data=_form(**fields))
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert sb.state.count("message") == 0 and sb.state.count("event") == 0


def test_send_accepts_exactly_1000_recipients(client, sb):
    _send(client, to=[f"u{i}@example.com" for i in range(1000)])
    assert len(_events(sb, "accepted")) == 1000


def test_unknown_domain_is_404(client):
    response = client.post("/v3/nope.example.com/messages", data=_form())
    assert response.status_code == 404
    assert response.json() == {"message": "Domain not found"}


def test_stored_message_as_mime(client, sb):
    files = [
        ("attachment", ("report.csv", b"a,b\n1,2\n", "text/csv")),
        ("inline", ("logo.png", b"\x89PNG-bytes", "image/png")),
    ]
    _send(client, files=files, html='<img src="cid:logo.png">', **{"h:Reply-To": "help@mg.example.com"})
    url = _events(sb, "accepted")[0]["storage"]["url"]
    stored = client.get(url, headers={"Accept": "message/rfc2822"}).json()
    assert stored["attachments"] == [{"name": "report.csv", "content-type": "text/csv", "size": 8}]
    assert "<logo.png>" in stored["content-id-map"]
    mime = Parser(policy=policy.default).parsestr(stored["body-mime"])
    assert mime["Subject"] == "Hello" and mime["Reply-To"] == "help@mg.example.com"
    parts = {p.get_filename(): p for p in mime.walk() if p.get_filename()}
    assert parts["report.csv"].get_payload(decode=True) == b"a,b\n1,2\n"
    assert parts["logo.png"]["Content-ID"] == "<logo.png>"
    assert mime.get_body(("html",)).get_content().strip() == '<img src="cid:logo.png">'
    plain = client.get(url).json()
    assert "body-mime" not in plain


def test_stored_message_not_found(client):
    response = client.get(f"/v3/domains/{DOMAIN}/messages/nope")
    assert response.status_code == 404
    assert response.json() == {"message": "Message not found"}


@pytest.mark.parametrize(
    ("kind", "doc", "reason"),
    [
        ("bounce", {"code": "550", "error": "No such user"}, "suppress-bounce"),
        ("unsubscribe", {"tags": ["*"]}, "suppress-unsubscribe"),
        ("complaint", {}, "suppress-complaint"),
    ],
)
def test_suppressed_recipient_fails_permanently(client, sb, kind, doc, reason):
    sb.state.put(kind, f"{DOMAIN}/bad@example.com", {"address": "bad@example.com", **doc})
    _send(client, to=["bob@example.com", "bad@example.com"])
    failed = _events(sb, "failed")
    assert [e["recipient"] for e in failed] == ["bad@example.com"]
    assert failed[0]["severity"] == "permanent" and failed[0]["reason"] == reason
    assert failed[0]["log-level"] == "error"
    assert failed[0]["delivery-status"]["code"] == 605
    assert [e["recipient"] for e in _events(sb, "delivered")] == ["bob@example.com"]


def test_allowlist_does_not_lift_a_bounce_already_listed(client, sb):
    sb.state.put("bounce", f"{DOMAIN}/a@partner.com", {"address": "a@partner.com"})
    sb.state.put("allowlist", f"{DOMAIN}/partner.com", {"value": "partner.com", "type": "domain"})
    _send(client, to=["a@partner.com", "c@partner.com"])
    assert [e["recipient"] for e in _events(sb, "delivered")] == ["c@partner.com"]
    assert [e["reason"] for e in _events(sb, "failed")] == ["suppress-bounce"]


def test_unsubscribe_from_a_tag_only_blocks_that_tag(client, sb):
    sb.state.put("unsubscribe", f"{DOMAIN}/bob@example.com", {"address": "bob@example.com", "tags": ["promo"]})
    _send(client, **{"o:tag": "receipts"})
    _send(client, **{"o:tag": "promo"})
    assert [e["tags"] for e in _events(sb, "delivered")] == [["receipts"]]
    assert [e["tags"] for e in _events(sb, "failed")] == [["promo"]]


def _template(sb, versions, name="welcome"):
    sb.state.put(
        "template",
        f"{DOMAIN}/{name}",
        {
            "name": name,
            "description": "",
            "createdAt": "",
            "id": "t1",
            "versions": {
                v["tag"]: {"engine": "handlebars", "mjml": "", "comment": "", "createdAt": "", **v} for v in versions
            },
        },
    )


def test_template_renders_active_version_with_variables(client, sb):
    _template(
        sb,
        [
            {"tag": "v1", "active": False, "template": "<p>old {{name}}</p>"},
            {
                "tag": "v2",
                "active": True,
                "headers": {"Subject": "Welcome {{name}}"},
                "template": "<p>Hi {{name}} from {{user.city}}{{missing}} {{html}} {{{html}}}"
                "{{#if vip}} VIP{{else}} regular{{/if}} {{order}}</p>",
            },
        ],
    )
    _send(
        client,
        subject=None,
        text=None,
        template="welcome",
        **{
            "t:variables": json.dumps({"name": "Ann", "user": {"city": "Oslo"}, "html": "<b>", "vip": True}),
            "v:order": "A-7",
        },
    )
    event = _events(sb, "delivered")[0]
    assert event["template"] == {"name": "welcome", "version": "v2", "is-text": False}
    stored = client.get(event["storage"]["url"]).json()
    assert stored["Subject"] == "Welcome Ann"
    assert stored["body-html"] == "<p>Hi Ann from Oslo &lt;b&gt; <b> VIP A-7</p>"
    assert stored["X-Mailgun-Template-Name"] == "welcome"
    assert json.loads(stored["X-Mailgun-Template-Variables"])["name"] == "Ann"


def test_template_version_and_text_part(client, sb):
    _template(
        sb,
        [
            {"tag": "v1", "active": False, "template": "<p>old {{name}}</p>"},
            {"tag": "v2", "active": True, "template": "<p>new</p>"},
        ],
    )
    _send(
        client, text=None, template="welcome", **{"t:version": "v1", "t:text": "yes", "t:variables": '{"name": "Bo"}'}
    )
    stored = client.get(_events(sb, "accepted")[0]["storage"]["url"]).json()
    assert stored["body-html"] == "<p>old Bo</p>"
    assert stored["body-plain"] == "old Bo"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"template": "nope"}, "template 'nope' not found"),
        ({"template": "welcome", "t:version": "v9"}, "template 'welcome' has no version 'v9'"),
    ],
)
def test_unknown_template_or_version_is_400(client, sb, fields, message):
    _template(sb, [{"tag": "v1", "active": True, "template": "<p>x</p>"}])
    response = client.post(f"/v3/{DOMAIN}/messages", data=_form(text=None, **fields))
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert sb.state.count("event") == 0


def test_recipient_variables_give_each_recipient_their_copy(client, sb):
    variables = {"bob@example.com": {"name": "Bob", "code": 1}, "cy@example.com": {"name": "Cy", "code": 2}}
    _send(
        client,
        to=["bob@example.com", "cy@example.com"],
        subject="Hi %recipient.name%",
        text="Your code: %recipient.code%%recipient.nope%",
        **{"recipient-variables": json.dumps(variables)},
    )
    delivered = _events(sb, "delivered")
    assert len({e["storage"]["key"] for e in delivered}) == 2
    for event in delivered:
        stored = client.get(event["storage"]["url"]).json()
        expected = variables[event["recipient"]]
        assert stored["To"] == event["recipient"]
        assert stored["Subject"] == f"Hi {expected['name']}"
        assert stored["body-plain"] == f"Your code: {expected['code']}"
        assert event["message"]["headers"]["subject"] == f"Hi {expected['name']}"


def test_mailing_list_expands_to_subscribed_members(client, sb):
    sb.state.put("list", "team@mg.example.com", {"address": "team@mg.example.com", "name": "Team"})
    members = [
        ("amy@example.com", True, {"first": "Amy"}),
        ("ben@example.com", False, {"first": "Ben"}),
        ("cat@example.com", True, {"first": "Cat"}),
    ]
    for address, subscribed, variables in members:
        sb.state.put(
            "member",
            f"team@mg.example.com/{address}",
            {"address": address, "name": "", "subscribed": subscribed, "vars": variables},
        )
    _send(client, to="team@mg.example.com", text="Hello %recipient.first%")
    delivered = _events(sb, "delivered")
    assert [e["recipient"] for e in delivered] == ["amy@example.com", "cat@example.com"]
    assert all(e["mailing-list"]["address"] == "team@mg.example.com" for e in delivered)
    bodies = [client.get(e["storage"]["url"]).json() for e in delivered]
    assert [b["body-plain"] for b in bodies] == ["Hello Amy", "Hello Cat"]
    assert {b["To"] for b in bodies} == {"team@mg.example.com"}


def test_tags_are_recorded_per_domain(client, sb, clock):
    _send(client, **{"o:tag": ["Newsletter", "spécial", "ß"]})
    clock.now += 3600
    _send(client, **{"o:tag": ["Newsletter"] + [f"t{i}" for i in range(12)]})
    news = sb.state.get("tag", f"{DOMAIN}/Newsletter")
    assert news["tag"] == "Newsletter"
    assert news["first-seen"] != news["last-seen"]
    assert sb.state.get("tag", f"{DOMAIN}/spcial") is not None  # non-ASCII characters are stripped
    assert sb.state.get("tag", f"{DOMAIN}/ß") is None and sb.state.get("tag", f"{DOMAIN}/") is None
    assert len(_events(sb, "accepted")[-1]["tags"]) == 10  # at most 10 tags per message


def test_test_mode_delivers_without_checking_suppressions(client, sb):
    sb.state.put("bounce", f"{DOMAIN}/bob@example.com", {"address": "bob@example.com"})
    _send(client, **{"o:testmode": "yes"})
    events = _events(sb)
    assert [e["event"] for e in events] == ["accepted", "delivered"]
    assert all(e["flags"]["is-test-mode"] for e in events)


def test_scheduled_message_is_delivered_on_the_first_request_after_its_time(client, sb, clock):
    due = clock.now + 3600
    _send(client, **{"o:deliverytime": _rfc2822(due)})
    accepted = _events(sb, "accepted")
    assert len(accepted) == 1 and not _events(sb, "delivered")
    assert accepted[0]["message"]["scheduled-for"] == int(due)
    clock.now = due - 1
    client.get(f"/v3/domains/{DOMAIN}/sending_queues")
    assert not _events(sb, "delivered")
    clock.now = due + 10
    client.get("/v4/domains")  # any request delivers what is due
    delivered = _events(sb, "delivered")
    assert len(delivered) == 1 and delivered[0]["timestamp"] == due


def test_delete_envelopes_cancels_scheduled_mail(client, sb, clock):
    _send(client, **{"o:deliverytime": _rfc2822(clock.now + 3600)})
    _send(client, to="now@example.com")
    response = client.delete(f"/v3/{DOMAIN}/envelopes")
    assert response.status_code == 200 and response.json() == {"message": "done"}
    clock.now += 30 * 86400
    client.get("/v4/domains")
    assert [e["recipient"] for e in _events(sb, "delivered")] == ["now@example.com"]
    scheduled_url = _events(sb, "accepted")[0]["storage"]["url"]
    assert client.get(scheduled_url).status_code == 404
    assert client.delete("/v3/nope.example.com/envelopes").status_code == 404


def test_sending_queues(client):
    response = client.get(f"/v3/domains/{DOMAIN}/sending_queues")
    assert response.status_code == 200
    body = response.json()
    assert body["regular"]["is_disabled"] is False and body["scheduled"]["is_disabled"] is False
    assert client.get("/v3/domains/nope.example.com/sending_queues").status_code == 404


def test_send_mime(client, sb):
    raw = (
        b"From: Ann <ann@mg.example.com>\r\nTo: bob@example.com\r\nSubject: Raw hello\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nRaw body\r\n"
    )
    response = client.post(
        f"/v3/{DOMAIN}/messages.mime",
        data={"to": "bob@example.com", "o:tag": "raw"},
        files={"message": ("message.mime", raw, "message/rfc2822")},
    )
    assert response.status_code == 200, response.text
    event = _events(sb, "delivered")[0]
    assert event["message"]["headers"]["subject"] == "Raw hello"
    assert event["tags"] == ["raw"]
    stored = client.get(event["storage"]["url"], headers={"Accept": "message/rfc2822"}).json()
    assert stored["body-plain"].strip() == "Raw body"
    assert "Raw body" in stored["body-mime"]
    missing = client.post(f"/v3/{DOMAIN}/messages.mime", data={"to": "bob@example.com"})
    assert missing.json() == {"message": "'message' parameter is missing"}
    not_file = client.post(f"/v3/{DOMAIN}/messages.mime", data={"to": "bob@example.com", "message": "x"})
    assert not_file.json() == {"message": "'message' parameter is not a file"}


def test_toolkit_send_and_read_back(tmp_path):
    from mg_tools import Toolkit

    with Toolkit(sandbox=True, file_roots=[tmp_path]) as mg:
        sent = mg.call(
            "send_message",
            domain=DOMAIN,
            sender="ann@mg.example.com",
            to=["bob@example.com"],
            subject="Via toolkit",
            text="Hello",
            tags=["toolkit"],
        )
        assert sent["message"] == "Queued. Thank you."
        sb = mg.sandbox_app.state.sandbox
        url = sb.state.list("event", f"{DOMAIN}/")[0]["storage"]["url"]
        stored = mg.call("get_stored_message", storage_url=url)
        assert stored["Subject"] == "Via toolkit" and stored["X-Mailgun-Tag"] == "toolkit"
