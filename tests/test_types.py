"""The shared parameter types: header-safe text and addresses, dates, numbers that JSON can carry, limits, and
uploads given as text or as a file."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from reliability.support import OPERATIONS

from mg_tools.types import Address, Attachment, HeaderName, HeaderText, Limit, Mailbox, Params, Rfc2822, text_or_file

UNSAFE = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x01",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\x9f",
    "\u2028",
    "\u2029",
]


def refused(annotation: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(annotation).validate_python(value)
    return info.value.errors()[0]["msg"]


@pytest.mark.parametrize("bad", UNSAFE, ids=lambda ch: f"U+{ord(ch[0]):04X}{'+' if len(ch) > 1 else ''}")
@pytest.mark.parametrize(
    ("annotation", "template"),
    [
        (HeaderText, "Hello{}Bcc: everyone@example.com"),
        (Mailbox, "Ann <ann@example.com>{}Bcc: x@example.com"),
        (Address, "ann@exa{}mple.com"),
        (Rfc2822, "Thu, 13 Oct 2011 18:02:00 +0000{}Bcc: x@example.com"),
    ],
    ids=["HeaderText", "Mailbox", "Address", "Rfc2822"],
)
def test_header_bound_text_refuses_line_breaks_and_control_characters(annotation, template, bad):
    message = refused(annotation, template.format(bad))
    if annotation is Address and bad.isspace():
        return  # the address pattern already refuses whitespace
    assert "must be one line without control characters" in message
    assert f"U+{ord(bad[0]):04X}" in message


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (HeaderText, "Grüße\tund \u202e \U0001f600 — 'quoted' \"double\""),
        (Mailbox, '"Ann, Smith" <ann@example.com>, bob@example.com'),
        (Address, "ann+tag@example.com"),
        (Rfc2822, "Thu, 13 Oct 2011 18:02:00 +0000"),
        (HeaderName, "X-Campaign-2"),
    ],
)
def test_ordinary_header_values_pass_unchanged(annotation, value):
    assert TypeAdapter(annotation).validate_python(value) == value


@pytest.mark.parametrize("name", ["X-A\r\nBcc", "X-A\n", "X A", "X:A", "", "x" * 101])
def test_header_names_are_letters_digits_and_hyphens(name):
    refused(HeaderName, name)


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """``model`` and every model its fields hold, however deep."""
    if model in seen:
        return seen
    seen.add(model)
    stack = [info.annotation for info in model.model_fields.values()]
    while stack:
        annotation = stack.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _models(annotation, seen)
        stack.extend(getattr(annotation, "__args__", ()))
    return seen


def test_every_params_model_refuses_nan_and_infinity_in_typed_numbers():
    models: set[type[BaseModel]] = set()
    for op in OPERATIONS:
        _models(op.params, models)
    assert len(models) > len(OPERATIONS) / 2
    loose = sorted(m.__name__ for m in models if not issubclass(m, Params) or m.model_config.get("allow_inf_nan", True))
    assert not loose, f"models that accept NaN or infinity in float fields: {loose}"


class _Prices(Params):
    """Floats declared directly, inside a list and a dict, and in a union."""

    price: float
    prices: list[float] = []
    by_name: dict[str, float] = {}
    either: float | str = 0.0


@pytest.mark.parametrize("field", ["price", "prices", "by_name", "either"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "-Infinity"], ids=repr)
def test_typed_float_fields_refuse_non_finite_numbers(field, value):
    wrap = {"prices": [value], "by_name": {"a": value}}.get(field, value)
    arguments = {"price": 1.0, field: wrap}
    if field == "either" and isinstance(value, str):
        return  # a string is a valid value of float | str
    with pytest.raises(ValidationError) as info:
        _Prices.model_validate(arguments)
    assert info.value.errors()[0]["loc"][0] == field


def _file(text: str | None = None, file: Attachment | None = None, max_bytes: int = 2**20) -> Attachment:
    return text_or_file(
        text, file, names=("csv", "file"), filename="list.csv", content_type="text/csv", max_bytes=max_bytes
    )


def test_text_becomes_the_file_part_named_for_it():
    part = _file("address\nann@example.com\n")
    assert (part.name, part.content_type, part.read()) == ("list.csv", "text/csv", b"address\nann@example.com\n")


def test_a_file_is_taken_as_given():
    given = Attachment(content=base64.b64encode(b"address\n").decode(), filename="mine.csv")
    assert _file(file=given) is given


@pytest.mark.parametrize(
    ("text", "file", "problem"),
    [
        (None, None, "give exactly one of csv or file"),
        ("x", Attachment(content="eA==", filename="x.csv"), "give exactly one of csv or file"),
        ("x" * (2**20 + 1), None, "csv is larger than Mailgun's 1 MB"),
        (
            None,
            Attachment(content=base64.b64encode(b"x" * (2**20 + 3)).decode(), filename="x.csv"),
            "file is larger than Mailgun's 1 MB",
        ),
    ],
)
def test_exactly_one_of_text_or_file_within_the_size_limit(text, file, problem):
    with pytest.raises(ValueError, match=problem):
        _file(text, file)


def test_an_attachment_s_bytes_have_a_json_form_in_base64():
    attachment = Attachment(content=b"\xff\xfe\x00", filename="a.bin")
    assert attachment.model_dump(mode="json")["content"] == "//4A"
    assert Attachment(content="//4A", filename="a.bin").model_dump(mode="json")["content"] == "//4A"


def test_a_limit_can_be_narrowed_and_keeps_its_floor():
    small = Annotated[Limit, Field(le=100)]
    assert TypeAdapter(small).validate_python(100) == 100
    assert "less than or equal to 100" in refused(small, 101)
    assert "greater than or equal to 1" in refused(small, 0)
