"""Path safety: no argument can change the host, leave its path segment or change the query.

Checked for every registered operation and every path parameter, at two layers: the request
builder (``build_request`` on a ``model_construct``-ed instance, so validation does not hide what
the encoder does) and the final URL as httpx builds it inside the client.
"""

from __future__ import annotations

import asyncio
import re
import string
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from mg_tools import InvalidArguments, Paging
from mg_tools.client import MailgunClient
from mg_tools.errors import ConfigurationError
from mg_tools.request import build_request, encode_segment
from mg_tools.types import Address, Domain, _Marker

from .support import (
    BASE_URL,
    FAKE_KEY,
    FAST_RETRY,
    HTTP_OPERATIONS,
    RELIABILITY,
    Recorder,
    constructed,
    quiet,
    recording_toolkit,
)

#: (operation, path parameter) for every path parameter of every registered operation.
PATH_PARAMS = [(op, name) for op in HTTP_OPERATIONS for name in op.path_params]
ORIGIN_OPS = [
    op
    for op in HTTP_OPERATIONS
    if any(isinstance(m, _Marker) and m.kind == "origin" for f in op.params.model_fields.values() for m in f.metadata)
]
URL_PAGED_OPS = [op for op in HTTP_OPERATIONS if op.paging is Paging.URLS]

#: What an encoded segment may contain: unreserved characters and percent escapes, nothing else.
SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+$")
NASTY = [
    "..",
    ".",
    "../",
    "../..",
    "../../v1/keys",
    "..%2F..%2Fv1%2Fkeys",
    "%2e%2e",
    "%2E%2E/",
    "%",
    "%%",
    "%zz",
    "%2F",
    "a/b",
    "/",
    "//evil.example",
    "?",
    "?limit=1&x=y",
    "a?b=c",
    "#",
    "#frag",
    "a#b?c",
    "\\",
    "..\\..\\",
    "@evil.example",
    "evil.example:443@",
    "http://evil.example/",
    "https:",
    ";",
    "&",
    "=",
    "+",
    " ",
    "~",
    "\x00",
    "\r\nHost: evil.example",
    "\t",
    "\x7f",
    "\u0085",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\uff0e\uff0e",
    "\u2215",
    "\u2044",
    "\uff0f",
    "\u3002",
    "ü",
    "日本",
    "😀",
    "\U000e0041",
    "\ud800",
    "a\udfffb",
    "." * 64,
    "a" * 5000,
    "%2F" * 300,
]
#: The ones about URL structure, also sent through httpx for every parameter (sends cost ~1 ms each).
URL_NASTY = [
    "..",
    "../../v1/keys",
    "%2e%2e",
    "a/b",
    "?limit=1&x=y",
    "#frag",
    "..\\..\\",
    "@evil.example",
    "//evil.example",
    "\r\nHost: evil.example",
    "\uff0e\uff0e",
    "\x00",
    "a" * 5000,
]
SPECIALS = "./?#%\\@:;&=+ ~\x00\n\r\t\u202e\u200b"
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(SPECIALS + "ab"), max_size=30),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zs", "Zl", "Po"]), max_size=20),
    st.text(min_size=300, max_size=1500),
)


def _rejects_before_encoding(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return value in {"", ".", ".."}


def _expected_segments(op, path_values: dict[str, str]) -> list[str]:
    encoded = {name: encode_segment(v) for name, v in path_values.items()}
    return [seg.format(**encoded) for seg in op.path.split("/")]


def _check_request(op, path_values: dict[str, str], req, baseline) -> None:
    segments = req.path.split("/")
    template = op.path.split("/")
    assert len(segments) == len(template), f"{op.name}: a value added or removed a path segment: {req.path}"
    assert segments == _expected_segments(op, path_values)
    for seg, tmpl in zip(segments, template):
        names = [f for _, f, _, _ in string.Formatter().parse(tmpl) if f]
        if not names:
            continue
        assert SEGMENT.match(seg), f"{op.name}: unsafe characters in segment {seg!r}"
        assert unquote(seg) not in {".", ".."}
        if tmpl == f"{{{names[0]}}}":
            assert unquote(seg) == path_values[names[0]], "the value must come back intact from its segment"
    assert req.query == baseline.query and req.form == baseline.form and req.json == baseline.json
    assert req.origin == baseline.origin and req.headers == baseline.headers


class _Wire:
    """The real client on a recording transport, on one event loop for the whole test."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.client = MailgunClient(
            api_key=FAKE_KEY, base_url=BASE_URL, transport=self.recorder.transport, retry=FAST_RETRY
        )
        self.loop = asyncio.new_event_loop()
        self.baselines: dict[str, tuple] = {}

    def baseline(self, op) -> tuple:
        """The request and final URL with a harmless value in every path parameter."""
        if op.name not in self.baselines:
            req = quiet(build_request, op, constructed(op, dict.fromkeys(op.path_params, "x")))
            self.baselines[op.name] = (req, self.url(op, req))
        return self.baselines[op.name]

    def url(self, op, req) -> httpx.URL:
        self.loop.run_until_complete(self.client.send(req, idempotent=op.idempotent))
        return self.recorder.requests[-1].url

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def wire():
    wire = _Wire()
    yield wire
    wire.close()


def _check_url(url: httpx.URL, req, baseline_url: httpx.URL) -> None:
    assert (url.scheme, url.host, url.port) == ("https", "api.mailgun.net", None), "the host changed"
    path, _, _ = url.raw_path.partition(b"?")
    assert path.decode("ascii") == req.path, "httpx changed the path (normalised, decoded or split it)"
    assert url.query == baseline_url.query, "the query changed"
    assert url.fragment == ""


def _run(op, path_values: dict[str, str], wire: _Wire, *, send: bool = True) -> None:
    baseline, baseline_url = wire.baseline(op)
    args = constructed(op, {**dict.fromkeys(op.path_params, "x"), **path_values})
    if any(_rejects_before_encoding(v) for v in path_values.values()):
        with pytest.raises(InvalidArguments) as info:
            quiet(build_request, op, args)
        assert {f for f, _ in info.value.errors} & set(path_values)
        return
    req = quiet(build_request, op, args)
    full = {**dict.fromkeys(op.path_params, "x"), **path_values}
    _check_request(op, full, req, baseline)
    if send:
        _check_url(wire.url(op, req), req, baseline_url)


@pytest.mark.skipif(not PATH_PARAMS, reason="no operation has path parameters")
@settings(RELIABILITY, max_examples=250)
@given(data=st.data())
def test_any_path_value_stays_in_its_segment(data, wire):
    op, name = data.draw(st.sampled_from(PATH_PARAMS), label="operation, parameter")
    _run(op, {name: data.draw(values, label=name)}, wire)


@pytest.mark.skipif(not PATH_PARAMS, reason="no operation has path parameters")
@settings(RELIABILITY, max_examples=60)
@given(data=st.data())
def test_several_hostile_path_values_at_once(data, wire):
    multi = [op for op in HTTP_OPERATIONS if len(op.path_params) > 1] or [op for op, _ in PATH_PARAMS]
    op = data.draw(st.sampled_from(multi), label="operation")
    _run(op, {n: data.draw(values, label=n) for n in op.path_params}, wire)


@pytest.mark.parametrize(("op", "name"), PATH_PARAMS, ids=[f"{op.name}.{n}" for op, n in PATH_PARAMS])
def test_every_path_parameter_with_every_known_attack(op, name, wire):
    """Exhaustive, not sampled: each known attack string on each path parameter of each operation,
    checked in the built request, and the URL-shaped ones also in the URL httpx sends."""
    for value in NASTY:
        _run(op, {name: value}, wire, send=value in URL_NASTY)


# -- what validation rejects -------------------------------------------------------------------------

DOMAIN = TypeAdapter(Domain)
ADDRESS = TypeAdapter(Address)


@pytest.mark.parametrize(
    "value",
    [
        "/",
        "a/b",
        "mg.example.com/../../v1",
        "?",
        "a?b",
        "#",
        "a#b",
        "",
        ".",
        "..",
        ".hidden",
        "a b",
        "a\n",
        "mg.example.com\n",
        "\x00",
        "%2F",
        "a%2Fb",
        "a\\b",
        "a@b",
        "a:b",
        "x" * 254,
        "a\u202eb",
        "a\u200bb",
    ],
)
def test_domain_rejects_anything_that_is_not_one_plain_name(value):
    with pytest.raises(ValidationError):
        DOMAIN.validate_python(value)


@pytest.mark.parametrize("value", ["mg.example.com", "a-b.example", "xn--bcher-kva.example", "bücher.example"])
def test_domain_accepts_domain_names(value):
    assert DOMAIN.validate_python(value) == value


@settings(RELIABILITY, max_examples=200)
@given(value=values)
def test_whatever_domain_accepts_is_a_single_plain_segment(value):
    try:
        DOMAIN.validate_python(value)
    except ValidationError:
        return
    assert value not in {".", ".."} and not set(value) & set("/?#%\\@: \t\r\n")
    assert all(ch.isprintable() for ch in value)
    assert "/" not in unquote(encode_segment(value).replace("%2F", "X"))


@pytest.mark.parametrize("value", ["", "no-at-sign", "a b@c.d", "a@b@c", "a@b\n", "@", "a@", "x" * 600 + "@b.c"])
def test_address_rejects_malformed_addresses(value):
    with pytest.raises(ValidationError):
        ADDRESS.validate_python(value)


def _is_domain(op, name: str) -> bool:
    prop = op.params.model_json_schema()["properties"][name]
    branches = prop.get("anyOf", [prop])
    return any(b.get("pattern") == DOMAIN.json_schema()["pattern"] for b in branches)


DOMAIN_PATH_PARAMS = [(op, n) for op, n in PATH_PARAMS if _is_domain(op, n)]


@pytest.mark.parametrize(("op", "name"), DOMAIN_PATH_PARAMS, ids=[f"{op.name}.{n}" for op, n in DOMAIN_PATH_PARAMS])
def test_every_domain_path_parameter_is_validated_before_anything_is_sent(op, name):
    recorder = Recorder()
    with recording_toolkit(recorder) as mg:
        for value in ("a/b", "..", "x?y", "x#y", "x%2Fy", ""):
            with pytest.raises(InvalidArguments) as info:
                mg.run(mg.execute(op.name, {name: value}))
            assert name in {f.split(".")[0] for f, _ in info.value.errors}, info.value.message
    assert recorder.requests == []


# -- other arguments that decide where a request goes --------------------------------------------------

hosts = st.one_of(
    st.sampled_from(
        [
            "storage-us-east4.api.mailgun.net",
            "api.mailgun.net",
            "evil.example",
            "mailgun.net",
            "evil.example\\@x.mailgun.net",
            "x.mailgun.net\\@evil.example",
            "evil.example%2f.mailgun.net",
            "evil.example#.mailgun.net",
            "evil.example?.mailgun.net",
            "u:p@x.mailgun.net",
            "x.mailgun.net:443@evil.example",
            "x.mailgun.net.",
            "evil.example\u3002mailgun.net",
            "evil.example\t.mailgun.net",
            "[::1]",
            "127.0.0.1:8025",
            "x.mailgun.net:99999",
            "XN--80AK6AA92E.mailgun.net",
            "evil.example/.mailgun.net",
            "evil\x01.mailgun.net",
            "ex ample.mailgun.net",
            "\u0435vil.mailgun.net",
            "x.mailgun.net\x00",
        ]
    ),
    # Lookalikes of Mailgun's domain, and Mailgun hosts on other ports.
    st.sampled_from(
        [
            "evilmailgun.net",
            "evil-mailgun.net",
            "mailgun.net.evil.com",
            "mailgun.net@evil.com",
            "x.mailgun.net@evil.com",
            "mailgun.net.",
            "x.mailgun.net.:443",
            "xn--mailgun-4ya.net",
            "xn--mailgn-3ya.net",
            "x.xn--mailgun-4ya.net",
            "mailgun.net.xn--p1ai",
            ".mailgun.net",
            "x..mailgun.net",
            "-x.mailgun.net",
            "MAILGUN.NET",
            "x.MailGun.Net",
            "mailgun.net:443",
            "api.mailgun.net:443",
            "api.mailgun.net:444",
            "x.mailgun.net:8443",
            "x.mailgun.net:80",
            "mailgun.net:0",
            "mailgun.networks",
            "mailgun.net-evil.com",
        ]
    ),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["api.mailgun.net", "x.mailgun.net", "mailgun.net"]),
        st.integers(min_value=0, max_value=70_000),
    ),
    st.text(max_size=40),
    # Hosts that look trusted by their suffix, whatever comes before it, with or without a dot.
    st.text(max_size=12).map(lambda prefix: prefix + ".mailgun.net"),
    st.text(alphabet=string.ascii_lowercase + "-.", max_size=8).map(lambda prefix: prefix + "mailgun.net"),
)
storage_urls = st.one_of(
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript", ""]),
        hosts,
        st.sampled_from(["/v3/domains/mg.example.com/messages/KEY", "", "/", "?x", "#y", "/../../v1/keys"]),
    ),
    st.text(max_size=80),
)


def _may_get_the_key(url: httpx.URL) -> bool:
    """The promise, stated apart from the client's code: the base URL's own scheme, host and port, or
    https on the default port to ``mailgun.net`` itself or a subdomain of it (a label before the dot)."""
    base = httpx.URL(BASE_URL)
    host = url.raw_host.decode("ascii")  # as sent (IDNA hosts in punycode)
    if (url.scheme, host, url.port) == (base.scheme, base.host, base.port):
        return True
    return (
        url.scheme == "https"
        and url.port in (None, 443)
        and (host == "mailgun.net" or re.fullmatch(r"(?:[a-z0-9-]+\.)+mailgun\.net", host) is not None)
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evilmailgun.net/x",
        "https://mailgun.net.evil.com/x",
        "https://api.mailgun.net:444/x",
        "https://x.mailgun.net:8443/x",
        "http://x.mailgun.net/x",
        "https://x.mailgun.net./x",
    ],
)
def test_the_trusted_host_rule_itself_refuses_lookalikes_and_other_ports(url):
    assert not _may_get_the_key(httpx.URL(url))


@pytest.mark.skipif(not ORIGIN_OPS, reason="no operation takes a URL that picks the host")
@settings(RELIABILITY, max_examples=400)
@given(data=st.data())
def test_a_storage_url_never_sends_the_key_to_an_untrusted_host(data, wire):
    op = data.draw(st.sampled_from(ORIGIN_OPS), label="operation")
    field = next(
        n
        for n, f in op.params.model_fields.items()
        if any(isinstance(m, _Marker) and m.kind == "origin" for m in f.metadata)
    )
    url = data.draw(storage_urls, label=field)
    args = constructed(op, {**dict.fromkeys(op.path_params, "x"), field: url})
    sent = len(wire.recorder.requests)
    try:
        req = quiet(build_request, op, args)
        final = wire.url(op, req)
    except (InvalidArguments, ConfigurationError):
        assert len(wire.recorder.requests) == sent, "a refused storage URL still reached the transport"
        return
    assert _may_get_the_key(final), f"the API key went to {final}"
    assert final.raw_host.decode("ascii") == urlsplit(req.origin).hostname, "the host checked is not the host used"
    assert wire.recorder.requests[-1].headers["authorization"].startswith("Basic ")


cursors = st.one_of(
    st.sampled_from(
        [
            "/../../v1/keys",
            "/%2E%2E/%2E%2E/v1/keys",
            "/x/../../../v1/keys",
            "?page=next&limit=1",
            "https://evil.example/v3/mg.example.com/bounces?page=next",
            "//evil.example/x",
            "/ok?x=1#f",
            "X",
            "/\u202e",
            "/%2F..",
            "/ ",
            "/\x00",
        ]
    ),
    st.text(max_size=60),
)


@pytest.mark.skipif(not URL_PAGED_OPS, reason="no operation pages with next-page URLs")
@settings(RELIABILITY, max_examples=300)
@given(data=st.data())
def test_a_cursor_cannot_move_the_request_to_another_path_or_host(data, wire):
    op = data.draw(st.sampled_from(URL_PAGED_OPS), label="operation")
    path_values = dict.fromkeys(op.path_params, "x")
    base_path = quiet(build_request, op, constructed(op, path_values)).path
    suffix = data.draw(cursors, label="cursor suffix")
    cursor = data.draw(st.sampled_from([base_path + suffix, suffix]), label="cursor")
    try:
        req = quiet(build_request, op, constructed(op, {**path_values, "cursor": cursor}))
    except InvalidArguments as exc:
        assert exc.errors[0][0] == "cursor"
        return
    url = wire.url(op, req)
    assert (url.scheme, url.host) == ("https", "api.mailgun.net")
    path = url.raw_path.partition(b"?")[0].decode()
    assert path == base_path or path.startswith(base_path + "/"), f"cursor moved the request to {path}"
    assert ".." not in unquote(path).split("/")
