"""Mailgun's own field names are accepted as input wherever a tool has them (mg_tools.aliases)."""

import pytest

from mg_tools import InvalidArguments
from mg_tools.aliases import accept_wire_names, accepts
from mg_tools.schema import input_schema

#: For operations beyond the sends: the arguments in the tool's names, and the same in Mailgun's.
CASES = {
    "list_events": (
        {"domain": "mg.example.com", "sender": "a@x.com", "message_id": "m1"},
        {"domain": "mg.example.com", "from": "a@x.com", "message-id": "m1"},
    ),
    "get_domain_stats": (
        {"domain": "mg.example.com", "events": ["delivered"]},
        {"domain": "mg.example.com", "event": "delivered"},
    ),
    "create_route": (
        {"expression": "match_recipient('.*@x.com')", "actions": ["stop()"]},
        {"expression": "match_recipient('.*@x.com')", "action": "stop()"},
    ),
    "create_webhook": (
        {"domain": "mg.example.com", "event": "delivered", "urls": ["https://h.example.com/a"]},
        {"domain": "mg.example.com", "id": "delivered", "url": "https://h.example.com/a"},
    ),
    "create_template": (
        {"domain": "mg.example.com", "template_name": "welcome", "template": "<p>{{n}}</p>", "created_by": "ann"},
        {"domain": "mg.example.com", "name": "welcome", "template": "<p>{{n}}</p>", "createdBy": "ann"},
    ),
    "get_domain": ({"domain": "mg.example.com"}, {"name": "mg.example.com"}),
    "list_bounce_logs": (
        {"domain": "mg.example.com", "rule_id": "r1", "entity_id": "e1"},
        {"domain": "mg.example.com", "rule-id": "r1", "entity-id": "e1"},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_mailguns_names_make_the_same_request(dry, name):
    ours, mailguns = CASES[name]
    assert dry.dry_run(name, **mailguns) == dry.dry_run(name, **ours)


def test_schemas_show_only_the_tools_names(dry):
    props = input_schema(dry.registry.get("send_message").params)["properties"]
    assert "sender" in props and "tags" in props
    assert not any(":" in key or key in {"from", "amp-html", "recipient-variables"} for key in props)


def test_a_mailgun_name_that_is_another_field_keeps_meaning_that_field(dry):
    # update_list_member: Mailgun's "address" is new_address, but the tool's address is the member.
    out = dry.dry_run("update_list_member", list_address="l@x.com", address="m@x.com", new_address="n@x.com")
    params = dry.registry.get("update_list_member").params
    assert accept_wire_names(params, {"address": "m@x.com"})[0] == {"address": "m@x.com"}
    assert out["url"].endswith("/members/m%40x.com") and ["address", "n@x.com"] in out["form"]


def test_names_given_twice_are_refused_for_any_tool(dry):
    with pytest.raises(InvalidArguments) as info:
        dry.dry_run("get_domain", domain="a.example.com", name="b.example.com")
    assert info.value.errors == [("domain", "given twice, as domain and as name (Mailgun's name for it): give one")]


def test_a_whole_number_is_taken_for_text(dry):
    pairs = dry.dry_run(
        "send_message", domain="d.example.com", sender="a@d.example.com", to=["b@x.com"], subject=7, text="t"
    )["form"]
    assert ["subject", "7"] in pairs


def test_accepts_names_the_names_mailgun_uses():
    params = pytest.importorskip("mg_tools_plugins.messages").SendMessage
    assert all(accepts(params, k) for k in ("sender", "from", "o:tag", "h:X-A", "v:id", "t:variables"))
    assert not any(accepts(params, k) for k in ("h:", "o:nope", "From", "api_key"))
