import pytest

from mg_tools import InvalidArguments, Toolkit
from mg_tools.results import DEFAULT_BUDGET, json_text
from mg_tools.types import STATS_NARROW_HINT

D = "mg.example.com"


def _send(mg, *recipients, tags=("spring",)):
    for to in recipients:
        mg.call("send_message", domain=D, sender=f"shop@{D}", to=[to], subject="Hi", text="Hi", tags=list(tags))


def _total(stats, event, *path):
    """The sum over every bucket of ``stats[event][path...]`` (default: its total)."""
    out = 0
    for bucket in stats:
        value = bucket[event]
        for key in path or ("total",):
            value = value[key]
        out += value
    return out


@pytest.mark.vcr
def test_get_account_stats(mg):
    mg.call("add_bounce", domain=D, address="gone@example.com")
    _send(mg, "ann@example.com", "gone@example.com")
    out = mg.call("get_account_stats", events=["accepted", "delivered", "failed"], duration="1d", resolution="hour")
    assert out["resolution"] == "hour" and 24 <= len(out["stats"]) <= 25
    assert _total(out["stats"], "accepted") == 2 and _total(out["stats"], "delivered") == 1
    assert _total(out["stats"], "failed", "permanent", "suppress-bounce") == 1
    assert set(out["stats"][0]) == {"time", "accepted", "delivered", "failed"}


@pytest.mark.vcr
def test_get_domain_stats(mg):
    _send(mg, "ann@example.com", "bob@example.com")
    out = mg.call("get_domain_stats", domain=D)  # the default window: 30 days by day
    assert out["resolution"] == "day" and 30 <= len(out["stats"]) <= 31
    assert set(out["stats"][-1]) == {"time", "accepted", "delivered", "failed", "opened", "clicked"}
    assert _total(out["stats"], "accepted") == 2 and _total(out["stats"], "delivered") == 2


@pytest.mark.vcr
def test_get_stats_by_domain(mg):
    _send(mg, "ann@example.com")
    [accepted] = mg.call("list_events", domain=D, event="accepted")["items"]
    out = mg.call("get_stats_by_domain", events=["accepted", "delivered"], timestamp=int(accepted["timestamp"]))
    row = next(s for s in out["stats"] if s["domain"] == D)
    assert row["accepted"]["total"] == 1 and row["delivered"]["total"] == 1


@pytest.mark.vcr
def test_get_filtered_stats(mg):
    _send(mg, "ann@example.com", "bob@example.com", tags=["news"])
    _send(mg, "cy@example.com", tags=["promo"])
    out = mg.call("get_filtered_stats", events=["accepted"], duration="1d", filter=f"domain:{D}", group="tag")
    by_tag: dict[str, int] = {}
    for item in out["stats"]:
        by_tag[item["tag"]] = by_tag.get(item["tag"], 0) + item["accepted"]["total"]
    assert by_tag == {"news": 2, "promo": 1}


@pytest.mark.vcr
def test_get_stats_by_provider(mg):
    _send(mg, "ann@example.com", "bob@example.org")
    out = mg.call("get_stats_by_provider", domain=D)
    assert out["providers"]["example.com"]["accepted"] == 1 and out["providers"]["example.org"]["accepted"] == 1


@pytest.mark.vcr
def test_get_stats_by_device(mg):
    _send(mg, "ann@example.com")
    out = mg.call("get_stats_by_device", domain=D)
    assert sum(counts["accepted"] for counts in out["devices"].values()) == 1


@pytest.mark.vcr
def test_get_stats_by_country(mg):
    _send(mg, "ann@example.com")
    out = mg.call("get_stats_by_country", domain=D)
    assert sum(counts["accepted"] for counts in out["countries"].values()) == 1


# -- wire format, defaults and the result budget -------------------------------------------------------


def test_events_repeat_and_the_window_defaults_to_30_days_by_day(dry):
    req = dry.dry_run("get_domain_stats", domain=D, events=["accepted", "failed"])
    assert req["url"].endswith(f"/v3/{D}/stats/total")
    assert req["query"] == [["event", "accepted"], ["event", "failed"], ["duration", "30d"], ["resolution", "day"]]
    given = dry.dry_run("get_account_stats", start=1_700_000_000, end="Thu, 13 Oct 2011 18:02:00 +0000")
    assert ["start", "1700000000"] in given["query"] and not any(k == "duration" for k, _ in given["query"])


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"start": 1_700_000_000, "duration": "7d"}, "start or duration"),
        ({"start": "yesterday"}, "start"),
        ({"events": []}, "events"),
        ({"events": ["bounced"]}, "events"),
        ({"resolution": "week"}, "resolution"),
        ({"duration": "7 days"}, "duration"),
    ],
)
def test_bad_windows_are_refused_before_sending(dry, arguments, field):
    with pytest.raises(InvalidArguments, match=field):
        dry.dry_run("get_account_stats", **arguments)


def _large(data):
    """``data`` with every count at six digits, as a busy account's stats have them."""
    if isinstance(data, dict):
        return {k: _large(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_large(v) for v in data]
    return 999_999 if isinstance(data, int) and not isinstance(data, bool) else data


def test_the_default_window_fits_the_result_budget_with_realistic_counts(sandbox_mg):
    _send(sandbox_mg, "ann@example.com")
    out = sandbox_mg.run(sandbox_mg.execute("get_domain_stats", {"domain": D}))
    assert out.truncated is None
    assert len(json_text(_large(out.data))) <= DEFAULT_BUDGET


def test_a_trimmed_series_says_how_to_narrow_it(tmp_path):
    mg = Toolkit(sandbox=True, budget=4000)
    try:
        result = mg.run(mg.execute("get_domain_stats", {"domain": D, "duration": "3d", "resolution": "hour"}))
    finally:
        mg.close()
    assert 0 < result.truncated["items_returned"] < 72
    assert result.truncated["hint"].startswith(STATS_NARROW_HINT)
    assert "read_result" in result.truncated["hint"]
