"""Folding area names for search: case-insensitive and umlaut-safe without PostgreSQL's
unaccent extension (which a fresh machine may not have).

A name is stored in two folded forms, one with umlauts written out (ä → ae) and one with the
diacritics stripped (ä → a); a query is folded the first way. So "Köpenick", "Koepenick" and
"Kopenick" all find Köpenick, and "Schlossstrasse" finds Schloßstraße.
"""

from __future__ import annotations

import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _squash(text: str) -> str:
    return " ".join(text.split())


def fold_query(text: str) -> str:
    """The form a search query is compared in (casefold turns ß into ss)."""
    return _squash(_strip_marks(text.casefold().translate(_UMLAUTS)))


def search_forms(name: str) -> str:
    """What is stored for a name: both folded forms, on separate lines so that a query cannot
    match across them."""
    written_out = fold_query(name)
    stripped = _squash(_strip_marks(name.casefold()))
    return written_out if written_out == stripped else f"{written_out}\n{stripped}"


def like_pattern(query: str) -> str:
    """A LIKE pattern (escape character backslash) matching the folded query anywhere."""
    folded = fold_query(query)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
