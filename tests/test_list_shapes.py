"""Every list answer fits the result budget, or says where to continue: on a sandbox holding an
account's worth of realistic records (long subjects and bounce errors, template content, member vars)."""

from __future__ import annotations

import pytest

from mg_tools import InvalidArguments, Toolkit
from mg_tools.cursors import resume_at
from mg_tools.errors import Gone
from mg_tools.results import items_at, json_text

D = "mg.example.com"
L = f"members@{D}"
ERROR = "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking " * 3
CONTENT = "<html><body>" + "<p>{{name}}, here is what is new this week in your account.</p>" * 60 + "</body></html>"
#: The values of required arguments, by field name.
REQUIRED = {
    "domain": D,
    "list_address": L,
    "template_name": "digest-0",
    "tag": "digest",
    "metrics": ["delivered_count"],
    "events": ["delivered"],
    "timestamp": 1_700_000_000,
    "ip": "198.51.100.1",
}
#: Where one operation needs other values than the rest.
OVERRIDES = {"get_usage_metrics": {"metrics": ["processed_count"]}}


def _seed(tk: Toolkit) -> None:
    for i in range(70):
        tk.call(
            "send_message",
            domain=D,
            sender=f"Weekly Digest <news@{D}>",
            to=[f"reader{i}@example.com"],
            subject=f"Your weekly digest #{i}: the spring offers, new features and updates from the team",
            text="Hello! " * 300,
            tags=["digest", "spring"],
            variables={"reader_id": str(i), "plan": "pro"},
        )
    records = [{"address": f"gone{i}@example.org", "code": "550", "error": ERROR} for i in range(300)]
    tk.call("create_ip_pool", name="transactional", description="Receipts and resets")
    tk.call("add_bounces", domain=D, records=records)
    tk.call("add_unsubscribes", domain=D, records=[{"address": f"out{i}@example.org"} for i in range(300)])
    tk.call("add_complaints", domain=D, records=[{"address": f"spam{i}@example.org"} for i in range(300)])
    for i in range(12):
        tk.call(
            "create_template",
            domain=D,
            template_name=f"digest-{i}",
            description="Weekly digest " * 20,
            template=CONTENT,
        )
    for version in range(12):
        tk.call(
            "create_template_version",
            domain=D,
            template_name="digest-0",
            template_version=f"v{version}",
            template=CONTENT,
            comment="Seasonal refresh " * 10,
        )
    tk.call("create_mailing_list", address=L, name="Members", description="Everyone who signed up " * 10)
    members = [
        {"address": f"member{i}@example.com", "name": f"Member Number {i}", "vars": {"bio": "Likes mail. " * 30}}
        for i in range(300)
    ]
    tk.call("add_list_members", list_address=L, members=members)
    for i in range(40):
        tk.call("create_mailing_list", address=f"list{i}@{D}", description="A mailing list of readers " * 10)
        tk.call(
            "create_route",
            expression=f'match_recipient("team{i}@{D}")',
            actions=[f"forward('http://x.example/{i}')"],
            description="Route the team's mail to the helpdesk " * 5,
            priority=i,
        )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tk = Toolkit(sandbox=True, file_roots=[tmp_path_factory.mktemp("files")])
    _seed(tk)
    yield tk
    tk.close()


def _lists(tk: Toolkit) -> list[str]:
    ops = Toolkit(sandbox=True).operations()
    return sorted(op.name for op in ops if op.handler is None and (op.paging or op.name.startswith(("list_", "page_"))))


#: Endpoints that answer 410 Gone.
REMOVED = {"list_bounce_logs"}
LISTS = _lists(Toolkit(sandbox=True))


@pytest.mark.parametrize("name", LISTS)
def test_a_default_list_answer_fits_or_says_where_to_continue(seeded, name):
    op = seeded.registry.get(name)
    required = {
        **REQUIRED,
        "pool_id": seeded.call("list_ip_pools")["ip_pools"][0]["pool_id"],
        **OVERRIDES.get(name, {}),
    }
    args = {k: required[k] for k, f in op.params.model_fields.items() if f.is_required()}
    if name in REMOVED:  # nothing to fit: Mailgun answers that the endpoint is gone
        with pytest.raises(Gone):
            seeded.run(seeded.execute(name, args))
        return
    result = seeded.run(seeded.execute(name, args))
    assert len(json_text(result.data)) <= seeded.executor.results.budget
    if result.truncated:
        assert op.paging and result.next_cursor, f"{name} was trimmed with no cursor to continue"
        assert result.truncated["items_returned"] > 0


def _walk(tk: Toolkit, name: str, args: dict, key: str) -> list:
    """Every item of a list, page after page, through next_cursor."""
    seen, cursor = [], None
    for _ in range(100):
        result = tk.run(tk.execute(name, {**args, **({"cursor": cursor} if cursor else {})}))
        seen += [item[key] for item in items_at(result.data, tk.registry.get(name).items_key)]
        cursor = result.next_cursor
        if cursor is None:
            return seen
    raise AssertionError(f"{name}: no end after 100 pages")


READERS = {f"reader{i}@example.com" for i in range(70)}


@pytest.mark.parametrize(
    ("name", "args", "key", "expected"),
    [
        ("list_bounces", {"domain": D}, "address", {f"gone{i}@example.org" for i in range(300)}),
        (
            "list_list_members",
            {"list_address": L, "full": True},
            "address",
            {f"member{i}@example.com" for i in range(300)},
        ),
        (
            "page_list_members",
            {"list_address": L, "full": True},
            "address",
            {f"member{i}@example.com" for i in range(300)},
        ),
        ("list_events", {"domain": D, "event": "delivered", "full": True}, "recipient", READERS),
        ("list_logs", {"events": ["delivered"], "full": True}, "recipient", READERS),
    ],
)
def test_walking_trimmed_pages_shows_every_item_once_in_order(seeded, name, args, key, expected):
    results = seeded.executor.results
    results.budget = 10**7  # whole pages: the order of the endpoint's own pages
    whole_pages = _walk(seeded, name, args, key)
    results.budget = 6_000  # whole records: every page is trimmed, several times
    try:
        walked = _walk(seeded, name, args, key)
    finally:
        results.budget = 20_000
    assert walked == whole_pages and set(walked) == expected and len(walked) == len(expected)


def test_a_trimmed_page_resumes_after_its_last_item(seeded):
    seeded.executor.results.budget = 6_000
    try:
        first = seeded.run(seeded.execute("list_list_members", {"list_address": L, "full": True}))
        shown = first.truncated["items_returned"]
        rest = seeded.run(
            seeded.execute("list_list_members", {"list_address": L, "full": True, "cursor": first.next_cursor})
        )
    finally:
        seeded.executor.results.budget = 20_000
    assert 0 < shown < 100 and first.next_cursor.startswith("~")
    assert rest.data["items"][0]["address"] == f"member{shown}@example.com"
    assert "next_cursor" in first.truncated["hint"]


def test_compact_items_keep_the_declared_fields_and_full_gives_the_record(seeded):
    compact = seeded.call("list_events", domain=D, event="delivered", limit=1)["items"][0]
    whole = seeded.call("list_events", domain=D, event="delivered", limit=1, full=True)["items"][0]
    assert set(compact) == {"id", "timestamp", "event", "recipient", "message", "tags", "delivery-status", "storage"}
    assert compact["message"] == {"headers": {k: whole["message"]["headers"][k] for k in ("message-id", "subject")}}
    assert compact["delivery-status"] == {"code": 250, "message": "OK"}
    assert {"envelope", "flags", "storage"} <= set(whole)


def test_full_is_checked_and_never_sent(dry):
    listed = dry.dry_run("list_list_members", list_address=L, full=True)
    assert "full" not in str(listed["query"])
    with pytest.raises(InvalidArguments, match="full: must be true or false"):
        dry.dry_run("list_list_members", list_address=L, full="yes")
    with pytest.raises(InvalidArguments, match="full: unknown field"):
        dry.dry_run("list_webhooks", domain=D, full=True)


@pytest.mark.parametrize(
    "cursor",
    [
        "~" + "x" * 10,
        resume_at(None, 0),
        resume_at("~nested", 3),
        resume_at("https://evil.example/v3/lists/members@mg.example.com/members/pages", 2),
        resume_at("/v3/domains?limit=1", 2),
    ],
)
def test_a_forged_cursor_is_refused_before_sending(dry, cursor):
    with pytest.raises(InvalidArguments, match="cursor"):
        dry.dry_run("page_list_members", list_address=L, cursor=cursor)


def test_a_resuming_cursor_asks_for_the_same_page(dry):
    page = "/v3/lists/members%40mg.example.com/members/pages?page=next&address=member41%40example.com&limit=100"
    again = dry.dry_run("page_list_members", list_address=L, cursor=resume_at(page, 42))
    assert again["url"].endswith("/v3/lists/members%40mg.example.com/members/pages") and again["skip_items"] == 42
    assert ["address", "member41@example.com"] in again["query"]
