from collections import Counter

import pytest

from mg_tools import Policy, Toolkit

D = "mg.example.com"
TAG = "spring-sale"


def _campaign(mg):
    """Five recipients: two delivered, one each blocked by the bounce, unsubscribe and complaint lists;
    and one message of another campaign that must not count."""
    mg.call("add_bounce", domain=D, address="cy@example.com")
    mg.call("add_unsubscribe", domain=D, address="dan@example.com")
    mg.call("add_complaint", domain=D, address="eve@example.com")
    for to in ("ann@example.com", "bob@example.com", "cy@example.com", "dan@example.com", "eve@example.com"):
        mg.call("send_message", domain=D, sender=f"shop@{D}", to=[to], subject="Sale", text="50% off", tags=[TAG])
    mg.call("send_message", domain=D, sender=f"shop@{D}", to=["fay@example.com"], subject="Hi", text="Hi", tags=["x"])


def _events(mg) -> Counter:
    items = mg.call("list_events", domain=D, tags=TAG, limit=300)["items"]
    return Counter(e["event"] if e["event"] != "failed" else f"failed:{e['reason']}" for e in items)


@pytest.mark.vcr
def test_campaign_report(mg):
    _campaign(mg)
    events = _events(mg)
    report = mg.call("campaign_report", tag=TAG, domain=D, duration="1d")
    counts, reasons = report["counts"], report["failure_reasons"]
    assert counts["accepted"] == events["accepted"] == 5
    assert counts["delivered"] == events["delivered"] == 2
    assert counts["failed_permanently"] == 3 and counts["failed_temporarily"] == 0
    assert reasons["suppressed_bounce"] == events["failed:suppress-bounce"] == 1
    assert reasons["suppressed_unsubscribe"] == events["failed:suppress-unsubscribe"] == 1
    assert reasons["suppressed_complaint"] == events["failed:suppress-complaint"] == 1
    assert counts["opened"] == counts["clicked"] == counts["complained"] == 0
    assert report["rates"]["delivered"] == 0.4 and report["rates"]["failed_permanently"] == 0.6
    assert report["window"] == {"duration": "1d"}
    [bounced] = report["domain_bounce_classes"]
    assert bounced["bounced"] == 1 and bounced["reason"]


def test_campaign_report_reports_denied_parts_as_unavailable(tmp_path):
    mg = Toolkit(sandbox=True, policy=Policy.build(exclude_tools="get_bounce_stats"))
    try:
        _campaign(mg)
        report = mg.call("campaign_report", tag=TAG, domain=D)
        assert report["counts"]["accepted"] == 5
        assert "get_bounce_stats" in report["domain_bounce_classes"]["unavailable"]
        blind = Toolkit(sandbox=True, policy=Policy.build(exclude_tools="get_metrics"))
        try:
            out = blind.call("campaign_report", tag=TAG)
        finally:
            blind.close()
        assert "get_metrics" in out["counts"]["unavailable"] and "rates" not in out
        assert "unavailable" in out["failure_reasons"] and "domain_bounce_classes" not in out
    finally:
        mg.close()


def test_campaign_report_without_deliveries_has_no_rates_to_divide(sandbox_mg):
    report = sandbox_mg.call("campaign_report", tag="never-used")
    assert report["counts"]["accepted"] == 0 and set(report["rates"].values()) == {None}
    assert report["window"] == {"duration": "7d"}


def test_campaign_report_dry_run_sends_nothing(dry):
    out = dry.dry_run("campaign_report", tag=TAG, duration="30d")
    assert out["composite"] == "campaign_report" and out["arguments"] == {"tag": TAG, "duration": "30d"}
