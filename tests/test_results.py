import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability.support import RELIABILITY

from mg_tools.errors import InvalidArguments
from mg_tools.results import UNTRUSTED_NOTE, Result, ResultStore, items_at, json_text


def json_size(data) -> int:
    """The size the budget limits: the data as the front ends write it (JSON, non-ASCII kept)."""
    return len(json.dumps(data, ensure_ascii=False, default=str))


def fitted(data, budget, items_key="items", untrusted=False):
    store = ResultStore(budget)
    return store, store.fit(Result("list_things", data, untrusted=untrusted), items_key)


# -- the envelope ----------------------------------------------------------------------------------------


def test_to_dict_shows_the_result_and_only_the_markers_that_apply():
    assert Result("get_thing", {"a": 1}).to_dict() == {"result": {"a": 1}}
    full = Result("list_things", [1], next_cursor="2", truncated={"result_id": "x"}, sandbox=True, untrusted=True)
    assert full.to_dict() == {
        "result": [1],
        "untrusted": UNTRUSTED_NOTE,
        "next_cursor": "2",
        "truncated": {"result_id": "x"},
        "sandbox": "local sandbox: no real mail is sent",
    }


def test_json_text_counts_characters_as_the_front_ends_write_them():
    assert json_text({"name": "Zoë", "when": object}) == '{"name": "Zoë", "when": "<class \'object\'>"}'


@pytest.mark.parametrize(
    ("data", "key", "found"),
    [
        ({"items": [1]}, "items", [1]),
        ({"template": {"versions": [2]}}, "template.versions", [2]),
        ({"template": "flat"}, "template.versions", None),
        ({"other": [3]}, "items", None),
        ([1, 2], "items", None),
    ],
)
def test_items_at_follows_a_dotted_key(data, key, found):
    assert items_at(data, key) == found


# -- fitting into the budget -----------------------------------------------------------------------------


def test_a_result_within_the_budget_is_left_as_it_is():
    data = {"items": [1, 2, 3]}
    store, result = fitted(data, budget=json_size(data))
    assert result.data is data and result.truncated is None
    with pytest.raises(InvalidArguments, match="unknown or expired"):
        store.read("anything")


item_values = st.one_of(
    st.integers(),
    st.text(max_size=300),
    st.lists(st.text(max_size=40), max_size=8),
    st.dictionaries(st.text(max_size=8), st.text(max_size=60), max_size=6),
)


@settings(RELIABILITY, max_examples=120)
@given(items=st.lists(item_values, min_size=1, max_size=40), extra=st.text(max_size=300), budget=st.integers(20, 600))
def test_a_trimmed_list_is_the_longest_prefix_that_fits_the_budget(items, extra, budget):
    body = {"total_count": len(items), "note": extra, "items": items}
    _, result = fitted(body, budget)
    if json_size(body) <= budget:
        assert result.data == body and result.truncated is None
        return
    marker = result.truncated
    if result.data is None:  # even without items the rest is over the budget
        assert json_size({**body, "items": []}) > budget and marker["total_chars"] == json_size(body)
        return
    kept = result.data["items"]
    assert json_size(result.data) <= budget
    assert kept == items[: len(kept)], "the kept items are a prefix"
    assert json_size({**body, "items": items[: len(kept) + 1]}) > budget, "one more item would not fit"
    assert {k: v for k, v in result.data.items() if k != "items"} == {k: v for k, v in body.items() if k != "items"}
    assert (marker["items_returned"], marker["items_omitted"]) == (len(kept), len(items) - len(kept))


def test_the_surrounding_object_counts_against_the_budget():
    body = {"note": "n" * 900, "items": [{"pad": "x" * 40} for _ in range(50)]}
    _, result = fitted(body, budget=1500)
    assert 0 < result.truncated["items_returned"] < 50
    assert json_size(result.data) <= 1500
    assert "limit=" in result.truncated["hint"] and "read_result" in result.truncated["hint"]


@pytest.mark.parametrize("body", [{"items": [{"pad": "x" * 40} for _ in range(50)]}, "x" * 2000])
def test_a_trimmed_result_leads_with_how_to_narrow_the_request(body):
    store = ResultStore(1000)
    result = store.fit(Result("get_stats", body), "items", narrow_hint="ask for a shorter window")
    assert result.truncated["hint"].startswith("ask for a shorter window; or ")
    assert "read_result" in result.truncated["hint"]
    small = store.fit(Result("get_stats", {"items": [1]}), "items", narrow_hint="ask for a shorter window")
    assert small.truncated is None


def test_a_nested_list_is_trimmed_and_the_dicts_around_it_copied():
    versions = [{"tag": f"v{i}", "template": "t" * 100} for i in range(40)]
    body = {"template": {"name": "welcome", "versions": versions}}
    _, result = fitted(body, 1500, items_key="template.versions")
    kept = result.data["template"]["versions"]
    assert result.data["template"]["name"] == "welcome" and 0 < len(kept) < 40 and kept == versions[: len(kept)]
    assert body["template"]["versions"] is versions and len(versions) == 40, "the original is left whole"


@pytest.mark.parametrize(
    "body",
    [
        {"members": [{"pad": "x" * 100}] * 40},  # no list at the key
        {"note": "n" * 2000, "items": [1, 2]},  # over the budget even without items
        "x" * 2000,
    ],
)
def test_data_that_cannot_be_cut_is_left_out_whole_and_readable(body):
    store, result = fitted(body, 1000)
    assert result.data is None and result.truncated["total_chars"] == json_size(body)
    assert "items_returned" not in result.truncated
    assert store.read(result.truncated["result_id"], 1000)["chunk"] == json_text(body)[1000:2000]


# -- reading the full text -------------------------------------------------------------------------------


def test_the_full_text_is_read_in_chunks_of_at_most_the_budget():
    body = {"items": [{"n": i, "name": "Zoë"} for i in range(200)]}
    store, result = fitted(body, 500)
    result_id = result.truncated["result_id"]
    chunks, offset = [], 0
    while offset is not None:
        piece = store.read(result_id, offset)
        assert len(piece["chunk"]) <= 500 and piece["offset"] == offset and piece["total_chars"] == json_size(body)
        chunks.append(piece["chunk"])
        offset = piece["next_offset"]
    assert json.loads("".join(chunks)) == body
    assert len(store.read(result_id, 0, 10)["chunk"]) == 10
    assert len(store.read(result_id, 0, 10**6)["chunk"]) == 500, "a longer length is capped to the budget"
    assert "untrusted" not in store.read(result_id)


def test_every_chunk_of_an_untrusted_result_is_marked():
    store, result = fitted({"items": ["subject"] * 100}, 200, untrusted=True)
    assert store.read(result.truncated["result_id"], 300)["untrusted"] == UNTRUSTED_NOTE


def test_only_the_newest_trimmed_results_are_kept():
    store = ResultStore(50, keep=2)
    ids = [store.fit(Result("x", "y" * 100)).truncated["result_id"] for _ in range(3)]
    assert len(set(ids)) == 3
    with pytest.raises(InvalidArguments, match="result_id: unknown or expired; repeat the original call"):
        store.read(ids[0])
    assert [store.read(i)["total_chars"] for i in ids[1:]] == [102, 102]
