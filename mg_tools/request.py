"""Turning an operation and its validated arguments into the exact HTTP request to send."""

from __future__ import annotations

import json
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pydantic import BaseModel

from mg_tools import cursors
from mg_tools.errors import ConfigurationError, InvalidArguments
from mg_tools.files import FileRefused, read_regular_file
from mg_tools.operation import Operation, Paging
from mg_tools.types import Attachment, _Marker, subaccount_id

__all__ = [
    "ON_BEHALF_OF",
    "PreparedRequest",
    "act_for",
    "build_request",
    "checked_subaccount",
    "encode_segment",
    "read_local",
]

_BODY_METHODS = {"POST", "PUT", "PATCH"}
#: The header that makes a request act for a subaccount of the account whose key sends it.
ON_BEHALF_OF = "X-Mailgun-On-Behalf-Of"


@dataclass
class PreparedRequest:
    """Everything the client needs to send one request; also what `--dry-run` prints."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    form: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, tuple[str, bytes, str]]] = field(default_factory=list)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    origin: str | None = None  # scheme://host replacing the base URL (storage hosts)
    page_cursor: str | None = None  # the cursor of the page asked for (None: the first page)
    offset: int = 0  # items of that page shown already, left out of the answer

    @property
    def has_body(self) -> bool:
        return bool(self.form or self.files) or self.json is not None

    def describe(self, base_url: str) -> dict[str, Any]:
        """The request as JSON-ready data; file contents are summarised, never dumped."""
        out: dict[str, Any] = {
            "method": self.method,
            "url": (self.origin or base_url).rstrip("/") + self.path,
            "query": [list(kv) for kv in self.query],
        }
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.json is not None:
            out["json"] = self.json
        if self.form or self.files:
            out["encoding"] = "multipart/form-data" if self.files else "application/x-www-form-urlencoded"
            out["form"] = [list(kv) for kv in self.form]
        if self.files:
            out["files"] = [
                {"field": name, "filename": fname, "content_type": ctype, "size": len(data)}
                for name, (fname, data, ctype) in self.files
            ]
        if self.offset:
            out["skip_items"] = self.offset  # left out of the answer, not sent
        return out


def checked_subaccount(value: str | None, *, source: str) -> str | None:
    """``value`` as a subaccount id (lower case), None when unset; a ``ConfigurationError`` naming
    ``source`` (the flag, variable or argument it came from) when it is not 24 hexadecimal characters."""
    if value is None or not str(value).strip():
        return None
    try:
        return subaccount_id(value)
    except ValueError as exc:
        text = str(value).strip()
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ConfigurationError(f"{source} {shown!r} is {exc}; nothing was sent") from None


def act_for(req: PreparedRequest, subaccount: str | None) -> PreparedRequest:
    """``req`` acting for ``subaccount`` (when given): the ``X-Mailgun-On-Behalf-Of`` header, unless the
    operation already names the subaccount it is about in that header."""
    if subaccount and ON_BEHALF_OF not in req.headers:
        req.headers[ON_BEHALF_OF] = subaccount
    return req


def encode_segment(value: object) -> str:
    """Percent-encode a value as exactly one path segment (``/``, ``?``, ``#``, ``%`` and dot
    segments included), so no argument can change the path, the query or the host."""
    text = str(value)
    encoded = quote(text, safe="")
    if encoded in {".", ".."}:
        encoded = encoded.replace(".", "%2E")
    return encoded


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


@cache
def _shared_wire_names(model: type[BaseModel]) -> frozenset[str]:
    counts = Counter(info.serialization_alias or info.alias or name for name, info in model.model_fields.items())
    return frozenset(key for key, n in counts.items() if n > 1)


def _markers(info) -> dict[str, _Marker]:
    return {m.kind: m for m in info.metadata if isinstance(m, _Marker)}


def build_request(
    op: Operation,
    args: BaseModel,
    *,
    file_roots: tuple[Path, ...] = (),
) -> PreparedRequest:
    """Build the request for ``op`` from validated ``args``.

    Path parameters are encoded as one segment each; every other field goes where its markers (or the
    method's default) say. Attachment paths must lie inside ``file_roots``.
    """
    req = PreparedRequest(method=op.method, path="")
    path_values: dict[str, str] = {}
    body: dict[str, Any] = {}
    cursor: str | None = None
    default_to_body = op.method in _BODY_METHODS
    wire = args.model_dump(mode="json", by_alias=True, exclude_none=True)
    shared = _shared_wire_names(type(args))

    for name, info in type(args).model_fields.items():
        key = info.serialization_alias or info.alias or name
        raw = getattr(args, name)
        if raw is None:
            continue
        if key in shared:
            # Two fields share this wire name (a path `domain` and a body `domain`): dump this one alone.
            value = args.model_dump(mode="json", by_alias=True, exclude_none=True, include={name}).get(key, raw)
        else:
            value = wire.get(key, raw)
        marks = _markers(info)
        if name in op.path_params:
            path_values[name] = _path_value(op, name, value)
        elif "local" in marks:
            continue
        elif "cursor" in marks:
            cursor = raw
        elif "origin" in marks:
            req.origin = _origin(op, name, raw)
        elif "header" in marks:
            req.headers[marks["header"].arg] = _header_value(op, name, _scalar(value))
        elif "files" in marks:
            items = raw if isinstance(raw, list) else [raw]
            for index, item in enumerate(items):
                req.files.append((key, _file_part(op, name, index, item, file_roots)))
        elif "whole_body" in marks:
            req.json = value
        elif "prefixed" in marks:
            prefix = marks["prefixed"].arg
            target = req.query if "query" in marks else req.form
            for sub, sub_value in (value or {}).items():
                target.append((f"{prefix}{sub}", _scalar(sub_value)))
        else:
            if "json_text" in marks:
                value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            in_query = "query" in marks or (not default_to_body and "body" not in marks)
            if not in_query and op.encoding == "json":
                body[key] = value
                continue
            target = req.query if in_query else req.form
            if isinstance(value, list) and "json_text" not in marks:
                target.extend((key, _scalar(v)) for v in value)
            else:
                target.append((key, _scalar(value)))

    if body:
        req.json = body if req.json is None else req.json
    req.path = op.path.format(**path_values)
    if cursor is not None:
        try:
            req.page_cursor, req.offset = cursors.split(cursor)
        except ValueError as exc:
            raise InvalidArguments(op.name, [("cursor", str(exc))]) from None
        if req.page_cursor is not None:
            _apply_cursor(op, req, req.page_cursor)
    return req


def _path_value(op: Operation, name: str, value: object) -> str:
    text = str(value)
    if text in {"", ".", ".."}:
        # A dot segment is resolved away by URL normalisation (ours or a proxy's), changing the path.
        raise InvalidArguments(op.name, [(name, "must not be empty, '.' or '..'")])
    try:
        return encode_segment(text)
    except UnicodeEncodeError:
        raise InvalidArguments(op.name, [(name, "is not valid Unicode text")]) from None


def _header_value(op: Operation, name: str, value: str) -> str:
    # HTTP header values are ASCII without control characters; anything else would be refused
    # (or split into another header) by the HTTP layer after the call was already accepted.
    if not value.isascii() or not value.isprintable():
        raise InvalidArguments(op.name, [(name, "must be printable ASCII text")])
    return value


_NETLOC = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def _origin(op: Operation, name: str, url: str) -> str:
    """``scheme://host[:port]`` of ``url``. Only a plain host (letters, digits, dots, dashes; IDN
    hosts in punycode) and port are accepted: no user info, percent-escapes or exotic characters
    that URL parsers disagree about, so the host checked against the trusted hosts is the host the
    request goes to."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError:  # also an unclosed "["
        parts = urlsplit("")
    if parts.scheme not in {"http", "https"} or not _NETLOC.match(parts.netloc):
        raise InvalidArguments(op.name, [(name, "must be an absolute http(s) URL on a plain host name")])
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _file_part(
    op: Operation, name: str, index: int, item: Attachment, roots: tuple[Path, ...]
) -> tuple[str, bytes, str]:
    where = f"{name}[{index}]"
    if item.path is not None:
        data = read_local(op.name, f"{where}.path", item.path, roots)
    else:
        data = item.read()
    ctype = item.content_type or mimetypes.guess_type(item.name)[0] or "application/octet-stream"
    return (item.name, data, ctype)


def read_local(tool: str, where: str, given: str, roots: tuple[Path, ...]) -> bytes:
    """The bytes of the local file ``given`` (the argument ``where`` of the tool ``tool``) when it lies
    under one of ``roots`` and is a regular file; InvalidArguments saying why not otherwise."""
    if not roots:
        raise InvalidArguments(
            tool,
            [
                (
                    where,
                    "reading local files is off here: set MG_TOOLS_FILES_DIR to the "
                    "directories attachments may come from, or pass content as base64",
                )
            ],
        )
    try:
        resolved = Path(given).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, unknown ~user, symlink loops
        raise InvalidArguments(tool, [(where, f"not a usable file path: {given!r}")]) from None
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise InvalidArguments(
            tool,
            [
                (
                    where,
                    f"{given} is outside the allowed file directories ({allowed}); "
                    "set MG_TOOLS_FILES_DIR or pass content as base64",
                )
            ],
        )
    try:
        return read_regular_file(resolved)
    except FileRefused as exc:
        raise InvalidArguments(tool, [(where, f"{exc}: {given}")]) from None


def _is_number(text: str) -> bool:
    # str.isdigit() alone accepts superscripts and other digits int() refuses.
    return text.isascii() and text.isdigit() and len(text) <= 18


_PATH_CHARS = re.compile(r"^[A-Za-z0-9._~%!$&'()*+,;=:@/-]*$")


def _path_extends(path: str, base: str) -> bool:
    """Whether ``path`` is ``base`` or ``base`` followed by whole, non-dot segments (a next-page
    URL such as the events API's ``/v3/D/events/<token>``), in plain URL characters."""
    if path == base:
        return True
    if not path.startswith(base + "/") or not _PATH_CHARS.match(path):
        return False
    extra = path[len(base) + 1 :].split("/")
    return all(seg and unquote(seg) not in {".", ".."} and "/" not in unquote(seg) for seg in extra)


def _apply_cursor(op: Operation, req: PreparedRequest, cursor: str) -> None:
    if op.paging is Paging.URLS:
        parts = urlsplit(cursor)
        if not _path_extends(parts.path, req.path):
            raise InvalidArguments(op.name, [("cursor", "does not belong to this operation and its arguments")])
        req.path = parts.path
        req.query = parse_qsl(parts.query, keep_blank_values=True)
    elif op.paging in (Paging.SKIP, Paging.PAGE):
        key = "skip" if op.paging is Paging.SKIP else "page"
        if not _is_number(cursor):
            raise InvalidArguments(op.name, [("cursor", "must be the next_cursor of a previous page")])
        req.query = [kv for kv in req.query if kv[0] != key] + [(key, cursor)]
    elif op.paging in (Paging.TOKEN, Paging.BODY_SKIP):
        body = req.json if isinstance(req.json, dict) else {}
        pagination = dict(body.get("pagination") or {})
        if op.paging is Paging.TOKEN:
            pagination["token"] = cursor
        else:
            if not _is_number(cursor):
                raise InvalidArguments(op.name, [("cursor", "must be the next_cursor of a previous page")])
            pagination["skip"] = int(cursor)
        req.json = {**body, "pagination": pagination}
