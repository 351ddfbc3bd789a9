"""Bad input: every bad call gets a clear InvalidArguments naming the field, and nothing is sent.

Cases are generated from each tool's own schema (see ``inputs.py``), for every registered operation,
at least 200 per API area; ``bench/fuzz_inputs.py`` runs the same generator at any size.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mg_tools import Access, InvalidArguments, MgToolsError, Operation, Registry
from mg_tools.types import Params
from mg_tools.errors import _one_line

from .conftest import configure_logs
from .inputs import Case, bad_calls, fields_of, json_values, names_field
from .support import OPERATIONS, REGISTRY, RELIABILITY, Recorder, recording_toolkit

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
        f.required for op in ops for f in fields_of(op)), kinds


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
    cases += [Case(op, "wrong_type", f.name, {f.name: [[{"deep": 1}]]}) for f in fields
              if f.schema.get("type") in ("string", "integer", "number", "boolean")]
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
    """Random JSON in random fields: the only outcomes are a result or an MgToolsError, and a
    refused call sends nothing."""
    toolkit, recorder = wired
    recorder.requests.clear()
    op = data.draw(st.sampled_from(OPERATIONS), label="operation")
    names = [f.name for f in fields_of(op)]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=6) if names else st.just([]))
    arguments = {n: data.draw(json_values, label=n) for n in chosen}
    try:
        toolkit.run(toolkit.execute(op.name, arguments))
    except InvalidArguments as exc:
        assert recorder.requests == []
        assert len(exc.message) < 4000 and "\n" not in exc.message
    except MgToolsError:
        pass
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


# -- the CLI reports a bad call in one line, with no traceback --------------------------------------------

@pytest.fixture
def cli(monkeypatch, capsys):
    from mg_tools import cli as cli_module, toolkit as toolkit_module

    # Reuse the loaded registry: loading the plugins for each of ~100 calls would dominate the run.
    monkeypatch.setattr(toolkit_module.Registry, "from_plugins", classmethod(lambda cls, pm: REGISTRY))
    monkeypatch.setattr(toolkit_module, "make_plugin_manager", lambda **kw: None)
    for name in ("MAILGUN_API_KEY", "MAILGUN_API_BASE_URL", "MG_TOOLS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)

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
