import httpx
import pytest

from mg_tools import InvalidArguments, Policy, Toolkit
from mg_tools.errors import BadRequest, NotFound
from mg_tools.sandbox.areas.ips import DAY, SEED_DEDICATED, SHARED_IP, WARMUP_LIMITS

D = "mg.example.com"
IP1, IP2 = SEED_DEDICATED
UNKNOWN = "203.0.113.9"


def domains_of(mg, ip):
    return [item["domain"] for item in mg.call("list_ip_domains", ip=ip)["items"]]


def advance(mg, recording, seconds):
    """Move the sandbox clock on (only while recording: a replay answers from the recording)."""
    if recording:
        sb = mg.sandbox_app.sb
        start = sb.now()
        sb.clock = lambda: start + seconds


# -- account IPs -----------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_ips(mg):
    out = mg.call("list_ips")
    assert out["items"] == [SHARED_IP, IP1, IP2]
    assert out["assignable_to_pools"] == [IP1, IP2]
    assert mg.call("list_ips", dedicated=True)["items"] == [IP1, IP2]


@pytest.mark.vcr
def test_get_ip(mg):
    out = mg.call("get_ip", ip=IP1)
    assert (out["ip"], out["dedicated"]) == (IP1, True)
    assert mg.call("get_ip", ip=SHARED_IP)["dedicated"] is False
    with pytest.raises(NotFound, match="IP not found"):
        mg.call("get_ip", ip=UNKNOWN)


@pytest.mark.vcr
def test_list_ip_domains(mg):
    mg.call("create_domain", domain="one.example.com")
    mg.call("create_domain", domain="two.example.org")
    first = mg.run(mg.execute("list_ip_domains", {"ip": SHARED_IP, "limit": 2}))
    assert [i["domain"] for i in first.data["items"]] == [D, "one.example.com"] and first.next_cursor == "2"
    rest = mg.run(mg.execute("list_ip_domains", {"ip": SHARED_IP, "limit": 2, "cursor": first.next_cursor}))
    assert [i["domain"] for i in rest.data["items"]] == ["two.example.org"] and rest.next_cursor is None
    assert [i["domain"] for i in mg.call("list_ip_domains", ip=SHARED_IP, search="org")["items"]] == ["two.example.org"]


@pytest.mark.vcr
def test_assign_ip_to_all_domains(mg):
    assert domains_of(mg, IP1) == []
    assert mg.call("assign_ip_to_all_domains", ip=IP1)["message"] == "started"
    assert mg.call("list_ip_domains", ip=IP1)["items"] == [{"ips": [SHARED_IP, IP1], "domain": D}]


@pytest.mark.vcr
def test_remove_ip_from_all_domains(mg):
    mg.call("assign_ip_to_all_domains", ip=IP1)
    assert mg.call("remove_ip_from_all_domains", ip=IP1, replacement_ip=IP2)["message"] == "started"
    assert domains_of(mg, IP1) == []
    assert domains_of(mg, IP2) == [D]
    with pytest.raises(BadRequest, match="does not belong to the account"):
        mg.call("remove_ip_from_all_domains", ip=IP2, replacement_ip=UNKNOWN)


def test_remove_ip_from_all_domains_sends_the_replacement_as_alternative(dry):
    out = dry.run(dry.execute("remove_ip_from_all_domains", {"ip": IP1, "alternative": IP2}, dry_run=True)).data
    assert out["method"] == "DELETE" and out["url"].endswith(f"/v3/ips/{IP1}/domains")
    assert out["query"] == [["alternative", IP2]]


@pytest.mark.vcr
def test_set_ip_band(mg):
    assert mg.call("set_ip_band", ip=IP1, ip_band="transactional") == {"message": "success"}
    assert mg.call("get_ip", ip=IP1)["ip_band"] == "transactional"
    with pytest.raises(BadRequest, match="not a dedicated IP"):
        mg.call("set_ip_band", ip=SHARED_IP, ip_band="transactional")


@pytest.mark.vcr
def test_count_available_ips(mg):
    assert mg.call("count_available_ips")["allowed"]["dedicated"] == 3


@pytest.mark.vcr
def test_request_ip(mg):
    assert mg.call("request_ip") == {"message": "success"}
    assert len(mg.call("list_ips", dedicated=True)["items"]) == 3
    assert mg.call("count_available_ips")["allowed"]["dedicated"] == 2


@pytest.mark.vcr
def test_remove_domain_ip(mg):
    mg.call("assign_ip_to_all_domains", ip=IP1)
    assert mg.call("remove_domain_ip", domain=D, ip=IP1) == {"message": "success"}
    assert domains_of(mg, IP1) == []
    with pytest.raises(NotFound, match=f"IP {IP1} is not assigned"):
        mg.call("remove_domain_ip", domain=D, ip=IP1)
    mg.call("assign_ip_to_all_domains", ip=IP2)
    assert mg.call("remove_domain_ip", domain=D, ip="all") == {"message": "success"}
    assert domains_of(mg, IP2) == [] and domains_of(mg, SHARED_IP) == [D]


@pytest.mark.parametrize("ip", ["ip_pool", "10.0.0", "1.2.3.4/32", "../ips"])
def test_remove_domain_ip_takes_an_ip_or_all(dry, ip):
    with pytest.raises(InvalidArguments, match="must be an IP address or 'all'"):
        dry.run(dry.execute("remove_domain_ip", {"domain": D, "ip": ip}, dry_run=True))


def test_ip_arguments_are_normalised(dry):
    out = dry.run(dry.execute("get_ip", {"ip": "2001:DB8:0:0::1"}, dry_run=True)).data
    assert out["url"].endswith("/v3/ips/2001%3Adb8%3A%3A1")
    with pytest.raises(InvalidArguments, match="must be an IPv4 or IPv6 address"):
        dry.run(dry.execute("get_ip", {"ip": "example.com"}, dry_run=True))


# -- warmups ---------------------------------------------------------------------------------------


@pytest.mark.vcr
def test_list_ip_warmups(mg):
    mg.call("start_ip_warmup", ip=IP1)
    mg.call("start_ip_warmup", ip=IP2)
    first = mg.run(mg.execute("list_ip_warmups", {"limit": 1}))
    assert [w["ip"] for w in first.data["items"]] == [IP1] and first.next_cursor
    assert first.data["items"][0]["stage_volume_limit"] == WARMUP_LIMITS[0]
    rest = mg.run(mg.execute("list_ip_warmups", {"limit": 1, "cursor": first.next_cursor}))
    assert [w["ip"] for w in rest.data["items"]] == [IP2]


@pytest.mark.vcr
def test_get_ip_warmup(mg):
    mg.call("start_ip_warmup", ip=IP1)
    details = mg.call("get_ip_warmup", ip=IP1)["details"]
    assert (details["stage"], details["total_stages"], details["stage_limit"]) == (1, 15, WARMUP_LIMITS[0])
    with pytest.raises(NotFound, match=f"no warmup in progress for IP {IP2}"):
        mg.call("get_ip_warmup", ip=IP2)


@pytest.mark.vcr
def test_start_ip_warmup(mg):
    assert mg.call("start_ip_warmup", ip=IP1) == {"message": "success"}
    assert [w["ip"] for w in mg.call("list_ip_warmups")["items"]] == [IP1]
    with pytest.raises(BadRequest, match="already warming up"):
        mg.call("start_ip_warmup", ip=IP1)
    with pytest.raises(BadRequest, match="not a dedicated IP"):
        mg.call("start_ip_warmup", ip=SHARED_IP)


@pytest.mark.vcr
def test_cancel_ip_warmup(mg):
    mg.call("start_ip_warmup", ip=IP1)
    assert mg.call("cancel_ip_warmup", ip=IP1) == {"message": "success"}
    assert mg.call("list_ip_warmups")["items"] == []
    with pytest.raises(NotFound, match="no warmup in progress"):
        mg.call("cancel_ip_warmup", ip=IP1)


# -- check_ip_health -------------------------------------------------------------------------------


def _setup_health(mg, recording):
    """IP1 warming (stage 3) in a pool linked to D; IP2 unused."""
    domain_id = mg.call("get_domain", domain=D)["domain"]["id"]
    pool_id = mg.call("create_ip_pool", name="hot", description="warming", ips=[IP1])["pool_id"]
    mg.call("update_ip_pool", pool_id=pool_id, link_domains=[domain_id])
    mg.call("start_ip_warmup", ip=IP1)
    advance(mg, recording, 2 * DAY + 60)
    return pool_id


@pytest.mark.vcr
def test_check_ip_health(mg, recording):
    pool_id = _setup_health(mg, recording)
    out = mg.call("check_ip_health")
    assert "unavailable" not in out
    warming, unused = out["ips"]
    assert warming["ip"] == IP1 and warming["pools"] == [f"hot ({pool_id})"] and warming["domains"] == [D]
    assert warming["warmup"]["status"] == "in progress" and warming["warmup"]["stage"] == 3
    assert warming["notes"] == [
        f"warmup in progress: stage 3 of 15; keep volume under {WARMUP_LIMITS[2]} messages a day "
        "(17 an hour); Mailgun defers what goes over"
    ]
    assert unused["ip"] == IP2 and unused["warmup"] == {"status": "none"}
    assert unused["notes"] == ["IP in no pool and assigned to no domain: unused"]
    shared = mg.call("check_ip_health", ip=SHARED_IP)["ips"]
    assert [s["notes"] for s in shared] == [["shared IP: Mailgun manages its reputation"]]
    with pytest.raises(NotFound, match="IP not found"):
        mg.call("check_ip_health", ip=UNKNOWN)


@pytest.fixture
def guarded(request):
    """A sandbox toolkit whose policy denies the tools the test names."""
    toolkit = Toolkit(sandbox=True, policy=Policy(deny=request.param))
    yield toolkit
    toolkit.close()


@pytest.mark.parametrize("guarded", [("list_ip_pools", "get_ip_warmup")], indirect=True)
def test_check_ip_health_reports_denied_parts_as_unavailable(guarded):
    out = guarded.call("check_ip_health", ip=IP1)
    assert set(out["unavailable"]) == {"pools", f"warmup {IP1}"}
    assert "denied" in out["unavailable"]["pools"] and out["unavailable"]["pools"].startswith("list_ip_pools:")
    (entry,) = out["ips"]
    assert "warmup" not in entry and entry["domains"] == []
    assert entry["pools"] == []  # the dynamic pools still answered: IP1 is in none
    assert entry["notes"][0].startswith("warmup status unavailable: get_ip_warmup:")


@pytest.mark.parametrize("guarded", [("list_ips",)], indirect=True)
def test_check_ip_health_without_the_ip_list(guarded):
    out = guarded.call("check_ip_health")
    assert out["ips"] == [] and set(out["unavailable"]) == {"list_ips"}
    assert out["notes"][0].startswith("cannot list the IPs: list_ips:")


@pytest.mark.parametrize("guarded", [("ip_pools:*",)], indirect=True)
def test_check_ip_health_without_any_pool_lookup(guarded):
    out = guarded.call("check_ip_health", ip=IP2)
    assert set(out["unavailable"]) == {"pools", "dynamic_pools"}
    (entry,) = out["ips"]
    assert "pools" not in entry and "pools unavailable: see unavailable" in entry["notes"]


def test_check_ip_health_reports_a_failing_lookup_as_unavailable():
    def mailgun(request):
        answers = {
            f"/v3/ips/{IP1}": (200, {"ip": IP1, "dedicated": True}),
            "/v3/ip_pools": (403, {"message": "DIPPs feature is not enabled"}),
            "/v3/dynamic_pools": (404, {"Description": "dynamic IP pools are not configured"}),
            f"/v3/ips/{IP1}/domains": (200, {"items": [], "total_count": 0}),
        }
        status, body = answers.get(request.url.path, (404, {"message": "no warmup in progress"}))
        return httpx.Response(status, json=body)

    toolkit = Toolkit(api_key="fake-key", transport=httpx.MockTransport(mailgun))
    try:
        out = toolkit.call("check_ip_health", ip=IP1)
    finally:
        toolkit.close()
    assert list(out["unavailable"]) == ["pools"] and "DIPPs feature is not enabled" in out["unavailable"]["pools"]
    (entry,) = out["ips"]
    assert entry["warmup"] == {"status": "none"} and entry["pools"] == [] and entry["domains"] == []
    assert entry["notes"] == ["IP in no pool and assigned to no domain: unused"]
