"""Bad arguments for any operation, generated from its tool schema (``mg_tools.schema.input_schema``).

Each case knows which field the error must name. Kinds:

- ``wrong_type``: a value of a JSON type the field's schema does not allow (and that pydantic does
  not coerce: no ``"5"`` for an integer, no ``1`` for a boolean), at the top level or one level in;
- ``missing``: a required field left out;
- ``unknown``: a field the schema does not have (Mailgun's names such as ``from`` are accepted, not unknown);
- ``oversize``: longer, larger or more items than the field's bounds;
- ``bad_value``: outside an enum, not matching a pattern, shorter or smaller than allowed;
- ``null``: null for a required field that does not take null;
- ``non_object``: arguments that are not an object at all.

Other fields get random JSON values as noise, so errors must be reported field by field. The compact
tool schema leaves out string bounds, patterns and obvious lower bounds (they cost tokens); those come
from the params model's full JSON schema, which is what validation enforces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache
from typing import Annotated, Any

from hypothesis import strategies as st
from pydantic import StringConstraints, TypeAdapter, ValidationError

from mg_tools import Operation
from mg_tools.aliases import accepts, wire_names
from mg_tools.errors import _one_line
from mg_tools.schema import input_schema

KINDS = ("wrong_type", "missing", "unknown", "oversize", "bad_value", "null", "non_object")
BOOL_WORDS = {"0", "1", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}
NUMERIC = re.compile(r"^\s*[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class Case:
    """One bad call: the error must name ``field`` (``""`` when the arguments are not an object)."""

    op: Operation
    kind: str
    field: str
    arguments: Any = dc_field(repr=False)

    def __repr__(self) -> str:  # what Hypothesis prints for a failing case
        text = repr(self.arguments)
        return f"Case({self.op.name}, {self.kind}, field={self.field!r}, arguments={text[:300]})"


# -- which values a schema certainly refuses ----------------------------------------------------------


def _type_refuses(kind: str, v: Any) -> bool:
    if v is None:
        return kind != "null"
    if kind == "string":
        return not isinstance(v, str)
    if kind in ("integer", "number"):
        if isinstance(v, (list, dict)):
            return True
        if isinstance(v, str):
            return not NUMERIC.match(v) or v.strip() in {"", "+", "-", "."}
        if kind == "integer" and isinstance(v, float):
            return not v.is_integer()
        return False
    if kind == "boolean":
        if isinstance(v, bool):
            return False
        if isinstance(v, (int, float)):
            return v not in (0, 1)
        if isinstance(v, str):
            return v.strip().lower() not in BOOL_WORDS
        return True
    if kind == "array":
        return not isinstance(v, list)
    if kind == "object":
        return not isinstance(v, dict)
    if kind == "null":
        return True
    return False


def refuses(schema: Any, v: Any) -> bool:
    """Whether a value is certainly invalid for ``schema`` (False when unsure)."""
    if not isinstance(schema, dict):
        return False
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return all(refuses(s, v) for s in schema[key])
    if "allOf" in schema:
        return any(refuses(s, v) for s in schema["allOf"])
    if "const" in schema:
        return isinstance(schema["const"], str) and v != schema["const"]
    if "enum" in schema:
        if all(isinstance(e, str) for e in schema["enum"]):
            return not (isinstance(v, str) and v in schema["enum"])
        return False
    kind = schema.get("type")
    if kind is None:
        return False
    kinds = kind if isinstance(kind, list) else [kind]
    return all(_type_refuses(k, v) for k in kinds)


# -- the schemas of one operation ----------------------------------------------------------------------


def _deref(node: Any, defs: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


@dataclass
class Field:
    name: str
    schema: dict[str, Any]  # from the compact tool schema
    full: dict[str, Any]  # from the params model's own JSON schema (string bounds, patterns, null)
    required: bool

    def branches(self) -> list[dict[str, Any]]:
        return self.full.get("anyOf") or [self.full]

    @property
    def nullable(self) -> bool:
        return any(b.get("type") == "null" for b in self.branches())


@cache
def fields_of(op: Operation) -> tuple[Field, ...]:
    schema = input_schema(op.params)
    full = op.params.model_json_schema(mode="validation", by_alias=False)
    defs = full.get("$defs", {})
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        raw = _deref(full.get("properties", {}).get(name, {}), defs)
        if "anyOf" in raw:
            raw = {**raw, "anyOf": [_deref(b, defs) for b in raw["anyOf"]]}
        out.append(Field(name, prop, raw, name in required))
    return tuple(out)


# -- value strategies ----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False), st.text(max_size=30)
)
#: JSON values one level deep: enough to exercise every field, and cheap to draw.
json_values = st.one_of(
    json_scalars, st.lists(json_scalars, max_size=3), st.dictionaries(st.text(max_size=6), json_scalars, max_size=3)
)
WRONG_POOL = [
    3.5,
    -7,
    2,
    12345678901234567890,
    True,
    False,
    0,
    1,
    "\u2603 not a number",
    "",
    "true",
    "5",
    [],
    [1, "x"],
    {},
    {"k": [1]},
    "2024-01-01",
    -0.5,
]


_GENERATORS = (
    (float, st.floats(allow_nan=False, allow_infinity=False)),
    (str, st.text(max_size=20)),
    (list, st.lists(json_scalars, max_size=3)),
    (dict, st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)),
    (int, st.integers()),
)


def _wrong_for(schema: dict[str, Any]) -> st.SearchStrategy | None:
    pool = [v for v in WRONG_POOL if refuses(schema, v)]
    if not pool:
        return None
    # Only generators of a JSON type the schema refuses at least sometimes (a filter that rejects
    # nearly everything makes Hypothesis discard examples, slowly).
    refused_types = {type(v) for v in pool}
    generated = [g.filter(lambda v: refuses(schema, v)) for t, g in _GENERATORS if t in refused_types]
    return st.one_of(st.sampled_from(pool), *generated)


def _string_branch(f: Field) -> dict[str, Any] | None:
    return next((b for b in f.branches() if b.get("type") == "string" and "enum" not in b and "const" not in b), None)


def _oversize(f: Field) -> st.SearchStrategy | None:
    options = []
    string = _string_branch(f)
    if string and "maxLength" in string and not any(b.get("type") not in ("string", "null") for b in f.branches()):
        m = string["maxLength"]
        options.append(st.integers(m + 1, m + 2000).map(lambda n: "x" * n))
        if m <= 10_000:
            options.append(st.text(min_size=m + 1, max_size=m + 40).filter(lambda s: len(s) > m))
    schema = f.schema
    if schema.get("type") == "array" and "maxItems" in schema:
        n = schema["maxItems"]
        item = schema.get("items", {})
        example = "x" if item.get("type") == "string" else 1 if item.get("type") == "integer" else {}
        options.append(st.integers(n + 1, n + 50).map(lambda k: [example] * k))
    if schema.get("type") in ("integer", "number") and ("maximum" in schema or "exclusiveMaximum" in schema):
        top = schema.get("maximum", schema.get("exclusiveMaximum"))
        options.append(st.integers(int(top) + 1, int(top) + 10**9))
    return st.one_of(options) if options else None


def _bad_value(f: Field) -> st.SearchStrategy | None:
    options = []
    schema = f.schema
    enum = schema.get("enum")
    if enum and all(isinstance(e, str) for e in enum):
        options.append(st.text(max_size=20).filter(lambda s: s not in enum))
    string = _string_branch(f)
    only_strings = string and not any(b.get("type") not in ("string", "null") for b in f.branches())
    if only_strings and string.get("pattern"):
        matches = _matcher(string["pattern"])
        pool = ["a b", "a/b", "\n", "@@", "..", "?#", "\u202e", "x" * 3, ""]
        options.append(
            st.one_of(st.sampled_from(pool), st.text(max_size=20)).filter(
                lambda s: not matches(s) and len(s) <= string.get("maxLength", 10**9)
            )
        )
    if only_strings and string.get("minLength", 0) >= 1:
        options.append(st.just("x" * (string["minLength"] - 1)))
    low = _lower_bound(f)
    if low is not None:
        options.append(st.integers(int(low) - 10**9, int(low) - 1))
    if schema.get("type") == "array" and _same_type_branch(f).get("minItems", 0) >= 1:
        options.append(st.just([]))
    return st.one_of(options) if options else None


def _same_type_branch(f: Field) -> dict[str, Any]:
    """The branch of the full schema with the compact schema's type: it keeps the lower bounds that
    the compact schema leaves out as obvious (``minimum`` 0 or 1, ``minItems`` 1)."""
    return next((b for b in f.branches() if b.get("type") == f.schema.get("type")), {})


def _lower_bound(f: Field) -> int | float | None:
    if f.schema.get("type") not in ("integer", "number"):
        return None
    for source in (f.schema, _same_type_branch(f)):
        for key in ("minimum", "exclusiveMinimum"):
            if key in source:
                return source[key]
    return None


@cache
def _matcher(pattern: str):
    """Whether a string matches ``pattern`` as validation decides it (pydantic's regex engine,
    which differs from ``re`` on details such as what ``\\s`` covers)."""
    adapter = TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])

    def matches(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return matches


def _nested_wrong(f: Field) -> st.SearchStrategy | None:
    """A wrong type one level in: an array item, or a property of an object."""
    schema = f.schema
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        inner = _wrong_for(schema["items"])
        return inner.map(lambda v: [v]) if inner is not None else None
    props = schema.get("properties")
    if schema.get("type") == "object" and props:
        options = []
        for name, prop in props.items():
            inner = _wrong_for(prop)
            if inner is not None:
                options.append(inner.map(lambda v, name=name: {name: v}))
        return st.one_of(options) if options else None
    return None


_RESERVED = [
    "from",
    "o:tag",
    "h:X-Header",
    "v:id",
    "t:variables",
    "amp-html",
    "recipient-variables",
    "__class__",
    "model_config",
    "__dict__",
    "",
    " ",
    "Domain",
    "DOMAIN",
    "domain\u200b",
    "domain ",
    "confirm_token",
    "api_key",
    "\u202edomain",
    "a.b",
    "0",
]


def _taken_as_mailgun_gives_it(op: Operation, f: Field, value: Any) -> bool:
    """Whether ``value`` is accepted for the field in the shape Mailgun takes it: a whole number for
    text, JSON text for an object sent as JSON text (``mg_tools.aliases``)."""
    names = wire_names(op.params)
    if type(value) is int and f.name in names.text:
        return True
    if isinstance(value, str) and f.name in names.json_text:
        try:
            return isinstance(json.loads(value), dict)
        except ValueError:
            return False
    return False


@cache
def slots(op: Operation) -> tuple[tuple[str, str, st.SearchStrategy], ...]:
    """Every (kind, field, value strategy) this operation offers for a bad call."""
    fields = fields_of(op)
    names = {f.name for f in fields}
    out: list[tuple[str, str, Any]] = []
    for f in fields:
        wrong = _wrong_for(f.schema)
        if wrong is not None:
            out.append(("wrong_type", f.name, wrong.filter(lambda v, f=f: not _taken_as_mailgun_gives_it(op, f, v))))
        nested = _nested_wrong(f)
        if nested is not None:
            out.append(("wrong_type", f.name, nested))
        big = _oversize(f)
        if big is not None:
            out.append(("oversize", f.name, big))
        bad = _bad_value(f)
        if bad is not None:
            out.append(("bad_value", f.name, bad))
        if f.required:
            out.append(("missing", f.name, st.nothing()))
            if not f.nullable:
                out.append(("null", f.name, st.none()))
    # Mailgun's own names for fields (from, o:tag, h:X-Header) are accepted, not unknown.
    unknown = st.one_of(st.sampled_from(_RESERVED), st.text(max_size=20)).filter(
        lambda k: k not in names and not accepts(op.params, k)
    )
    out.append(("unknown", "", unknown))
    out.append(
        (
            "non_object",
            "",
            st.one_of(
                st.lists(json_values, max_size=3),
                st.text(max_size=20),
                st.integers(),
                st.floats(allow_nan=False),
                st.booleans(),
            ),
        )
    )
    return tuple(out)


@cache
def _choices(op: Operation) -> tuple[st.SearchStrategy, dict[str, st.SearchStrategy], st.SearchStrategy]:
    """Strategies for one operation, built once: its kinds, the slots of each kind, noise fields."""
    offered = slots(op)
    kinds = sorted({k for k, _, _ in offered}, key=KINDS.index)
    by_kind = {k: st.sampled_from([s for s in offered if s[0] == k]) for k in kinds}
    others = [f.name for f in fields_of(op)]
    noise = st.lists(st.sampled_from(others), unique=True, max_size=4) if others else st.just([])
    return st.sampled_from(kinds), by_kind, noise


@st.composite
def bad_calls(draw, ops: tuple[Operation, ...] | list[Operation]) -> Case:
    """A bad call to one of ``ops``, with random noise in the other fields."""
    op = draw(st.sampled_from(list(ops)), label="operation")
    kinds, by_kind, noise_names = _choices(op)
    # The kind first, then a slot of that kind: every kind gets its share, however many fields.
    kind = draw(kinds, label="kind")
    _, name, values = draw(by_kind[kind], label="slot")
    noise = {n: draw(json_values, label=n) for n in draw(noise_names) if n != name}
    if kind == "non_object":
        return Case(op, kind, "", draw(values, label="arguments"))
    if kind == "missing":
        return Case(op, kind, name, noise)
    if kind == "unknown":
        key = draw(values, label="unknown field")
        return Case(op, kind, key, {**noise, key: draw(json_values, label="its value")})
    return Case(op, kind, name, {**noise, name: draw(values, label=name)})


def names_field(errors: list[tuple[str, str]], field_name: str) -> bool:
    """Whether the error list names ``field_name`` (itself, or a location inside it), as errors
    show names: control characters escaped, long names cut short."""
    shown = _one_line(field_name, 100)
    stem = shown[:-3] if shown.endswith("...") and shown != field_name else None
    return any(
        loc == shown or loc.startswith(shown + ".") or (stem is not None and loc.startswith(stem)) for loc, _ in errors
    )
