"""Reading indicator values from the files statistics offices publish.

CSV as municipal statistics offices write it: `;` (or `,` or tab) separators, decimal commas
(`12,5`, also `1.234,5` with thousands dots), Windows-1252 as well as UTF-8 (with or without a
byte-order mark), area codes with leading zeros (kept as text; a code that lost its zeros in a
spreadsheet is matched by padding it to the length of the known codes, with a warning). Columns
by header, German or English: `code`/`Schlüssel`/`Gebiet`, `date`/`Stichtag`, `value`/`Wert`,
`numerator`/`Zähler`, `denominator`/`Nenner`. Parsing never writes: it returns rows or errors
naming the line, so that the import stays all-or-nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

MAX_ERRORS = 50
COLUMNS = {
    "code": ("code", "area_code", "schlüssel", "schluessel", "gebiet", "gebietsschlüssel", "id"),
    "date": ("date", "reference_date", "stichtag", "datum"),
    "value": ("value", "wert"),
    "numerator": ("numerator", "zähler", "zaehler"),
    "denominator": ("denominator", "nenner"),
}
_GERMAN_NUMBER = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_DATE_DE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(slots=True)
class ParsedValue:
    line: int
    area_code: str
    reference_date: datetime.date
    value: float | None
    numerator: float | None
    denominator: float | None


@dataclass(slots=True)
class Parsed:
    rows: list[ParsedValue] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (BOM allowed), else Windows-1252."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "windows-1252"


def number(text: str) -> float:
    """`12,5`, `12.5`, `1.234,5`, `1234`; raise ValueError otherwise."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if _GERMAN_NUMBER.match(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    result = float(cleaned)
    if result != result or result in (float("inf"), float("-inf")) or abs(result) > 1e15:
        raise ValueError(text)
    return result


def date(text: str) -> datetime.date:
    cleaned = text.strip()
    if match := _DATE_DE.match(cleaned):
        day, month, year = (int(g) for g in match.groups())
        return datetime.date(year, month, day)
    return datetime.date.fromisoformat(cleaned)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        cleaned = name.strip().lower()
        for key, names in COLUMNS.items():
            if cleaned in names and key not in found:
                found[key] = index
    return found


def parse_csv(data: bytes, default_date: datetime.date | None = None) -> Parsed:
    text, encoding = decode(data)
    parsed = Parsed(encoding=encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line else "\t" if "\t" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        parsed.error("the file is empty")
        return parsed
    columns = _columns(header)
    if "code" not in columns:
        parsed.error("line 1: no column for the area code (code, Schlüssel or Gebiet)")
    if "date" not in columns and default_date is None:
        parsed.error("line 1: no column for the reference date (date or Stichtag) and none given")
    if "value" not in columns and not {"numerator", "denominator"} <= columns.keys():
        parsed.error("line 1: no column for the value (value or Wert, or Zähler and Nenner)")
    if parsed.errors:
        return parsed

    def cell(row: list[str], key: str) -> str:
        index = columns.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        for line, row in enumerate(reader, start=2):
            if not any(part.strip() for part in row):
                continue
            code = cell(row, "code")
            if not code:
                parsed.error(f"line {line}: the area code is empty")
                continue
            if len(code) > 32:
                parsed.error(f"line {line}: the area code is longer than 32 characters")
                continue
            try:
                when = date(cell(row, "date")) if "date" in columns else default_date
            except ValueError:
                parsed.error(f"line {line}: {cell(row, 'date')!r} is not a date")
                continue
            assert when is not None
            figures: dict[str, float | None] = {}
            bad = False
            for key in ("value", "numerator", "denominator"):
                raw = cell(row, key)
                if not raw or raw in ("-", "–", "."):
                    figures[key] = None
                    continue
                try:
                    figures[key] = number(raw)
                except ValueError:
                    parsed.error(f"line {line}: {key} {raw!r} is not a number")
                    bad = True
            if bad:
                continue
            parsed.rows.append(
                ParsedValue(
                    line, code, when, figures["value"], figures["numerator"], figures["denominator"]
                )
            )
    except csv.Error as error:
        parsed.error(f"the CSV cannot be read ({error})")
    return parsed
