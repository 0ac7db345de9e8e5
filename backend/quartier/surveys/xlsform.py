"""Survey definitions as XLSForm (the ODK / Kobo spreadsheet format) and back.

Reading uses pyxform's own reading of the format (`get_xlsform` + `workbook_to_json`), so a
workbook means here what it means in ODK; this module only maps pyxform's result onto a
Quartier definition and writes the reverse with xlsxwriter.

The mapping (survey sheet `type` ↔ Quartier question type):

=============================================  ====================================
XLSForm                                         Quartier
=============================================  ====================================
``begin group`` … ``end group`` (top level)     a page (group `relevant` → page `show_if`)
``select_one L``                                ``single_choice`` (choice ``other`` → “other,
                                                please specify”, with ``<key>_other`` text)
``select_one L`` whose choices have             ``age_band`` (``population_bands``, space
``population_bands``                            separated)
``select_one_from_file social_areas.csv``       ``social_area`` (``area_level``, ``point_lookup``)
``select_multiple L``                           ``multiple_choice``
``rank L``                                      ``ranking``
``range`` (``start=… end=… step=1``)            ``rating`` (``min_label``, ``max_label``,
                                                ``need_values``, ``need_categories``)
``integer`` / ``decimal``                       ``number`` (bounds in ``constraint``, ``unit``)
``text`` / ``text`` + ``appearance multiline``  ``short_text`` / ``long_text``
=============================================  ====================================

Bounds are ``constraint`` expressions (``. >= 1 and . <= 15``, ``string-length(.) <= 200``,
``count-selected(.) >= 1 and count-selected(.) <= 3``); conditions are ``relevant``
expressions (``${q} = 'yes'``, ``${q} != 'no'``, ``selected(${q}, 'kita')``, ``not(…)``,
``and``, ``or``, parentheses). Texts in several languages are ``label::German (de)``,
``label::English (en)``, ``label::Easy German (de-x-simple)``, ``label::Turkish (tr)``,
``label::Arabic (ar)`` columns (a column without language is German). Need categories are a
``need_categories`` column (space separated) of the choices or, for ratings, of the survey
sheet; a ``population_sex`` column of the choices (``female`` / ``male``, of the choices of one
``select_one``) maps options to the population's sexes for the representativeness of the
results. The texts residents read before the survey
(``purpose``, ``organiser``, ``privacy_note``, ``intro``, ``thank_you``) and the settings
(``estimated_minutes``, ``access_mode``, ``k_threshold``, ``min_respondents``) are columns of
the settings sheet. Whatever cannot be mapped — other question types, nested or repeated
groups, notes, expressions beyond the ones above — is refused with a message naming the sheet,
row and column. The time stamps ``start``, ``end`` and ``today`` are skipped: Quartier does not
record them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
import openpyxl
import xlsxwriter  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.core.errors import FieldError, InvalidInput
from quartier.surveys import schemas as s
from quartier.surveys import services
from quartier.surveys.models import Survey

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_XLSFORM_BYTES = 5_000_000

# Quartier language → XLSForm language name; and how language names are read back.
LANGUAGE_NAMES = {
    "de": "German (de)",
    "en": "English (en)",
    "de-x-simple": "Easy German (de-x-simple)",
    "tr": "Turkish (tr)",
    "ar": "Arabic (ar)",
}
LANGUAGES = tuple(LANGUAGE_NAMES)  # in the order of the columns
_LANGUAGE_WORDS = {
    "german": "de",
    "deutsch": "de",
    "english": "en",
    "englisch": "en",
    "turkish": "tr",
    "türkçe": "tr",
    "türkisch": "tr",
    "arabic": "ar",
    "arabisch": "ar",
    "default": "de",
}
_CODE_IN_NAME = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\)\s*$")
SKIPPED_TYPES = frozenset({"start", "end", "today"})
AREA_FILE = "social_areas.csv"
SETTINGS_TEXTS = ("intro", "purpose", "organiser", "privacy_note", "thank_you")


# -- where things are in the workbook ------------------------------------------------------------


@dataclass(slots=True)
class _Sheet:
    columns: dict[str, str] = field(default_factory=dict)  # header → column letter
    rows: dict[str, int] = field(default_factory=dict)  # name (or list:name) → row number

    def column(self, header: str) -> str:
        if header in self.columns:
            return self.columns[header]
        for name, letter in self.columns.items():  # `label` → first `label::…` column
            if name.split("::", 1)[0].strip() == header:
                return letter
        return "?"


@dataclass(slots=True)
class _Places:
    """Row numbers and column letters of the workbook, to name where an error is."""

    sheets: dict[str, _Sheet] = field(default_factory=dict)

    @classmethod
    def of(cls, data: bytes) -> _Places:
        places = cls()
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # pyxform reports an unreadable workbook itself
            return places
        for sheet_name in ("survey", "choices", "settings"):
            if sheet_name not in book.sheetnames:
                continue
            sheet = _Sheet()
            rows = book[sheet_name].iter_rows(values_only=True)
            header = next(rows, ())
            for index, value in enumerate(header):
                if value is not None:
                    sheet.columns[str(value).strip()] = get_column_letter(index + 1)
            headers = [str(v).strip() if v is not None else "" for v in header]
            for number, row in enumerate(rows, start=2):
                cells = dict(zip(headers, row, strict=False))
                name = str(cells.get("name") or "").strip()
                if sheet_name == "choices":
                    name = f"{str(cells.get('list_name') or '').strip()}:{name}"
                if name and name not in sheet.rows:
                    sheet.rows[name] = number
            places.sheets[sheet_name] = sheet
        book.close()
        return places

    def error(self, sheet: str, name: str | None, column: str, message: str) -> FieldError:
        found = self.sheets.get(sheet, _Sheet())
        row = found.rows.get(name or "") if sheet != "settings" else 2
        letter = found.column(column)
        where = f"sheet {sheet}, row {row or '?'}, column {column} ({letter})"
        return FieldError(
            field=f"xlsform.{sheet}[{row or 0}].{column}",
            source="body",
            message=f"{where}: {message}",
        )


def _invalid(errors: list[FieldError]) -> InvalidInput:
    return InvalidInput(
        "The XLSForm cannot be mapped onto a Quartier survey; see `errors`.", errors=errors
    )


class _Refused(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


# -- texts ---------------------------------------------------------------------------------------


def _language(name: str) -> str | None:
    found = _CODE_IN_NAME.search(name)
    code = found.group(1).lower() if found else _LANGUAGE_WORDS.get(name.strip().lower())
    return code if code in LANGUAGE_NAMES else None


def _text(value: Any, refuse: Any, column: str) -> dict[str, str] | None:
    """A pyxform text (a string, or language name → string) as a Quartier text."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        return {"de": value}
    texts: dict[str, str] = {}
    for name, text in value.items():
        language = _language(str(name))
        if language is None:
            raise _Refused(
                refuse(
                    f"{column}::{name}",
                    f"unknown language {name!r} (use German (de), English (en), "
                    "Easy German (de-x-simple), Turkish (tr) or Arabic (ar))",
                )
            )
        if text:
            texts[language] = str(text)
    if "de" not in texts:
        raise _Refused(
            refuse(column, f"a German text is required (e.g. column `{column}::German (de)`)")
        )
    return texts


def _own_text(raw: Mapping[str, Any], name: str) -> dict[str, str] | None:
    """A text in Quartier's own columns, one per language: `name_de` (or `name`), `name_en`,
    `name_de-x-simple`, `name_tr`, `name_ar` (pyxform keeps such columns as they are; `::`
    translations of columns it does not know would break its XForm output)."""
    texts = {
        language: str(raw[column]).strip()
        for language, column in (
            ("de", f"{name}_de"),
            ("de", name),
            *((language, f"{name}_{language}") for language in LANGUAGES[1:]),
        )
        if raw.get(column) not in (None, "")
    }
    return texts or None


def _own_columns(name: str, languages: list[str]) -> list[str]:
    return [f"{name}_{language}" for language in languages]


# -- expressions ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\})|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>!=|>=|<=|=|>|<|\(|\)|,)|(?P<word>[A-Za-z-]+))"
)


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {expression[position : position + 20]!r}")
        kind = match.lastgroup or ""
        if kind == "name":
            kind = "ref"
        value = match.group("name") if kind == "ref" else match.group(kind)
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _ConditionParser:
    """``relevant`` expressions → Quartier conditions (as builtins). `types` maps question
    keys to Quartier types, to read `selected()` on a single choice as `equals`."""

    def __init__(self, expression: str, types: Mapping[str, str]) -> None:
        self.tokens = _tokens(expression)
        self.at = 0
        self.types = types

    def parse(self) -> dict[str, Any]:
        condition = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at][1]!r}")
        return condition

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self._peek()
        if (
            token is None
            or (value is not None and token[1] != value)
            or (kind is not None and token[0] != kind)
        ):
            wanted = value or kind
            raise ValueError(f"expected {wanted!r}" + (f", found {token[1]!r}" if token else ""))
        self.at += 1
        return token[1]

    def _join(self, word: str, inner: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        parts = [inner()]
        while (token := self._peek()) is not None and token == ("word", word):
            self.at += 1
            parts.append(inner())
        if len(parts) == 1:
            return parts[0]
        name = "any" if word == "or" else "all"
        return {"op": name, name: parts}

    def _or(self) -> dict[str, Any]:
        return self._join("or", self._and)

    def _and(self) -> dict[str, Any]:
        return self._join("and", self._unary)

    def _unary(self) -> dict[str, Any]:
        token = self._peek()
        if token == ("word", "not"):
            self.at += 1
            self._take("(")
            inner = self._or()
            self._take(")")
            return {"op": "not", "not": inner}
        if token == ("op", "("):
            self.at += 1
            inner = self._or()
            self._take(")")
            return inner
        if token == ("word", "selected"):
            self.at += 1
            self._take("(")
            question = self._take(kind="ref")
            self._take(",")
            option = self._literal()
            self._take(")")
            if self.types.get(question) in ("single_choice", "age_band"):
                return {"op": "equals", "question": question, "value": option}
            return {"op": "includes", "question": question, "option": str(option)}
        question = self._take(kind="ref")
        operator = self._take(kind="op")
        if operator not in ("=", "!="):
            raise ValueError(f"only = and != compare answers, not {operator!r}")
        equals = {"op": "equals", "question": question, "value": self._literal()}
        return equals if operator == "=" else {"op": "not", "not": equals}

    def _literal(self) -> str | int | float:
        token = self._peek()
        if token is None or token[0] not in ("str", "num"):
            raise ValueError("expected a quoted value or a number")
        self.at += 1
        if token[0] == "str":
            return token[1][1:-1]
        number = float(token[1])
        return int(number) if number.is_integer() and "." not in token[1] else number


def _literal_text(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value + "'"
    return _number(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def condition_to_relevant(condition: s.Condition, top: bool = True) -> str:
    """A Quartier condition as an XLSForm ``relevant`` expression."""
    if isinstance(condition, s.Equals):
        return f"${{{condition.question}}} = {_literal_text(condition.value)}"
    if isinstance(condition, s.Includes):
        return f"selected(${{{condition.question}}}, '{condition.option}')"
    if isinstance(condition, s.Not):
        return f"not({condition_to_relevant(condition.condition)})"
    word = " or " if isinstance(condition, s.AnyOf) else " and "
    joined = word.join(condition_to_relevant(inner, top=False) for inner in condition.conditions)
    return joined if top else f"({joined})"


_CONSTRAINT = re.compile(
    r"^\s*(?P<lhs>\.|string-length\(\s*\.\s*\)|count-selected\(\s*\.\s*\))\s*(?P<op>>=|<=)\s*"
    r"(?P<num>-?\d+(?:\.\d+)?)\s*$"
)


def _bounds(constraint: str | None, lhs: str) -> dict[str, float]:
    """``constraint`` → {">=": low, "<=": high} for clauses on `lhs` (`.`, `string-length(.)`,
    `count-selected(.)`); anything else raises ValueError."""
    found: dict[str, float] = {}
    if not constraint:
        return found
    for clause in re.split(r"\s+and\s+", constraint.strip()):
        match = _CONSTRAINT.match(clause)
        if match is None or re.sub(r"\s", "", match.group("lhs")) != lhs:
            raise ValueError(
                f"cannot map {clause.strip()!r} (expected `{lhs} >= n and {lhs} <= m`)"
            )
        found[match.group("op")] = float(match.group("num"))
    return found


# -- reading -------------------------------------------------------------------------------------


def _words(value: Any) -> list[str]:
    return str(value or "").split()


def _flag(value: Any) -> bool:
    return str(value or "").strip().lower() in ("yes", "true", "true()", "1", "ja")


@dataclass(slots=True)
class _Reader:
    places: _Places
    types: dict[str, str] = field(default_factory=dict)  # key → Quartier type
    conditions: list[tuple[dict[str, Any], str, str, str]] = field(default_factory=list)
    other_length: dict[str, int] = field(default_factory=dict)  # choice key → `<key>_other` max
    errors: list[FieldError] = field(default_factory=list)

    def refuse(
        self, name: str | None, column: str, message: str, sheet: str = "survey"
    ) -> _Refused:
        return _Refused(self.places.error(sheet, name, column, message))

    def text(self, node: Mapping[str, Any], column: str, name: str, sheet: str = "survey") -> Any:
        return _text(node.get(column), lambda c, m: self.places.error(sheet, name, c, m), column)

    def own_text(self, node: Mapping[str, Any], column: str, name: str) -> Any:
        text = _own_text(node, column)
        if text is not None and "de" not in text:
            raise self.refuse(name, f"{column}_de", "a German text is required")
        return text

    def options(self, node: Mapping[str, Any], extra: str) -> list[dict[str, Any]]:
        list_name = str(node.get("list_name") or node.get("itemset") or "")
        options = []
        for choice in node.get("choices") or []:
            place = f"{list_name}:{choice.get('name')}"
            option: dict[str, Any] = {
                "key": choice.get("name"),
                "label": _text(
                    choice.get("label"),
                    lambda c, m, p=place: self.places.error("choices", p, c, m),
                    "label",
                ),
            }
            if extra == "population_bands":
                option["population_bands"] = _words(choice.get("population_bands"))
            else:
                option["need_categories"] = _words(choice.get("need_categories"))
            sex = str(choice.get("population_sex") or "").strip()
            if sex:
                if str(node.get("type")) != "select one" or extra == "population_bands":
                    raise _Refused(
                        self.places.error(
                            "choices",
                            place,
                            "population_sex",
                            "only the choices of a select_one (not an age band) map to the "
                            "population's sexes",
                        )
                    )
                if sex not in s.POPULATION_SEXES:
                    raise _Refused(
                        self.places.error(
                            "choices", place, "population_sex", "give female or male (or nothing)"
                        )
                    )
                option["population_sex"] = sex
            options.append(option)
        return options

    def question(self, node: Mapping[str, Any]) -> dict[str, Any]:
        name = str(node.get("name"))
        kind = str(node.get("type"))
        bind = node.get("bind") or {}
        control = node.get("control") or {}
        constraint = bind.get("constraint")
        question: dict[str, Any] = {
            "key": name,
            "text": self.text(node, "label", name),
            "required": _flag(bind.get("required")),
        }
        if question["text"] is None:
            raise self.refuse(name, "label", "every question needs a label")
        hint = self.text(node, "hint", name)
        if hint is not None:
            question["hint"] = hint

        def bounds(lhs: str) -> dict[str, float]:
            try:
                return _bounds(constraint, lhs)
            except ValueError as error:
                raise self.refuse(name, "constraint", str(error)) from None

        choices = node.get("choices") or []
        if kind == "select one" and str(node.get("itemset", "")).endswith(
            (".csv", ".xml", ".geojson")
        ):
            if node.get("itemset") != AREA_FILE:
                raise self.refuse(
                    name,
                    "type",
                    f"only `select_one_from_file {AREA_FILE}` (the social areas) is supported",
                )
            question.update(
                type="social_area",
                level=str(node.get("area_level") or ""),
                point_lookup=_flag(node.get("point_lookup")),
            )
            if not question["level"]:
                raise self.refuse(name, "area_level", "give the area level (e.g. district)")
        elif kind == "select one" and any(c.get("population_bands") for c in choices):
            question.update(type="age_band", options=self.options(node, "population_bands"))
        elif kind in ("select one", "select all that apply"):
            options = self.options(node, "need_categories")
            others = [o for o in options if o["key"] == s.OTHER]
            question["type"] = "single_choice" if kind == "select one" else "multiple_choice"
            question["options"] = [o for o in options if o["key"] != s.OTHER]
            if others:
                question["other"] = {
                    "label": others[0]["label"],
                    "need_categories": others[0]["need_categories"],
                }
            if kind == "select all that apply":
                found = bounds("count-selected(.)")
                if ">=" in found:
                    question["min_selections"] = int(found[">="])
                if "<=" in found:
                    question["max_selections"] = int(found["<="])
            elif constraint:
                raise self.refuse(name, "constraint", "single choices take no constraint")
        elif kind == "rank":
            question.update(type="ranking", options=self.options(node, "need_categories"))
            found = bounds("count-selected(.)")
            if ">=" in found:
                question["min_ranked"] = int(found[">="])
            if "<=" in found:
                question["max_ranked"] = int(found["<="])
        elif kind == "range":
            parameters = node.get("parameters") or control
            if str(parameters.get("step", "1")) not in ("1", "1.0"):
                raise self.refuse(name, "parameters", "a rating scale steps by 1")
            try:
                low, high = int(parameters.get("start", 1)), int(parameters.get("end", 10))
            except ValueError:
                raise self.refuse(
                    name, "parameters", "start and end must be whole numbers"
                ) from None
            question.update(
                type="rating",
                scale_min=low,
                scale_max=high,
                min_label=self.own_text(node, "min_label", name) or {"de": str(low)},
                max_label=self.own_text(node, "max_label", name) or {"de": str(high)},
                need_values=[
                    int(v) for v in _words(node.get("need_values")) if v.lstrip("-").isdigit()
                ],
                need_categories=_words(node.get("need_categories")),
            )
        elif kind in ("integer", "decimal"):
            found = bounds(".")
            if ">=" not in found or "<=" not in found:
                raise self.refuse(
                    name,
                    "constraint",
                    "a number needs both bounds: `. >= minimum and . <= maximum`",
                )
            question.update(
                type="number", minimum=found[">="], maximum=found["<="], integer=kind == "integer"
            )
            unit = self.own_text(node, "unit", name)
            if unit is not None:
                question["unit"] = unit
        elif kind == "text":
            long = "multiline" in str(control.get("appearance", ""))
            question["type"] = "long_text" if long else "short_text"
            found = bounds("string-length(.)")
            if ">=" in found:
                raise self.refuse(name, "constraint", "a minimum text length cannot be mapped")
            if "<=" in found:
                question["max_length"] = int(found["<="])
        else:
            raise self.refuse(
                name, "type", f"the XLSForm type {kind!r} has no Quartier counterpart"
            )
        self.types[name] = question["type"]
        if bind.get("relevant"):
            self.conditions.append((question, "survey", name, str(bind["relevant"])))
        return question

    def page(self, node: Mapping[str, Any], position: int) -> dict[str, Any]:
        name = str(node.get("name"))
        if node.get("type") == "group":
            page: dict[str, Any] = {"key": name, "questions": []}
            title = self.text(node, "label", name)
            if title is not None:
                page["title"] = title
            children = list(node.get("children") or [])
        else:  # a question outside any group is a page of its own (one per screen, as in ODK)
            page = {"key": f"{name}_page", "questions": []}
            children = [node]
        relevant = (node.get("bind") or {}).get("relevant")
        if relevant and node.get("type") == "group":
            self.conditions.append((page, "survey", name, str(relevant)))
        for child in self._questions(children):
            try:
                page["questions"].append(self.question(child))
            except _Refused as refused:  # go on, to name every row that cannot be mapped
                self.errors.append(refused.error)
        return page

    def _questions(self, children: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        previous: dict[str, Any] | None = None
        for child in children:
            kind = str(child.get("type"))
            name = str(child.get("name"))
            if kind in SKIPPED_TYPES:
                continue
            if kind in ("group", "repeat"):
                message = "groups inside groups and repeats cannot be mapped (a top-level group "
                self.errors.append(self.refuse(name, "type", message + "is a page)").error)
                continue
            # “Other, please specify”: the text question that follows a choice with `other`.
            if (
                previous is not None
                and kind == "text"
                and name == f"{previous.get('name')}_other"
                and any(c.get("name") == s.OTHER for c in previous.get("choices") or [])
            ):
                found = _bounds_or_none((child.get("bind") or {}).get("constraint"))
                if found is not None:
                    self.other_length[str(previous.get("name"))] = found
                continue
            previous = dict(child)
            yield child


def _bounds_or_none(constraint: Any) -> int | None:
    try:
        found = _bounds(str(constraint) if constraint else None, "string-length(.)")
    except ValueError:
        return None
    return int(found["<="]) if "<=" in found else None


def _setting(settings: Mapping[str, Any], name: str, default: Any) -> Any:
    value = settings.get(name)
    return default if value in (None, "") else value


def read_xlsform(data: bytes) -> s.SurveyDocument:
    """An XLSForm workbook (.xlsx) as a survey document; InvalidInput names the sheet, row and
    column of everything that cannot be mapped. The definition is then checked like any
    other (`definition.validate_definition`)."""
    places = _Places.of(data)
    try:
        workbook = get_xlsform(data)
        form = workbook_to_json(workbook, form_name="data")
    except PyXFormError as error:
        raise _invalid([FieldError(field="xlsform", source="body", message=str(error))]) from None
    except Exception:  # not a workbook at all: pyxform's readers raise many kinds
        raise _invalid(
            [FieldError(field="xlsform", source="body", message="not a readable .xlsx XLSForm")]
        ) from None
    reader = _Reader(places)
    settings = workbook.settings[0] if workbook.settings else {}
    try:
        pages = []
        for position, node in enumerate(form.get("children") or []):
            kind = node.get("type")
            if kind in SKIPPED_TYPES or (
                kind == "group"
                and node.get("name") == "meta"
                and (node.get("control") or {}).get("bodyless")
            ):
                continue
            if kind == "repeat":
                reader.errors.append(
                    reader.refuse(node.get("name"), "type", "repeats cannot be mapped").error
                )
                continue
            pages.append(reader.page(node, position))
        for page in pages:
            for question in page["questions"]:
                length = reader.other_length.get(question["key"])
                if length is not None and "other" in question:
                    question["other"]["max_length"] = length
        for target, sheet, name, expression in reader.conditions:
            try:
                target["show_if"] = _ConditionParser(expression, reader.types).parse()
            except ValueError as error:
                message = f"{error} in {expression!r}"
                reader.errors.append(reader.refuse(name, "relevant", message, sheet).error)
        if reader.errors:
            raise _invalid(reader.errors)
        document: dict[str, Any] = {
            "access_mode": _setting(settings, "access_mode", "open"),
            "k_threshold": int(_setting(settings, "k_threshold", 5)),
            "min_respondents": int(_setting(settings, "min_respondents", 10)),
        }
        title = _own_text({**settings, "title": settings.get("form_title")}, "title")
        if title is None or "de" not in title:
            raise _Refused(
                places.error("settings", None, "form_title", "the survey needs a German title")
            )
        definition: dict[str, Any] = {
            "title": title,
            "estimated_minutes": int(_setting(settings, "estimated_minutes", 10)),
            "pages": pages,
        }
        for name in SETTINGS_TEXTS:
            value = _own_text(settings, name)
            if value is not None and "de" not in value:
                raise _Refused(places.error("settings", None, f"{name}_de", "German is required"))
            if value is not None:
                definition[name] = value
            elif name in ("purpose", "organiser", "privacy_note"):
                raise _Refused(
                    places.error(
                        "settings",
                        None,
                        name,
                        f"residents read this before they answer: give it in column {name}_de",
                    )
                )
    except _Refused as refused:
        raise _invalid([refused.error]) from None
    except ValueError as error:
        raise _invalid([places.error("settings", None, "settings", str(error))]) from None
    document["definition"] = definition
    try:
        return msgspec.convert(document, s.SurveyDocument)
    except msgspec.ValidationError as error:
        raise _invalid([_located(places, document, str(error))]) from None


def _located(places: _Places, document: Mapping[str, Any], message: str) -> FieldError:
    """A msgspec error (`… - at `$.definition.pages[0].questions[2].key``) at its row."""
    match = re.search(r"\$\.definition\.pages\[(\d+)\](?:\.questions\[(\d+)\])?", message)
    if match is None:
        return FieldError(field="xlsform", source="body", message=message)
    page = document["definition"]["pages"][int(match.group(1))]
    name = page["key"]
    if match.group(2) is not None:
        name = page["questions"][int(match.group(2))]["key"]
    elif name not in places.sheets.get("survey", _Sheet()).rows:
        name = name.removesuffix("_page")
    return places.error("survey", name, "name", message)


# -- writing -------------------------------------------------------------------------------------


def _languages(document: s.SurveyDocument) -> list[str]:
    used = {"de"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "de" in node and node.keys() <= LANGUAGE_NAMES.keys():
                used.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(msgspec.to_builtins(document.definition))
    return [language for language in LANGUAGES if language in used]


def _constraint(lhs: str, low: float | None, high: float | None) -> str:
    clauses = []
    if low is not None:
        clauses.append(f"{lhs} >= {_number(low)}")
    if high is not None:
        clauses.append(f"{lhs} <= {_number(high)}")
    return " and ".join(clauses)


def write_xlsform(document: s.SurveyDocument) -> bytes:
    """A survey document as an XLSForm workbook (.xlsx), readable by :func:`read_xlsform`,
    pyxform, ODK and Kobo."""
    languages = _languages(document)
    survey_columns = ["type", "name"]
    for column in ("label", "hint"):
        survey_columns += [f"{column}::{LANGUAGE_NAMES[lang]}" for lang in languages]
    for column in ("min_label", "max_label", "unit"):
        survey_columns += _own_columns(column, languages)
    survey_columns += [
        "required",
        "relevant",
        "constraint",
        "appearance",
        "parameters",
        "area_level",
        "point_lookup",
        "need_values",
        "need_categories",
    ]
    choice_columns = [
        "list_name",
        "name",
        *[f"label::{LANGUAGE_NAMES[lang]}" for lang in languages],
        "need_categories",
        "population_bands",
        "population_sex",
    ]
    survey_rows: list[dict[str, Any]] = []
    choice_rows: list[dict[str, Any]] = []

    def texts(row: dict[str, Any], column: str, text: s.Text | None) -> None:
        if text is not None:
            for language, value in text.as_dict().items():
                row[f"{column}::{LANGUAGE_NAMES[language]}"] = value

    def own_texts(row: dict[str, Any], column: str, text: s.Text | None) -> None:
        if text is not None:
            for language, value in text.as_dict().items():
                row[f"{column}_{language}"] = value

    def choices(list_name: str, options: Any, other: s.OtherOption[s.Text] | None = None) -> None:
        for option in options:
            row: dict[str, Any] = {"list_name": list_name, "name": option.key}
            texts(row, "label", option.label)
            if isinstance(option, s.AgeBandOption):
                row["population_bands"] = " ".join(option.population_bands)
            else:
                row["need_categories"] = " ".join(option.need_categories)
                if option.population_sex is not msgspec.UNSET:
                    row["population_sex"] = option.population_sex
            choice_rows.append(row)
        if other is not None:
            row = {
                "list_name": list_name,
                "name": s.OTHER,
                "need_categories": " ".join(other.need_categories),
            }
            texts(row, "label", other.label)
            choice_rows.append(row)

    for page in document.definition.pages:
        group: dict[str, Any] = {
            "type": "begin group",
            "name": page.key,
            "appearance": "field-list",
        }
        texts(group, "label", page.title)
        if page.show_if is not None:
            group["relevant"] = condition_to_relevant(page.show_if)
        survey_rows.append(group)
        for question in page.questions:
            row: dict[str, Any] = {
                "name": question.key,
                "required": "yes" if question.required else "",
            }
            texts(row, "label", question.text)
            texts(row, "hint", question.hint)
            if question.show_if is not None:
                row["relevant"] = condition_to_relevant(question.show_if)
            follow: dict[str, Any] | None = None
            if isinstance(question, s.SocialAreaQuestion):
                row.update(
                    type=f"select_one_from_file {AREA_FILE}",
                    area_level=question.level,
                    point_lookup="yes" if question.point_lookup else "",
                )
            elif isinstance(question, s.AgeBandQuestion):
                row["type"] = f"select_one {question.key}"
                choices(question.key, question.options)
            elif isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
                single = isinstance(question, s.SingleChoiceQuestion)
                row["type"] = f"{'select_one' if single else 'select_multiple'} {question.key}"
                choices(question.key, question.options, question.other)
                if isinstance(question, s.MultipleChoiceQuestion):
                    row["constraint"] = _constraint(
                        "count-selected(.)",
                        question.min_selections or None,
                        question.max_selections,
                    )
                if question.other is not None:
                    follow = {
                        "type": "text",
                        "name": f"{question.key}_other",
                        "relevant": f"selected(${{{question.key}}}, '{s.OTHER}')",
                        "constraint": _constraint(
                            "string-length(.)", None, question.other.max_length
                        ),
                    }
                    texts(follow, "label", question.other.label)
            elif isinstance(question, s.RankingQuestion):
                row["type"] = f"rank {question.key}"
                choices(question.key, question.options)
                low = question.min_ranked if question.min_ranked != 1 else None
                row["constraint"] = _constraint("count-selected(.)", low, question.max_ranked)
            elif isinstance(question, s.RatingQuestion):
                row.update(
                    type="range",
                    parameters=f"start={question.scale_min} end={question.scale_max} step=1",
                    need_values=" ".join(str(v) for v in question.need_values),
                    need_categories=" ".join(question.need_categories),
                )
                own_texts(row, "min_label", question.min_label)
                own_texts(row, "max_label", question.max_label)
            elif isinstance(question, s.NumberQuestion):
                row.update(
                    type="integer" if question.integer else "decimal",
                    constraint=_constraint(".", question.minimum, question.maximum),
                )
                own_texts(row, "unit", question.unit)
            else:
                long = isinstance(question, s.LongTextQuestion)
                row.update(
                    type="text",
                    appearance="multiline" if long else "",
                    constraint=_constraint("string-length(.)", None, question.max_length),
                )
            survey_rows.append(row)
            if follow is not None:
                survey_rows.append(follow)
        survey_rows.append({"type": "end group"})

    definition = document.definition
    settings: dict[str, Any] = {
        "form_title": definition.title.de,
        "form_id": "quartier_survey",
        "default_language": LANGUAGE_NAMES["de"],
        "estimated_minutes": definition.estimated_minutes,
        "access_mode": str(document.access_mode),
        "k_threshold": document.k_threshold,
        "min_respondents": document.min_respondents,
    }
    for language in languages[1:]:
        settings[f"title_{language}"] = definition.title.as_dict().get(language, "")
    for name in SETTINGS_TEXTS:
        text: s.Text | None = getattr(definition, name)
        for language in languages:
            settings[f"{name}_{language}"] = text.as_dict().get(language, "") if text else ""
    settings_columns = list(settings)

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    for sheet_name, columns, rows in (
        ("survey", survey_columns, survey_rows),
        ("choices", choice_columns, choice_rows),
        ("settings", settings_columns, [settings]),
    ):
        sheet = book.add_worksheet(sheet_name)
        sheet.write_row(0, 0, columns, bold)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(rows, start=1):
            sheet.write_row(number, 0, [row.get(column, "") for column in columns])
    book.close()
    return buffer.getvalue()


# -- services ------------------------------------------------------------------------------------


async def import_xlsform(session: AsyncSession, process_id: UUID, data: bytes) -> Survey:
    """A new draft survey of a process from an XLSForm workbook, validated like CreateSurvey."""
    return await services.import_document(session, process_id, read_xlsform(data))


async def export_xlsform(session: AsyncSession, survey_id: UUID) -> bytes:
    """The survey's settings and definition as an XLSForm workbook."""
    survey = await services.get_survey(session, survey_id)
    return write_xlsform(services.export_document(survey))


def parse_relevant(expression: str, types: Mapping[str, str]) -> dict[str, Any]:
    """A condition written as an XLSForm ``relevant`` expression (as the builder pages take
    it) as a Quartier condition (builtins); `types` maps question keys to Quartier types.
    ValueError says what cannot be read."""
    return _ConditionParser(expression, types).parse()
