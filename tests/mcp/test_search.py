"""Operation search: plain-language requests find the right operation, offline and deterministically.

Most cases run against a synthetic registry written to imitate the Mailgun areas (with names,
descriptions and phrasings that differ from the real plugins on purpose, so the search is not tuned
to one wording); a few run against the real registry.
"""

from __future__ import annotations

import random

import pytest
from pydantic import create_model

from mg_tools import Access, Operation, Registry, Toolkit
from mg_tools.search import OperationIndex, query_terms, stem
from mg_tools.types import Params

R, W, D, S = Access.READ, Access.WRITE, Access.DELETE, Access.SEND

#: (area, name, access, path, description, fields)
SYNTHETIC = (
    (
        "messages",
        "send_email",
        S,
        "/v3/{domain}/messages",
        "Send an email message with text or html to recipients, with attachments and tags.",
        "domain sender to cc bcc subject text html attachment tag",
    ),
    (
        "messages",
        "send_mime",
        S,
        "/v3/{domain}/messages.mime",
        "Send a message given in MIME format.",
        "domain to message",
    ),
    (
        "messages",
        "retrieve_stored_message",
        R,
        "/v3/domains/{domain}/messages/{key}",
        "Retrieve a stored email by its storage key.",
        "domain key",
    ),
    ("domains", "list_domains", R, "/v4/domains", "List the sending domains of the account.", "limit skip state"),
    ("domains", "create_domain", W, "/v4/domains", "Create a new sending domain.", "name smtp_password"),
    ("domains", "verify_domain", W, "/v4/domains/{name}/verify", "Verify the DNS records of a domain.", "name"),
    ("suppressions", "list_bounces", R, "/v3/{domain}/bounces", "List bounced addresses of a domain.", "domain limit"),
    (
        "suppressions",
        "get_bounce",
        R,
        "/v3/{domain}/bounces/{address}",
        "Look up one bounced address.",
        "domain address",
    ),
    (
        "suppressions",
        "create_bounce",
        W,
        "/v3/{domain}/bounces",
        "Add a bounce record for an address.",
        "domain address code error",
    ),
    (
        "suppressions",
        "delete_bounce",
        D,
        "/v3/{domain}/bounces/{address}",
        "Remove an address from bounces.",
        "domain address",
    ),
    (
        "suppressions",
        "list_unsubscribes",
        R,
        "/v3/{domain}/unsubscribes",
        "List unsubscribed addresses.",
        "domain limit",
    ),
    (
        "suppressions",
        "create_unsubscribe",
        W,
        "/v3/{domain}/unsubscribes",
        "Add an address to the unsubscribe table of a domain.",
        "domain address tag",
    ),
    (
        "suppressions",
        "delete_unsubscribe",
        D,
        "/v3/{domain}/unsubscribes/{address}",
        "Remove an address from the unsubscribe table.",
        "domain address",
    ),
    (
        "suppressions",
        "list_complaints",
        R,
        "/v3/{domain}/complaints",
        "List addresses that complained.",
        "domain limit",
    ),
    ("suppressions", "create_complaint", W, "/v3/{domain}/complaints", "Add a complaint record.", "domain address"),
    (
        "suppressions",
        "add_whitelist_entry",
        W,
        "/v3/{domain}/whitelists",
        "Add an address or domain to the whitelist.",
        "domain address",
    ),
    ("lists", "get_lists", R, "/v3/lists", "Get mailing lists.", "limit"),
    ("lists", "create_list", W, "/v3/lists", "Create a mailing list.", "address name description"),
    (
        "lists",
        "create_list_member",
        W,
        "/v3/lists/{list}/members",
        "Add a member to a mailing list.",
        "list address name vars",
    ),
    (
        "lists",
        "bulk_add_list_members",
        W,
        "/v3/lists/{list}/members.json",
        "Add multiple members, up to 1000 per call, to a mailing list.",
        "list members upsert",
    ),
    (
        "lists",
        "delete_list_member",
        D,
        "/v3/lists/{list}/members/{member}",
        "Delete a mailing list member.",
        "list member",
    ),
    (
        "events",
        "get_events",
        R,
        "/v3/{domain}/events",
        "Query events: accepted, delivered, failed, opened, clicked, unsubscribed, complained.",
        "domain begin end event recipient",
    ),
    (
        "logs",
        "query_logs",
        R,
        "/v1/analytics/logs",
        "Query logs of message activity over a time range.",
        "start end filter",
    ),
    (
        "metrics",
        "query_metrics",
        R,
        "/v1/analytics/metrics",
        "Query account metrics such as delivered and opened counts and rates.",
        "start end metrics dimensions",
    ),
    ("stats", "get_tag_stats", R, "/v3/{domain}/tags/{tag}/stats", "Get statistics of a tag.", "domain tag event"),
    ("tags", "list_tags", R, "/v3/{domain}/tags", "List the tags of a domain.", "domain limit"),
    (
        "webhooks",
        "create_webhook",
        W,
        "/v3/domains/{domain}/webhooks",
        "Create a webhook that posts events of a type to a URL.",
        "domain id url",
    ),
    ("webhooks", "list_webhooks", R, "/v3/domains/{domain}/webhooks", "List the webhooks of a domain.", "domain"),
    (
        "routes",
        "create_route",
        W,
        "/v3/routes",
        "Create a route: a filter expression on incoming messages and actions such as forward or store.",
        "priority description expression action",
    ),
    ("routes", "list_routes", R, "/v3/routes", "List routes.", "limit skip"),
    (
        "templates",
        "create_template",
        W,
        "/v3/{domain}/templates",
        "Store a new template.",
        "domain name description template",
    ),
    ("templates", "list_templates", R, "/v3/{domain}/templates", "List stored templates.", "domain limit"),
    ("keys", "create_key", W, "/v1/keys", "Create an API key.", "role kind description"),
    ("keys", "list_keys", R, "/v1/keys", "List API keys.", "kind"),
    (
        "credentials",
        "update_credential",
        W,
        "/v3/domains/{domain}/credentials/{login}",
        "Update the password of an SMTP credential.",
        "domain login password",
    ),
    ("ips", "list_ips", R, "/v3/ips", "List the dedicated IPs of the account.", "dedicated"),
    ("subaccounts", "create_subaccount", W, "/v5/accounts/subaccounts", "Create a subaccount.", "name"),
)


#: How people ask for some synthetic operations, worded unlike the requests below.
SYNTHETIC_ASKS = {
    "create_unsubscribe": ("stop mailing someone", "opt a person out"),
    "bulk_add_list_members": ("put many people on a list at once",),
    "get_events": ("what happened to a message", "why a delivery failed or bounced"),
    "create_webhook": ("notify my server about events",),
    "add_whitelist_entry": ("never block an address or domain",),
    "get_bounce": ("why did an address bounce",),
    "list_complaints": ("people who flagged our mail as spam",),
}


def _operation(area: str, name: str, access: Access, path: str, description: str, fields: str) -> Operation:
    model = create_model(
        name.title().replace("_", ""), __base__=Params, **dict.fromkeys(fields.split(), (str | None, None))
    )
    model.__doc__ = description
    method = {R: "GET", W: "POST", D: "DELETE", S: "POST"}[access]
    return Operation(name, method, path, model, access, area=area, asks=SYNTHETIC_ASKS.get(name, ()))


@pytest.fixture(scope="module")
def index() -> OperationIndex:
    return OperationIndex(_operation(*row) for row in SYNTHETIC)


def top(index: OperationIndex, query: str, n: int = 5) -> list[str]:
    return [hit.operation.name for hit in index.search(query, limit=n)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stop emailing bob@example.com", "create_unsubscribe"),
        ("add 300 people to the beta list", "bulk_add_list_members"),
        ("unsubscribe carol@example.org", "create_unsubscribe"),
        ("resubscribe carol@example.org", "delete_unsubscribe"),
        ("send an email to bob", "send_email"),
        ("email the invoice pdf to a customer", "send_email"),
        ("what happened to my email to alice@example.com", "get_events"),
        ("how many emails were opened last week", "query_metrics"),
        ("who marked us as spam", "list_complaints"),
        ("notify my server when a message is delivered", "create_webhook"),
        ("forward incoming mail to my app", "create_route"),
        ("create a new API key", "create_key"),
        ("change the SMTP password", "update_credential"),
        ("check the DNS records of mg.example.com", "verify_domain"),
        ("add a new sending domain", "create_domain"),
        ("never block partner.com", "add_whitelist_entry"),
        ("which IPs do we have", "list_ips"),
        ("start a new mailing list", "create_list"),
        ("show the bounce list", "list_bounces"),
        ("get the raw MIME of a stored message", "retrieve_stored_message"),
    ],
)
def test_plain_requests_find_the_operation(index, query, expected):
    assert expected in top(index, query), (query, top(index, query))


def test_why_did_my_newsletter_bounce(index):
    found = top(index, "why did my newsletter bounce")
    assert {"get_events", "query_logs"} & set(found), found
    assert {"list_bounces", "get_bounce"} & set(found), found


def test_exact_names_come_first(index):
    assert top(index, "list_routes")[0] == "list_routes"
    assert top(index, "I want to call get_tag_stats please")[0] == "get_tag_stats"


def test_deterministic_and_order_independent(index):
    shuffled = [_operation(*row) for row in SYNTHETIC]
    random.Random(7).shuffle(shuffled)
    other = OperationIndex(shuffled)
    for query in ("stop emailing bob@example.com", "list", "domain", "why did my newsletter bounce"):
        ranked = [(h.operation.name, h.score) for h in index.search(query, 10)]
        assert ranked == [(h.operation.name, h.score) for h in index.search(query, 10)]
        assert ranked == [(h.operation.name, h.score) for h in other.search(query, 10)]


def test_limit_and_no_match(index):
    assert len(index.search("list", limit=3)) == 3
    assert index.search("zzzz qqqq") == []
    assert index.search("") == []
    assert OperationIndex([]).search("send an email") == []


def test_deprecated_operations_rank_below_their_replacement():
    current = _operation("messages", "send_email", S, "/v3/{domain}/messages", "Send an email.", "to")
    old = Operation(
        "send_email_v2", "POST", "/v2/{domain}/messages", current.params, S, area="messages", deprecated=True
    )
    assert top(OperationIndex([old, current]), "send an email") == ["send_email", "send_email_v2"]


def test_a_tool_named_in_a_description_does_not_make_it_match():
    metrics = _operation("metrics", "query_metrics", R, "/v1/metrics", "Count delivered mail over time.", "metrics")
    pointers = [
        _operation("stats", f"old_totals_{i}", R, f"/v3/old/{i}", "Deprecated: use query_metrics. Old totals.", "x")
        for i in range(6)
    ]
    index = OperationIndex([metrics, *pointers])
    assert top(index, "metrics of delivered mail")[0] == "query_metrics"
    assert [h.operation.name for h in index.search("query metrics")] == ["query_metrics"]


def test_query_terms_read_verbs_addresses_and_hosts():
    terms = query_terms("Drop bob@example.com from the list")
    assert {"drop", "delet", "remov", "addr", "list"} <= terms.keys()  # "drop" is a delete
    assert terms["drop"] == 1.0 and terms["delet"] < 1  # the word said first, the verbs it stands for less
    assert "domain" in query_terms("verify mg.example.com")
    assert "url" in query_terms("post to https://hooks.example.com/x")
    assert "300" not in query_terms("add 300 people")  # a number says nothing about the operation
    assert "clear" in query_terms("delete every template")  # "every" makes the verb plural


def test_asks_find_operations_their_words_do_not_describe(index):
    assert top(index, "opt a person out", 1) == ["create_unsubscribe"]
    bare = [op.stamped(asks=()) for op in index.operations]
    assert "create_unsubscribe" not in top(OperationIndex(bare), "opt a person out", 1)


def test_a_typo_reads_as_the_closest_indexed_word(index):
    assert top(index, "list teh domians", 1) == ["list_domains"]


@pytest.mark.parametrize("query", ["bake a cake", "asdf qwerty", "zzzz qqqq"])
def test_nonsense_is_weak_or_nothing(index, query):
    assert all(hit.weak for hit in index.search(query))


def test_a_real_request_is_not_weak(index):
    hits = index.search("unsubscribe carol@example.org")
    assert hits and not any(hit.weak for hit in hits)


def test_stemming_is_consistent():
    assert len({stem(w) for w in ("bounce", "bounces", "bounced", "bouncing")}) == 1
    assert stem("addresses") == stem("address")
    assert stem("deliveries") == stem("delivery") == stem("delivered")


# -- the real registry --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> OperationIndex:
    return OperationIndex(Toolkit().operations())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("send an email to bob@example.com", "send_message"),
        ("send a raw MIME message", "send_mime_message"),
        ("add a new sending domain", "create_domain"),
        ("check the DNS records of mg.example.com", "verify_domain"),
        ("cancel scheduled emails", "delete_scheduled_messages"),
        ("is the sending queue paused", "get_sending_queues"),
        ("stop emailing bob@example.com", "add_unsubscribe"),
        ("add 300 people to the beta list", "add_list_members"),
    ],
)
def test_real_registry(real, query, expected):
    assert expected in real.names, f"{expected} is not registered: the search cannot find it"
    assert expected in top(real, query), (query, top(real, query))


def test_real_registry_newsletter_bounce(real):
    found = set(top(real, "why did my newsletter bounce"))
    assert found & {"list_events", "list_logs", "trace_message", "get_bounce", "list_bounces"}, found


def test_index_of_a_registry_is_built_from_its_operations():
    ops = [_operation(*row) for row in SYNTHETIC[:3]]
    index = OperationIndex(Registry(ops))
    assert set(index.names) == {"send_email", "send_mime", "retrieve_stored_message"}
    assert index.areas == ("messages",)
