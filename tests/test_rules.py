"""The Cedar policy rules: the request a call becomes, checking a policy file, deciding, listing, quotas."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from reliability.support import REGISTRY, SEND

from mg_tools import ConfigurationError, ConfirmationRequired, PolicyDenied, Toolkit
from mg_tools.caller import Caller, acting_as
from mg_tools.cli import main
from mg_tools.errors import NotFound
from mg_tools.executor import Executor
from mg_tools.rules import Rules, _chunks, request_context
from mg_tools.rules_schema import args_type, cedar_schema
from mg_tools.usage import MemoryUsage, Usage

POLICIES = Path(__file__).resolve().parent.parent / "docs" / "policies"
READS = '@id("reads")\npermit (principal == Identity::"local", action in Action::"read", resource);\n'


@pytest.fixture
def policy_file(tmp_path):
    def write(text: str, name: str = "policy.cedar") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def toolkit(policy_file, tmp_path):
    """Toolkits on the sandbox ruled by a policy given as text, or as a file with ``path=``."""
    made = []

    def make(text: str = "", *, path: Path | None = None, **kw) -> Toolkit:
        kw.setdefault("usage", MemoryUsage())
        mg = Toolkit(sandbox=True, registry=REGISTRY, policy_file=path or policy_file(text), **kw)
        made.append(mg)
        return mg

    yield make
    for mg in made:
        mg.close()


def stored_messages(mg: Toolkit) -> int:
    return mg.sandbox_app.state.sandbox.state.count("message")


# -- the schema ---------------------------------------------------------------------------------------


def test_args_are_typed_from_the_params_model():
    attrs = args_type(REGISTRY.get("send_message"))["attributes"]
    assert attrs["to"] == {"type": "Set", "element": {"type": "String"}, "required": True}
    assert attrs["domain"]["required"] and attrs["sender"] == {"type": "String", "required": True}
    assert attrs["cc"]["required"] is False and attrs["tags"]["type"] == "Set"
    assert "template_variables" not in attrs  # a free-form map has no faithful Cedar type
    limit = args_type(REGISTRY.get("list_bounces"))["attributes"]["limit"]
    assert limit == {"type": "Long", "required": True}  # it has a default: always there


def test_every_tool_is_an_action_in_its_access_and_area():
    schema = cedar_schema(REGISTRY, ["local", "bot"])[""]
    assert schema["entityTypes"]["Identity"] == {"enum": ["bot", "local"]}
    send = schema["actions"]["send_message"]
    assert send["memberOf"] == [{"id": "send"}, {"id": "messages"}]
    assert send["appliesTo"]["resourceTypes"] == ["Domain"]
    assert {"recipients", "recipient_count", "sender_domain", "usage", "dry_run"} <= set(
        send["appliesTo"]["context"]["attributes"]
    )
    assert schema["actions"]["list_domains"]["appliesTo"]["resourceTypes"] == ["Account"]
    assert "recipients" not in schema["actions"]["get_domain"]["appliesTo"]["context"]["attributes"]


# -- checking a policy file -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            READS
            + 'permit (principal, action == Action::"send_message", resource)\n when { context.args.sendr == "a" };',
            4,
            "args.sendr",
        ),
        (
            READS + '\npermit (principal, action == Action::"sned_message", resource);',
            4,
            "unknown tool, area or access 'sned_message'",
        ),
        ('// who\npermit (principal == Identity::"bob", action, resource);', 2, "unknown identity 'bob' (known: local"),
        (READS + "permit (principal, action, resource) when { 1 + };", 3, "policy does not parse"),
        ("// nothing here\n", 1, "holds no policy"),
        ("permit (principal == ?principal, action, resource);", 1, "templates"),
    ],
    ids=["attribute", "tool", "identity", "syntax", "empty", "template"],
)
def test_a_bad_policy_file_is_one_line_naming_file_and_line(policy_file, text, line, problem):
    path = policy_file(text)
    with pytest.raises(ConfigurationError) as caught:
        Rules.load(path, REGISTRY, ["local"])
    message = caught.value.message
    assert message.startswith(f"{path}:{line}: ") and problem in message and "\n" not in message, message


def test_an_unreadable_policy_file_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read the policy file"):
        Toolkit(sandbox=True, registry=REGISTRY, policy_file=tmp_path / "missing.cedar")


def test_policies_are_split_at_semicolons_outside_strings_and_comments():
    text = (
        '// a; b\npermit (principal, action, resource)\n  when { context.args.x like "a;b" };\n'
        '\n@id("x")\nforbid (principal, action, resource);'
    )
    assert [line for line, _ in _chunks(text)] == [2, 5]


# -- deciding -------------------------------------------------------------------------------------------


def test_without_a_permitting_policy_nothing_is_sent(toolkit):
    mg = toolkit(READS)
    assert mg.call("get_domain", domain="mg.example.com")["domain"]["name"] == "mg.example.com"
    with pytest.raises(PolicyDenied, match="no policy in policy.cedar permits send_message") as caught:
        mg.call("send_message", **SEND)
    assert caught.value.policies == () and stored_messages(mg) == 0


def test_forbid_wins_and_names_its_policy(toolkit):
    mg = toolkit(
        READS + '@id("no-example")\nforbid (principal, action, resource == Domain::"mg.example.com");\n'
        '\npermit (principal, action == Action::"send_message", resource);\n'
    )
    with pytest.raises(PolicyDenied) as caught:
        mg.call("send_message", **SEND)
    assert "forbidden by the policy 'no-example' (policy.cedar:3)" in caught.value.message
    assert caught.value.policies == ("no-example",) and stored_messages(mg) == 0


def test_rules_see_the_arguments_and_recipients(toolkit):
    mg = toolkit(
        'permit (principal, action == Action::"send_message", resource)\n'
        'when { context.recipient_domains == ["example.com"] && context.sender_domain == "mg.example.com"'
        ' && context.recipients.contains("bob@example.com") && context.args has subject'
        ' && context.args.subject == "Hi" };'
    )
    assert mg.call("send_message", **SEND)["message"].startswith("Queued")
    with pytest.raises(PolicyDenied, match="no policy in policy.cedar permits send_message"):
        mg.call("send_message", **{**SEND, "cc": ["Eve <EVE@elsewhere.test>"]})
    assert stored_messages(mg) == 1


def test_recipients_are_bare_lower_cased_addresses_of_every_form():
    op = REGISTRY.get("send_message")
    given = {**SEND, "to": ['"Smith, Bob" <Bob@Example.com>', "cy@example.com, Di <di@other.test>"]}
    context = request_context(op, Executor.validate(op, given), args_type(op), usage=Usage(), dry_run=False)
    assert context["recipients"] == ["bob@example.com", "cy@example.com", "di@other.test"]
    assert context["recipient_domains"] == ["example.com", "other.test"] and context["recipient_count"] == 3
    assert context["sender_domain"] == "mg.example.com" and context["usage"]["recipients_24h"] == 0


def test_a_composite_can_need_confirmation_too(toolkit):
    mg = toolkit(
        'permit (principal, action in Action::"read", resource);\n'
        '@confirm("looked up by a person")\npermit (principal, action == Action::"check_suppression", resource);'
    )
    check = {"domain": "mg.example.com", "address": "bob@example.com"}
    with pytest.raises(ConfirmationRequired, match="looked up by a person") as caught:
        mg.call("check_suppression", **check)
    done = mg.run(mg.execute("check_suppression", check, confirm_token=caught.value.token))
    assert "suppressed" in json.dumps(done.data)


def test_grants_and_read_only_still_apply_first(toolkit):
    from mg_tools import Policy

    mg = toolkit("permit (principal, action, resource);", policy=Policy(read_only=True))
    with pytest.raises(PolicyDenied, match="read-only mode"):
        mg.call("send_message", **SEND)


def test_the_resource_is_the_domain_or_the_callers_account(toolkit):
    mg = toolkit(
        'permit (principal, action == Action::"get_domain", resource == Domain::"mg.example.com");\n'
        'permit (principal, action == Action::"list_domains", resource == Account::"0123456789abcdef01234567");'
    )
    with pytest.raises(PolicyDenied):
        mg.call("get_domain", domain="other.example.com")
    with pytest.raises(PolicyDenied):
        mg.call("list_domains")
    with acting_as(Caller(subaccount="0123456789abcdef01234567")):
        assert mg.dry_run("list_domains")["method"] == "GET"


def test_a_confirm_annotation_asks_for_a_token_bound_to_the_call(toolkit):
    mg = toolkit(
        '@id("approve")\n@confirm("a person reads it first")\n'
        'permit (principal, action == Action::"send_message", resource);'
    )
    with pytest.raises(ConfirmationRequired) as caught:
        mg.call("send_message", **SEND)
    assert "a person reads it first" in caught.value.message and caught.value.policies == ("approve",)
    with pytest.raises(ConfirmationRequired, match="different call"):
        mg.run(mg.execute("send_message", {**SEND, "subject": "Other"}, confirm_token=caught.value.token))
    sent = mg.run(mg.execute("send_message", SEND, confirm_token=caught.value.token))
    assert sent.data["message"].startswith("Queued") and stored_messages(mg) == 1


def test_dry_runs_are_decided_too_and_know_they_are_dry(toolkit):
    mg = toolkit('permit (principal, action == Action::"send_message", resource) when { context.dry_run };')
    assert mg.dry_run("send_message", **SEND)["method"] == "POST"
    with pytest.raises(PolicyDenied):
        mg.call("send_message", **SEND)
    assert stored_messages(mg) == 0


def test_the_identity_is_the_toolkits_or_the_callers(toolkit):
    text = 'permit (principal == Identity::"bot", action == Action::"get_domain", resource);'
    with pytest.raises(ConfigurationError, match="unknown identity 'bot'"):
        toolkit(text)
    mg = toolkit(text, identity="bot", identities=["ops"])
    assert mg.dry_run("get_domain", domain="mg.example.com")["method"] == "GET"
    with acting_as(Caller(identity="ops")), pytest.raises(PolicyDenied, match="identity 'ops'"):
        mg.dry_run("get_domain", domain="mg.example.com")


# -- listing --------------------------------------------------------------------------------------------


def test_tools_no_policy_can_permit_are_not_listed(toolkit):
    mg = toolkit(
        READS + 'permit (principal, action == Action::"send_message", resource) when { context.recipient_count < 3 };\n'
        'forbid (principal, action in Action::"events", resource);\n'
        'forbid (principal, action == Action::"get_domain", resource) when { context.args.domain == "x.test" };'
    )
    names = {op.name for op in mg.operations()}
    assert {"send_message", "get_domain", "list_bounces"} <= names
    assert not {"delete_domain", "create_domain", "list_events"} & names
    assert mg.refusal(REGISTRY.get("delete_domain")) == (
        "no policy in policy.cedar can permit delete_domain for the identity 'local'"
    )


def test_a_tool_name_that_is_an_area_or_access_is_refused(policy_file):
    from mg_tools.operation import Access, Operation

    clash = Operation("send", "GET", "/v3/x", REGISTRY.get("list_domains").params, Access.READ, area="x")
    with pytest.raises(ConfigurationError, match="'send' has the name of an area or access"):
        Rules.load(policy_file(READS), [*REGISTRY, clash], ["local"])


# -- quotas ---------------------------------------------------------------------------------------------

CAP = (
    'permit (principal, action == Action::"send_message", resource);\n'
    '@id("cap")\nforbid (principal, action in Action::"send", resource)\n'
    "when { context.usage.recipients_24h + context.recipient_count > 5 };\n"
)


def test_a_quota_reached_mid_batch_stops_sends_exactly_at_the_cap(toolkit):
    mg = toolkit(CAP)
    two = {**SEND, "to": ["a@example.com", "b@example.com"]}
    assert mg.dry_run("send_message", **two)  # dry runs are not counted
    outcomes = []
    for _ in range(4):
        try:
            mg.call("send_message", **two)
            outcomes.append("sent")
        except PolicyDenied as exc:
            outcomes.append(exc.policies)
    assert outcomes == ["sent", "sent", ("cap",), ("cap",)]
    assert mg.call("send_message", **SEND)["message"].startswith("Queued")  # one more fits: 5
    with pytest.raises(PolicyDenied, match="'cap'"):
        mg.call("send_message", **SEND)
    assert stored_messages(mg) == 3


def test_a_call_mailgun_refuses_is_not_counted(toolkit):
    mg = toolkit("permit (principal, action, resource) when { context.usage.calls_1h < 1 };")
    with pytest.raises(NotFound):
        mg.call("get_domain", domain="missing.example.com")
    mg.call("get_domain", domain="mg.example.com")
    with pytest.raises(PolicyDenied):
        mg.call("get_domain", domain="mg.example.com")


def test_usage_windows_slide():
    now = [1000.0]
    usage = MemoryUsage(clock=lambda: now[0])
    usage.record("bot", "send_message", 3)
    now[0] += 3000
    usage.record("bot", "send_message", 2)
    usage.record("bot", "get_domain", 0)
    usage.record("other", "send_message", 7)
    seen = usage.usage("bot", "send_message")
    assert (seen.calls_1h, seen.calls_24h, seen.recipients_1h, seen.recipients_24h) == (2, 2, 5, 5)
    now[0] += 1000
    seen = usage.usage("bot", "send_message")
    assert (seen.calls_1h, seen.recipients_1h, seen.recipients_24h) == (1, 2, 5)
    now[0] += 86400
    assert usage.usage("bot", "send_message").recipients_24h == 0


def test_sqlite_usage_is_private_shared_and_cancellable(tmp_path):
    from mg_tools.usage import SqliteUsage

    first, second = SqliteUsage(tmp_path / "usage.sqlite"), SqliteUsage(tmp_path / "usage.sqlite")
    ticket = first.record("bot", "send_message", 4)
    first.record("bot", "send_message", 1)
    assert second.usage("bot", "send_message").recipients_24h == 5
    second.cancel(ticket)
    assert first.usage("bot", "send_message").calls_1h == 1
    assert (tmp_path / "usage.sqlite").stat().st_mode & 0o777 == 0o600
    first.close()
    second.close()


def test_the_default_usage_store_lives_in_the_state_directory(policy_file, tmp_path):
    from mg_tools.settings import Settings

    settings = Settings(state_dir=tmp_path / "state")
    with Toolkit(sandbox=True, registry=REGISTRY, policy_file=policy_file(CAP), settings=settings) as mg:
        mg.call("send_message", **SEND)
    assert (tmp_path / "state" / "usage.sqlite").stat().st_mode & 0o777 == 0o600


# -- the command line -----------------------------------------------------------------------------------


def test_policy_check_schema_and_test_commands(policy_file, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MG_TOOLS_STATE_DIR", str(tmp_path / "state"))
    good = policy_file(READS + '@confirm("ask")\npermit (principal, action == Action::"send_message", resource);')
    assert main(["policy", "check", str(good)]) == 0
    assert "2 policies, valid" in capsys.readouterr().out
    bad = policy_file('permit (principal == Identity::"x", action, resource);', "bad.cedar")
    assert main(["policy", "check", str(bad)]) == 2
    assert f"{bad}:1: unknown identity 'x'" in capsys.readouterr().err
    assert main(["policy", "check", str(bad), "--identity", "x"]) == 0
    capsys.readouterr()
    assert main(["policy", "schema"]) == 0
    assert "send_message" in json.loads(capsys.readouterr().out)[""]["actions"]
    assert main(["policy", "test", str(good), "send_message", "--args", json.dumps(SEND)]) == 0
    assert json.loads(capsys.readouterr().out) == {"decision": "confirm", "policies": ["policy1"], "reason": "ask"}
    assert main(["policy", "test", str(good), "delete_domain", "--as", "local", "--args", '{"domain": "a.test"}']) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "deny"


def test_call_refuses_to_start_on_an_invalid_policy(policy_file, capsys):
    bad = policy_file('permit (principal, action == Action::"nope", resource);')
    assert main(["call", "get_domain", "--sandbox", "--policy", str(bad), "--args", '{"domain": "a.test"}']) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:1:" in err


def test_policy_evaluation_is_fast(toolkit):
    mg = toolkit(CAP + READS)
    args = mg.executor.validate(REGISTRY.get("send_message"), SEND)
    op = REGISTRY.get("send_message")
    mg.rules.decide(op, args)
    start = time.perf_counter()
    for _ in range(200):
        mg.rules.decide(op, args)
    assert (time.perf_counter() - start) / 200 < 0.005  # generous: shared machines; bench/ has the real figure


# -- the deployments of docs/policy.md -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["analyst", "helpdesk", "newsletter"])
def test_the_policy_file_passes_the_check(name, capsys):
    assert main(["policy", "check", str(POLICIES / f"{name}.cedar"), "--identity", name]) == 0
    assert "valid" in capsys.readouterr().out


def test_the_analyst_reads_everything_and_changes_nothing(toolkit):
    mg = toolkit(path=POLICIES / "analyst.cedar", identity="analyst")
    assert mg.call("get_domain", domain="mg.example.com")["domain"]["name"] == "mg.example.com"
    assert "items" in mg.call("list_domains")
    names = {op.name for op in mg.operations()}
    assert "list_bounces" in names and not {"send_message", "delete_domain", "create_template"} & names
    with pytest.raises(PolicyDenied, match="no policy in analyst.cedar"):
        mg.call("delete_domain", domain="mg.example.com")
    assert mg.call("get_domain", domain="mg.example.com")["domain"]["name"] == "mg.example.com"


def test_the_helpdesk_bot_writes_to_customers_of_one_domain_within_its_cap(toolkit):
    usage = MemoryUsage()
    mg = toolkit(path=POLICIES / "helpdesk.cedar", identity="helpdesk", usage=usage)
    customer = {**SEND, "to": ["Bob <bob@example.com>"]}
    assert mg.call("send_message", **customer)["message"].startswith("Queued")
    with pytest.raises(PolicyDenied, match="no policy in helpdesk.cedar permits send_message"):
        mg.call("send_message", **{**customer, "bcc": ["eve@elsewhere.test"]})
    with pytest.raises(PolicyDenied):
        mg.call("get_domain", domain="other.example.com")
    with pytest.raises(PolicyDenied):
        mg.call("delete_bounce", domain="mg.example.com", address="eve@elsewhere.test")
    usage.record("helpdesk", "send_message", 499)  # the rest of the day's sends
    with pytest.raises(PolicyDenied, match="helpdesk-daily-cap") as caught:
        mg.call("send_message", **customer)
    assert caught.value.policies == ("helpdesk-daily-cap",)
    assert stored_messages(mg) == 1


def test_the_newsletter_agent_sends_only_what_a_person_approved(toolkit):
    mg = toolkit(path=POLICIES / "newsletter.cedar", identity="newsletter")
    letter = {**SEND, "tags": ["newsletter"]}
    with pytest.raises(PolicyDenied):
        mg.call("send_message", **SEND)  # not tagged as a newsletter
    with pytest.raises(PolicyDenied, match="newsletter-no-blasts"):
        mg.call("send_message", **{**letter, "to": [f"r{i}@example.com" for i in range(51)]})
    with pytest.raises(ConfirmationRequired, match="approved by a person") as caught:
        mg.call("send_message", **letter)
    assert caught.value.policies == ("newsletter-send",) and stored_messages(mg) == 0
    sent = mg.run(mg.execute("send_message", letter, confirm_token=caught.value.token))
    assert sent.data["message"].startswith("Queued") and stored_messages(mg) == 1
    assert "list_templates" in {op.name for op in mg.operations()}
    with pytest.raises(PolicyDenied):
        mg.call("list_domains")


@pytest.mark.parametrize("name", ["analyst", "helpdesk", "newsletter"])
def test_docs_show_the_policy_file_as_it_is(name):
    shown = (POLICIES.parent / "policy.md").read_text()
    for line in (POLICIES / f"{name}.cedar").read_text().splitlines():
        assert line.startswith("//") or line in shown, f"{name}.cedar: {line!r} is not in docs/policy.md"
