"""What a resident reads of a planning process in their language.

German is the source text and lives in the columns (`title`, `topic`, `description`, the three
phase notes): what the v1 API's fields always meant. Further languages live in a `translations`
map per process and per phase, `{"en": {"title": …, "topic": …, "description": …}, "tr": {…}}`,
kept and bounded by the mechanism every module shares (`core.translations`).

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
from quartier.processes import schemas as s
from quartier.processes.phases import PhaseKey

PROCESS_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.ProcessText))
PHASE_FIELDS = tuple(info.name for info in msgspec.structs.fields(s.PhaseText))


@dataclass(frozen=True, slots=True)
class ResidentTexts:
    """What a resident reads of one process in their language: title, topic, description and
    the notes of each phase, each with the language it is shown in (lists read only the title
    and the topic)."""

    title: i18n.Shown
    topic: i18n.Shown
    description: i18n.Shown = shared.NOTHING
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
    )


def summary_for_residents(
    title: str, topic: str, stored: Mapping[str, Any], language: str | None = None
) -> ResidentTexts:
    """A process's title and topic in the reader's language, from the stored map (lists)."""
    return ResidentTexts(
        title=i18n.show(shared.texts(title, stored, "title"), language),
        topic=i18n.show(shared.texts(topic, stored, "topic"), language),
    )
