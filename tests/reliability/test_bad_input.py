"""Bad input: every bad call gets a clear InvalidArguments naming the field, and nothing is sent.

Cases are generated from each tool's own schema (see ``inputs.py``), for every registered operation,
at least 200 per API area; ``bench/fuzz_inputs.py`` runs the same generator at any size.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mg_tools import Access, InvalidArguments, Operation, Registry
from mg_tools.errors import _one_line
from mg_tools.policy import Decision
from mg_tools.types import Params

from .conftest import configure_logs
from .inputs import Case, _deref, bad_calls, fields_of, json_values, names_field
from .support import OPERATIONS, REGISTRY, RELIABILITY, SEND, Recorder, recording_toolkit

MIN_CASES_PER_AREA = 200
AREAS = REGISTRY.areas


def assert_clear(exc: InvalidArguments, case: Case) -> None:
    """The error names the operation and the field, in a short message with no internals."""
    assert exc.operation == case.op.name
    assert names_field(exc.errors, case.field), f"{case!r} -> {exc.message}"
    text = exc.message
    if case.field:
        assert _one_line(case.field, 100).removesuffix("...") in text
    assert len(text) < 4000, "an error message must stay short, whatever the input size"
    for internal in ("Traceback", "errors.pydantic.dev", "input_value=", "For further information", "\n"):
        assert internal not in text, f"{internal!r} leaked into: {text}"
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__), "no chained trace"
    json.dumps(exc.to_dict())  # the error itself is JSON-ready for every front end


@pytest.fixture(scope="module")
def wired(tmp_path_factory):
    recorder = Recorder()
    toolkit = recording_toolkit(recorder, file_roots=[tmp_path_factory.mktemp("files")])
    yield toolkit, recorder
    toolkit.close()


@pytest.mark.parametrize("area", AREAS)
def test_bad_calls_are_refused_clearly_and_send_nothing(area, wired):
    toolkit, recorder = wired
    ops = [op for op in OPERATIONS if op.area == area]
    kinds: Counter[str] = Counter()

    @settings(RELIABILITY, max_examples=MIN_CASES_PER_AREA + 10)
    @given(case=bad_calls(ops))
    def run(case: Case) -> None:
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute(case.op.name, case.arguments))
        assert_clear(info.value, case)
        assert recorder.requests == [], "a refused call must send nothing"
        kinds[case.kind] += 1

    run()
    assert sum(kinds.values()) >= MIN_CASES_PER_AREA, kinds
    assert {"missing", "unknown", "wrong_type", "non_object"} <= set(kinds) or not any(
        f.required for op in ops for f in fields_of(op)
    ), kinds


# -- exhaustive sweeps: every operation, every field, one case each --------------------------------------


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_field_of_every_operation(op, wired):
    toolkit, recorder = wired
    fields = fields_of(op)
    required = [f.name for f in fields if f.required]
    cases = [Case(op, "non_object", "", value) for value in ([], [{}], "{}", 7, 2.5, True)]
    cases.append(Case(op, "unknown", "not_a_field", {"not_a_field": 1}))
    cases += [Case(op, "missing", name, {}) for name in required]
    cases += [Case(op, "null", f.name, {f.name: None}) for f in fields if f.required and not f.nullable]
    cases += [
        Case(op, "wrong_type", f.name, {f.name: [[{"deep": 1}]]})
        for f in fields
        if f.schema.get("type") in ("string", "integer", "number", "boolean")
    ]
    for case in cases:
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute(op.name, case.arguments))
        assert_clear(info.value, case)
    assert recorder.requests == []


def test_missing_fields_are_all_named_at_once(wired):
    toolkit, _ = wired
    for op in OPERATIONS:
        required = [f.name for f in fields_of(op) if f.required]
        if len(required) < 2:
            continue
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute(op.name, {}))
        assert all(names_field(info.value.errors, name) for name in required), info.value.message


def test_text_that_is_not_unicode_is_refused_not_crashed_on(wired):
    """Lone surrogates pass str validation but no HTTP layer can encode them."""
    toolkit, recorder = wired
    for op in OPERATIONS:
        for field in fields_of(op):
            if field.schema.get("type") != "string":
                continue
            with pytest.raises(InvalidArguments) as info:
                toolkit.run(toolkit.execute(op.name, {field.name: "bad \ud800 text"}))
            assert names_field(info.value.errors, field.name), info.value.message
    assert recorder.requests == []


def test_deeply_nested_arguments_are_refused_not_crashed_on(wired):
    toolkit, recorder = wired
    deep: list = []
    for _ in range(2_500):  # deeper than Python's recursion limit (1000)
        deep = [deep]
    for op in OPERATIONS:
        for field in fields_of(op)[:1]:
            with pytest.raises(InvalidArguments):
                toolkit.run(toolkit.execute(op.name, {field.name: deep, "no_such_field": 1}))
    assert recorder.requests == []


# -- arbitrary input never crashes -------------------------------------------------------------------------


@settings(RELIABILITY, max_examples=300)
@given(data=st.data())
def test_any_json_arguments_either_validate_or_are_refused_never_crash(data, wired):
    """Random JSON in random fields: the only outcomes are a result or InvalidArguments naming fields
    of the call (or the call as a whole), and a refused call sends nothing. Every operation is
    allowed here, so any other error (a denial, a confirmation) is a bug."""
    toolkit, recorder = wired
    assert all(toolkit.policy.decide(op) == Decision(True) for op in OPERATIONS), "every operation is allowed"
    recorder.requests.clear()
    op = data.draw(st.sampled_from(OPERATIONS), label="operation")
    names = [f.name for f in fields_of(op)]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=6) if names else st.just([]))
    arguments = {n: data.draw(json_values, label=n) for n in chosen}
    allowed = {"", *chosen, *(f.name for f in fields_of(op) if f.required)}
    try:
        toolkit.run(toolkit.execute(op.name, arguments))
    except InvalidArguments as exc:
        assert recorder.requests == []
        assert len(exc.message) < 4000 and "\n" not in exc.message
        assert exc.errors and all(loc.split(".")[0] in allowed for loc, _ in exc.errors), exc.message
    finally:
        recorder.requests.clear()


class _Rate(Params):
    """Set a rate (a float field, which no built-in operation has yet)."""

    rate: float


RATE = Operation("set_rate", "POST", "/v3/rate", _Rate, Access.WRITE, encoding="json", area="custom")


def test_numbers_that_are_not_json_are_refused(wired):
    """NaN and infinity parse from Python and lenient JSON, but no request body can carry them."""
    toolkit, recorder = wired
    custom = recording_toolkit(recorder, registry=Registry([RATE]))
    for value in (float("nan"), float("inf"), "NaN", "-Infinity"):
        with pytest.raises(InvalidArguments, match="rate"):
            custom.run(custom.execute("set_rate", {"rate": value}))
    custom.close()
    for op in OPERATIONS:
        for field in fields_of(op):
            if field.schema.get("type") not in ("number", "integer"):
                continue
            for value in (float("nan"), float("inf"), float("-inf")):
                with pytest.raises(InvalidArguments) as info:
                    toolkit.run(toolkit.execute(op.name, {field.name: value}))
                assert names_field(info.value.errors, field.name)
    assert recorder.requests == []


# -- NaN and infinity inside free-form values ------------------------------------------------------------

NON_FINITE = (float("nan"), float("inf"), float("-inf"))
finite_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)
)


def _free_form_slots(schema: Any, defs: dict[str, Any]) -> list[Callable[[Any], Any]]:
    """Ways to place a value inside the free-form parts (``Any``) of a JSON schema: each returns a
    value of the schema's shape holding the given value, with ``"k"`` as the key of any dict."""
    schema = _deref(schema, defs)
    if schema is True or (isinstance(schema, dict) and not {"type", "anyOf", "enum", "const"} & schema.keys()):
        return [lambda v: v]
    if not isinstance(schema, dict):
        return []
    out = [slot for branch in schema.get("anyOf", []) for slot in _free_form_slots(branch, defs)]
    if schema.get("type") == "object":
        for name, prop in schema.get("properties", {}).items():
            out += [lambda v, f=f, name=name: {name: f(v)} for f in _free_form_slots(prop, defs)]
        extra = schema.get("additionalProperties")
        if extra is not None and extra is not False:
            out += [lambda v, f=f: {"k": f(v)} for f in _free_form_slots(extra, defs)]
    if schema.get("type") == "array" and "items" in schema:
        out += [lambda v, f=f: [f(v)] for f in _free_form_slots(schema["items"], defs)]
    return out


def free_form_fields(op: Operation) -> list[tuple[str, Callable[[Any], Any]]]:
    full = op.params.model_json_schema(mode="validation", by_alias=False)
    defs = full.get("$defs", {})
    return [(name, slot) for name, prop in full.get("properties", {}).items() for slot in _free_form_slots(prop, defs)]


FREE_FORM_OPS = [op for op in OPERATIONS if free_form_fields(op)]


@st.composite
def buried(draw, value: float) -> Any:
    """``value`` somewhere inside a few levels of lists and objects holding other, finite values."""
    for _ in range(draw(st.integers(0, 3))):
        others = draw(st.lists(finite_scalars, max_size=2))
        if draw(st.booleans()):
            at = draw(st.integers(0, len(others)))
            value = [*others[:at], value, *others[at:]]
        else:
            value = {**{f"o{i}": v for i, v in enumerate(others)}, draw(st.sampled_from(["x", "y.z", "0"])): value}
    return value


def test_the_operations_with_free_form_fields_are_found():
    found = {(op.name, name) for op in FREE_FORM_OPS for name, _ in free_form_fields(op)}
    assert {
        ("send_message", "variables"),
        ("send_message", "template_variables"),
        ("send_message", "recipient_variables"),
        ("add_list_members", "members"),
    } <= found, found


@pytest.mark.parametrize("op", FREE_FORM_OPS, ids=lambda op: op.name)
def test_nan_and_infinity_in_free_form_values_are_refused(op, wired):
    toolkit, recorder = wired
    recorder.requests.clear()

    @settings(RELIABILITY, max_examples=30)
    @given(data=st.data())
    def run(data) -> None:
        name, slot = data.draw(st.sampled_from(free_form_fields(op)), label="field")
        value = data.draw(buried(data.draw(st.sampled_from(NON_FINITE))), label="value")
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute(op.name, {name: slot(value)}))
        refused = [loc for loc, problem in info.value.errors if "finite number" in problem]
        assert refused and all(names_field([(loc, "")], name) for loc in refused), info.value.message
        assert recorder.requests == []

    run()


@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
def test_a_valid_call_with_nan_in_its_variables_sends_nothing(value, wired):
    toolkit, recorder = wired
    recorder.requests.clear()
    toolkit.run(toolkit.execute("send_message", {**SEND, "variables": {"n": 1.5}}))
    assert len(recorder.requests) == 1, "the same call with a finite number is sent"
    recorder.requests.clear()
    cases = [
        ({"variables": {"n": value}}, "variables.n"),
        ({"template_variables": {"a": [1, {"b": value}]}}, "template_variables.a.1.b"),
        ({"recipient_variables": {"bob@example.com": {"n": value}}}, "recipient_variables.bob@example.com.n"),
    ]
    for extra, where in cases:
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute("send_message", {**SEND, **extra}))
        assert [field for field, _ in info.value.errors] == [where]
    members = [{"address": "a@example.com", "vars": {"score": value}}]
    with pytest.raises(InvalidArguments, match="members.0.vars.score: must be a finite number"):
        toolkit.run(toolkit.execute("add_list_members", {"list_address": "l@example.com", "members": members}))
    assert recorder.requests == []


# -- line breaks and control characters in what becomes a mail header ------------------------------------

BREAKS = ["\r", "\n", "\r\n", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


def _inject(field: str, bad: str) -> dict[str, Any]:
    """send_message arguments, valid but for ``bad`` in ``field`` (a space keeps every one valid)."""
    text = f"x{bad}Bcc: everyone@example.com"
    values = {
        "subject": text,
        "sender": f"Ann <ann@mg.example.com>{bad}Bcc: x@example.com",
        "to": ["bob@example.com", f"eve@example.com{bad}"],
        "cc": [f"c@example.com{bad}"],
        "bcc": [f"{bad}d@example.com"],
        "template_version": text,
        "tags": ["ok", text],
        "delivery_time": f"Thu, 13 Oct 2011 18:02:00 +0000{bad}Bcc: x@example.com",
        "time_zone_localize": text,
        "secondary_dkim": text,
        "secondary_dkim_public": text,
        "sending_ip": text,
        "sending_ip_pool": text,
        "archive_to": text,
        "suppress_headers": text,
        "headers": {"Reply-To": f"a@example.com{bad}Bcc: x@example.com"},
        "variables": {f"id{bad}X": 1},
    }
    if field == "template_name":
        return {**{k: v for k, v in SEND.items() if k != "text"}, "template_name": text}
    if field == "header_name":
        return {**SEND, "headers": {f"X-A{'' if bad == ' ' else bad}Bcc": "x"}}
    return {**SEND, field: values[field]}


HEADER_FIELDS = [
    "subject",
    "sender",
    "to",
    "cc",
    "bcc",
    "template_name",
    "template_version",
    "tags",
    "delivery_time",
    "time_zone_localize",
    "secondary_dkim",
    "secondary_dkim_public",
    "sending_ip",
    "sending_ip_pool",
    "archive_to",
    "suppress_headers",
    "headers",
    "header_name",
    "variables",
]


@pytest.mark.parametrize("field", HEADER_FIELDS)
def test_line_breaks_in_header_fields_are_refused_and_nothing_is_sent(field, wired):
    toolkit, recorder = wired
    recorder.requests.clear()
    toolkit.run(toolkit.execute("send_message", _inject(field, " ")))
    assert len(recorder.requests) == 1, "the same call without a line break is sent"
    recorder.requests.clear()
    for bad in BREAKS:
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute("send_message", _inject(field, bad)))
        shown = "headers" if field == "header_name" else field
        assert names_field(info.value.errors, shown), (repr(bad), info.value.message)
        assert recorder.requests == [], f"{field} with {bad!r} was sent"


def test_the_other_header_bound_fields_refuse_line_breaks_too(wired):
    toolkit, recorder = wired
    recorder.requests.clear()
    calls = [
        (
            "send_mime_message",
            {
                "domain": "mg.example.com",
                "to": ["a@example.com\r\nBcc: x@example.com"],
                "mime": "Subject: hi\r\n\r\nbody",
            },
            "to",
        ),
        (
            "create_template",
            {
                "domain": "mg.example.com",
                "template_name": "welcome",
                "template": "<p>hi</p>",
                "headers": {"Subject": "Hi\r\nBcc: x@example.com"},
            },
            "headers",
        ),
    ]
    for name, arguments, field in calls:
        with pytest.raises(InvalidArguments) as info:
            toolkit.run(toolkit.execute(name, arguments))
        assert names_field(info.value.errors, field), info.value.message
    assert recorder.requests == []


def test_a_tab_and_unicode_text_in_a_header_are_sent(wired):
    toolkit, recorder = wired
    recorder.requests.clear()
    toolkit.run(
        toolkit.execute(
            "send_message", {**SEND, "subject": "Grüße\tund \u202e Ünïcödé \U0001f600", "headers": {"X-Note": "a\tb"}}
        )
    )
    assert len(recorder.requests) == 1 and "Gr%C3%BC%C3%9Fe%09und" in recorder.requests[0].content.decode()
    recorder.requests.clear()


# -- the CLI reports a bad call in one line, with no traceback --------------------------------------------


@pytest.fixture
def cli(monkeypatch, capsys):
    from mg_tools import cli as cli_module
    from mg_tools import toolkit as toolkit_module

    # Reuse the loaded registry: loading the plugins for each of ~100 calls would dominate the run.
    monkeypatch.setattr(toolkit_module.Registry, "from_plugins", classmethod(lambda cls, pm: REGISTRY))
    monkeypatch.setattr(toolkit_module, "make_plugin_manager", lambda **kw: None)
    for name in ("MAILGUN_API_KEY", "MAILGUN_API_BASE_URL", "MG_TOOLS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    # Every operation allowed: a tool the policy hides is refused for that before its arguments are read.
    monkeypatch.setenv("MG_TOOLS_GRANTS", ",".join(["*:*", *sorted({op.area for op in OPERATIONS if op.sensitive})]))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli_module.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    configure_logs()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_the_cli_reports_bad_arguments_in_one_line(op, cli):
    for arguments, field in (({"no_such_field": 1}, "no_such_field"), ([], None)):
        code, out, err = cli("call", op.name, "--args", json.dumps(arguments), "--dry-run")
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("mg-tools: invalid arguments for "), err
        assert "Traceback" not in err
        if field:
            assert field in err
