"""Names as senders type them, made safe to store, show and export.

An agency's name arrives from a public form. Control characters (line breaks, tabs, NUL),
format characters (zero-width spaces and joiners, the byte order mark, bidi overrides and
isolates, which can make "Skatteverket" display as something else) and other invisible
characters have no place in it: they are removed, whitespace is folded to single spaces, and
the result is in Unicode normal form NFC, so the same name typed twice compares equal.
"""

from __future__ import annotations

import unicodedata

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_SPACE_LIKE = frozenset({"\t", "\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029"})


def clean_name(raw: str) -> str:
    """`raw` without invisible characters, whitespace folded, NFC; may be empty."""
    kept = []
    for char in unicodedata.normalize("NFC", raw):
        if char in _SPACE_LIKE or unicodedata.category(char) == "Zs":
            kept.append(" ")
        elif unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            kept.append(char)
    return " ".join("".join(kept).split())
