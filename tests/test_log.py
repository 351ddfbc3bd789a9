import base64
import json
import logging
import subprocess
import sys
import time

import pytest

from mg_tools import log
from mg_tools.log import Redactor


@pytest.fixture
def mg_logger():
    """The ``mg_tools`` logger, its handlers and level put back after the test."""
    logger = logging.getLogger("mg_tools")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_redaction_by_key_and_by_value():
    redactor = Redactor(["canary-key-777"])
    basic = base64.b64encode(b"api:canary-key-777").decode()
    event = {
        "authorization": f"Basic {basic}",
        "smtp_password": "p4ss",
        "url": "https://api.mailgun.net/v3/x?key=canary-key-777",
        "note": "sent with canary%2Dkey-777 and key-0123456789abcdef0123456789abcdef",
        "form": [["password", "p4ss"], ["to", "a@b.c"]],
        "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        "count": 3,
    }
    out = json.dumps(redactor.redact(event))
    for secret in ("canary-key-777", basic, "p4ss", "0123456789abcdef0123456789abcdef", "MIIE"):
        assert secret not in out
    assert '"count": 3' in out and "a@b.c" in out


def test_each_redactor_knows_only_its_own_secrets():
    alpha, bravo = Redactor(["alpha-secret-1"]), Redactor(["bravo-secret-2"])
    alpha.register_secrets({"smtp_password": "alpha-password"})
    text = "alpha-secret-1 bravo-secret-2 alpha-password"
    assert alpha.redact_text(text) == "*** bravo-secret-2 ***"
    assert bravo.redact_text(text) == "alpha-secret-1 *** alpha-password"
    assert Redactor().redact_known(text) == text


def test_logs_go_to_stderr_as_json_without_secrets(capsys, mg_logger):
    log.configure("debug")
    log.get_logger("mg_tools.test", Redactor(["canary-key-888"])).info(
        "call", api_key="canary-key-888", detail="uses canary-key-888", name="clashes with the record's name"
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    line = json.loads(captured.err.strip().splitlines()[-1])
    assert line["event"] == "call" and line["level"] == "info" and line["logger"] == "mg_tools.test"
    assert line["detail"] == "uses ***" and line["name_"] == "clashes with the record's name"
    assert "canary-key-888" not in captured.err


def test_the_level_is_applied_and_configuring_again_replaces_the_handler(capsys, mg_logger):
    log.configure("info")
    log.configure("warning")
    events = log.get_logger("mg_tools.test", Redactor())
    events.info("quiet")
    events.warning("loud", n=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["loud"]


def test_an_application_handler_sees_only_redacted_values(caplog):
    """An embedding application's own handlers and formatters get records whose message and every
    attribute are already redacted: nothing depends on a processor of ours."""
    caplog.set_level(logging.DEBUG, logger="mg_tools")
    redactor = Redactor(["canary-key-999"])
    log.get_logger("mg_tools.client", redactor).debug(
        "mailgun.error",
        error="rejected canary-key-999",
        headers={"Authorization": "Basic Y2FuYXJ5LWtleS05OTk="},
        smtp_password="hunter22",
    )
    [record] = [r for r in caplog.records if r.name == "mg_tools.client"]
    assert record.event == "mailgun.error" and record.smtp_password == "***"
    assert record.getMessage().startswith('mailgun.error error="rejected ***"')
    dumped = json.dumps(record.__dict__, default=str) + logging.Formatter().format(record)
    assert "canary-key-999" not in dumped and "hunter22" not in dumped and "Y2FuYXJ5" not in dumped


def test_a_library_user_who_configures_nothing_gets_no_output():
    """Calls, an error and a warning in a fresh interpreter: nothing on stdout or stderr, no handler
    anywhere but the library's NullHandler, and structlog neither configured nor imported."""
    probe = """if True:
        import json, logging, sys
        from mg_tools import MgToolsError, Toolkit, log
        with Toolkit(sandbox=True) as mg:
            mg.call("list_domains")
            try:
                mg.call("get_domain", name="missing.example.com")
            except MgToolsError:
                pass
        log.get_logger("mg_tools.probe", mg.redactor).warning("a warning nobody routed")
        structlog = sys.modules.get("structlog")
        sys.stdout.write(json.dumps({
            "root": len(logging.getLogger().handlers),
            "ours": [type(h).__name__ for h in logging.getLogger("mg_tools").handlers],
            "structlog": structlog is not None and structlog.is_configured(),
        }))
    """
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads(done.stdout) == {"root": 0, "ours": ["NullHandler"], "structlog": False}


def test_private_keys_are_redacted_whole_and_many_unclosed_markers_stay_fast():
    redactor = Redactor()
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"
    assert redactor.redact_text(f"a {pem} b {pem} c") == "a *** b *** c"
    assert redactor.redact_known({"k": f"x{pem}"}) == {"k": "x***"}
    hostile = "-----BEGIN PRIVATE KEY-----" * 40_000
    started = time.monotonic()
    assert redactor.redact_text(hostile) == hostile and redactor.redact_known(hostile) == hostile
    assert time.monotonic() - started < 5  # the regex took minutes; the scan takes milliseconds


def test_the_secrets_seen_in_arguments_are_bounded():
    redactor = Redactor()
    for i in range(log.MAX_SEEN):
        redactor.register_secrets({"password": f"password-number-{i:04d}"})
    assert redactor.redact_text("password-number-0000") == "password-number-0000"  # the oldest went
    assert redactor.redact_text(f"password-number-{log.MAX_SEEN - 1:04d}") == "***"
