"""What a resident reads of a measure in their language: title, summary, and the heading and
text of each section, each in the reader's language where staff gave one, otherwise in German
(`core.translations`); the pages say so visibly when that happens. A goal's statement likewise
(`goal_statement`). Staff pages keep the German source text; the documents for the council are
German unless a language is asked for (`measures.documents`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quartier.core import i18n
from quartier.core import translations as shared
from quartier.measures import schemas as s
from quartier.processes import models as pm
from quartier.processes import translations as process_translations


@dataclass(frozen=True, slots=True)
class SectionTexts:
    key: str
    title: i18n.Shown
    body: i18n.Shown


@dataclass(frozen=True, slots=True)
class MeasureTexts:
    """A measure's texts as one reader sees them (lists read only title and summary)."""

    title: i18n.Shown
    summary: i18n.Shown
    sections: list[SectionTexts] = field(default_factory=list)

    def all(self) -> list[i18n.Shown]:
        return [
            self.title,
            self.summary,
            *(shown for section in self.sections for shown in (section.title, section.body)),
        ]

    @property
    def fallback_language(self) -> str | None:
        """The language texts are shown in instead of the reader's (German), if any is."""
        return shared.fallback_language(self.all())

    def section_titles(self) -> dict[str, str]:
        """Section key → heading in the reader's language (comment groups, form labels)."""
        return {section.key: section.title.text for section in self.sections}


def for_residents(content: s.MeasureVersion, language: str | None = None) -> MeasureTexts:
    """The texts of one version of a measure in the reader's language."""
    return MeasureTexts(
        title=shared.show(content.title, content.translations, "title", language),
        summary=shared.show(content.summary, content.translations, "summary", language),
        sections=[
            SectionTexts(
                key=section.key,
                title=shared.show(section.title, section.translations, "title", language),
                body=shared.show(section.body, section.translations, "body", language),
            )
            for section in content.sections
        ],
    )


def summary_for_residents(item: s.MeasureSummary, language: str | None = None) -> MeasureTexts:
    """A measure's title and summary in the reader's language (lists)."""
    return MeasureTexts(
        title=shared.show(item.title, item.translations, "title", language),
        summary=shared.show(item.summary, item.translations, "summary", language),
    )


def process_title(process: pm.PlanningProcess, language: str | None = None) -> i18n.Shown:
    """The title of the measure's planning process in the reader's language (breadcrumbs)."""
    return process_translations.summary_for_residents(
        process.title, process.topic, process.translations, language
    ).title


def goal_statement(goal: s.Goal | s.TraceGoal | Any, language: str | None = None) -> i18n.Shown:
    """A goal's (or sub-goal's) statement in the reader's language, else German: anything with
    `statement` and `translations` (the API's goal, the chain's goal, the report's goal)."""
    return shared.show(goal.statement, goal.translations, "statement", language)
