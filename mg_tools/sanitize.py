"""Cleaning text written by email senders before it is shown to a reader that may act on it.

Invisible characters can hide whole instructions in text that looks harmless (tag characters and
variation selectors each carry one ASCII letter), or reorder what a reader sees (bidi controls).
``sanitize`` removes:

- every format (Cf), control (Cc, except newline, carriage return and tab), line and paragraph
  separator (Zl, Zp), private use (Co) and unassigned (Cn) code point;
- the default-ignorable code points of other categories (U+034F, the variation selectors, the Hangul
  fillers, the Mongolian free variation selectors, U+17B4/U+17B5) and U+2800 BRAILLE PATTERN BLANK,
  which render as nothing or as blank space;
- combining marks (Mn) with no visible base: at the start of a string, after whitespace or after a
  removed character. A mark that follows a letter stays (``e`` + U+0301 is ``é``; Devanagari and
  Arabic text keep their vowel signs).

Lone surrogates, which no encoder accepts, become U+FFFD. Ordinary spaces, newline, carriage return
and tab are kept.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

__all__ = ["BLANK", "REMOVED_CATEGORIES", "is_removed", "sanitize"]

#: Categories removed wherever they appear (Cc other than newline, carriage return and tab).
REMOVED_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp", "Co", "Cn"})
_KEPT_CONTROLS = "\n\r\t"

#: Invisible or blank characters of other categories: Unicode's Default_Ignorable_Code_Point
#: characters that are not Cf or Cn, and the blank Braille pattern.
BLANK: tuple[tuple[int, int], ...] = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG / JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ / AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS (U+180E is Cf)
    (0x2800, 0x2800),  # BRAILLE PATTERN BLANK
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTORS 1-16
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xE0100, 0xE01EF),  # VARIATION SELECTORS 17-256
)

# Planes 4-13 hold no assigned code point (all Cn), planes 15-16 only private use (Co) and
# noncharacters (Cn): both are removed whole, without looking at each of their 1.3 million code points.
_WHOLE_RANGES = ((0x40000, 0xDFFFF), (0xF0000, 0x10FFFF))
_SCANNED = (range(0x40000), range(0xE0000, 0xF0000))

_SURROGATES = re.compile("[\ud800-\udfff]")


def is_removed(ch: str) -> bool:
    """Whether ``sanitize`` removes this character wherever it stands (combining marks aside)."""
    code = ord(ch)
    if ch in _KEPT_CONTROLS:
        return False
    if unicodedata.category(ch) in REMOVED_CATEGORIES:
        return True
    return any(low <= code <= high for low, high in BLANK)


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for code in codes:
        if out and out[-1][1] == code - 1:
            out[-1][1] = code
        else:
            out.append([code, code])
    return [(a, b) for a, b in out]


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in sorted(ranges)) + "]"


@cache
def _pattern() -> re.Pattern[str]:
    """The removed characters, built once, on first use."""
    removed: list[int] = []
    marks: list[int] = []
    for block in _SCANNED:
        for code in block:
            category = unicodedata.category(chr(code))
            if category in REMOVED_CATEGORIES:
                if chr(code) not in _KEPT_CONTROLS:
                    removed.append(code)
            elif category == "Mn":
                marks.append(code)
    hidden = _char_class(_ranges(removed) + list(BLANK) + list(_WHOLE_RANGES))
    mark = _char_class(_ranges(marks))
    # A run of removed characters takes the marks that follow it (they would otherwise land on the
    # character before the run); marks at the start or after whitespace have no base either.
    return re.compile(f"{hidden}+{mark}*|(?:^|(?<=\\s)){mark}+")


def sanitize(data: Any) -> tuple[Any, int]:
    """A copy of ``data`` whose strings (keys included) have invisible and control characters
    removed (see the module docstring) and lone surrogates replaced by U+FFFD, with the number of
    characters removed or replaced."""
    changed = 0

    def clean(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            if value.isascii() and value.isprintable():
                return value
            kept = _pattern().sub("", value)
            kept, replaced = _SURROGATES.subn("\ufffd", kept)
            changed += len(value) - len(kept) + replaced
            return kept
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(data), changed
