"""Process texts per language: German in the v1 fields, further languages in `translations`
(the process's, each phase's, the mandate's): API round trip and validation, the staff forms
side by side, the resident pages in the reader's language with a visible note where a text
falls back to German."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.core.translations import MAX_BYTES

from .conftest import Client, CreateProcess, Headers, process_body
from .test_staff_pages import _get, _post

HTML = {"Accept": "text/html"}
FALLBACK = "data-language-fallback"
ENGLISH = {
    "title": "Preventing child poverty in Mitte",
    "topic": "Child and family poverty",
    "description": "Together with welfare organisations and families.",
}
EASY = {"title": "Wir helfen Kindern in Mitte"}
GERMAN_MANDATE = process_body()["mandate"]
MANDATE_EN = {
    "commissioned_by": "Mitte district council",
    "commissioned_to": "Planning coordination",
    "aim": "A prevention chain",
    "occasion": "The social report",
    "report_recipients": "Youth welfare committee",
}


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


# -- the API ------------------------------------------------------------------------------------


async def test_translations_round_trip_and_change_per_language(
    client: Client, writer: Headers
) -> None:
    created = await client.post(
        "/api/v1/processes",
        json=process_body(translations={"en": ENGLISH, "de-x-simple": EASY}),
        headers=writer,
    )
    assert created.status_code == 201, created.text
    process = created.json()
    assert process["title"] == "Kinderarmut in Mitte vorbeugen"  # v1: the German text
    assert process["translations"] == {"en": ENGLISH, "de-x-simple": EASY}
    url = f"/api/v1/processes/{process['id']}"

    changed = await client.patch(
        url,
        json={
            "translations": {
                "en": {"title": "Child poverty in Mitte"},  # replaces English as a whole
                "tr": {"title": "Mitte'de çocuk yoksulluğunu önlemek"},
                "de-x-simple": None,  # removes easy-read German
            }
        },
        headers=writer,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["translations"] == {
        "en": {"title": "Child poverty in Mitte"},
        "tr": {"title": "Mitte'de çocuk yoksulluğunu önlemek"},
    }
    untouched = await client.patch(url, json={"topic": "Armut"}, headers=writer)
    assert set(untouched.json()["translations"]) == {"en", "tr"}
    emptied = await client.patch(
        url, json={"translations": {"tr": {"title": "  ", "description": ""}}}, headers=writer
    )
    assert set(emptied.json()["translations"]) == {"en"}  # nothing left to say: removed

    # Content-Language follows the request as before; the v1 fields stay German.
    english = await client.get(url, headers={**writer, "Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    assert english.json()["title"] == "Kinderarmut in Mitte vorbeugen"
    assert english.json()["translations"]["en"]["title"] == "Child poverty in Mitte"


async def test_phase_notes_per_language(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/api/v1/processes/{process['id']}/phases/needs_assessment"
    notes = {"what_is_done": "A survey of families", "watch_out_for": "School holidays"}
    response = await client.patch(
        url,
        json={"what_is_done": "Befragung der Familien", "translations": {"en": notes}},
        headers=writer,
    )
    assert response.status_code == 200, response.text
    assert response.json()["what_is_done"] == "Befragung der Familien"
    assert response.json()["translations"] == {"en": notes}
    phases = (await client.get(f"/api/v1/processes/{process['id']}", headers=writer)).json()
    needs = next(p for p in phases["phases"] if p["key"] == "needs_assessment")
    assert needs["translations"] == {"en": notes}
    assert next(p for p in phases["phases"] if p["key"] == "guidelines")["translations"] == {}
    removed = await client.patch(url, json={"translations": {"en": None}}, headers=writer)
    assert removed.json()["translations"] == {}


@pytest.mark.parametrize(
    ("translations", "field"),
    [
        ({"fr": {"title": "Prévenir"}}, "translations"),  # not a language Quartier knows
        ({"de": {"title": "Deutsch steht in title"}}, "translations"),
        ({"en": {"title": "x" * 201}}, "translations.en.title"),
        ({"en": {"description": "x" * 10_001}}, "translations.en.description"),
        ({"en": {"subtitle": "x"}}, "translations.en"),
        ({"en": "Preventing child poverty"}, "translations.en"),
        ({"en": {"title": "null \u0000 byte"}}, "translations.en.title"),
    ],
)
async def test_invalid_translations_are_a_400_naming_the_field(
    client: Client, writer: Headers, translations: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/api/v1/processes", json=process_body(translations=translations), headers=writer
    )
    assert response.status_code == 400, response.text
    assert any(name.startswith(field) for name in _fields(response)), response.json()


async def test_phase_notes_in_other_languages_are_bounded(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    response = await client.patch(
        f"/api/v1/processes/{process['id']}/phases/guidelines",
        json={"translations": {"ar": {"watch_out_for": "x" * 4_001}}},
        headers=writer,
    )
    assert response.status_code == 400
    assert "translations.ar.watch_out_for" in _fields(response)


async def test_a_language_the_deployment_does_not_enable_is_a_422_naming_it(
    client: Client, writer: Headers, create_process: CreateProcess, only_english: None
) -> None:
    refused = await client.post(
        "/api/v1/processes",
        json=process_body(translations={"en": ENGLISH, "tr": {"title": "Yoksulluk"}}),
        headers=writer,
    )
    assert refused.status_code == 422, refused.text
    assert _fields(refused) == {"translations.tr"}
    process = await create_process(translations={"en": ENGLISH})
    phase = await client.patch(
        f"/api/v1/processes/{process['id']}/phases/evaluation",
        json={"translations": {"ar": {"what_is_done": "تقييم"}}},
        headers=writer,
    )
    assert phase.status_code == 422 and _fields(phase) == {"translations.ar"}
    # removing a language is always possible
    removed = await client.patch(
        f"/api/v1/processes/{process['id']}", json={"translations": {"tr": None}}, headers=writer
    )
    assert removed.status_code == 200


async def test_the_next_cycle_keeps_the_translations(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(
        publish=True, activate=("social_reporting",), translations={"en": ENGLISH}
    )
    response = await client.post(f"/api/v1/processes/{process['id']}/next-cycle", headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["translations"] == {"en": ENGLISH}


async def test_the_database_keeps_translations_an_object_of_bounded_size(
    engine: AsyncEngine, create_process: CreateProcess
) -> None:
    process = await create_process()
    for value in ("[]", '{"en": "' + "x" * 600_000 + '"}'):
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text("UPDATE planning_processes SET translations = CAST(:v AS jsonb)"),
                    {"v": value},
                )
    async with engine.connect() as connection:
        stored = await connection.scalar(
            sa.text("SELECT translations FROM process_phases WHERE process_id = :id LIMIT 1"),
            {"id": uuid.UUID(process["id"])},
        )
    assert stored == {}


# -- resident pages -----------------------------------------------------------------------------


async def test_resident_page_in_english_shows_the_english_texts(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(
        publish=True,
        translations={"en": ENGLISH},
        mandate={**GERMAN_MANDATE, "translations": {"en": MANDATE_EN}},
    )
    page = await client.get(f"/processes/{process['id']}?lang=en", headers=HTML)
    assert page.status_code == 200
    assert "<h1>Preventing child poverty in Mitte</h1>" in page.text
    assert "<dd>A prevention chain</dd>" in page.text  # the mandate too
    assert "Präventionskette" not in page.text
    assert '<p class="lead">Child and family poverty</p>' in page.text
    assert "<title>Preventing child poverty in Mitte – Quartier</title>" in page.text
    assert ENGLISH["description"] in page.text
    assert "Kinderarmut in Mitte vorbeugen" not in page.text
    assert FALLBACK not in page.text  # everything staff wrote is in English
    german = await client.get(f"/processes/{process['id']}", headers=HTML)
    assert "<h1>Kinderarmut in Mitte vorbeugen</h1>" in german.text
    assert FALLBACK not in german.text


async def test_missing_translations_fall_back_to_german_with_a_note(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True, translations={"en": ENGLISH})
    await client.patch(
        f"/api/v1/processes/{process['id']}/phases/guidelines",
        json={"what_is_done": "Auftrag der BVV"},
        headers=writer,
    )
    english = await client.get(f"/processes/{process['id']}?lang=en", headers=HTML)
    assert "<h1>Preventing child poverty in Mitte</h1>" in english.text
    assert '<dd lang="de" dir="ltr">Auftrag der BVV</dd>' in english.text
    assert FALLBACK in english.text and "Deutsch" in english.text

    arabic = await client.get(f"/processes/{process['id']}?lang=ar", headers=HTML)
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert '<h1 lang="de" dir="ltr">Kinderarmut in Mitte vorbeugen</h1>' in arabic.text
    assert FALLBACK in arabic.text
    note = arabic.text.split(FALLBACK)[1].split("</p>")[0]
    assert "Deutsch" in note and "لم تُترجم" in note


async def test_easy_read_german_is_used_where_given_and_plain_german_is_no_fallback(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(publish=True, translations={"de-x-simple": EASY})
    page = await client.get(f"/processes/{process['id']}?lang=de-x-simple", headers=HTML)
    assert "<h1>Wir helfen Kindern in Mitte</h1>" in page.text
    assert "Gemeinsam mit Trägern und Familien." in page.text  # plain German description
    assert FALLBACK not in page.text


async def test_home_page_shows_titles_in_the_readers_language(
    client: Client, create_process: CreateProcess
) -> None:
    translated = await create_process(publish=True, translations={"en": ENGLISH})
    await create_process(publish=True, title="Pflege im Alter")
    page = await client.get("/?lang=en", headers=HTML)
    assert f'<a class="card__link" href="/processes/{translated["id"]}">{ENGLISH["title"]}</a>' in (
        page.text
    )
    assert '<h3 class="card__title" lang="de" dir="ltr">' in page.text
    assert "<p>Child and family poverty</p>" in page.text
    assert page.text.count(FALLBACK) == 1  # only the untranslated process says so
    german = await client.get("/", headers=HTML)
    assert "Kinderarmut in Mitte vorbeugen" in german.text and FALLBACK not in german.text


# -- staff pages --------------------------------------------------------------------------------


async def test_staff_edit_the_texts_of_every_language_side_by_side(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(translations={"tr": {"title": "Çocuk yoksulluğu"}})
    url = f"/workspace/processes/{process['id']}/edit"
    form = await _get(client, url, planner)
    assert form.status_code == 200
    for field in ("title", "title_en", "title_simple", "title_tr", "topic_ar", "description_ar"):
        assert f'id="{field}"' in form.text, field
    assert 'value="Çocuk yoksulluğu"' in form.text
    assert 'lang="ar" dir="rtl"' in form.text
    saved = await _post(
        client,
        url,
        planner,
        [
            ("title", "Kinderarmut in Mitte vorbeugen"),
            ("topic", "Kinderarmut"),
            ("title_en", ENGLISH["title"]),
            ("topic_en", ENGLISH["topic"]),
            ("description_en", ENGLISH["description"]),
            ("title_simple", EASY["title"]),
            ("title_tr", ""),  # emptied: Turkish is removed
        ],
    )
    assert saved.status_code == 303, saved.text
    api = (await client.get(f"/api/v1/processes/{process['id']}", headers=planner)).json()
    assert api["translations"] == {"en": ENGLISH, "de-x-simple": EASY}

    too_long = await _post(
        client,
        url,
        planner,
        [("title", "T"), ("topic", "x"), ("title_en", "x" * 201)],
    )
    assert too_long.status_code == 400
    assert 'href="#title_en"' in too_long.text and 'id="title_en-error"' in too_long.text


async def test_the_area_search_keeps_the_texts_of_every_language(
    client: Client, planner: Headers
) -> None:
    searched = await _get(
        client,
        "/workspace/processes/new?area_q=Moabit&title=Titel&title_en=Title&topic_ar=الموضوع",
        planner,
    )
    assert searched.status_code == 200
    assert 'value="Title"' in searched.text and 'value="الموضوع"' in searched.text


async def test_staff_form_offers_only_enabled_languages(
    client: Client, planner: Headers, only_english: None
) -> None:
    form = await _get(client, "/workspace/processes/new", planner)
    assert 'id="title_en"' in form.text
    assert 'id="title_tr"' not in form.text and 'id="title_simple"' not in form.text
    created = await _post(
        client,
        "/workspace/processes",
        planner,
        [("title", "Titel"), ("topic", "Thema"), ("title_en", "Title"), ("title_tr", "Başlık")],
    )
    assert created.status_code == 303, created.text
    process_id = created.headers["location"].split("/")[3].split("?")[0]
    api = (await client.get(f"/api/v1/processes/{process_id}", headers=planner)).json()
    assert api["translations"] == {"en": {"title": "Title"}}  # a field not offered is ignored


async def test_staff_edit_phase_notes_per_language(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/workspace/processes/{process['id']}/phases/evaluation"
    page = await _get(client, url, planner)
    assert 'id="what_is_done_ar"' in page.text and 'id="watch_out_for_simple"' in page.text
    saved = await _post(
        client,
        url,
        planner,
        {"what_is_done": "Wirkung prüfen", "what_is_done_ar": "التحقق من الأثر"},
    )
    assert saved.status_code == 303, saved.text
    phases = (await client.get(f"/api/v1/processes/{process['id']}/phases", headers=planner)).json()
    evaluation = next(p for p in phases if p["key"] == "evaluation")
    assert evaluation["translations"] == {"ar": {"what_is_done": "التحقق من الأثر"}}
    again = await _get(client, url, planner)
    assert "التحقق من الأثر</textarea>" in again.text
    too_long = await _post(client, url, planner, {"who_takes_part_en": "x" * 4_001})
    assert too_long.status_code == 400 and 'href="#who_takes_part_en"' in too_long.text


# -- the mandate (its own `translations`, kept in the process's map) ----------------------------


async def test_mandate_translations_round_trip_beside_the_process_texts(
    client: Client, writer: Headers, engine: AsyncEngine
) -> None:
    created = await client.post(
        "/api/v1/processes",
        json=process_body(
            translations={"en": ENGLISH},
            mandate={**GERMAN_MANDATE, "translations": {"en": MANDATE_EN, "ar": {"aim": "هدف"}}},
        ),
        headers=writer,
    )
    assert created.status_code == 201, created.text
    process = created.json()
    assert process["mandate"]["aim"] == "Präventionskette"  # v1: the German text
    assert process["mandate"]["translations"] == {"en": MANDATE_EN, "ar": {"aim": "هدف"}}
    assert process["translations"] == {"en": ENGLISH}  # the process's own texts only
    url = f"/api/v1/processes/{process['id']}"

    # The process's texts and the mandate's change apart: each keeps the other's.
    title_only = await client.patch(
        url, json={"translations": {"en": {"title": "Child poverty"}}}, headers=writer
    )
    assert title_only.json()["translations"] == {"en": {"title": "Child poverty"}}
    assert title_only.json()["mandate"]["translations"]["en"] == MANDATE_EN
    mandate_only = await client.patch(
        url,
        json={"mandate": {"translations": {"en": {"aim": "Prevention"}, "ar": None}}},
        headers=writer,
    )
    assert mandate_only.status_code == 200, mandate_only.text
    assert mandate_only.json()["mandate"]["translations"] == {"en": {"aim": "Prevention"}}
    assert mandate_only.json()["mandate"]["aim"] == "Präventionskette"  # not sent: kept
    assert mandate_only.json()["translations"] == {"en": {"title": "Child poverty"}}
    german_only = await client.patch(url, json={"mandate": {"aim": "Neues Ziel"}}, headers=writer)
    assert german_only.json()["mandate"]["translations"] == {"en": {"aim": "Prevention"}}

    # One map per process holds both groups, per language.
    async with engine.connect() as connection:
        stored = await connection.scalar(
            sa.text("SELECT translations FROM planning_processes WHERE id = :id"),
            {"id": uuid.UUID(process["id"])},
        )
    assert stored == {"en": {"title": "Child poverty", "aim": "Prevention"}}
    emptied = await client.patch(
        url,
        json={"translations": {"en": None}, "mandate": {"translations": {"en": {"aim": " "}}}},
        headers=writer,
    )
    assert emptied.json()["translations"] == {}
    assert emptied.json()["mandate"]["translations"] == {}


@pytest.mark.parametrize(
    ("translations", "field"),
    [
        ({"en": {"aim": "x" * 4_001}}, "mandate.translations.en.aim"),
        ({"en": {"occasion": "x" * 4_001}}, "mandate.translations.en.occasion"),
        ({"tr": {"commissioned_by": "x" * 301}}, "mandate.translations.tr.commissioned_by"),
        ({"ar": {"commissioned_to": "x" * 301}}, "mandate.translations.ar.commissioned_to"),
        (
            {"de-x-simple": {"report_recipients": "x" * 501}},
            "mandate.translations.de-x-simple.report_recipients",
        ),
        ({"en": {"title": "A process text"}}, "mandate.translations.en"),  # not the mandate's
        ({"fr": {"aim": "Prévenir"}}, "mandate.translations"),
        ({"en": {"aim": "null \u0000 byte"}}, "mandate.translations.en.aim"),
    ],
)
async def test_invalid_mandate_translations_are_a_400_naming_the_field(
    client: Client, writer: Headers, translations: dict[str, Any], field: str
) -> None:
    body = process_body(mandate={**GERMAN_MANDATE, "translations": translations})
    created = await client.post("/api/v1/processes", json=body, headers=writer)
    assert created.status_code == 400, created.text
    assert any(name.startswith(field) for name in _fields(created)), created.json()


async def test_mandate_translations_are_bounded_like_the_german_on_update(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process()
    url = f"/api/v1/processes/{process['id']}"
    too_long = await client.patch(
        url, json={"mandate": {"translations": {"en": {"aim": "x" * 4_001}}}}, headers=writer
    )
    assert too_long.status_code == 400
    assert "mandate.translations.en.aim" in _fields(too_long)
    at_the_bound = await client.patch(
        url, json={"mandate": {"translations": {"en": {"aim": "x" * 4_000}}}}, headers=writer
    )
    assert at_the_bound.status_code == 200, at_the_bound.text


async def test_mandate_in_a_language_the_deployment_does_not_enable_is_a_422_naming_it(
    client: Client, writer: Headers, create_process: CreateProcess, only_english: None
) -> None:
    refused = await client.post(
        "/api/v1/processes",
        json=process_body(
            translations={"tr": {"title": "Yoksulluk"}},
            mandate={"translations": {"en": MANDATE_EN, "ar": {"aim": "هدف"}}},
        ),
        headers=writer,
    )
    assert refused.status_code == 422, refused.text
    assert _fields(refused) == {"translations.tr", "mandate.translations.ar"}  # both at once
    process = await create_process()
    changed = await client.patch(
        f"/api/v1/processes/{process['id']}",
        json={"mandate": {"translations": {"tr": {"aim": "Amaç"}}}},
        headers=writer,
    )
    assert changed.status_code == 422 and _fields(changed) == {"mandate.translations.tr"}


async def test_every_text_at_its_bound_in_every_language_fits_the_map(
    client: Client, writer: Headers, engine: AsyncEngine
) -> None:
    """The process's texts and its mandate's share one map (the CHECK of migration 0022): even
    at their longest, in all four languages and written in characters JSON escapes (six bytes
    each), they stay below its bound."""
    escaped = "\u0001"  # a control character: JSON writes it in six bytes
    process_texts = {
        "title": escaped * 200,
        "topic": escaped * 200,
        "description": escaped * 10_000,
    }
    mandate_texts = {
        "commissioned_by": escaped * 300,
        "commissioned_to": escaped * 300,
        "aim": escaped * 4_000,
        "occasion": escaped * 4_000,
        "report_recipients": escaped * 500,
    }
    languages = ("en", "de-x-simple", "tr", "ar")
    body = process_body(
        translations=dict.fromkeys(languages, process_texts),
        mandate={"translations": dict.fromkeys(languages, mandate_texts)},
    )
    created = await client.post("/api/v1/processes", json=body, headers=writer)
    assert created.status_code == 201, created.text[:500]
    assert created.json()["mandate"]["translations"]["ar"]["aim"] == "\x01" * 4_000
    async with engine.connect() as connection:
        size = await connection.scalar(
            sa.text("SELECT octet_length(translations::text) FROM planning_processes")
        )
    assert 6 * 4 * (10_400 + 9_100) < size <= MAX_BYTES  # the worst case, and it fits


async def test_the_next_cycle_keeps_the_mandate_translations(
    client: Client, writer: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(
        publish=True,
        activate=("social_reporting",),
        mandate={**GERMAN_MANDATE, "translations": {"en": MANDATE_EN}},
    )
    response = await client.post(f"/api/v1/processes/{process['id']}/next-cycle", headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["mandate"]["translations"] == {"en": MANDATE_EN}


async def test_resident_page_shows_the_mandate_in_the_readers_language_or_german_marked(
    client: Client, create_process: CreateProcess
) -> None:
    process = await create_process(
        publish=True,
        translations={"en": ENGLISH},
        mandate={
            **GERMAN_MANDATE,
            "occasion": "",
            "translations": {"en": {"aim": "A prevention chain"}},
        },
    )
    page = await client.get(f"/processes/{process['id']}?lang=en", headers=HTML)
    assert "<dd>A prevention chain</dd>" in page.text
    assert '<dd lang="de" dir="ltr">BVV Mitte</dd>' in page.text  # no English: German, marked
    assert '<dd lang="de" dir="ltr">Jugendhilfeausschuss</dd>' in page.text
    assert "<dd>–</dd>" in page.text  # no occasion at all: nothing to mark
    assert page.text.count(FALLBACK) == 1  # the page's one note counts the mandate
    assert "Deutsch" in page.text.split(FALLBACK)[1].split("</p>")[0]

    german = await client.get(f"/processes/{process['id']}", headers=HTML)
    assert "<dd>Präventionskette</dd>" in german.text and FALLBACK not in german.text
    easy = await client.get(f"/processes/{process['id']}?lang=de-x-simple", headers=HTML)
    assert "<dd>BVV Mitte</dd>" in easy.text  # plain German is no fallback for easy-read


async def test_staff_edit_the_mandate_in_every_language_side_by_side(
    client: Client, planner: Headers, create_process: CreateProcess
) -> None:
    process = await create_process(
        mandate={**GERMAN_MANDATE, "translations": {"tr": {"aim": "Önleme zinciri"}}}
    )
    url = f"/workspace/processes/{process['id']}/edit"
    form = await _get(client, url, planner)
    assert form.status_code == 200
    for field in ("aim", "aim_en", "occasion_simple", "commissioned_by_tr", "report_recipients_ar"):
        assert f'id="{field}"' in form.text, field
    assert "Önleme zinciri</textarea>" in form.text
    assert re.search(r'<input[^>]*id="commissioned_to_ar"[^>]*lang="ar" dir="rtl"', form.text)
    fields = [
        ("title", "Kinderarmut in Mitte vorbeugen"),
        ("topic", "Kinderarmut"),
        ("title_en", ENGLISH["title"]),
        *GERMAN_MANDATE.items(),
        *((f"{name}_en", text) for name, text in MANDATE_EN.items()),
        ("aim_tr", ""),  # emptied: Turkish is removed
    ]
    saved = await _post(client, url, planner, fields)
    assert saved.status_code == 303, saved.text
    api = (await client.get(f"/api/v1/processes/{process['id']}", headers=planner)).json()
    assert api["mandate"]["translations"] == {"en": MANDATE_EN}
    assert api["translations"] == {"en": {"title": ENGLISH["title"]}}
    again = await _get(client, url, planner)
    assert f'value="{MANDATE_EN["commissioned_by"]}"' in again.text

    too_long = await _post(client, url, planner, [*fields, ("aim_simple", "x" * 4_001)])
    assert too_long.status_code == 400
    assert 'href="#aim_simple"' in too_long.text and 'id="aim_simple-error"' in too_long.text

    searched = await _get(
        client, "/workspace/processes/new?area_q=Moabit&title=T&occasion_ar=مناسبة", planner
    )
    assert "مناسبة</textarea>" in searched.text  # the area search keeps the mandate's too
