"""The one mechanism for texts staff write per language (`core.translations`): which languages a
translation may be given in, how a change is merged, and what a reader is shown."""

from __future__ import annotations

import msgspec
import pytest

from quartier.core import i18n
from quartier.core import translations as shared
from quartier.core.errors import InvalidInput
from quartier.ideas import schemas as ideas
from quartier.measures import schemas as measures
from quartier.processes import schemas as processes
from quartier.reports import schemas as reports

STRUCTS = (
    processes.ProcessTranslations,
    processes.ProcessTranslationsUpdate,
    processes.PhaseTranslations,
    processes.PhaseTranslationsUpdate,
    processes.MandateTranslations,
    processes.MandateTranslationsUpdate,
    ideas.AnswerTranslations,
    measures.MeasureTranslations,
    measures.SectionTranslations,
    measures.GoalTranslations,
    reports.SectionsTranslations,
    reports.TitleTranslations,
)


@pytest.mark.parametrize("kind", STRUCTS, ids=lambda kind: kind.__name__)
def test_every_translations_struct_names_the_translated_languages(kind: type) -> None:
    names = tuple(info.encode_name for info in msgspec.structs.fields(kind))
    assert names == shared.TRANSLATED_LANGUAGES
    assert set(shared.FORM_SUFFIXES) == set(shared.TRANSLATED_LANGUAGES)
    assert set(shared.TRANSLATED_LANGUAGES) | {"de"} == set(i18n.KNOWN_LANGUAGES)


def test_a_change_replaces_removes_and_keeps_languages() -> None:
    current = {"en": {"title": "Old"}, "tr": {"title": "Eski"}, "xx": {"title": "gone"}}
    change = {"en": {"title": "New", "summary": " "}, "tr": None}
    assert shared.merged(current, change, field_name="translations") == {"en": {"title": "New"}}


def test_a_change_of_one_group_keeps_the_other_groups_texts_in_the_same_map() -> None:
    current = {"en": {"title": "Title", "aim": "Aim"}, "tr": {"aim": "Amaç"}}
    change = {"en": {"title": "New title"}, "tr": {"title": "Başlık"}}
    assert shared.merged(current, change, field_name="translations", fields={"title"}) == {
        "en": {"title": "New title", "aim": "Aim"},
        "tr": {"aim": "Amaç", "title": "Başlık"},
    }
    removed = shared.merged(current, {"en": None, "tr": None}, field_name="t", fields={"aim"})
    assert removed == {"en": {"title": "Title"}}  # Turkish had nothing else: gone


def test_a_struct_reads_only_its_own_texts_from_a_shared_map() -> None:
    stored = {"en": {"title": "Title", "aim": "Aim"}, "tr": {"aim": "Amaç"}, "xx": {"aim": "?"}}
    assert msgspec.to_builtins(shared.as_struct(stored, processes.ProcessTranslations)) == {
        "en": {"title": "Title"}
    }
    assert msgspec.to_builtins(shared.as_struct(stored, processes.MandateTranslations)) == {
        "en": {"aim": "Aim"},
        "tr": {"aim": "Amaç"},
    }


def test_the_process_and_its_mandate_name_their_texts_apart() -> None:
    """They share the process's map: one name in both would be one text."""
    process = {info.name for info in msgspec.structs.fields(processes.ProcessText)}
    mandate = {info.name for info in msgspec.structs.fields(processes.MandateText)}
    assert process and mandate and not process & mandate


def test_a_language_the_deployment_does_not_enable_is_named() -> None:
    i18n.configure_languages(("en",))
    try:
        with pytest.raises(InvalidInput) as refused:
            shared.merged({}, {"ar": {"title": "عنوان"}}, field_name="sections[2].translations")
        assert [error.field for error in refused.value.errors or []] == [
            "sections[2].translations.ar"
        ]
    finally:
        i18n.configure_languages(i18n.KNOWN_LANGUAGES)


def test_a_reader_sees_their_language_or_german_marked_as_a_fallback() -> None:
    stored = {"en": {"summary": "In English"}, "de-x-simple": {"summary": "Einfach"}}
    english = shared.show("Auf Deutsch", stored, "summary", "en")
    assert (english.text, english.falls_back) == ("In English", False)
    turkish = shared.show("Auf Deutsch", stored, "summary", "tr")
    assert (turkish.text, turkish.language, turkish.falls_back) == ("Auf Deutsch", "de", True)
    assert shared.show("Auf Deutsch", stored, "summary", "de-x-simple").text == "Einfach"
    assert shared.show("Auf Deutsch", {}, "summary", "de-x-simple").falls_back is False
    assert shared.show("", stored, "summary", "tr") == shared.NOTHING
    assert shared.fallback_language([english, turkish]) == "de"
    assert shared.fallback_language([english]) is None
