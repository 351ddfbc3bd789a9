"""mailgun.js, the official JavaScript SDK, against the standalone sandbox.

``tests/sdk_js/scenario.mjs`` (the SDK pinned in ``tests/sdk_js/package.json``) runs once against a
sandbox on a free loopback port: domains, suppressions, templates, a mailing list, a templated send
to it, the events and the tags that send produced. It prints each step's resolved value or the
error the SDK threw; the tests below check them step by step.

Node and npm are needed (``npm ci`` installs the SDK on first use). Without them the tests skip, or
fail when ``CI`` is set.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from node_support import node_with_packages

from mg_tools.sandbox.server import BackgroundSandbox

SDK_JS = Path(__file__).parents[1] / "sdk_js"
SDK_PACKAGE = SDK_JS / "node_modules" / "mailgun.js" / "package.json"
DOMAIN = "mg.example.com"
LIST = "js-team@mg.example.com"


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    """One run of the scenario against a fresh sandbox; the SDK's answer per step."""
    node = node_with_packages(SDK_JS, SDK_PACKAGE, "the mailgun.js checks")
    with BackgroundSandbox() as sandbox:
        done = subprocess.run(
            [node, str(SDK_JS / "scenario.mjs"), sandbox.url, sandbox.api_key],
            cwd=SDK_JS,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    pinned = json.loads((SDK_JS / "package.json").read_text())["dependencies"]["mailgun.js"]
    assert report["sdk"] == pinned
    return report["steps"]


def value(steps: dict[str, dict[str, Any]], name: str) -> Any:
    got = steps[name]
    assert got["ok"], f"{name}: the SDK threw {got}"
    return got["value"]


def refused(steps: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    got = steps[name]
    assert not got["ok"], f"{name}: expected an error, the SDK resolved {got}"
    return got


def test_domains(steps):
    assert DOMAIN in {d["name"] for d in value(steps, "domains.list")}
    assert value(steps, "domains.get")["state"] == "active"
    assert value(steps, "domains.create")["name"] == "js.example.com"
    assert value(steps, "domains.update")["spam_action"] == "tag"
    assert value(steps, "domains.domainTracking.updateTracking")["open"]["active"] is True
    assert value(steps, "domains.domainTracking.getTracking")["open"]["active"] is True
    assert "deleted" in value(steps, "domains.destroy")["message"]
    missing = refused(steps, "domains.get.missing")
    assert (missing["status"], missing["details"]) == (404, "Domain not found")


def test_suppressions(steps):
    assert value(steps, "suppressions.create.bounces")["message"] == "1 address has been added to the bounces table"
    for kind in ("unsubscribes", "complaints", "whitelists"):
        assert value(steps, f"suppressions.create.{kind}")["status"] == 200
    [bounce] = value(steps, "suppressions.list.bounces")["items"]
    assert (bounce["address"], bounce["code"], bounce["type"]) == ("ben@example.com", 550, "bounces")
    assert value(steps, "suppressions.get.bounces")["error"] == "mailbox does not exist"
    assert value(steps, "suppressions.get.unsubscribes")["tags"] == ["promo"]
    assert [c["address"] for c in value(steps, "suppressions.list.complaints")["items"]] == ["dan@example.com"]
    assert [w["value"] for w in value(steps, "suppressions.list.whitelists")["items"]] == ["amy@example.com"]
    assert value(steps, "suppressions.destroy.complaints")["address"] == "dan@example.com"
    assert refused(steps, "suppressions.get.missing")["status"] == 404


def test_templates(steps):
    created = value(steps, "templates.create")
    assert (created["name"], created["version"]["tag"]) == ("js-welcome", "v1")
    assert value(steps, "templates.get")["version"]["template"] == "<p>Hi {{name}}</p>"
    assert [t["name"] for t in value(steps, "templates.list")["items"]] == ["js-welcome"]
    assert value(steps, "templates.createVersion")["template"]["version"]["tag"] == "v2"
    versions = value(steps, "templates.listVersions")["template"]["versions"]
    assert {v["tag"]: v["active"] for v in versions} == {"v1": False, "v2": True}
    assert value(steps, "templates.getVersion")["version"]["template"] == "<p>Hello {{name}}</p>"
    assert value(steps, "templates.destroyVersion")["templateVersion"] == {"tag": "v1"}
    assert value(steps, "templates.destroy")["templateName"] == "js-welcome"


def test_mailing_lists(steps):
    assert value(steps, "lists.create")["address"] == LIST
    assert value(steps, "lists.members.createMember")["vars"] == {"first": "Amy"}
    assert value(steps, "lists.members.createMembers")["list"]["members_count"] == 3
    assert value(steps, "lists.members.updateMember")["subscribed"] is False
    assert value(steps, "lists.members.getMember")["subscribed"] is False
    members = value(steps, "lists.members.listMembers")["items"]
    assert {m["address"]: m["subscribed"] for m in members} == {
        "amy@example.com": True,
        "ben@example.com": True,
        "eve@example.com": False,
    }
    assert value(steps, "lists.get")["members_count"] == 3
    assert LIST in {item["address"] for item in value(steps, "lists.list")["items"]}
    assert value(steps, "lists.members.destroyMember")["member"] == {"address": "amy@example.com"}
    assert value(steps, "lists.destroy")["address"] == LIST


def test_the_send_and_its_events(steps):
    sent = value(steps, "messages.create")
    assert sent["status"] == 200 and sent["message"] == "Queued. Thank you."
    [delivered] = value(steps, "events.delivered")["items"]
    assert delivered["recipient"] == "amy@example.com"
    assert delivered["message"]["headers"]["message-id"] == sent["id"].strip("<>")
    assert delivered["tags"] == ["js-launch"]
    [failed] = value(steps, "events.failed")["items"]
    assert (failed["recipient"], failed["reason"]) == ("ben@example.com", "suppress-bounce")


def test_tags(steps):
    [tag] = value(steps, "tags.list")["items"]
    assert tag["tag"] == "js-launch"
    assert tag["metrics"]["accepted_count"] == 2 and tag["metrics"]["delivered_count"] == 1
    assert value(steps, "tags.limits")["count"] == 1
    assert value(steps, "tags.update") == {"message": "Tag updated"}
    assert value(steps, "domainTags.list")["items"][0]["description"] == "Launch mail"
    assert value(steps, "domainTags.update") == {"message": "Tag updated"}
    assert value(steps, "domainTags.get")["description"] == "Launch mail, legacy"
    stats = value(steps, "domainTags.statistic")["stats"]
    assert sum(s["accepted"]["total"] for s in stats) == 2
    providers = value(steps, "domainTags.providers")["provider"]
    assert {name: counts["accepted"] for name, counts in providers.items()} == {"example.com": 2}
    assert sum(c["accepted"] for c in value(steps, "domainTags.countries")["country"].values()) == 2
    assert sum(d["accepted"] for d in value(steps, "domainTags.devices")["device"].values()) == 2
    assert value(steps, "domainTags.destroy")["message"] == "Tag deleted"
    missing = refused(steps, "domainTags.get.missing")
    assert (missing["status"], missing["details"]) == (404, "Tag not found")
