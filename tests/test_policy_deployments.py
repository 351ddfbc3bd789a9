"""The deployments of docs/policy.md: each policy file passes `mg-tools policy check` and allows and
refuses what the docs say, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability.support import REGISTRY, SEND

from mg_tools import ConfirmationRequired, PolicyDenied, Toolkit
from mg_tools.cli import main
from mg_tools.usage import MemoryUsage

POLICIES = Path(__file__).resolve().parent.parent / "docs" / "policies"


@pytest.fixture
def deployment():
    made = []

    def make(name: str, usage: MemoryUsage | None = None) -> Toolkit:
        mg = Toolkit(
            sandbox=True,
            registry=REGISTRY,
            policy_file=POLICIES / f"{name}.cedar",
            identity=name,
            usage=usage or MemoryUsage(),
        )
        made.append(mg)
        return mg

    yield make
    for mg in made:
        mg.close()


def stored_messages(mg: Toolkit) -> int:
    return mg.sandbox_app.state.sandbox.state.count("message")


@pytest.mark.parametrize("name", ["analyst", "helpdesk", "newsletter"])
def test_the_policy_file_passes_the_check(name, capsys):
    assert main(["policy", "check", str(POLICIES / f"{name}.cedar"), "--identity", name]) == 0
    assert "valid" in capsys.readouterr().out


def test_the_analyst_reads_everything_and_changes_nothing(deployment):
    mg = deployment("analyst")
    assert mg.call("get_domain", domain="mg.example.com")["domain"]["name"] == "mg.example.com"
    assert "items" in mg.call("list_domains")
    names = {op.name for op in mg.operations()}
    assert "list_bounces" in names and not {"send_message", "delete_domain", "create_template"} & names
    with pytest.raises(PolicyDenied, match="no policy in analyst.cedar"):
        mg.call("delete_domain", domain="mg.example.com")
    assert mg.call("get_domain", domain="mg.example.com")["domain"]["name"] == "mg.example.com"


def test_the_helpdesk_bot_writes_to_customers_of_one_domain_within_its_cap(deployment):
    usage = MemoryUsage()
    mg = deployment("helpdesk", usage)
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


def test_the_newsletter_agent_sends_only_what_a_person_approved(deployment):
    mg = deployment("newsletter")
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
