"""Fuzz every registered operation with bad arguments, at any size, and print a summary table.

The same generator as tests/reliability/test_bad_input.py (cases built from each tool's schema:
wrong types, missing and unknown fields, oversize and out-of-range values, null, non-objects), plus
random JSON in random fields. Each bad call must raise InvalidArguments naming the field, send
nothing, and keep its message one short line; random calls must end in a result or an MgToolsError.

    python bench/fuzz_inputs.py --examples 2000            # per area
    python bench/fuzz_inputs.py --examples 500 --areas messages,domains --seed 7

Nothing leaves the process: requests go to a recording mock transport. Exit status 1 if any case
failed (the first failures are printed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mg_tools import InvalidArguments, MgToolsError  # noqa: E402
from mg_tools.errors import _one_line  # noqa: E402
from tests.reliability.inputs import KINDS, bad_calls, fields_of, json_values, names_field  # noqa: E402
from tests.reliability.support import OPERATIONS, REGISTRY, Recorder, recording_toolkit  # noqa: E402


def check_bad(toolkit, recorder, case) -> str | None:
    """None if the bad call was refused properly, else what went wrong."""
    try:
        toolkit.run(toolkit.execute(case.op.name, case.arguments))
    except InvalidArguments as exc:
        if recorder.requests:
            return "a refused call sent a request"
        if not names_field(exc.errors, case.field):
            return f"the error does not name {case.field!r}: {exc.message[:200]}"
        if case.field and _one_line(case.field, 100).removesuffix("...") not in exc.message:
            return f"the message does not name {case.field!r}"
        if "\n" in exc.message or len(exc.message) >= 4000:
            return "the message is not one short line"
        return None
    except Exception as exc:
        return f"{type(exc).__name__} instead of InvalidArguments: {str(exc)[:200]}"
    return "accepted"


def check_random(toolkit, recorder, op, arguments) -> str | None:
    try:
        toolkit.run(toolkit.execute(op.name, arguments))
    except InvalidArguments:
        if recorder.requests:
            return "a refused call sent a request"
    except MgToolsError:
        pass
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None


def run_area(area: str, examples: int, seed_value: int, toolkit, recorder) -> tuple[Counter, list[str], int]:
    ops = [op for op in OPERATIONS if op.area == area]
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    config = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    @seed(seed_value)
    @config
    @given(case=bad_calls(ops))
    def bad(case) -> None:
        recorder.requests.clear()
        problem = check_bad(toolkit, recorder, case)
        kinds[case.kind] += 1
        if problem:
            failures.append(f"{case!r}: {problem}")

    @seed(seed_value)
    @config
    @given(data=st.data())
    def arbitrary(data) -> None:
        recorder.requests.clear()
        op = data.draw(st.sampled_from(ops))
        names = [f.name for f in fields_of(op)]
        chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=6) if names else st.just([]))
        arguments = {n: data.draw(json_values) for n in chosen}
        problem = check_random(toolkit, recorder, op, arguments)
        kinds["random"] += 1
        if problem:
            failures.append(f"{op.name} {str(arguments)[:200]}: {problem}")

    bad()
    arbitrary()
    return kinds, failures, len(ops)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="bad calls per area (and as many random ones)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (same seed, same cases)")
    parser.add_argument("--areas", help="comma-separated areas (default: all)")
    parser.add_argument("--show", type=int, default=10, help="failures to print")
    args = parser.parse_args(argv)

    areas = [a.strip() for a in args.areas.split(",")] if args.areas else list(REGISTRY.areas)
    unknown = set(areas) - set(REGISTRY.areas)
    if unknown:
        parser.error(f"unknown areas: {', '.join(sorted(unknown))}; known: {', '.join(REGISTRY.areas)}")
    recorder = Recorder()
    toolkit = recording_toolkit(recorder, file_roots=[ROOT / "bench" / "no-files-here"])
    columns = [*KINDS, "random"]
    header = f"{'area':<14}{'ops':>4}" + "".join(f"{k:>11}" for k in columns) + f"{'failures':>10}{'seconds':>9}"
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    all_failures: list[str] = []
    ops_total = 0
    started_all = time.monotonic()
    for area in areas:
        started = time.monotonic()
        kinds, failures, ops = run_area(area, args.examples, args.seed, toolkit, recorder)
        totals.update(kinds)
        all_failures += failures
        ops_total += ops
        print(
            f"{area:<14}{ops:>4}"
            + "".join(f"{kinds[k]:>11}" for k in columns)
            + f"{len(failures):>10}{time.monotonic() - started:>9.1f}",
            flush=True,
        )
    print("-" * len(header))
    print(
        f"{'total':<14}{ops_total:>4}"
        + "".join(f"{totals[k]:>11}" for k in columns)
        + f"{len(all_failures):>10}{time.monotonic() - started_all:>9.1f}"
    )
    print(
        f"\n{sum(totals.values())} calls ({sum(totals.values()) - totals['random']} bad, {totals['random']} "
        f"random), {len(all_failures)} failures"
    )
    toolkit.close()
    for failure in all_failures[: args.show]:
        print("FAIL", failure)
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main())
