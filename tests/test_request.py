"""The wire format: where each argument goes, and that path arguments stay in their segment."""

from typing import Annotated
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import Field

from mg_tools import Access, InvalidArguments, Operation, Paging
from mg_tools.request import build_request, encode_segment
from mg_tools.types import Body, Cursor, Params, Query, WholeBody


class Thing(Params):
    """A thing."""

    domain: str
    name: str | None = None
    tags: list[str] | None = None
    flag: bool | None = None
    in_query: Annotated[str | None, Query] = None
    cursor: Cursor = None


def op(method="POST", path="/v3/{domain}/things", **kw):
    return Operation("make_thing", method, path, Thing, Access.WRITE, **kw)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a+b/c@example.com", "a%2Bb%2Fc%40example.com"),
        ("../../v1/keys?x=1", "..%2F..%2Fv1%2Fkeys%3Fx%3D1"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a#b c%", "a%23b%20c%25"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_path_values_are_one_segment(value, encoded):
    assert encode_segment(value) == encoded
    url = httpx.URL("https://api.mailgun.net/v3/" + encode_segment(value) + "/bounces")
    assert url.host == "api.mailgun.net"
    assert url.raw_path.decode().split("/") == ["", "v3", encoded, "bounces"]
    assert url.query == b""


def test_post_fields_go_to_the_form_with_repeated_keys_and_lowercase_bools():
    req = build_request(op(), Thing(domain="d.com", name="n", tags=["a", "b"], flag=True, in_query="q"))
    assert req.path == "/v3/d.com/things"
    assert req.form == [("name", "n"), ("tags", "a"), ("tags", "b"), ("flag", "true")]
    assert req.query == [("in_query", "q")]


def test_get_fields_go_to_the_query():
    req = build_request(op(method="GET"), Thing(domain="d.com", tags=["a", "b"]))
    assert req.query == [("tags", "a"), ("tags", "b")] and not req.form


def test_json_encoding_and_whole_body():
    req = build_request(op(encoding="json"), Thing(domain="d.com", name="n", tags=["a"]))
    assert req.json == {"name": "n", "tags": ["a"]} and not req.form

    class Bulk(Params):
        """Bulk."""

        domain: str
        items: Annotated[list[dict], WholeBody]

    bulk = Operation("add_things", "POST", "/v3/{domain}/things", Bulk, Access.WRITE, encoding="json")
    assert build_request(bulk, Bulk(domain="d", items=[{"a": 1}])).json == [{"a": 1}]


def test_body_marker_on_delete():
    class Del(Params):
        """Del."""

        tag: Annotated[str, Body]

    delete = Operation("delete_tag", "DELETE", "/v1/tags", Del, Access.DELETE, encoding="json")
    assert build_request(delete, Del(tag="x")).json == {"tag": "x"}


def test_empty_path_value_is_refused():
    with pytest.raises(InvalidArguments, match="domain: must not be empty"):
        build_request(op(), Thing(domain=""))


@pytest.mark.parametrize(
    ("paging", "cursor", "check"),
    [
        (Paging.SKIP, "200", lambda r: ("skip", "200") in r.query),
        (Paging.PAGE, "3", lambda r: ("page", "3") in r.query),
        (
            Paging.URLS,
            "/v3/d.com/things?page=next&address=x",
            lambda r: r.query == [("page", "next"), ("address", "x")],
        ),
        (Paging.TOKEN, "tok", lambda r: r.json["pagination"]["token"] == "tok"),
    ],
)
def test_cursors_per_paging_style(paging, cursor, check):
    encoding = "json" if paging is Paging.TOKEN else "form"
    req = build_request(
        op(method="GET" if paging is not Paging.TOKEN else "POST", paging=paging, encoding=encoding),
        Thing(domain="d.com", name="n", cursor=cursor),
    )
    assert check(req)


def test_a_url_cursor_cannot_leave_its_operation():
    with pytest.raises(InvalidArguments, match="cursor"):
        build_request(op(method="GET", paging=Paging.URLS), Thing(domain="d.com", cursor="/v1/keys?x=1"))
    with pytest.raises(InvalidArguments, match="cursor"):
        build_request(op(method="GET", paging=Paging.SKIP), Thing(domain="d.com", cursor="abc"))


def test_describe_summarises_files_and_never_dumps_them():
    req = build_request(op(), Thing(domain="d.com"))
    req.files.append(("attachment", ("a.pdf", b"%PDF" * 100, "application/pdf")))
    out = req.describe("https://api.mailgun.net")
    assert out["files"] == [
        {"field": "attachment", "filename": "a.pdf", "content_type": "application/pdf", "size": 400}
    ]
    assert out["encoding"] == "multipart/form-data"
    assert urlsplit(out["url"]).path == "/v3/d.com/things"


def test_two_fields_sharing_a_wire_name_keep_their_own_values():
    class Entry(Params):
        """Entry."""

        domain: str
        entry_domain: str | None = Field(None, serialization_alias="domain")
        note: str | None = None

    add = Operation("add_entry", "POST", "/v3/{domain}/allowlists", Entry, Access.WRITE)
    req = build_request(add, Entry(domain="mg.example.com", entry_domain="partner.com", note="n"))
    assert req.path == "/v3/mg.example.com/allowlists"
    assert req.form == [("domain", "partner.com"), ("note", "n")]
