import base64
import json

from mg_tools import log


def test_redaction_by_key_and_by_value():
    log.add_secret("canary-key-777")
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
    out = json.dumps(log.redact(event))
    for secret in ("canary-key-777", basic, "p4ss", "0123456789abcdef0123456789abcdef", "MIIE"):
        assert secret not in out
    assert '"count": 3' in out and "a@b.c" in out


def test_logs_go_to_stderr_as_json_without_secrets(capsys):
    log.configure("debug")
    log.add_secret("canary-key-888")
    log.get_logger().info("call", api_key="canary-key-888", detail="uses canary-key-888")
    captured = capsys.readouterr()
    assert captured.out == ""
    line = json.loads(captured.err.strip().splitlines()[-1])
    assert line["event"] == "call" and "canary-key-888" not in captured.err
    log.configure()


def test_private_keys_are_redacted_whole_and_many_unclosed_markers_stay_fast():
    import time

    from mg_tools.log import redact_known, redact_text

    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"
    assert redact_text(f"a {pem} b {pem} c") == "a *** b *** c"
    assert redact_known({"k": f"x{pem}"}) == {"k": "x***"}
    hostile = "-----BEGIN PRIVATE KEY-----" * 40_000
    started = time.monotonic()
    assert redact_text(hostile) == hostile and redact_known(hostile) == hostile
    assert time.monotonic() - started < 5  # the regex took minutes; the scan takes milliseconds
