import json
from enum import StrEnum
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from mg_tools.schema import compact, input_schema
from mg_tools.types import Params


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """A postal address."""

    street: str = Field(title="Street line", min_length=1, max_length=80)
    city: str | None = None


class Everything(Params):
    """Every kind of field a params model uses."""

    note: str | None = Field(None, description="Free text", examples=["hello"])
    count: int = Field(10, ge=1, le=1000)
    tags: list[str] = Field(default_factory=list, max_length=3)
    name: Annotated[str, StringConstraints(min_length=2, max_length=20, pattern=r"^[a-z]+$")]
    tag: str | None = Field(None, alias="o:tag")
    template_version: str | None = Field(None, serialization_alias="t:version")
    when: Literal["now", "later"] = "now"
    color: Color | None = None
    home: Address
    work: Address | None = None
    variables: dict[Annotated[str, StringConstraints(pattern=r"^v:")], str] | None = None
    extra: dict[str, int] | None = None


SCHEMA = input_schema(Everything)


def keys_anywhere(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys_anywhere(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys_anywhere(v)}
    return set()


def test_the_root_is_a_plain_object_without_title_or_description():
    assert SCHEMA["type"] == "object"
    assert not {"title", "description", "$defs", "additionalProperties"} & set(SCHEMA)


def test_no_titles_examples_references_or_string_bounds_anywhere():
    found = keys_anywhere(SCHEMA["properties"])
    assert not {"title", "examples", "$ref", "$defs", "minLength", "maxLength", "pattern"} & found


def test_required_fields_come_first_in_declaration_order():
    assert SCHEMA["required"] == ["name", "home"]
    assert list(SCHEMA["properties"])[:2] == ["name", "home"]
    assert list(SCHEMA["properties"])[2:] == [
        "note",
        "count",
        "tags",
        "tag",
        "template_version",
        "when",
        "color",
        "work",
        "variables",
        "extra",
    ]


def test_optional_fields_are_their_type_without_null_or_a_null_default():
    props = SCHEMA["properties"]
    assert props["note"] == {"type": "string", "description": "Free text"}
    assert props["extra"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert "anyOf" not in json.dumps(SCHEMA)


def test_types_bounds_array_sizes_defaults_and_enums_stay():
    props = SCHEMA["properties"]
    assert props["count"] == {"type": "integer", "maximum": 1000, "default": 10}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "maxItems": 3}
    assert props["when"] == {"type": "string", "enum": ["now", "later"], "default": "now"}
    assert props["color"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["name"] == {"type": "string"}


def test_agents_see_the_python_names_never_the_wire_aliases():
    assert {"tag", "template_version"} <= set(SCHEMA["properties"])
    assert not {"o:tag", "t:version"} & set(SCHEMA["properties"])
    assert Everything.model_validate({"name": "ab", "home": {"street": "x"}, "tag": "t"}).tag == "t"


def test_nested_models_are_inlined_with_their_description():
    address = {
        "type": "object",
        "description": "A postal address.",
        "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        "required": ["street"],
    }
    assert SCHEMA["properties"]["home"] == address
    assert SCHEMA["properties"]["work"] == address, "an optional nested model is the model itself"


def test_pattern_keyed_maps_become_additional_properties():
    assert SCHEMA["properties"]["variables"] == {"type": "object", "additionalProperties": {"type": "string"}}


def test_the_schema_is_built_once_per_model():
    assert input_schema(Everything) is SCHEMA
    assert input_schema(Address) is not SCHEMA


def test_compact_leaves_its_input_and_the_definitions_unchanged():
    schema = Everything.model_json_schema()
    before = json.dumps(schema, sort_keys=True)
    compact(schema, schema["$defs"])
    assert json.dumps(schema, sort_keys=True) == before


def test_a_reference_keeps_the_description_given_where_it_is_used():
    defs = {"Thing": {"type": "object", "title": "Thing", "description": "A thing.", "properties": {}}}
    node = {"anyOf": [{"$ref": "#/$defs/Thing"}, {"type": "null"}], "default": None, "description": "The thing to use"}
    assert compact(node, defs) == {"type": "object", "description": "The thing to use", "properties": {}}
    either = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert compact(either, defs) == {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def test_lower_bounds_that_go_without_saying_are_left_out_and_the_others_stay():
    assert compact({"type": "integer", "minimum": 1, "maximum": 5}, {}) == {"type": "integer", "maximum": 5}
    assert compact({"type": "integer", "minimum": 0}, {}) == {"type": "integer"}
    assert compact({"type": "integer", "minimum": 10}, {}) == {"type": "integer", "minimum": 10}
    assert compact({"type": "number", "minimum": 0.5}, {}) == {"type": "number", "minimum": 0.5}
    assert compact({"type": "array", "items": {}, "minItems": 1}, {}) == {"type": "array", "items": {}}
    assert compact({"type": "array", "items": {}, "minItems": 2}, {})["minItems"] == 2


def test_validation_still_enforces_the_bounds_left_out():
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Everything.model_validate({"name": "ab", "home": {"street": "x"}, "count": 0})
