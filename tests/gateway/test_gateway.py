"""The REST gateway: each answer and status of a tool call, identities, confirmation, the audit trail."""

from __future__ import annotations

import json

import pytest
from reliability.support import SEND

from mg_tools.audit_view import read
from mg_tools.mcp_server import MAX_BODY

from .conftest import SINGLE, TOKENS, bearer

DOMAIN = {"domain": "mg.example.com"}
ALL = bearer(SINGLE)


def test_lists_the_callers_tools_with_schemas(served):
    client, toolkit, _ = served
    listed = client.get("/api/tools", headers=ALL)
    assert listed.status_code == 200
    tools = {t["name"]: t for t in listed.json()["tools"]}
    assert set(tools) == {op.name for op in toolkit.operations()}
    delete = tools["delete_domain"]
    assert (delete["access"], delete["area"], delete["needs_confirmation"]) == ("delete", "domains", True)
    assert "confirm_token" in delete["input_schema"]["properties"]
    get = tools["get_domain"]
    assert get["needs_confirmation"] is False and get["input_schema"]["required"] == ["domain"]
    assert get["description"] == toolkit.operation("get_domain").description


def test_a_call_answers_the_result_envelope(served):
    client, _, _ = served
    answer = client.post("/api/tools/get_domain", json=DOMAIN, headers=ALL)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["result"]["domain"]["name"] == "mg.example.com"
    assert body["sandbox"] == "local sandbox: no real mail is sent"


def test_an_empty_body_means_no_arguments(served):
    client, _, _ = served
    answer = client.post("/api/tools/list_domains", headers=ALL)
    assert answer.status_code == 200 and answer.json()["result"]["total_count"] >= 1


def test_invalid_arguments_are_400_and_nothing_is_sent(served):
    client, _, _ = served
    answer = client.post("/api/tools/list_domains", json={"limit": "many"}, headers=ALL)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_arguments" and body["fields"][0]["field"] == "limit"


@pytest.mark.parametrize(
    "content, problem",
    [(b"{not json", "the body is not JSON"), (b"[1, 2]", "not an array"), (b'"x"', "not a string"), (b"NaN", "NaN")],
)
def test_a_body_that_is_no_json_object_is_400(served, content, problem):
    client, _, _ = served
    answer = client.post("/api/tools/list_domains", content=content, headers=ALL)
    assert answer.status_code == 400 and problem in answer.json()["message"], answer.text


def test_a_body_too_large_is_413(served):
    client, _, _ = served
    answer = client.post("/api/tools/list_domains", content=b" " * (MAX_BODY + 1), headers=ALL)
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"


def test_no_or_a_bad_token_is_401(served):
    client, _, _ = served
    assert client.post("/api/tools/list_domains").status_code == 401
    assert client.get("/openapi.json", headers=bearer("tok-wrong-" + "x" * 16)).status_code == 401


def test_a_refusal_of_the_policy_is_403(served):
    client, _, trail = served
    crowd = {**SEND, "to": ["a@example.com", "b@example.com", "c@example.com"]}
    answer = client.post("/api/tools/send_message", json=crowd, headers=ALL)
    assert answer.status_code == 403
    assert answer.json()["error"] == "policy_denied" and "nothing was sent" in answer.json()["message"]


def test_an_unknown_tool_is_404_with_close_names(served):
    client, _, _ = served
    answer = client.post("/api/tools/get_domian", json=DOMAIN, headers=ALL)
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_operation" and "get_domain" in answer.json()["suggestions"]


def test_a_hidden_tool_is_404_with_the_policy_reason_and_never_suggested(served):
    client, toolkit, trail = served
    helpdesk = bearer(TOKENS["helpdesk"])
    answer = client.post("/api/tools/get_domain", json=DOMAIN, headers=helpdesk)
    assert answer.status_code == 404 and answer.json()["error"] == "policy_denied"
    assert "nothing was sent" in answer.json()["message"]
    unknown = client.post("/api/tools/get_domian", json=DOMAIN, headers=helpdesk)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_operation"
    suppressions = {op.name for op in toolkit.operations() if op.area == "suppressions"}
    assert "get_domain" not in unknown.json()["suggestions"]
    assert set(unknown.json()["suggestions"]) <= suppressions
    refused = [r for r in read(trail).records if r["identity"] == "helpdesk" and r["tool"] == "get_domain"]
    assert refused and refused[-1]["decision"]["result"] == "denied"


def test_each_identity_sees_only_its_tools_everywhere(served):
    client, toolkit, _ = served
    helpdesk = bearer(TOKENS["helpdesk"])
    suppressions = {op.name for op in toolkit.operations() if op.area == "suppressions"}
    listed = {t["name"] for t in client.get("/api/tools", headers=helpdesk).json()["tools"]}
    documented = {
        op["post"]["operationId"] for op in client.get("/openapi.json", headers=helpdesk).json()["paths"].values()
    }
    page = client.get("/docs", headers=helpdesk).text
    assert listed == documented == suppressions
    assert 'id="list_bounces"' in page and 'id="get_domain"' not in page
    auditor = {t["access"] for t in client.get("/api/tools", headers=bearer(TOKENS["auditor"])).json()["tools"]}
    assert auditor == {"read"}


def test_calls_are_audited_with_the_identity(served):
    client, _, trail = served
    bounce = {"domain": "mg.example.com", "address": "gone@example.com"}
    assert client.post("/api/tools/add_bounce", json=bounce, headers=bearer(TOKENS["helpdesk"])).status_code == 200
    read_only = client.post("/api/tools/delete_bounce", json=bounce, headers=bearer(TOKENS["auditor"]))
    assert read_only.status_code == 404
    records = read(trail).records
    added = [r for r in records if (r["identity"], r["tool"]) == ("helpdesk", "add_bounce")]
    assert added and added[-1]["outcome"]["status"] == "ok"
    assert any((r["identity"], r["tool"]) == ("auditor", "delete_bounce") for r in records)


def test_confirmation_round_trip(served):
    client, toolkit, _ = served
    toolkit.call("create_domain", domain="confirm.example.com")
    target = {"domain": "confirm.example.com"}
    first = client.post("/api/tools/delete_domain", json=target, headers=ALL)
    assert first.status_code == 409
    token = first.json()["confirm_token"]
    assert first.json()["error"] == "confirmation_required" and "approve" in first.json()["hint"]
    other = client.post(
        "/api/tools/delete_domain", json={"domain": "mg.example.com", "confirm_token": token}, headers=ALL
    )
    assert other.status_code in (400, 403, 409) and other.json()["error"] != "ok"
    done = client.post("/api/tools/delete_domain", json={**target, "confirm_token": token}, headers=ALL)
    assert done.status_code == 200, done.text
    again = client.post("/api/tools/delete_domain", json={**target, "confirm_token": token}, headers=ALL)
    assert again.status_code != 200
    assert "confirm.example.com" not in json.dumps(toolkit.call("list_domains"))


def test_a_foreign_host_is_refused(served):
    client, _, _ = served
    answer = client.get("/api/tools", headers={**ALL, "Host": "evil.example"})
    assert answer.status_code == 421 and answer.json()["error"] == "forbidden_request"
    crossed = client.post("/api/tools/list_domains", headers={**ALL, "Origin": "http://evil.example"})
    assert crossed.status_code == 403
