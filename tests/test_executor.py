import asyncio
import json

import httpx
import pytest

from mg_tools import (
    Access,
    ConfigurationError,
    ConfirmationRequired,
    InvalidArguments,
    Operation,
    Paging,
    Policy,
    PolicyDenied,
    Registry,
    Toolkit,
)
from mg_tools.errors import NotFound
from mg_tools.executor import Executor
from mg_tools.request import PreparedRequest
from mg_tools.types import Cursor, Domain, Params


class ListThings(Params):
    """List things."""

    domain: Domain
    limit: int = 100
    cursor: Cursor = None


class MakeThing(Params):
    """Make a thing."""

    domain: Domain
    password: str | None = None


class Summary(Params):
    """Summarise things."""

    domain: Domain


async def summarise(args, call):
    things = await call("list_things", {"domain": args.domain})
    try:
        await call("make_thing", {"domain": "missing.com"})
    except NotFound:
        missing = True
    return {"count": len(things["items"]), "missing_seen": missing}


OPS = [
    Operation("list_things", "GET", "/v3/{domain}/things", ListThings, Access.READ, paging=Paging.SKIP, area="things"),
    Operation(
        "make_thing", "POST", "/v3/{domain}/things", MakeThing, Access.WRITE, area="things", secret_fields=("password",)
    ),
    Operation("summarise_things", "", "", Summary, Access.READ, area="things", handler=summarise),
]


@pytest.fixture
def wire():
    return []


def toolkit(wire, policy=None, items=3, budget=20_000, **kw):
    def handler(request):
        wire.append(request)
        if request.url.path.startswith("/v3/missing.com"):
            return httpx.Response(404, json={"message": "Domain not found"})
        if request.method == "POST":
            return httpx.Response(200, json={"message": "made", "password": "hunter2-secret"})
        skip = int(request.url.params.get("skip", 0))
        limit = int(request.url.params.get("limit", 100))
        rows = [{"n": i, "pad": "x" * 50} for i in range(items)]
        return httpx.Response(200, json={"total_count": items, "items": rows[skip : skip + limit]})

    registry = Registry()
    for op in OPS:
        registry.add(op, plugin="things")
    return Toolkit(
        api_key="fake-key-0000",
        registry=registry,
        policy=policy or Policy(),
        transport=httpx.MockTransport(handler),
        budget=budget,
        **kw,
    )


def test_invalid_arguments_name_each_field_and_send_nothing(wire):
    mg = toolkit(wire)
    with pytest.raises(InvalidArguments) as info:
        mg.call("list_things", domain="a/b", limit="many", extra=1)
    fields = dict(info.value.errors)
    assert set(fields) == {"domain", "limit", "extra"} and fields["extra"] == "unknown field"
    with pytest.raises(InvalidArguments, match="arguments must be an object"):
        mg.run(mg.execute("list_things", ["not", "an", "object"]))  # type: ignore[arg-type]
    assert wire == []


def test_a_params_model_is_validated_under_a_tool_name_without_an_operation():
    args = Executor.validate_model("count_things", ListThings, {"domain": "mg.example.com"})
    assert isinstance(args, ListThings) and args.limit == 100
    with pytest.raises(InvalidArguments, match="invalid arguments for count_things") as info:
        Executor.validate_model("count_things", ListThings, {"domain": "a/b", "colour": 1})
    assert set(dict(info.value.errors)) == {"domain", "colour"}


def test_policy_denial_sends_nothing_and_says_why(wire):
    mg = toolkit(wire, policy=Policy.build(read_only=True))
    with pytest.raises(PolicyDenied, match="read-only mode: make_thing is a write operation; nothing was sent"):
        mg.call("make_thing", domain="d.com")
    assert wire == [] and [op.name for op in mg.operations()] == ["list_things", "summarise_things"]


def test_confirmation_round_trip(wire):
    mg = toolkit(wire, policy=Policy.build(confirm="things:write"))
    with pytest.raises(ConfirmationRequired) as info:
        mg.call("make_thing", domain="d.com")
    assert wire == []
    with pytest.raises(ConfirmationRequired):  # a token for other arguments does not fit
        mg.run(mg.execute("make_thing", {"domain": "other.com"}, confirm_token=info.value.token))
    mg.run(mg.execute("make_thing", {"domain": "d.com"}, confirm_token=info.value.token))
    assert len(wire) == 1


def test_pages_carry_a_cursor_until_the_end(wire):
    mg = toolkit(wire, items=5)
    first = mg.run(mg.execute("list_things", {"domain": "d.com", "limit": 2}))
    assert first.next_cursor == "2" and [i["n"] for i in first.data["items"]] == [0, 1]
    last = mg.run(mg.execute("list_things", {"domain": "d.com", "limit": 2, "cursor": "4"}))
    assert last.next_cursor is None and [i["n"] for i in last.data["items"]] == [4]


def test_results_over_budget_are_trimmed_with_a_marker_and_readable_in_full(wire):
    mg = toolkit(wire, items=100, budget=1500)
    result = mg.run(mg.execute("list_things", {"domain": "d.com"}))
    marker = result.truncated
    assert 0 < marker["items_returned"] < 100 and marker["items_omitted"] == 100 - marker["items_returned"]
    assert len(str(result.data)) < 2000
    chunks, offset = [], 0
    while offset is not None:
        piece = mg.executor.read_result(marker["result_id"], offset)
        chunks.append(piece["chunk"])
        offset = piece["next_offset"]
    assert '"n": 99' in "".join(chunks)


def test_secret_fields_are_redacted_unless_granted(wire):
    assert "hunter2" not in str(toolkit(wire).call("make_thing", domain="d.com"))
    granted = toolkit(wire, policy=Policy.build(allow_secrets=True))
    assert granted.call("make_thing", domain="d.com")["password"] == "hunter2-secret"


def test_dry_run_redacts_secrets_and_sends_nothing(wire):
    out = toolkit(wire).dry_run("make_thing", domain="d.com", password="hunter2")
    assert out["form"] == [["password", "***"]] and wire == []


def test_composite_operations_call_through_the_executor(wire):
    mg = toolkit(wire)
    assert mg.call("summarise_things", domain="d.com") == {"count": 3, "missing_seen": True}
    denied = toolkit(wire, policy=Policy.build(grants="summarise_things"))
    with pytest.raises(PolicyDenied, match="list_things"):
        denied.call("summarise_things", domain="d.com")


def test_no_account_stops_with_a_clear_message():
    registry = Registry()
    registry.add(OPS[0], plugin="things")
    mg = Toolkit(registry=registry)
    with pytest.raises(ConfigurationError, match="set MAILGUN_API_KEY.*--sandbox.*nothing was sent"):
        mg.call("list_things", domain="d.com")
    assert mg.dry_run("list_things", domain="d.com")["url"] == "https://api.mailgun.net/v3/d.com/things"


def test_sync_call_refuses_to_run_inside_an_event_loop(wire):
    mg = toolkit(wire)

    async def inside():
        with pytest.raises(RuntimeError, match="acall"):
            mg.call("list_things", domain="d.com")
        return await mg.acall("list_things", domain="d.com")

    assert asyncio.run(inside())["total_count"] == 3


# -- preparing and shaping ----------------------------------------------------------------------------


def test_prepare_gives_the_request_of_an_http_operation_and_none_for_a_composite(wire):
    executor = toolkit(wire).executor
    prepared = executor.prepare("list_things", {"domain": "d.com", "limit": 5})
    assert prepared.operation.name == "list_things" and prepared.arguments.limit == 5
    assert (prepared.request.method, prepared.request.path) == ("GET", "/v3/d.com/things")
    composite = executor.prepare("summarise_things", {"domain": "d.com"})
    assert composite.request is None and composite.arguments.domain == "d.com"
    assert executor.dry_run("summarise_things", {"domain": "d.com"}).data["arguments"] == {"domain": "d.com"}
    assert wire == []


def json_size(data) -> int:
    return len(json.dumps(data, ensure_ascii=False, default=str))


def shaped(body, budget, items_key="items"):
    op = Operation("list_things", "GET", "/v3/things", ListThings, Access.READ, area="things", items_key=items_key)
    # Secrets other tests registered in this process (the sandbox key...) must not be redacted out of
    # generated items: only the budget is shaping the result here.
    executor = Executor(Registry([op]), Policy(allow_secrets=True), None, budget=budget)
    response = httpx.Response(200, json=body, headers={"content-type": "application/json"})
    return executor.shape(op, PreparedRequest("GET", "/v3/things"), response)


def test_shaping_trims_the_list_the_operation_names_dotted_or_not():
    versions = [{"tag": f"v{i}", "template": "t" * 100} for i in range(40)]
    nested = shaped({"template": {"name": "welcome", "versions": versions}}, 1500, items_key="template.versions")
    assert nested.data["template"]["name"] == "welcome"
    kept = nested.data["template"]["versions"]
    assert 0 < len(kept) < 40 and kept == versions[: len(kept)] and json_size(nested.data) <= 1500
    assert nested.truncated["items_returned"] == len(kept)
    named = shaped({"things": versions, "items": "not the list"}, 1500, items_key="things")
    assert 0 < len(named.data["things"]) < 40 and json_size(named.data) <= 1500
    missing = shaped({"members": [{"pad": "x" * 100}] * 40}, 1000, items_key="items")
    assert missing.data is None and missing.truncated["total_chars"] > 1000


def test_a_success_nested_deeper_than_python_parses_is_returned_as_text():
    body = b"[" * 100_000 + b"]" * 100_000
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )
    with Toolkit(api_key="fake-key-1234", transport=transport) as mg:
        result = mg.run(mg.execute("list_domains", {}))
    assert result.truncated or result.data["text"].startswith("[[[")
