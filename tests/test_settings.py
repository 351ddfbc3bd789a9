import json
import re
from pathlib import Path

import pytest

from mg_tools.cli import main
from mg_tools.errors import ConfigurationError
from mg_tools.settings import Settings, forced_read_only, markdown_table

ROOT = Path(__file__).resolve().parent.parent
ALIASES = {field.alias for field in Settings.model_fields.values()}


def test_every_variable_is_read_into_its_field():
    env = {
        "MAILGUN_API_KEY": "key-abc",
        "MAILGUN_API_REGION": "eu",
        "MAILGUN_API_BASE_URL": "http://127.0.0.1:8025",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "whsec-1",
        "MG_TOOLS_SUBACCOUNT": " 0123456789ABCDEF01234567 ",
        "MG_TOOLS_GRANTS": "*:read, send_message",
        "MG_TOOLS_DENY": "delete_*",
        "MG_TOOLS_READ_ONLY": "yes",
        "MG_TOOLS_CONFIRM": "*:send",
        "MG_TOOLS_ALLOW_SECRETS": "on",
        "MG_TOOLS_POLICY": "/etc/mg/policy.cedar",
        "MG_TOOLS_IDENTITY": "helpdesk",
        "MG_TOOLS_FILES_DIR": "/srv/a:~/b",
        "MG_TOOLS_BLOCK_PLUGINS": "events,,logs ",
        "MG_TOOLS_STATE_DIR": "/var/mg",
        "XDG_STATE_HOME": "/x",
        "MG_TOOLS_HTTP_TOKEN": " tok-123 ",
        "MG_TOOLS_HTTP_ALLOWED_HOSTS": "a.test,b.test",
        "MG_TOOLS_LOG_LEVEL": "debug",
        "MG_TOOLS_IDENTITIES": "/etc/mg/identities.toml",
        "MG_TOOLS_AUDIT": "/var/log/mg/audit.jsonl",
        "MG_TOOLS_AUDIT_BODIES": "1",
        "MG_TOOLS_REDIS_URL": "redis://:pw@redis.internal:6379/0",
        "MG_TOOLS_JOB_LEASE": "30",
        "UNRELATED": "ignored",
    }
    settings = Settings.from_env(env)
    assert set(env) - {"UNRELATED"} == ALIASES
    assert settings.secret("api_key") == "key-abc" and settings.region == "eu"
    assert settings.base_url == "http://127.0.0.1:8025"
    assert settings.secret("webhook_signing_key") == "whsec-1" and "whsec-1" not in repr(settings)
    assert settings.subaccount == "0123456789abcdef01234567"
    assert settings.grants == ("*:read", "send_message") and settings.deny == ("delete_*",)
    assert settings.read_only and settings.allow_secrets and settings.confirm == ("*:send",)
    assert settings.files_dir == (Path("/srv/a"), Path.home() / "b")
    assert settings.block_plugins == ("events", "logs")
    assert settings.state_path == Path("/var/mg")
    assert settings.secret("http_token") == "tok-123" and settings.http_allowed_hosts == ("a.test", "b.test")
    assert settings.log_level == "debug"
    assert settings.identities == Path("/etc/mg/identities.toml")
    assert settings.audit == "/var/log/mg/audit.jsonl" and settings.audit_bodies
    assert settings.policy_file == Path("/etc/mg/policy.cedar") and settings.identity == "helpdesk"
    assert settings.secret("redis_url") == "redis://:pw@redis.internal:6379/0" and "pw" not in repr(settings)
    assert settings.job_lease == 30.0


def test_unset_and_blank_variables_keep_the_defaults():
    blank = Settings.from_env(dict.fromkeys(ALIASES, "  "))
    assert blank == Settings.from_env({}) == Settings()
    assert blank.secret("api_key") is None and not blank.read_only and blank.log_level == "warning"
    assert blank.state_path == Path.home() / ".local" / "state" / "mg-tools"
    assert Settings(xdg_state_home=Path("/x")).state_path == Path("/x/mg-tools")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_switch_values(value, expected):
    assert Settings.from_env({"MG_TOOLS_READ_ONLY": value}).read_only is expected
    assert forced_read_only({"MG_TOOLS_READ_ONLY": value}) is expected


def test_values_that_are_not_switches_are_refused_in_one_line_naming_each():
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"MG_TOOLS_READ_ONLY": "ture", "MG_TOOLS_ALLOW_SECRETS": "2"})
    assert info.value.message == (
        "MG_TOOLS_READ_ONLY='ture' is not a switch value; use 1 or 0; "
        "MG_TOOLS_ALLOW_SECRETS='2' is not a switch value; use 1 or 0"
    )
    with pytest.raises(ConfigurationError, match="MG_TOOLS_READ_ONLY='y' is not a switch value"):
        forced_read_only({"MG_TOOLS_READ_ONLY": "y"})


def test_a_subaccount_that_is_no_subaccount_id_is_refused_naming_the_variable():
    with pytest.raises(ConfigurationError, match="MG_TOOLS_SUBACCOUNT='acme' is refused: .*24 hexadecimal"):
        Settings.from_env({"MG_TOOLS_SUBACCOUNT": "acme"})


def test_the_process_environment_is_read_only_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("MG_TOOLS_DENY", "delete_*")
    assert Settings.from_env().deny == ("delete_*",)
    assert Settings.from_env({}).deny == ()


def test_secrets_never_show_in_the_settings_themselves(monkeypatch, capsys):
    monkeypatch.setenv("MAILGUN_API_KEY", "key-very-secret")
    monkeypatch.setenv("MG_TOOLS_HTTP_TOKEN", "tok-very-secret")
    settings = Settings.from_env()
    assert "very-secret" not in repr(settings) + str(settings.model_dump())
    assert main(["settings"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["MAILGUN_API_KEY"] == shown["MG_TOOLS_HTTP_TOKEN"] == "**********"
    assert set(shown) == ALIASES


def test_nothing_but_the_settings_reads_the_environment():
    readers = [
        path.relative_to(ROOT)
        for folder in ("mg_tools", "plugins")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "settings.py" and re.search(r"os\.environ|getenv\(", path.read_text())
    ]
    assert readers == []


def test_every_variable_the_code_names_is_a_setting():
    named = {
        name
        for folder in ("mg_tools", "plugins")
        for path in (ROOT / folder).rglob("*.py")
        for name in re.findall(r"\b(?:MG_TOOLS|MAILGUN)_[A-Z_]*[A-Z]\b", path.read_text())
    }
    assert named and named <= ALIASES, named - ALIASES


def test_readme_configuration_table_is_current(capsys):
    assert main(["settings", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table == markdown_table()
    assert table in (ROOT / "README.md").read_text(), "regenerate it: mg-tools settings --markdown"
