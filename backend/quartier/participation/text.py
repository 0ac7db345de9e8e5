"""Bounded free text from residents: one rule for every module.

A text is normalised (line breaks to `\\n`, surrounding white space removed) and then refused if
it is longer than its bound or contains a NUL or another control character (tab and, in
multi-line texts, line breaks are allowed). PostgreSQL cannot store NUL; the other control
characters only ever come from broken clients or attempts to confuse readers of exports.
"""

from __future__ import annotations

import re

from quartier.core.i18n import gettext as _
from quartier.core.i18n import ngettext

_LINE_BREAKS = re.compile(r"\r\n?|\u2028|\u2029")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def normalise(value: str) -> str:
    """Line breaks as `\\n`, no white space around the text."""
    return _LINE_BREAKS.sub("\n", value).strip()


def text_error(value: str, max_length: int, *, multiline: bool = True) -> str | None:
    """A translated message if the normalised `value` breaks the rules, else None (blank
    values are the caller's business: a required field says so itself)."""
    text = normalise(value)
    if (_CONTROL if multiline else _CONTROL_OR_BREAK).search(text):
        return _("Remove the control characters from the text.")
    if len(text) > max_length:
        return ngettext(
            "Enter at most %(num)s character.", "Enter at most %(num)s characters.", max_length
        )
    return None


def count_links(value: str) -> int:
    """How many web links a text contains (for the link limit of spam defence)."""
    return len(re.findall(r"(?i)\bhttps?://|\bwww\.", value))


def fingerprint_text(value: str) -> str:
    """The form in which two texts count as duplicates: case, punctuation and white space
    ignored (so a re-sent idea with an extra space is caught)."""
    return " ".join(re.sub(r"[\W_]+", " ", value.casefold()).split())
