"""The response contract compiled from Mailgun's spec, and the checks that hold the sandbox to it.

Live sandbox answers are checked by the session hook in ``tests/conftest.py``; recorded answers are
checked here, cassette by cassette.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from starlette.testclient import TestClient

from contract.check import CONTRACT, Contract, session_contract
from mg_tools.sandbox import DEFAULT_API_KEY, create_app
from mg_tools.sandbox.observe import observing

ROOT = Path(__file__).resolve().parents[2]
#: Served operations for which the spec documents no JSON success answer.
NO_SCHEMA = {
    "GET /v1/bounce-classification/domains/{}/events",
    "PUT /v3/{}/mailboxes/{}",
    "PUT /v5/users/{}/org/{}",
    "DELETE /v5/users/{}/org/{}",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


def _served() -> set[str]:
    rows = (ROOT / "tests" / "data" / "operations.tsv").read_text().splitlines()[1:]
    return {Contract.normal_key(f"{row.split(chr(9))[1]} {row.split(chr(9))[2]}") for row in rows}


def test_every_served_operation_has_a_schema_unless_the_spec_has_none(contract):
    with_schema = {Contract.normal_key(key) for key in contract.data["operations"]}
    assert _served() - with_schema == NO_SCHEMA


def test_exceptions_and_gaps_say_why_and_are_few():
    raw = json.loads(CONTRACT.read_text())
    for exception in raw["exceptions"]:
        assert exception["why"].strip() and exception["at"].startswith("/")
    for gap in raw["sandbox_gaps"]:
        assert gap["what"].strip() and gap["at"].startswith("/")
    assert len(raw["exceptions"]) + len(raw["sandbox_gaps"]) <= 30


def test_recorded_answers_follow_the_contract(contract):
    """Every 2xx JSON answer in the cassettes (recorded from the sandbox) fits the spec's schema."""
    problems, checked = [], 0
    for cassette in sorted((ROOT / "cassettes").rglob("*.yaml")):
        for interaction in yaml.load(cassette.read_text(), Loader=_Loader)["interactions"]:
            request, response = interaction["request"], interaction["response"]
            ctype = next(iter(response["headers"].get("content-type", response["headers"].get("Content-Type", [""]))))
            before = len(contract.violations)
            contract.check(
                request["method"],
                urlsplit(request["uri"]).path,
                response["status"]["code"],
                ctype,
                (response["body"].get("string") or b"").encode()
                if isinstance(response["body"].get("string"), str)
                else response["body"].get("string") or b"",
            )
            checked += 1
            problems += [f"{cassette.relative_to(ROOT)}: {p}" for p in contract.violations[before:]]
    session_contract().exercised |= contract.exercised
    contract.take_violations()
    assert checked > 200
    assert not problems, "\n".join(problems)


def test_a_wrong_answer_names_the_route_the_place_and_the_problem(contract):
    body = {"items": [{"address": 5, "code": "550", "error": "x", "created_at": "Thu, 13 Oct 2011 18:02:00 UTC"}]}
    problems = contract.problems("GET", "/v3/mg.example.com/bounces", 200, body)
    where = "GET /v3/mg.example.com/bounces (GET /v3/{domain_name}/bounces, 200): at $"
    assert problems and all(p.startswith(where) for p in problems)
    assert any(p.endswith("at $.items[0].address: 5 is not of type 'string'") for p in problems)


def test_an_undocumented_success_status_is_reported(contract):
    [problem] = contract.problems("GET", "/v3/mg.example.com/bounces", 201, {})
    assert "no 201 answer" in problem


def test_literal_segments_win_over_placeholders(contract):
    assert contract.route("GET", "/v3/domains/mg.example.com/webhooks").key == "GET /v3/domains/{domain}/webhooks"
    assert contract.route("GET", "/v3/mg.example.com/nothing/here") is None


def test_the_sandbox_hands_its_answers_to_the_check(contract):
    """A sandbox answer that leaves the contract is caught by an installed observer."""
    strict = Contract.load()
    strict.data["operations"]["GET /v4/domains"]["200"] = {"type": "object", "required": ["colour"]}
    app = create_app()
    with observing(lambda a: strict.check(a.method, a.path, a.status, a.content_type, a.body)):
        with TestClient(app) as client:
            assert client.get("/v4/domains", auth=("api", DEFAULT_API_KEY)).status_code == 200
    assert strict.take_violations() == ["GET /v4/domains (GET /v4/domains, 200): at $: 'colour' is a required property"]
    assert "GET /v4/domains" in strict.exercised
