"""English and German side by side, for the metadata of exports (issue #13).

The exports' metadata name their methods in sentences (weighting, interval, disclosure control).
JSON and the English `csv` carry them in English, as the API documents them; the German exports
(`csv-de`, XLSX) carry every metadata value in German, as they do the labels. The German text
sits next to the English one in the code, like the German labels of `surveys.exports`:

* `Bilingual(en, de)` — a metadata value with its two texts; the table writers of
  `surveys.exports` show `en` in csv and `de` in csv-de and XLSX.
* `Method(en, de)` — a method's description as two templates with the same `{placeholders}`.
  `format` gives the English text that the result documents carry (their fields stay `str`);
  `of(english)` gives both texts of such an English text, reading the values back from it, so
  the exports need nothing but the document. Numbers read back are written with a decimal
  comma in German.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, NamedTuple

_DECIMAL = re.compile(r"-?\d+\.\d+")


class Bilingual(NamedTuple):
    """A metadata value in English (csv, JSON) and German (csv-de, XLSX)."""

    en: str
    de: str


@dataclass(frozen=True, slots=True)
class Method:
    """A method's description: English and German templates with the same placeholders."""

    en: str
    de: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        en_fields = {name for _, name, _, _ in string.Formatter().parse(self.en) if name}
        de_fields = {name for _, name, _, _ in string.Formatter().parse(self.de) if name}
        if en_fields != de_fields:
            raise ValueError(f"the templates name different values: {en_fields} ≠ {de_fields}")
        pattern, seen = "", set()
        for literal, name, _, _ in string.Formatter().parse(self.en):
            pattern += re.escape(literal)
            if name is None:
                continue
            pattern += f"(?P={name})" if name in seen else f"(?P<{name}>.*?)"
            seen.add(name)
        object.__setattr__(self, "_pattern", re.compile(pattern, re.DOTALL))

    def format(self, **values: Any) -> str:
        """The English text (what the result documents and the English exports carry)."""
        return self.en.format(**values)

    def german(self, **values: Any) -> str:
        return self.de.format(**{key: _german(str(value)) for key, value in values.items()})

    def of(self, english: str) -> Bilingual:
        """Both texts of `english`, a text `format` gave; a text it did not give stays as it
        is in both (it is not this method's)."""
        match = self._pattern.fullmatch(english)
        if match is None:
            return Bilingual(english, english)
        return Bilingual(english, self.german(**match.groupdict()))


def _german(value: str) -> str:
    return value.replace(".", ",") if _DECIMAL.fullmatch(value) else value
