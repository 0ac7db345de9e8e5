"""Texts of processes and phases per language.

German is the source text and lives in the columns (`title`, `topic`, `description`, the three
phase notes): what the v1 API's fields always meant. Further languages (English, easy-read
German, Turkish, Arabic) live in a `translations` map per process and per phase,
`{"en": {"title": …, "topic": …, "description": …}, "tr": {…}}`, holding only non-empty
texts. The map is bounded three times: the API's Structs name each known language and bound
each string, this module accepts only the languages the deployment enables, and the database
checks its size.

Residents read each text in their language where it has one, otherwise in German
(`core.i18n.show`); the pages say so visibly when that happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput
from quartier.processes import schemas as s
from quartier.processes.phases import PhaseKey

Stored = dict[str, dict[str, str]]
PROCESS_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.ProcessText))
PHASE_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.PhaseText))
# The languages a translation may be given in (German is the columns).
TRANSLATED_LANGUAGES = tuple(
    info.encode_name for info in msgspec.structs.fields(s.ProcessTranslations)
)
T = TypeVar("T", bound=msgspec.Struct)


def merged(current: Mapping[str, Any], change: msgspec.Struct, *, field_name: str) -> Stored:
    """`current` with `change` applied: per language, texts replace that language's texts, null
    (or texts all empty) removes them, a language not sent stays. A language set anew must be
    enabled by the deployment; otherwise 422 naming `<field_name>.<language>`."""
    result: Stored = {
        language: dict(texts)
        for language, texts in current.items()
        if language in TRANSLATED_LANGUAGES and isinstance(texts, dict)
    }
    refused: list[FieldError] = []
    for language, texts in msgspec.to_builtins(change).items():
        kept = {name: text for name, text in (texts or {}).items() if text.strip()}
        if not kept:
            result.pop(language, None)
            continue
        if language not in i18n.LANGUAGES:
            refused.append(
                FieldError(
                    field=f"{field_name}.{language}",
                    source="body",
                    message=f"the language '{language}' is not enabled in this deployment",
                )
            )
            continue
        result[language] = kept
    if refused:
        raise InvalidInput(
            "Translations were given in languages this deployment does not enable.",
            errors=refused,
        )
    return result


def as_struct(stored: Mapping[str, Any], kind: type[T]) -> T:
    """The stored map as the API's Struct (languages no longer known are left out)."""
    known = {
        language: texts for language, texts in stored.items() if language in TRANSLATED_LANGUAGES
    }
    return msgspec.convert(known, kind)


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


@dataclass(frozen=True, slots=True)
class ResidentTexts:
    """What a resident reads of one process in their language: title, topic, description and
    the notes of each phase, each with the language it is shown in (lists read only the title
    and the topic)."""

    title: i18n.Shown
    topic: i18n.Shown
    description: i18n.Shown = NOTHING
    phases: dict[PhaseKey, dict[str, i18n.Shown]] = field(default_factory=dict)

    def _all(self) -> list[i18n.Shown]:
        return [
            self.title,
            self.topic,
            self.description,
            *(shown for notes in self.phases.values() for shown in notes.values()),
        ]

    @property
    def fallback_language(self) -> str | None:
        """The language texts are shown in instead of the reader's (German), if any is."""
        return next((shown.language for shown in self._all() if shown.falls_back), None)


def for_residents(process: s.Process, language: str | None = None) -> ResidentTexts:
    language = language or i18n.current_language()
    return ResidentTexts(
        title=i18n.show(texts(process.title, process.translations, "title"), language),
        topic=i18n.show(texts(process.topic, process.translations, "topic"), language),
        description=i18n.show(
            texts(process.description, process.translations, "description"), language
        ),
        phases={
            phase.key: {
                name: i18n.show(texts(getattr(phase, name), phase.translations, name), language)
                for name in PHASE_FIELDS
            }
            for phase in process.phases
        },
    )


def summary_for_residents(
    title: str, topic: str, stored: Mapping[str, Any], language: str | None = None
) -> ResidentTexts:
    """A process's title and topic in the reader's language, from the stored map (lists)."""
    return ResidentTexts(
        title=i18n.show(texts(title, stored, "title"), language),
        topic=i18n.show(texts(topic, stored, "topic"), language),
    )
