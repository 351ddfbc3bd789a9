"""The toolkit: settings handed down to every part, and a redactor of its own."""

import logging
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mg_tools import MailgunError, Policy, Settings, Toolkit

#: Not shaped like Mailgun keys: only a redactor that knows one hides it.
ALPHA, BRAVO = "alpha-api-key/0001", "bravo-api-key/0002"


def _echoing(key: str) -> Toolkit:
    """A toolkit with ``key`` whose server answers every call with an error quoting both keys."""
    answer = httpx.Response(400, json={"message": f"bad keys {ALPHA} and {BRAVO}"})
    return Toolkit(
        api_key=key,
        base_url="https://api.mailgun.net",
        transport=httpx.MockTransport(lambda r: answer),
        settings=Settings(),
    )


def _error_and_logs(toolkit: Toolkit, caplog) -> tuple[str, str]:
    caplog.clear()
    with toolkit, pytest.raises(MailgunError) as info:
        toolkit.call("get_domain", domain="mg.example.com")
    logs = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("mg_tools"))
    assert "mailgun.error" in logs
    return info.value.message, logs


def test_two_toolkits_in_one_process_each_redact_their_own_key(caplog):
    caplog.set_level(logging.DEBUG, logger="mg_tools")
    alpha, bravo = _echoing(ALPHA), _echoing(BRAVO)
    assert alpha.redactor is not bravo.redactor
    for toolkit, own, other in ((alpha, ALPHA, BRAVO), (bravo, BRAVO, ALPHA)):
        message, logs = _error_and_logs(toolkit, caplog)
        assert own not in message and own not in logs
        assert f"and {other}" in message or f"{other} and" in message, message  # not redacted by the other's key
        assert other in logs


def test_the_settings_reach_the_policy_plugins_and_files(tmp_path):
    settings = Settings(deny=("delete_*",), block_plugins=("events",), files_dir=(tmp_path,), confirm=("*:send",))
    toolkit = Toolkit(sandbox=True, settings=settings)
    names = {op.name for op in toolkit.operations()}
    assert "delete_domain" not in names and "list_events" not in names and "get_domain" in names
    assert toolkit.executor.file_roots == (tmp_path,)
    assert toolkit.policy.decide(toolkit.operation("send_message")).confirm


def test_read_only_settings_make_any_given_policy_read_only():
    toolkit = Toolkit(sandbox=True, policy=Policy(grants=("*:*",)), settings=Settings(read_only=True))
    assert toolkit.policy.read_only and "delete_domain" not in {op.name for op in toolkit.operations()}
    assert not Toolkit(sandbox=True, policy=Policy(), settings=Settings()).policy.read_only


def test_from_env_takes_the_account_from_the_mapping_given(monkeypatch):
    monkeypatch.setenv("MAILGUN_API_KEY", "key-from-the-process")
    env = {"MAILGUN_API_KEY": "key-from-the-mapping", "MAILGUN_API_BASE_URL": "http://127.0.0.1:9"}
    toolkit = Toolkit.from_env(env)
    assert toolkit.base_url == "http://127.0.0.1:9" and toolkit.executor.client is not None
    assert toolkit.redactor.redact_text("key-from-the-mapping key-from-the-process") == "*** key-from-the-process"
    sandboxed = Toolkit.from_env({"MAILGUN_API_KEY": "key-x", "MAILGUN_API_REGION": "eu"}, sandbox=True)
    assert sandboxed.executor.sandbox and sandboxed.redactor.redact_text("key-x") == "key-x"


def test_without_settings_a_toolkit_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MG_TOOLS_GRANTS", "*:read")
    assert Toolkit().settings.grants == ("*:read",)
    assert "send_message" not in {op.name for op in Toolkit().operations()}


def test_the_http_transport_takes_its_token_and_hosts_from_the_toolkits_settings():
    from starlette.testclient import TestClient

    from mg_tools.mcp_server import http_app

    token = "tok-" + "s" * 24
    settings = Settings(http_token=SecretStr(token), http_allowed_hosts=("proxy.test",))
    toolkit = Toolkit(sandbox=True, settings=settings, file_roots=[Path.cwd()])
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    # Beyond loopback a token is needed: the settings' is used.
    with TestClient(http_app(toolkit, host="0.0.0.0"), base_url="http://proxy.test") as client:
        assert client.post("/mcp", json=body, headers=headers).status_code == 401
        authorized = {**headers, "Authorization": f"Bearer {token}"}
        assert client.post("/mcp", json=body, headers=authorized).status_code == 200
        assert client.post("/mcp", json=body, headers={**authorized, "Host": "other.test"}).status_code == 421
    assert token not in toolkit.redactor.redact_text(token)
