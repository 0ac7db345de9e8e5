"""What a resident reads of a planning process in their language.

German is the source text and lives in the columns (`title`, `topic`, `description`, the
mandate's five texts, the three phase notes): what the v1 API's fields always meant. Further
languages live in a `translations` map per process and per phase, `{"en": {"title": …,
"description": …, "aim": …}, "tr": {…}}`, kept and bounded by the mechanism every module shares
(`core.translations`).

The process's map holds two groups of texts, each with its own place in the API: the title,
topic and description (`Process.translations`, `ProcessText`) and the mandate's texts
(`Mandate.translations`, `MandateText`), as a phase's notes sit beside the phase's German. Their
field names differ, so one map per language holds both and a change of one group keeps the
other's (`merged`); no column or migration of its own (the map's CHECK bounds it: four
languages of both groups at their longest, every character escaped, stay below
`core.translations.MAX_BYTES`).

Residents read each text in their language where it has one, otherwise in German
(`core.i18n.show`); the pages say so visibly when that happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from quartier.core import i18n
from quartier.core import translations as shared
from quartier.core.errors import FieldError, InvalidInput
from quartier.processes import schemas as s
from quartier.processes.phases import PhaseKey

PROCESS_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.ProcessText))
PHASE_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.PhaseText))
MANDATE_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.MandateText))


def merged(
    current: Mapping[str, Any],
    *,
    texts: msgspec.Struct | msgspec.UnsetType = msgspec.UNSET,
    mandate: msgspec.Struct | msgspec.UnsetType = msgspec.UNSET,
) -> shared.Stored:
    """The process's map with the changes sent applied: `texts` (title, topic, description;
    refusals name `translations.<language>`) and `mandate` (`mandate.translations.<language>`),
    each keeping the other's texts; every language refused is named at once."""
    result = dict(current)
    refused: list[FieldError] = []
    for change, fields, field_name in (
        (texts, PROCESS_FIELDS, "translations"),
        (mandate, MANDATE_FIELDS, "mandate.translations"),
    ):
        if isinstance(change, msgspec.UnsetType):
            continue
        try:
            result = shared.merged(result, change, field_name=field_name, fields=fields)
        except InvalidInput as problem:
            refused += problem.errors or []
    if refused:
        raise InvalidInput(
            "Translations were given in languages this deployment does not enable.",
            errors=refused,
        )
    return result


@dataclass(frozen=True, slots=True)
class ResidentTexts:
    """What a resident reads of one process in their language: title, topic, description, the
    notes of each phase and the mandate's texts, each with the language it is shown in (lists
    read only the title and the topic)."""

    title: i18n.Shown
    topic: i18n.Shown
    description: i18n.Shown = shared.NOTHING
    phases: dict[PhaseKey, dict[str, i18n.Shown]] = field(default_factory=dict)
    mandate: dict[str, i18n.Shown] = field(default_factory=dict)

    def _all(self) -> list[i18n.Shown]:
        return [
            self.title,
            self.topic,
            self.description,
            *(shown for notes in self.phases.values() for shown in notes.values()),
            *self.mandate.values(),
        ]

    @property
    def fallback_language(self) -> str | None:
        """The language texts are shown in instead of the reader's (German), if any is."""
        return shared.fallback_language(self._all())


def for_residents(process: s.Process, language: str | None = None) -> ResidentTexts:
    language = language or i18n.current_language()
    return ResidentTexts(
        title=i18n.show(shared.texts(process.title, process.translations, "title"), language),
        topic=i18n.show(shared.texts(process.topic, process.translations, "topic"), language),
        description=i18n.show(
            shared.texts(process.description, process.translations, "description"), language
        ),
        phases={
            phase.key: {
                name: i18n.show(
                    shared.texts(getattr(phase, name), phase.translations, name), language
                )
                for name in PHASE_FIELDS
            }
            for phase in process.phases
        },
        mandate=mandate_for_residents(process.mandate, language),
    )


def mandate_for_residents(mandate: s.Mandate, language: str | None = None) -> dict[str, i18n.Shown]:
    """Each of the mandate's texts in the reader's language, else German (none for an empty
    German text): on the process page, and in the social report as recorded or released."""
    return {
        name: shared.show(getattr(mandate, name), mandate.translations, name, language)
        for name in MANDATE_FIELDS
    }


def summary_for_residents(
    title: str, topic: str, stored: Mapping[str, Any], language: str | None = None
) -> ResidentTexts:
    """A process's title and topic in the reader's language, from the stored map (lists)."""
    return ResidentTexts(
        title=i18n.show(shared.texts(title, stored, "title"), language),
        topic=i18n.show(shared.texts(topic, stored, "topic"), language),
    )
