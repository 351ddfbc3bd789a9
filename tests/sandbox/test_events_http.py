"""Sandbox Events API: filter expressions, time ranges and ordering, and URL paging."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from mg_tools.sandbox.areas.events import evaluate, parse_filter
from mg_tools.sandbox.core import ApiError

DOMAIN = "mg.example.com"
T0 = 1_790_000_000.0


def _send(client, sb, at: float, files=None, **fields):
    sb.clock = lambda: at
    form = {"from": "Ann <ann@mg.example.com>", "to": "bob@example.com", "subject": "Hello", "text": "Hi"}
    form.update(fields)
    response = client.post(f"/v3/{DOMAIN}/messages", data=form, files=files)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _items(client, **params):
    response = client.get(f"/v3/{DOMAIN}/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def mail(client, sb):
    """Three sends a minute apart; the second bounces for bad@example.com."""
    sb.state.put("bounce", f"{DOMAIN}/bad@example.com", {"address": "bad@example.com"})
    ids = [
        _send(client, sb, T0, subject="Hello Rachel", **{"o:tag": "newsletter"}),
        _send(
            client,
            sb,
            T0 + 60,
            to="bad@example.com",
            subject="Farewell Monica",
            **{"o:tag": "news"},
            files={"attachment": ("invoice.pdf", b"%PDF" * 3000, "application/pdf")},
        ),
        _send(client, sb, T0 + 120, to="Cy <cy@example.org>", subject="Hello Monica", **{"o:tag": "news"}),
    ]
    sb.clock = lambda: T0 + 600
    return ids


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("foo", ["Foo"], True),
        ("foo bar", ["foo and bar"], True),
        ("foo AND bar", ["foo only"], False),
        ("foo OR bar", ["bar"], True),
        ("NOT foo", ["foo"], False),
        ('"hello world"', ["Say Hello World!"], True),
        ('"hello world"', ["hello big world"], False),
        ("(Hello AND NOT Rachel) OR (Farewell AND Monica)", ["Hello Rachel"], False),
        ("(Hello AND NOT Rachel) OR (Farewell AND Monica)", ["Farewell Monica"], True),
        ("news", ["newsletter"], False),
        ("bob@example.com", ["Bob <BOB@example.com>"], True),
    ],
)
def test_filter_expressions(expression, values, expected):
    assert evaluate(parse_filter(expression), values) is expected


@pytest.mark.parametrize(
    ("expression", "size", "expected"),
    [
        (">10000", 12000, True),
        (">10000 <20000", 25000, False),
        ("<500", 100, True),
        ("1234", 1234, True),
    ],
)
def test_numeric_ranges(expression, size, expected):
    assert evaluate(parse_filter(expression), [], size) is expected


@pytest.mark.parametrize("expression", ["(a", "a)", "AND", "a OR", "NOT"])
def test_malformed_expressions_are_rejected(expression):
    with pytest.raises(ApiError) as info:
        parse_filter(expression)
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event": "failed"}, {("failed", "bad@example.com")}),
        (
            {"event": "delivered OR failed", "subject": "Monica"},
            {("failed", "bad@example.com"), ("delivered", "cy@example.org")},
        ),
        (
            {"subject": "(Hello AND NOT Rachel) OR (Farewell AND Monica)", "event": "accepted"},
            {("accepted", "bad@example.com"), ("accepted", "cy@example.org")},
        ),
        ({"subject": '"hello monica"', "event": "delivered"}, {("delivered", "cy@example.org")}),
        ({"tags": "news", "event": "accepted"}, {("accepted", "bad@example.com"), ("accepted", "cy@example.org")}),
        ({"tags": "NOT news", "event": "accepted"}, {("accepted", "bob@example.com")}),
        ({"recipient": "cy@example.org"}, {("accepted", "cy@example.org"), ("delivered", "cy@example.org")}),
        ({"to": "cy@example.org", "event": "accepted"}, {("accepted", "cy@example.org")}),
        ({"from": "ann@mg.example.com", "event": "failed"}, {("failed", "bad@example.com")}),
        ({"attachment": "invoice.pdf", "event": "accepted"}, {("accepted", "bad@example.com")}),
        ({"size": ">10000", "event": "accepted"}, {("accepted", "bad@example.com")}),
        ({"severity": "permanent"}, {("failed", "bad@example.com")}),
        ({"recipients": "bob@example.com"}, {("accepted", "bob@example.com")}),
        ({"list": "team@mg.example.com"}, set()),
    ],
)
def test_filters(client, mail, params, expected):
    assert {(e["event"], e["recipient"]) for e in _items(client, **params)} == expected


def test_message_id_filter_with_or_without_brackets(client, mail):
    for value in (mail[2], mail[2].strip("<>")):
        items = _items(client, **{"message-id": value})
        assert {e["recipient"] for e in items} == {"cy@example.org"} and len(items) == 2


def test_repeated_filter_field_is_anded(client, mail):
    response = client.get(f"/v3/{DOMAIN}/events", params=[("subject", "Hello"), ("subject", "Monica")])
    assert {e["recipient"] for e in response.json()["items"]} == {"cy@example.org"}


def test_order_and_time_range(client, mail):
    newest_first = _items(client)
    assert [e["timestamp"] for e in newest_first] == sorted((e["timestamp"] for e in newest_first), reverse=True)
    assert newest_first[0]["event"] == "delivered" and newest_first[-1]["event"] == "accepted"
    oldest_first = _items(client, ascending="yes")
    assert [e["id"] for e in oldest_first] == [e["id"] for e in reversed(newest_first)]
    window = _items(client, begin=str(T0 + 30), end="Mon, 21 Sep 2026 14:14:50 +0000")  # T0 + 90
    assert {e["recipient"] for e in window} == {"bad@example.com"}
    assert window[0]["event"] == "accepted"  # end after begin: ascending
    backwards = _items(client, begin=str(T0 + 90), end=str(T0 + 30))
    assert [e["id"] for e in backwards] == [e["id"] for e in reversed(window)]
    before = _items(client, begin=str(T0 + 30))  # descending from begin by default
    assert {e["recipient"] for e in before} == {"bob@example.com"}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"begin": str(T0), "end": str(T0 + 10), "ascending": "no"}, "contradicts"),
        ({"limit": "301"}, "limit"),
        ({"begin": "yesterday-ish"}, "begin"),
        ({"subject": "(unclosed"}, "filter"),
    ],
)
def test_bad_queries(client, mail, params, fragment):
    response = client.get(f"/v3/{DOMAIN}/events", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_tampered_page_token_is_400(client, mail):
    for token in ("not-base64!", "eyJxIjpbXSwicCI6WyJ4IiwieSJdfQ"):  # the second: {"q":[],"p":["x","y"]}
        response = client.get(f"/v3/{DOMAIN}/events/{token}")
        assert response.status_code == 400 and response.json() == {"message": "Invalid page token"}


def test_unknown_domain(client):
    response = client.get("/v3/nope.example.com/events")
    assert response.status_code == 404 and response.json() == {"message": "Domain not found"}


def test_paging_walks_every_event_once_and_ends_with_an_empty_page(client, sb, mail):
    response = client.get(f"/v3/{DOMAIN}/events", params={"limit": 2, "ascending": "yes", "event": "NOT failed"})
    page = response.json()
    seen = [e["id"] for e in page["items"]]
    pages = 1
    while page["items"]:
        next_url = page["paging"]["next"]
        assert urlsplit(next_url).path.startswith(f"/v3/{DOMAIN}/events/")
        assert page["paging"]["previous"].startswith("https://api.mailgun.net/")
        page = client.get(next_url).json()
        seen += [e["id"] for e in page["items"]]
        pages += 1
    assert len(seen) == len(set(seen)) == 5 and pages == 4
    # Polling: the last next URL returns events that arrive later, and only those.
    _send(client, sb, T0 + 900, to="late@example.com")
    late = client.get(next_url).json()
    assert [(e["event"], e["recipient"]) for e in late["items"]] == [
        ("accepted", "late@example.com"),
        ("delivered", "late@example.com"),
    ]


def test_previous_page(client, mail):
    first = client.get(f"/v3/{DOMAIN}/events", params={"limit": 3}).json()
    second = client.get(first["paging"]["next"]).json()
    back = client.get(second["paging"]["previous"]).json()
    assert [e["id"] for e in back["items"]] == [e["id"] for e in first["items"]]
    assert client.get(first["paging"]["previous"]).json()["items"] == []


def test_event_shape(client, mail):
    accepted = _items(client, event="accepted", recipient="bad@example.com")[0]
    assert accepted["method"] == "http"
    assert accepted["envelope"] == {"sender": "ann@mg.example.com", "transport": "smtp", "targets": "bad@example.com"}
    assert accepted["message"]["headers"] == {
        "to": "bad@example.com",
        "message-id": mail[1].strip("<>"),
        "from": "Ann <ann@mg.example.com>",
        "subject": "Farewell Monica",
    }
    assert accepted["message"]["attachments"] == [
        {"filename": "invoice.pdf", "content-type": "application/pdf", "size": 12000}
    ]
    assert accepted["log-level"] == "info" and accepted["flags"]["is-test-mode"] is False
    assert accepted["timestamp"] == T0 + 60
    stored = client.get(accepted["storage"]["url"])
    assert stored.status_code == 200 and stored.json()["Subject"] == "Farewell Monica"
    assert not any(k.startswith("_") for k in accepted)
