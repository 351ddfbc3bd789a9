"""Fault injection: rules at ``/_sandbox/faults`` and the ``X-Sandbox-Fault`` header are validated;
a malformed one is a 400 that leaves the rules as they were, and never breaks a later request."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

FAULTS = "/_sandbox/faults"
PROBE = "/v4/domains"
MAX_DELAY = 30  # seconds, the documented limit
SETTINGS = settings(
    max_examples=75,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=["function_scoped_fixture", "too_slow"],
)


@pytest.fixture
def slept(sb) -> list[float]:
    """The delays injected faults asked for; nothing actually waits."""
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    sb.sleep = sleep
    return delays


def _post_rule(client, body):
    content = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(FAULTS, content=content, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"status": 503, "times": "x"}, "'times': Input should be a valid integer"),
        ({"status": 503, "times": "3"}, "'times': Input should be a valid integer"),
        ({"status": 503, "times": -1}, "'times': Input should be greater than or equal to 1"),
        ({"status": 503, "times": 0}, "'times': Input should be greater than or equal to 1"),
        ([1], "a rule is a JSON object, not list"),
        ("status", "a rule is a JSON object, not str"),
        (3, "a rule is a JSON object, not int"),
        (None, "a rule is a JSON object, not NoneType"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        ({"status": 503, "colour": "red"}, "unknown field 'colour' (known: "),
        ({"status": "503"}, "'status': Input should be a valid integer"),
        ({"status": True}, "'status': Input should be a valid integer"),
        ({"status": 503.5}, "'status': Input should be a valid integer"),
        ({"status": 99}, "'status': Input should be greater than or equal to 400"),
        ({"status": 600}, "'status': Input should be less than or equal to 599"),
        ({"status": 503, "retry_after": -1}, "'retry_after': Input should be greater than or equal to 0"),
        ({"status": 503, "retry_after": "soon"}, "'retry_after': Input should be a valid number"),
        ({"delay": -0.5}, "'delay': Input should be greater than or equal to 0"),
        ({"delay": MAX_DELAY + 1}, f"'delay': Input should be less than or equal to {MAX_DELAY:g}"),
        ({"delay": "x"}, "'delay': Input should be a valid number"),
        ({"drop": "sideways"}, "'drop': Input should be 'before' or 'after'"),
        ({"drop": True}, "'drop': Input should be 'before' or 'after'"),
        ({"status": 503, "path": "("}, "'path': Value error, not a valid regular expression"),
        ({"status": 503, "path": 5}, "'path': Input should be a valid string"),
        ({"status": 503, "method": 5}, "'method': Input should be a valid string"),
        ({"status": 503, "method": "PO ST"}, "'method': String should match pattern"),
        ({"status": 503, "message": ["x"]}, "'message': Input should be a valid string"),
        ({}, "a fault needs 'status', 'delay' or 'drop'"),
        ({"times": 2}, "a fault needs 'status', 'delay' or 'drop'"),
        ({"status": 503, "drop": "after"}, "'status' and 'drop' exclude each other"),
        ({"delay": 1, "retry_after": 1}, "'retry_after' and 'message' only go with 'status'"),
    ],
)
def test_malformed_rule_is_400_and_changes_nothing(client, body, needle):
    _post_rule(client, {"status": 429, "path": "^/nowhere$", "times": 2})
    before = client.get(FAULTS).json()
    response = _post_rule(client, body)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith("invalid fault rule: ") and needle in message, message
    assert client.get(FAULTS).json() == before
    assert client.get(PROBE).status_code == 200
    assert client.get(PROBE).status_code == 200


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("status=abc", "'status': Input should be a valid integer"),
        ("status=99", "'status': Input should be greater than or equal to 400"),
        ("status=", "'status': Input should be a valid integer"),
        ("delay=-1", "'delay': Input should be greater than or equal to 0"),
        ("delay=nan", "'delay': Input should be a finite number"),
        ("delay=1e9", "'delay': Input should be less than or equal to"),
        ("status=503; retry-after=inf", "'retry_after': Input should be a finite number"),
        ("drop=sideways", "'drop': Input should be 'before' or 'after'"),
        ("times=2", "unknown field 'times'"),
        ("colour=red; status=503", "unknown field 'colour'"),
        ("=503", "has no name"),
        ("status=500; status=503", "'status' is given twice"),
        ("status=503; drop", "'status' and 'drop' exclude each other"),
        ("retry-after=2", "a fault needs 'status', 'delay' or 'drop'"),
    ],
)
def test_malformed_fault_header_is_400_and_the_next_request_works(client, sb, header, needle):
    response = client.get(PROBE, headers={"X-Sandbox-Fault": header})
    assert response.status_code == 400, response.text
    assert response.headers["X-Mailgun-Sandbox"] == "true"
    message = response.json()["message"]
    assert message.startswith("invalid X-Sandbox-Fault header: ") and needle in message, message
    assert client.get(PROBE).status_code == 200
    assert sb.faults == []


def test_valid_header_faults_still_work(client, slept):
    answered = client.get(PROBE, headers={"X-Sandbox-Fault": "status=503; retry-after=1"})
    assert answered.status_code == 503 and answered.headers["Retry-After"] == "1"
    assert answered.json() == {"message": "Service unavailable"}
    delayed = client.get(PROBE, headers={"X-Sandbox-Fault": "delay=0.25"})
    assert delayed.status_code == 200 and slept == [0.25]
    assert client.get(PROBE, headers={"X-Sandbox-Fault": " "}).status_code == 200
    with pytest.raises(ConnectionAbortedError):
        client.get(PROBE, headers={"X-Sandbox-Fault": "drop"})


def test_valid_rule_is_listed_normalised_and_used_up(client):
    response = _post_rule(
        client,
        {
            "method": "get",
            "path": "^/v4/domains$",
            "status": 429,
            "retry_after": 1.5,
            "times": 2,
            "message": "slow down",
        },
    )
    assert response.status_code == 200, response.text
    listed = {
        "method": "GET",
        "path": "^/v4/domains$",
        "status": 429,
        "retry_after": 1.5,
        "times": 2,
        "message": "slow down",
    }
    assert response.json()["fault"] == listed
    assert client.get(FAULTS).json() == {"items": [listed]}
    assert client.post(PROBE).status_code != 429, "another method does not match"
    for _ in range(2):
        hit = client.get(PROBE)
        assert hit.status_code == 429 and hit.headers["Retry-After"] == "1.5"
        assert hit.json() == {"message": "slow down"}
    assert client.get(FAULTS).json() == {"items": []}
    assert client.get(PROBE).status_code == 200


def test_rule_defaults(client):
    assert _post_rule(client, {"status": 500}).json()["fault"] == {
        "method": "*",
        "path": ".*",
        "status": 500,
        "times": 1,
    }


# -- hypothesis: no garbage ever breaks a later request -------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=8)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = ["method", "path", "status", "retry_after", "delay", "drop", "message", "times", "retry-after", "nope"]
_NEAR_VALUES = (
    _SCALARS
    | st.sampled_from(["*", "GET", "before", "after", "(", ".*", "^/v4", "503", "nan"])
    | st.integers(398, 601)
    | st.floats(-1, MAX_DELAY + 1)
)
_NEAR_RULES = st.dictionaries(st.sampled_from(_FIELDS), _NEAR_VALUES, max_size=5)
_GARBAGE = (
    _NEAR_RULES.map(json.dumps)
    | _JSON.map(lambda v: json.dumps(v, allow_nan=True))
    | st.binary(max_size=20).map(lambda b: b.decode("latin-1"))
)


def _probe(client) -> int | None:
    """The status of one ordinary request (None when an injected fault dropped the connection)."""
    try:
        response = client.get(PROBE)
    except ConnectionAbortedError:
        return None
    assert response.headers["content-type"] == "application/json"
    return response.status_code


@SETTINGS
@given(body=_GARBAGE)
def test_no_posted_rule_breaks_later_requests(client, slept, body):
    client.delete(FAULTS)
    response = client.post(
        FAULTS, content=body.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["message"].startswith("invalid fault rule: ")
        assert client.get(FAULTS).json() == {"items": []}
        assert _probe(client) == 200
        return
    rule = response.json()["fault"]
    status = _probe(client)
    assert status in (None, 200, rule.get("status")), (rule, status)
    client.delete(FAULTS)
    assert _probe(client) == 200


_HEADER_PARTS = st.sampled_from(
    [
        "status",
        "retry-after",
        "retry_after",
        "delay",
        "drop",
        "message",
        "times",
        "x",
        "=",
        ";",
        " ",
        "503",
        "429",
        "99",
        "1.5",
        "-1",
        "nan",
        "inf",
        "after",
        "before",
        "abc",
        "",
        "0",
    ]
)


@SETTINGS
@given(header=st.lists(_HEADER_PARTS, max_size=8).map("".join))
def test_no_fault_header_breaks_the_sandbox(client, slept, header):
    try:
        response = client.get(PROBE, headers={"X-Sandbox-Fault": header})
    except ConnectionAbortedError:
        response = None
    if response is not None:
        assert response.headers["content-type"] == "application/json"
        if response.status_code == 400:
            assert response.json()["message"].startswith("invalid X-Sandbox-Fault header: ")
    assert _probe(client) == 200
