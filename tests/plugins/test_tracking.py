import pytest

from mg_tools import InvalidArguments
from mg_tools.errors import BadRequest, Conflict, NotFound
from mg_tools.sandbox.areas.tracking import CERT_LIFETIME, CERT_SECONDS

D = "mg.example.com"
HOST = f"email.{D}"


@pytest.fixture
def later(mg, recording):
    """Moves the sandbox clock on by some seconds while recording (replays need no clock)."""

    def move(seconds: float) -> None:
        if recording:
            sandbox = mg.sandbox_app.state.sandbox
            now = sandbox.now()
            sandbox.clock = lambda: now + seconds

    return move


@pytest.mark.vcr
def test_get_tracking_settings(mg):
    out = mg.call("get_tracking_settings", domain=D)["tracking"]
    assert (out["open"]["active"], out["click"]["active"], out["unsubscribe"]["active"]) == (False, False, False)
    assert "%unsubscribe_url%" in out["unsubscribe"]["html_footer"]
    with pytest.raises(NotFound, match="Domain not found"):
        mg.call("get_tracking_settings", domain="nope.example.com")


@pytest.mark.vcr
def test_update_click_tracking(mg):
    out = mg.call("update_click_tracking", domain=D, active="htmlonly")
    assert out["click"] == {"active": "htmlonly"}
    assert mg.call("update_click_tracking", domain=D, active=True)["click"] == {"active": True}
    assert mg.call("get_tracking_settings", domain=D)["tracking"]["click"]["active"] is True


@pytest.mark.vcr
def test_update_open_tracking(mg):
    out = mg.call("update_open_tracking", domain=D, active=True, place_at_the_top=True)
    assert out["open"] == {"active": True, "place_at_the_top": True}
    mg.call("update_open_tracking", domain=D, active=False)
    assert mg.call("get_tracking_settings", domain=D)["tracking"]["open"] == {"active": False, "place_at_the_top": True}


@pytest.mark.vcr
def test_update_unsubscribe_tracking(mg):
    footer = "<p><a href='%unsubscribe_url%'>Stop these emails</a></p>"
    out = mg.call("update_unsubscribe_tracking", domain=D, active=True, html_footer=footer)
    assert out["unsubscribe"]["active"] is True
    saved = mg.call("get_tracking_settings", domain=D)["tracking"]["unsubscribe"]
    assert saved["html_footer"] == footer
    assert "%unsubscribe_url%" in saved["text_footer"]


@pytest.mark.vcr
def test_generate_tracking_certificate(mg):
    out = mg.call("generate_tracking_certificate", domain=HOST)
    assert out["location"] == f"/v2/x509/{HOST}/status"
    with pytest.raises(Conflict, match="already been initiated"):
        mg.call("generate_tracking_certificate", domain=HOST)
    mg.call("create_domain", domain="new.example.org")
    with pytest.raises(BadRequest, match="invalid CNAME record"):
        mg.call("generate_tracking_certificate", domain="email.new.example.org")


@pytest.mark.vcr
def test_get_tracking_certificate(mg, later):
    with pytest.raises(NotFound, match="initiate x509 key pair generation"):
        mg.call("get_tracking_certificate", domain=HOST)
    mg.call("generate_tracking_certificate", domain=HOST)
    assert mg.call("get_tracking_certificate", domain=HOST)["status"] == "processing"
    later(CERT_SECONDS)
    out = mg.call("get_tracking_certificate", domain=HOST)
    assert out["status"] == "active"
    assert out["certificate"].startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.vcr
def test_regenerate_tracking_certificate(mg, later):
    mg.call("generate_tracking_certificate", domain=HOST)
    later(CERT_SECONDS)
    with pytest.raises(Conflict, match="still valid"):
        mg.call("regenerate_tracking_certificate", domain=HOST)
    later(CERT_SECONDS + CERT_LIFETIME)
    assert mg.call("get_tracking_certificate", domain=HOST)["status"] == "expired"
    assert mg.call("regenerate_tracking_certificate", domain=HOST)["location"] == f"/v2/x509/{HOST}/status"


def test_click_tracking_sends_yes_no_or_htmlonly(dry):
    assert dry.dry_run("update_click_tracking", domain=D, active=True)["form"] == [["active", "yes"]]
    assert dry.dry_run("update_click_tracking", name=D, active="htmlonly")["form"] == [["active", "htmlonly"]]
    with pytest.raises(InvalidArguments, match="active"):
        dry.dry_run("update_click_tracking", domain=D, active="sometimes")


def test_tracking_paths_use_the_domain_and_the_tracking_host(dry):
    assert dry.dry_run("get_tracking_settings", name=D)["url"].endswith(f"/v3/domains/{D}/tracking")
    assert dry.dry_run("regenerate_tracking_certificate", domain=HOST)["url"].endswith(f"/v2/x509/{HOST}")
    with pytest.raises(InvalidArguments, match="domain"):
        dry.dry_run("get_tracking_certificate", domain="email.mg.example.com/../../v3")
