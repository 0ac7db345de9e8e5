"""Easy-read German (`de-x-simple`) for the survey flow's own interface texts: the easy-read
catalogue where it carries a text, German for every other one, plain German for everyone else."""

from __future__ import annotations

import pytest

from tests.surveys.conftest import Surveys

from .test_pages import FIRST_PAGE, Client, Resident, easy_read_definition, main_of


@pytest.fixture
async def easy_resident(client: Client, surveys: Surveys) -> Resident:
    survey = await surveys.create(easy_read_definition(), publish=True)
    return Resident(client=client, survey_id=str(survey["id"]))


async def test_the_easy_read_survey_speaks_easy_read_german(easy_resident: Resident) -> None:
    await easy_resident.open("?lang=de-x-simple")
    main = main_of(easy_resident.text)
    assert easy_resident.heading() == "Familien im Kiez: Was brauchen Sie?"  # content
    assert "Darum geht es in der Befragung" in main  # interface, easy-read catalogue
    assert "Wozu die Befragung dient" not in main
    assert "Ungefähr 8 Minuten" in main  # a plural form
    assert "Jetzt anfangen" in main
    assert "Prozesse" in easy_resident.text  # not carried: the German text
    assert '<html lang="de" dir="ltr">' in easy_resident.text
    assert "data-language-fallback" not in main  # plain German is no other language

    await easy_resident.start()
    await easy_resident.next(q_age="under_27")
    assert easy_resident.status == 400
    main = main_of(easy_resident.text)
    assert "Bitte beantworten Sie diese Frage." in main  # German: the same in easy-read
    await easy_resident.next(**FIRST_PAGE)
    await easy_resident.next(q_missing=["kita", "homework", "youth_club", "doctor"])
    assert "Bitte wählen Sie höchstens 3 Antworten aus." in main_of(easy_resident.text)


async def test_plain_german_keeps_the_german_interface(easy_resident: Resident) -> None:
    await easy_resident.open()
    main = main_of(easy_resident.text)
    assert "Wozu die Befragung dient" in main and "Jetzt starten" in main
    assert "Darum geht es in der Befragung" not in main


async def test_a_survey_without_the_readers_language_says_so(easy_resident: Resident) -> None:
    """The note is the shared `language_fallback` macro (the process pages use it too)."""
    await easy_resident.open("?lang=tr")
    main = main_of(easy_resident.text)
    assert '<p class="inset-text" data-language-fallback>' in main
    assert "Deutsch" in main.split("data-language-fallback>")[1].split("</p>")[0]
