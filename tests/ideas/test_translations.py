"""The official answer to an idea per language: German in `official_answer`, further languages
in `translations` (API round trip and validation), the resident pages in the reader's language
with a visible note where a text is shown in German (the answer, the need category), and the
planners' answer form with a column per language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.surveys.conftest import Client

from .conftest import Ideas
from .test_pages import HTML

FALLBACK = "data-language-fallback"
GERMAN = "Wir stellen drei Bänke auf."
ENGLISH = "We are putting up three benches."
EASY = "Wir stellen 3 Bänke auf. Die Bänke stehen am Markt."


@pytest.fixture
async def english_process(ideas: Ideas, client: Client) -> None:
    """The ideas' process has an English title (else English pages note its German title)."""
    response = await client.patch(
        f"/api/v1/processes/{ideas.process_id}",
        json={"translations": {"en": {"title": "Preventing child poverty in Mitte"}}},
        headers=ideas.planner,
    )
    assert response.status_code == 200, response.text


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


def _answer(**translations: Any) -> dict[str, Any]:
    return {"official_status": "accepted", "answer": GERMAN, "translations": translations}


async def test_the_answer_round_trips_per_language_and_a_new_answer_replaces_them(
    ideas: Ideas, client: Client
) -> None:
    idea = await ideas.published()
    url = f"/api/v1/ideas/{idea['id']}/answer"
    given = {"en": {"official_answer": ENGLISH}, "de-x-simple": {"official_answer": EASY}}
    answered = await client.put(url, json=_answer(**given), headers=ideas.planner)
    assert answered.status_code == 200, answered.text
    assert answered.json()["official_answer"] == GERMAN  # v1: the German text
    assert answered.json()["translations"] == given

    english = await client.get(f"/api/v1/ideas/{idea['id']}", headers={"Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    assert english.json()["official_answer"] == GERMAN
    assert english.json()["translations"]["en"] == {"official_answer": ENGLISH}

    # PUT replaces the answer as a whole: a language left out (or left empty) has none.
    again = await client.put(
        url,
        json=_answer(en={"official_answer": "  "}, tr={"official_answer": "Üç bank koyuyoruz."}),
        headers=ideas.planner,
    )
    assert again.json()["translations"] == {"tr": {"official_answer": "Üç bank koyuyoruz."}}
    v1_client = await client.put(
        url, json={"official_status": "accepted", "answer": GERMAN}, headers=ideas.planner
    )
    assert v1_client.status_code == 200 and v1_client.json()["translations"] == {}


@pytest.mark.parametrize(
    ("translations", "status", "field"),
    [
        ({"fr": {"official_answer": "Trois bancs"}}, 400, "translations"),
        ({"en": {"official_answer": "x" * 4001}}, 400, "translations.en.official_answer"),
        ({"en": {"answer": ENGLISH}}, 400, "translations.en"),  # unknown field
        ({"en": {"official_answer": "bell\x07"}}, 422, "translations.en.official_answer"),
    ],
)
async def test_bad_translations_are_refused_naming_the_field(
    ideas: Ideas, client: Client, translations: Any, status: int, field: str
) -> None:
    idea = await ideas.published()
    response = await client.put(
        f"/api/v1/ideas/{idea['id']}/answer", json=_answer(**translations), headers=ideas.planner
    )
    assert response.status_code == status, response.text
    assert any(name.startswith(field) for name in _fields(response))


async def test_a_language_the_deployment_does_not_enable_is_refused(
    ideas: Ideas, client: Client, only_english: None
) -> None:
    idea = await ideas.published()
    response = await client.put(
        f"/api/v1/ideas/{idea['id']}/answer",
        json=_answer(tr={"official_answer": "Üç bank koyuyoruz."}),
        headers=ideas.planner,
    )
    assert response.status_code == 422
    assert _fields(response) == {"translations.tr"}


async def test_the_idea_page_shows_the_answer_in_the_readers_language_or_says_it_is_german(
    ideas: Ideas, client: Client, english_process: None
) -> None:
    idea = await ideas.published()
    given = {"en": {"official_answer": ENGLISH}, "de-x-simple": {"official_answer": EASY}}
    await client.put(
        f"/api/v1/ideas/{idea['id']}/answer", json=_answer(**given), headers=ideas.planner
    )
    url = f"/ideas/{idea['id']}"

    german = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert GERMAN in german.text and ENGLISH not in german.text and FALLBACK not in german.text

    english = await client.get(url, headers=HTML)
    assert ENGLISH in english.text and GERMAN not in english.text
    assert "Care for the elderly" in english.text  # the need category's English label
    assert "Preventing child poverty in Mitte" in english.text  # the process's English title
    assert FALLBACK not in english.text

    easy = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de-x-simple"})
    assert EASY in easy.text and FALLBACK not in easy.text

    # No Turkish answer and no Turkish label: German, marked as German, with the note.
    turkish = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "tr"})
    assert f'<p lang="de" dir="ltr">{GERMAN}</p>' in turkish.text
    assert FALLBACK in turkish.text and "Deutsch" in turkish.text

    follow = await client.get(
        f"/ideas/follow/{idea['follow_token']}", headers={**HTML, "Accept-Language": "tr"}
    )
    assert GERMAN in follow.text and FALLBACK in follow.text
    follow_en = await client.get(f"/ideas/follow/{idea['follow_token']}", headers=HTML)
    assert ENGLISH in follow_en.text and FALLBACK not in follow_en.text


async def test_lists_say_when_texts_are_shown_in_german(ideas: Ideas, client: Client) -> None:
    await ideas.published()
    url = f"/processes/{ideas.process_id}/ideas"
    untranslated = await client.get(url, headers=HTML)
    assert FALLBACK in untranslated.text  # the process's title has no English version yet
    await client.patch(
        f"/api/v1/processes/{ideas.process_id}",
        json={"translations": {"en": {"title": "Preventing child poverty in Mitte"}}},
        headers=ideas.planner,
    )
    english = await client.get(url, headers=HTML)
    assert '<p class="lead">Preventing child poverty in Mitte</p>' in english.text
    assert FALLBACK not in english.text  # and every need category has an English label
    arabic = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "ar"})
    assert FALLBACK in arabic.text
    new = await client.get(f"{url}/new", headers={"Accept": "text/html", "Accept-Language": "tr"})
    assert FALLBACK in new.text


async def test_planners_answer_in_every_language_on_the_idea_page(
    ideas: Ideas, client: Client
) -> None:
    idea = await ideas.published()
    page = await client.get(f"/ideas/{idea['id']}", headers=HTML | ideas.planner)
    for name in ("answer", "answer_en", "answer_simple", "answer_tr", "answer_ar"):
        assert f'name="{name}"' in page.text
    too_long = await client.post(
        f"/dashboard/ideas/{idea['id']}/answer",
        data={"official_status": "accepted", "answer": GERMAN, "answer_en": "x" * 4001},
        headers=HTML | ideas.planner,
    )
    assert too_long.status_code == 400 and 'href="#answer_en"' in too_long.text
    saved = await client.post(
        f"/dashboard/ideas/{idea['id']}/answer",
        data={
            "official_status": "accepted",
            "answer": GERMAN,
            "answer_en": ENGLISH,
            "answer_simple": EASY,
            "answer_tr": "",
        },
        headers=HTML | ideas.planner,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    stored = (await client.get(f"/api/v1/ideas/{idea['id']}")).json()
    assert stored["translations"] == {
        "en": {"official_answer": ENGLISH},
        "de-x-simple": {"official_answer": EASY},
    }
    again = await client.get(f"/ideas/{idea['id']}", headers=HTML | ideas.planner)
    assert f">{EASY}</textarea>" in again.text  # the form shows what is saved


async def test_a_translation_added_to_an_answer_mails_nobody_again(
    ideas: Ideas, client: Client, engine: AsyncEngine
) -> None:
    idea = await ideas.published(notify_email="c@example.org", email_consent=True)
    url = f"/api/v1/ideas/{idea['id']}/answer"
    first = await client.put(url, json=_answer(), headers=ideas.planner)
    assert first.status_code == 200, first.text
    translated = await client.put(
        url, json=_answer(en={"official_answer": ENGLISH}), headers=ideas.planner
    )
    assert translated.json()["translations"] == {"en": {"official_answer": ENGLISH}}
    async with engine.connect() as connection:
        mails = await connection.scalar(text("SELECT count(*) FROM jobs WHERE kind = 'mail.send'"))
    assert mails == 1
