"""Mailgun's errors restated in the terms of the tool that failed (mg_tools.explain)."""

import httpx
import pytest

from mg_tools import Policy, Toolkit
from mg_tools.errors import BadRequest, NotFound


@pytest.fixture
def answering():
    """A toolkit whose every request Mailgun answers with the given status and message."""
    made = []

    def make(status: int, message: str) -> Toolkit:
        reply = httpx.Response(status, json={"message": message})
        toolkit = Toolkit(
            api_key="fake-key-0000",
            policy=Policy(grants=("*:*",)),
            transport=httpx.MockTransport(lambda request: reply),
        )
        made.append(toolkit)
        return toolkit

    yield make
    for toolkit in made:
        toolkit.close()


SEND = {"domain": "mg.example.com", "sender": "a@mg.example.com", "to": ["b@x.com"], "subject": "s", "text": "t"}


def test_mailguns_field_names_become_the_tools(answering):
    mg = answering(400, "'from' parameter is not a valid address. Please check documentation")
    with pytest.raises(BadRequest) as info:
        mg.call("send_message", **SEND)
    assert info.value.message == (
        "Mailgun 400 (POST /v3/mg.example.com/messages): 'sender' parameter is not a valid address. Please check "
        "documentation. Hint: Fix the arguments named in the message and try again."
    )
    assert info.value.mailgun_message.startswith("'from' parameter") and info.value.operation == "send_message"


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("from parameter is missing", "sender parameter is missing"),
        ("Invalid value for o:deliverytime", "Invalid value for delivery_time"),
        ('"o:tag" has too many values', '"tags" has too many values'),
        ("h:X-Campaign is too long", "headers.X-Campaign is too long"),
        ("message sent from nowhere", "message sent from nowhere"),
        ("to parameter is missing", "to parameter is missing"),
    ],
)
def test_only_field_names_are_translated(answering, said, meant):
    with pytest.raises(BadRequest) as info:
        answering(400, said).call("send_message", **SEND)
    assert info.value.message.split(": ", 1)[1].startswith(meant + ".")


def test_the_names_are_those_of_the_operation_that_failed(answering):
    # For a domain tool, Mailgun's "name" is the domain; for send_message it is nothing.
    with pytest.raises(BadRequest, match=r"'domain' is invalid"):
        answering(400, "'name' is invalid").call("create_domain", domain="mg.example.com")
    with pytest.raises(BadRequest, match=r"'name' is invalid"):
        answering(400, "'name' is invalid").call("send_message", **SEND)


D, BOB = "mg.example.com", "bob@example.com"
TX = f"template named 'x' in {D}"
NOT_FOUND = [
    ("get_bounce", {"address": BOB}, "Address not found in bounces table", f"{BOB} is not on the bounce list of {D}."),
    ("delete_unsubscribe", {"address": BOB}, "not found", f"{BOB} is not on the unsubscribe list of {D}."),
    ("get_allowlist_entry", {"value": "x.com"}, "Address/Domain not found", f"'x.com' is not on the allowlist of {D}."),
    ("get_template", {"template_name": "x"}, "template not found", f"No template named 'x' in {D}."),
    ("get_template_version", {"template_name": "x", "template_version": "2"}, "not found", f"No version '2' of {TX}."),
    ("get_list_member", {"list_address": "l@x.com", "address": BOB}, "no", f"No member {BOB} of mailing list l@x.com."),
    ("get_route", {"id": "5f1d"}, "Route not found", "No route '5f1d'."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "mailgun", "plain"), NOT_FOUND)
def test_a_404_says_what_was_not_found_without_the_region_hint(answering, name, args, mailgun, plain):
    with pytest.raises(NotFound) as info:
        mg = answering(404, mailgun)
        mg.call(name, **({"domain": D} if "{domain}" in mg.registry.get(name).path else {}), **args)
    message = info.value.message
    assert message.endswith(f": {mailgun}. {plain}")
    assert "region" not in message and "Hint" not in message


@pytest.mark.parametrize("mailgun", ["Domain not found", "domain mg.example.com not found", "Domain not found: x"])
def test_an_unknown_domain_keeps_the_region_hint(answering, mailgun):
    with pytest.raises(NotFound) as info:
        answering(404, mailgun).call("get_bounce", domain="mg.example.com", address="bob@example.com")
    assert "Hint: mg.example.com is not a domain of this account here" in info.value.message
    assert "MAILGUN_API_REGION=eu" in info.value.message and "bounce list" not in info.value.message


def test_a_dkim_key_not_found_is_not_an_unknown_domain(answering):
    with pytest.raises(NotFound) as info:
        answering(404, "domain key not found").call("activate_dkim_key", domain="mg.example.com", selector="s1")
    assert info.value.message.endswith("domain key not found. No key 's1' in mg.example.com.")
