"""A send whose fields could not become a MIME message is refused with 400 before anything is stored;
every send that is accepted can be read back as MIME."""

from __future__ import annotations

import json
from email import policy
from email.parser import Parser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DOMAIN = "mg.example.com"
SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=["function_scoped_fixture", "too_slow"],
)
#: Line breaks (as the email package sees them), control characters, and a harmless tab.
BAD_CHARS = ["\r", "\n", "\r\n", "\x00", "\x07", "\x0b", "\x1c", "\x7f", "\x85", "\u2028"]


def _form(**extra):
    form = {"from": "Ann <ann@mg.example.com>", "to": "bob@example.com", "subject": "Hello", "text": "Hi Bob"}
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def _nothing_stored(sb) -> bool:
    return sb.state.count("message") == 0 and sb.state.count("event") == 0 and sb.state.count("tag") == 0


def _refused(response, sb, *needles: str) -> None:
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert all(n in message for n in needles), message
    assert _nothing_stored(sb)


def _mime_of_every_stored_message(client, sb) -> list:
    out = []
    for doc in sb.state.list("message"):
        response = client.get(doc["_url"], headers={"Accept": "message/rfc2822"})
        assert response.status_code == 200, response.text
        out.append(Parser(policy=policy.default).parsestr(response.json()["body-mime"]))
    return out


@pytest.mark.parametrize("bad", BAD_CHARS, ids=repr)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hi{bad}Bcc: eve@example.com"),
        ("from", "Ann{bad} <ann@mg.example.com>"),
        ("to", "Bob{bad} <bob@example.com>"),
        ("cc", "Cy{bad} <cy@example.com>"),
        ("bcc", "Di{bad} <di@example.com>"),
        ("o:tag", "news{bad}letter"),
        ("t:version", "v1{bad}"),
    ],
)
def test_header_bound_field_with_a_line_break_or_control_character_is_refused(client, sb, field, value, bad):
    response = client.post(f"/v3/{DOMAIN}/messages", data=_form(**{field: value.format(bad=bad)}))
    kind = "line breaks" if bad not in ("\x00", "\x07", "\x7f") else "control characters"
    _refused(response, sb, f"'{field}' parameter must not contain {kind}", f"U+{ord(bad[0]):04X}")


@pytest.mark.parametrize("bad", BAD_CHARS, ids=repr)
def test_custom_header_value_with_a_line_break_or_control_character_is_refused(client, sb, bad):
    response = client.post(f"/v3/{DOMAIN}/messages", data=_form(**{"h:X-Note": f"a{bad}b"}))
    _refused(response, sb, "Header value of X-Note must not contain", f"U+{ord(bad[0]):04X}")


@pytest.mark.parametrize("name", ["X Note", "X:Note", "X-Nöte", "X\x01Note", "X\tNote"])
def test_custom_header_name_must_be_a_field_name(client, sb, name):
    response = client.post(f"/v3/{DOMAIN}/messages", data=_form(**{f"h:{name}": "v"}))
    _refused(response, sb, "Header name must be printable ASCII without spaces or colons", repr(name))


def test_a_tab_and_non_ascii_text_are_fine(client, sb):
    response = client.post(
        f"/v3/{DOMAIN}/messages",
        data=_form(
            **{
                "subject": "Grüße\tand 🎉",
                "from": "Änne <ann@mg.example.com>",
                "h:X-Note": "a\tb",
                "o:tag": "tab\there",
            }
        ),
    )
    assert response.status_code == 200, response.text
    (mime,) = _mime_of_every_stored_message(client, sb)
    assert mime["Subject"] == "Grüße\tand 🎉" and mime["X-Note"] == "a\tb"


def _raw_multipart(filename: bytes, content_type: bytes = b"text/plain") -> tuple[bytes, str]:
    boundary = "sandboxboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in _form().items()
    ]
    parts.append(
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="attachment"; filename="'
        + filename
        + b'"\r\nContent-Type: '
        + content_type
        + b"\r\n\r\nfile body\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("filename", "content_type", "needle"),
    [
        (b"a\x0bb.txt", b"text/plain", "'attachment' file name must not contain line breaks (U+000B"),
        (b"a\x01b.txt", b"text/plain", "'attachment' file name must not contain control characters (U+0001"),
        (b"a.txt", b"text/pl\x0cain", "'attachment' content type must not contain line breaks (U+000C"),
    ],
)
def test_attachment_whose_name_or_type_cannot_be_a_header_is_refused(client, sb, filename, content_type, needle):
    body, ctype = _raw_multipart(filename, content_type)
    response = client.post(f"/v3/{DOMAIN}/messages", content=body, headers={"Content-Type": ctype})
    _refused(response, sb, needle)


def test_an_ordinary_raw_attachment_is_accepted(client, sb):
    body, ctype = _raw_multipart(b"report.txt")
    response = client.post(f"/v3/{DOMAIN}/messages", content=body, headers={"Content-Type": ctype})
    assert response.status_code == 200, response.text
    (mime,) = _mime_of_every_stored_message(client, sb)
    assert [p.get_filename() for p in mime.iter_attachments()] == ["report.txt"]


def test_recipient_variable_that_puts_a_line_break_in_the_subject_is_refused(client, sb):
    variables = {"bob@example.com": {"name": "Bob"}, "cy@example.com": {"name": "Cy\r\nBcc: eve@example.com"}}
    response = client.post(
        f"/v3/{DOMAIN}/messages",
        data=_form(
            to=["bob@example.com", "cy@example.com"],
            subject="Hi %recipient.name%",
            **{"recipient-variables": json.dumps(variables)},
        ),
    )
    _refused(
        response, sb, "The Subject header of this message would contain line breaks (U+000D", "recipient-variables"
    )


def test_template_variable_that_puts_a_line_break_in_a_header_is_refused(client, sb):
    created = client.post(
        f"/v3/{DOMAIN}/templates",
        data={"name": "welcome", "template": "<p>Hi</p>", "headers": json.dumps({"Subject": "Hi {{name}}"})},
    )
    assert created.status_code == 200, created.text
    response = client.post(
        f"/v3/{DOMAIN}/messages",
        data=_form(
            subject=None, text=None, template="welcome", **{"t:variables": json.dumps({"name": "a\nBcc: eve@x.com"})}
        ),
    )
    _refused(response, sb, "The Subject header of this message would contain line breaks (U+000A")


def test_template_header_with_a_line_break_is_refused_when_stored(client):
    response = client.post(
        f"/v3/{DOMAIN}/templates",
        data={"name": "welcome", "template": "<p>Hi</p>", "headers": json.dumps({"Subject": "Hi\r\nBcc: eve@x.com"})},
    )
    assert response.status_code == 400
    assert "header 'Subject' must not contain line breaks" in response.json()["message"]
    assert client.get(f"/v3/{DOMAIN}/templates/welcome").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("subject", ["a", "b"], "'subject' parameter must be a string"),
        ("from", {"name": "Ann"}, "'from' parameter must be a string"),
        ("text", 5, "'text' parameter must be a string"),
        ("text", "a\ud800b", "Invalid JSON body: an unpaired surrogate escape"),
        ("subject", "a\udc80", "Invalid JSON body: an unpaired surrogate escape"),
    ],
)
def test_json_body_with_a_value_that_is_not_text_is_refused(client, sb, field, value, needle):
    body = {**_form(), field: value}
    response = client.post(
        f"/v3/{DOMAIN}/messages", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    _refused(response, sb, needle)


@pytest.mark.parametrize(
    "mime",
    [
        b"From: ann@mg.example.com\r\nContent-Type: text/plain; charset=bogus\r\n\r\nbody\r\n",
        b"Content-Type: multipart/alternative\r\n\xa8\x80",
        b"From: a@b.com\r\nContent-Type: multipart/mixed; boundary=x\r\nbody \xe9\r\n",
    ],
)
def test_mime_that_cannot_be_read_or_rebuilt_is_refused(client, sb, mime):
    response = client.post(
        f"/v3/{DOMAIN}/messages.mime",
        data={"to": "bob@example.com"},
        files={"message": ("message.mime", mime, "message/rfc2822")},
    )
    _refused(response, sb, "'message' parameter is not a MIME message that can be read and stored")


def test_mime_send_with_a_tag_that_cannot_be_a_header_is_refused(client, sb):
    raw = b"From: ann@mg.example.com\r\nSubject: Hi\r\n\r\nbody\r\n"
    response = client.post(
        f"/v3/{DOMAIN}/messages.mime",
        data={"to": "bob@example.com", "o:tag": "a\r\nb"},
        files={"message": ("message.mime", raw, "message/rfc2822")},
    )
    _refused(response, sb, "'o:tag' parameter must not contain line breaks")


_AWKWARD = st.lists(
    st.sampled_from(
        ["a", " ", "\t", "é", "🎉", "<", ">", "@", ",", ":", ";", '"', "=?", "%", *BAD_CHARS, "\x1f", "\x9f", "\u2029"]
    ),
    max_size=12,
).map("".join)


@SETTINGS
@given(subject=_AWKWARD, name=_AWKWARD, note=_AWKWARD, tag=_AWKWARD, text=_AWKWARD)
def test_a_send_is_refused_whole_or_readable_as_mime(client, sb, subject, name, note, tag, text):
    client.post("/_sandbox/reset")
    response = client.post(
        f"/v3/{DOMAIN}/messages",
        data=_form(
            **{
                "subject": subject or "s",
                "from": f"{name} <ann@mg.example.com>",
                "h:X-Note": note,
                "o:tag": tag,
                "text": text or "t",
            }
        ),
    )
    if response.status_code == 400:
        assert _nothing_stored(sb)
        return
    assert response.status_code == 200, response.text
    assert len(_mime_of_every_stored_message(client, sb)) == 1


_MIME_HEADERS = st.sampled_from(
    [
        b"From: a@b.com\r\n",
        b"Subject: =?utf-8?q?hi?=\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n",
        b"Content-Type: text/plain; charset=bogus\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Subject: \xff\xfe\r\n",
        b"To: <<<@>>>\r\n",
        b'From: "unterminated\r\n',
        b'Content-Disposition: attachment; filename="\xe9"\r\n',
        b"Content-Type: multipart/alternative\r\n",
        b" folded\r\n",
        b"Content-Type: message/rfc822\r\n",
    ]
)
_MIME_BODY = st.sampled_from([b"\r\n", b"--x\r\n", b"--x--\r\n", b"body \xe9\r\n", b"=\r\n", b"text\r\n"])


@SETTINGS
@given(headers=st.lists(_MIME_HEADERS, max_size=5), body=st.lists(_MIME_BODY | st.binary(max_size=8), max_size=6))
def test_a_mime_send_is_refused_whole_or_readable(client, sb, headers, body):
    client.post("/_sandbox/reset")
    mime = b"".join(headers) + b"\r\n" + b"".join(body)
    response = client.post(
        f"/v3/{DOMAIN}/messages.mime",
        data={"to": "bob@example.com", "o:tag": "t"},
        files={"message": ("message.mime", mime, "message/rfc2822")},
    )
    if response.status_code == 400:
        assert _nothing_stored(sb)
        return
    assert response.status_code == 200, response.text
    assert len(_mime_of_every_stored_message(client, sb)) == 1
