"""The question a person is asked before a call that needs confirmation."""

import pytest

from mg_tools import Toolkit
from mg_tools.approval import question


@pytest.fixture(scope="module")
def mg():
    return Toolkit(sandbox=True)


def ask(mg, name, **arguments) -> str:
    op = mg.registry.get(name)
    return question(op, mg.executor.validate(op, arguments))


def test_a_send_says_what_to_whom_and_from_whom(mg):
    many = [f"u{i}@example.com" for i in range(100)]
    assert (
        ask(
            mg,
            "send_message",
            domain="mg.example.com",
            sender="news@mg.example.com",
            to=many,
            cc=[f"c{i}@example.com" for i in range(20)],
            subject="Spring sale",
            text="x",
        )
        == "Send 'Spring sale' to 120 recipients from news@mg.example.com?"
    )
    assert (
        ask(
            mg,
            "send_message",
            domain="mg.example.com",
            sender="a@mg.example.com",
            to=["bob@example.com"],
            template_name="welcome",
        )
        == "Send template 'welcome' to bob@example.com from a@mg.example.com?"
    )


def test_other_calls_name_what_they_act_on(mg):
    assert ask(mg, "delete_domain", domain="mg.example.com") == "Delete domain mg.example.com?"
    assert (
        ask(mg, "delete_bounce", domain="mg.example.com", address="bob@example.com")
        == "Delete bounce bob@example.com on mg.example.com?"
    )
    assert ask(mg, "create_domain", domain="new.example.com") == "Create domain new.example.com?"


def test_long_or_multiline_values_are_shortened_to_one_line(mg):
    text = ask(
        mg,
        "send_message",
        domain="mg.example.com",
        sender="a@mg.example.com",
        to=["b@example.com"],
        subject="x" * 200,
        text="y",
    )
    assert "\n" not in text and len(text) < 160 and "…" in text
