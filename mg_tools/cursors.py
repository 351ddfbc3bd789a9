"""Cursors that resume inside a page.

A list answer trimmed to the size budget shows only the first items of its page; its ``next_cursor``
must continue exactly after the last item shown. Such a cursor names the page (the cursor that asked
for it, none for the first page) and how many of its items were shown already, as an opaque token.
The page's cursor inside is checked like any other when the request is built, so a token can reach
no other host or path than the operation's.

Cursors of whole pages stay as the endpoint pages them (a next-page URL, a skip, a token).
"""

from __future__ import annotations

import base64
import binascii
import json

__all__ = ["MAX_OFFSET", "PREFIX", "resume_at", "split"]

#: Tokens start with this character, which no page cursor does.
PREFIX = "~"
#: No page holds more items than this.
MAX_OFFSET = 10_000
_INVALID = "must be the next_cursor of a previous answer, unchanged"


def resume_at(page: str | None, offset: int) -> str:
    """The cursor of the items of ``page`` after the first ``offset``."""
    text = json.dumps({"page": page, "offset": offset}, separators=(",", ":"))
    return PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def split(cursor: str) -> tuple[str | None, int]:
    """The page cursor and the offset into that page a cursor stands for; ValueError when it is a token
    that was not made by :func:`resume_at`."""
    if not cursor.startswith(PREFIX):
        return cursor, 0
    body = cursor[len(PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise ValueError(_INVALID) from None
    if not isinstance(data, dict) or set(data) != {"page", "offset"}:
        raise ValueError(_INVALID)
    page, offset = data["page"], data["offset"]
    if not (page is None or (isinstance(page, str) and page and not page.startswith(PREFIX))):
        raise ValueError(_INVALID)
    if type(offset) is not int or not 0 < offset <= MAX_OFFSET:
        raise ValueError(_INVALID)
    return page, offset
