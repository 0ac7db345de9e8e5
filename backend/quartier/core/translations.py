"""Texts staff write for residents, per language: one mechanism for every module (issue #14 §1).

German is the source text and lives in the domain's own columns and API fields (what the v1
fields always meant). Further languages (English, easy-read German `de-x-simple`, Turkish,
Arabic) live in a `translations` map beside it, `{"en": {"title": …, "summary": …}, "tr": {…}}`,
holding only non-empty texts. The map is bounded three times: the API's Structs name each known
language and bound each string like its German text, `merged` accepts only the languages the
deployment enables, and the database checks the map's size (`column`, `BOUNDED`).

Who uses it: planning processes and their phases (`processes.translations`), the official
answers to ideas, the content of measures and their sections. (Survey texts and need category
labels carry every language in one `Text` value instead: `surveys.schemas.Text`.)

Residents read each text in their language where it has one, otherwise in German (`show`,
`core.i18n.show`); pages say so visibly (`fallback_language`, the `language_fallback` macro).
Staff forms show one column per language (`form_languages`, `read_form`, `form_values`, the
template `workspace/_translated.html`).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput
from quartier.core.forms import parse_form

Stored = dict[str, dict[str, str]]
T = TypeVar("T", bound=msgspec.Struct)
L = TypeVar("L", bound=msgspec.Struct)  # one language's texts, e.g. a title and a summary

# The languages a translation may be given in (German is the source text). Every domain's
# translations Struct names exactly these (tests/core/test_translations.py checks).
TRANSLATED_LANGUAGES = ("en", "de-x-simple", "tr", "ar")

# -- API Structs --------------------------------------------------------------------------------


def _concrete_annotations(cls: type) -> None:
    """Give a subclass like `MeasureTranslations(Translations[MeasureText])` its fields'
    annotations with `L` put in: msgspec resolves the generic base itself, but the OpenAPI
    schema is made from the class's type hints, which would otherwise still say `L`."""
    (base,) = (b for b in getattr(cls, "__orig_bases__", ()) if typing.get_args(b))
    (text,) = typing.get_args(base)
    hints = typing.get_type_hints(typing.get_origin(base), include_extras=True)
    cls.__annotations__ = {name: hint[text] for name, hint in hints.items()}


class Translations(
    msgspec.Struct, Generic[L], kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """The texts per language beside German, one `L` each (subclass it with a docstring:
    `class MeasureTranslations(Translations[MeasureText])`, the docstring and class name are
    the API's schema)."""

    en: L | None = None
    de_x_simple: L | None = msgspec.field(default=None, name="de-x-simple")
    tr: L | None = None
    ar: L | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _concrete_annotations(cls)


class TranslationsUpdate(msgspec.Struct, Generic[L], kw_only=True, forbid_unknown_fields=True):
    """A change of the texts per language: an object replaces that language's texts, null
    removes them, a language not sent keeps them (subclass it like `Translations`)."""

    en: L | msgspec.UnsetType | None = msgspec.UNSET
    de_x_simple: L | msgspec.UnsetType | None = msgspec.field(
        default=msgspec.UNSET, name="de-x-simple"
    )
    tr: L | msgspec.UnsetType | None = msgspec.UNSET
    ar: L | msgspec.UnsetType | None = msgspec.UNSET

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _concrete_annotations(cls)


# -- storage ------------------------------------------------------------------------------------

# The database's backstop for a translations map (the API bounds each string much tighter: four
# languages of the longest texts, each character escaped, stay below it).
MAX_BYTES = 524_288
BOUNDED = (
    f"jsonb_typeof(translations) = 'object' AND octet_length(translations::text) <= {MAX_BYTES}"
)


def column() -> Mapped[dict[str, Any]]:
    """The `translations` column: {language: {field: text}} for the languages beside German
    (declare `sa.CheckConstraint(BOUNDED, name="translations_bounded")` on the table)."""
    return mapped_column(JSONB, default=dict, server_default=sa.text("'{}'::jsonb"))


# -- changes ------------------------------------------------------------------------------------


def _refused(field_name: str, language: str) -> FieldError:
    return FieldError(
        field=f"{field_name}.{language}",
        source="body",
        message=f"the language '{language}' is not enabled in this deployment",
    )


def merged(
    current: Mapping[str, Any],
    change: msgspec.Struct | Mapping[str, Any],
    *,
    field_name: str,
    fields: Iterable[str] | None = None,
) -> Stored:
    """`current` with `change` applied: per language, texts replace that language's texts, null
    (or texts all empty) removes them, a language not sent stays. A language set anew must be
    enabled by the deployment; otherwise 422 naming `<field_name>.<language>`. Pass `{}` as
    `current` where the change replaces everything (a create, a new version).

    Where one map holds several groups of texts (a process's title and description beside its
    mandate), `fields` names the group `change` is for: only those texts are replaced or removed
    per language, the other group's stay."""
    result: Stored = {
        language: dict(texts)
        for language, texts in current.items()
        if language in TRANSLATED_LANGUAGES and isinstance(texts, dict)
    }
    group = None if fields is None else frozenset(fields)
    sent = msgspec.to_builtins(change) if isinstance(change, msgspec.Struct) else change
    refused: list[FieldError] = []
    for language, texts in sent.items():
        kept = {name: text for name, text in (texts or {}).items() if text and text.strip()}
        if kept and language not in i18n.LANGUAGES:
            refused.append(_refused(field_name, language))
            continue
        others = {
            name: text
            for name, text in result.get(language, {}).items()
            if group is not None and name not in group
        }
        if others or kept:
            result[language] = {**others, **kept}
        else:
            result.pop(language, None)
    if refused:
        raise InvalidInput(
            "Translations were given in languages this deployment does not enable.",
            errors=refused,
        )
    return result


@functools.cache
def _text_fields(kind: type[msgspec.Struct]) -> frozenset[str]:
    """The text fields of one language in a translations Struct (`L`'s fields)."""
    (text,) = (
        arg
        for arg in typing.get_args(kind.__annotations__["en"])
        if isinstance(arg, type) and issubclass(arg, msgspec.Struct)
    )
    return frozenset(info.name for info in msgspec.structs.fields(text))


def as_struct(stored: Mapping[str, Any], kind: type[T]) -> T:
    """The stored map as the API's Struct (languages no longer known are left out, and so are
    the texts of another group sharing the map: a process's mandate beside its title)."""
    names = _text_fields(kind)
    known = {
        language: {name: text for name, text in texts.items() if name in names}
        for language, texts in stored.items()
        if language in TRANSLATED_LANGUAGES and isinstance(texts, dict)
    }
    return msgspec.convert({language: texts for language, texts in known.items() if texts}, kind)


# -- reading ------------------------------------------------------------------------------------


def texts(
    german: str, translations: Mapping[str, Any] | msgspec.Struct, name: str
) -> dict[str, str]:
    """One text in every language it has, {"de": german, "en": …} as `core.i18n.pick` takes it,
    from a stored map or the API's Struct."""
    stored: Mapping[str, Any] = (
        msgspec.to_builtins(translations)
        if isinstance(translations, msgspec.Struct)
        else translations
    )
    found = {"de": german}
    for language, values in stored.items():
        if language in TRANSLATED_LANGUAGES and isinstance(values, dict) and values.get(name):
            found[language] = str(values[name])
    return found


NOTHING = i18n.Shown(text="", language=i18n.DEFAULT_LANGUAGE, falls_back=False)


def show(
    german: str | None,
    translations: Mapping[str, Any] | msgspec.Struct,
    name: str,
    language: str | None = None,
) -> i18n.Shown:
    """One text as a resident reading `language` sees it (nothing for no German text)."""
    if not german:
        return NOTHING
    return i18n.show(texts(german, translations, name), language)


def fallback_language(shown: Iterable[i18n.Shown]) -> str | None:
    """The language texts are shown in instead of the reader's (German), if any is: the page
    then says so (`language_fallback`)."""
    return next((text.language for text in shown if text.falls_back), None)


# -- staff forms --------------------------------------------------------------------------------

# The form fields of a language beside German are `<field>_<suffix>`, e.g. `title_en` (easy-read
# German is `_simple`, as in the survey builder); the German text keeps the field's own name.
FORM_SUFFIXES = {"en": "en", "de-x-simple": "simple", "tr": "tr", "ar": "ar"}


def form_languages() -> list[tuple[str, str, str]]:
    """(code, suffix, name) of the enabled languages beside German: the form's columns."""
    names = i18n.language_names()
    return [
        (code, FORM_SUFFIXES[code], names[code])
        for code in TRANSLATED_LANGUAGES
        if code in i18n.LANGUAGES
    ]


class _Suffixed:
    """A form read through one language's suffix: `title` reads the field `<prefix>title_en`."""

    def __init__(self, form: Any, suffix: str, prefix: str) -> None:
        self._form = form
        self._suffix = suffix
        self._prefix = prefix

    def get(self, name: str, default: Any = None) -> Any:
        return self._form.get(f"{self._prefix}{name}_{self._suffix}", default)

    def getall(self, name: str, default: Any = None) -> Any:
        return self._form.getall(f"{self._prefix}{name}_{self._suffix}", default)


def read_form(
    form: Any, kind: type[msgspec.Struct], *, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """The texts of each enabled language beside German, read into `kind` (the API's text
    Struct of one language, so form and API share every bound): a change per language as the
    API's translations take it (null where every field is empty), the errors and the values
    sent, by form field (`<prefix><field>_<suffix>`; a prefix tells repeated groups apart)."""
    names = [info.name for info in msgspec.structs.fields(kind)]
    change: dict[str, Any] = {}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for code, suffix, _name in form_languages():
        result = parse_form(
            _Suffixed(form, suffix, prefix),
            kind,
            rename={name: f"{prefix}{name}_{suffix}" for name in names},
        )
        values.update({f"{prefix}{name}_{suffix}": value for name, value in result.values.items()})
        errors.update(result.errors)
        if result.data is not None:
            change[code] = msgspec.to_builtins(result.data) or None
    return change, errors, values


def given(change: Mapping[str, Any]) -> dict[str, Any]:
    """The languages of a `read_form` change that have texts: a whole set of translations (a
    create, a new version), where a language left empty is simply not there."""
    return {code: texts for code, texts in change.items() if texts}


def form_values(stored: msgspec.Struct | Mapping[str, Any], *, prefix: str = "") -> dict[str, str]:
    """The form values of the texts beside German, from the API's translations Struct or a
    stored map."""
    found = msgspec.to_builtins(stored) if isinstance(stored, msgspec.Struct) else stored
    return {
        f"{prefix}{name}_{FORM_SUFFIXES[code]}": text
        for code, texts in found.items()
        if texts and code in FORM_SUFFIXES
        for name, text in texts.items()
    }
