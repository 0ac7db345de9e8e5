"""The social report's editorial sections per language (`translations`, `core.translations`, as
goals and measures): set and read through the API, bounded like the German text, refused
naming the field; released with the report and kept as released; residents read each section
in their language or in German, marked and with the note saying so — page and PDF — and the
planners' editor has a column per language. Likewise the texts the report takes from the
process (title and topic, the mandate) and its measures."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.reports.models import SocialReport
from tests.conftest import LoginFactory
from tests.reports.conftest import SECTIONS, Client, Headers
from tests.support.disclosure import without_noise  # noqa: F401

pytestmark = pytest.mark.usefixtures("without_noise")

FALLBACK = "data-language-fallback"
HTML_ONLY = {"Accept": "text/html"}
ENGLISH = {
    "introduction": "This report sums up the first cycle.",
    "outlook": "Next cycle: nursery places in Moabit East.",
}
EASY = {"introduction": "Das ist der Bericht über den ersten Zyklus."}
ARABIC = {"outlook": "الدورة القادمة: أماكن الحضانة في موابيت الشرقية."}


def _path(process_id: uuid.UUID) -> str:
    return f"/api/v1/processes/{process_id}/social-report"


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def _translate(
    client: Client, process_id: uuid.UUID, headers: Headers, translations: dict[str, Any]
) -> Any:
    return await client.put(
        f"{_path(process_id)}/sections",
        json={"sections": SECTIONS, "translations": translations},
        headers=headers,
    )


async def test_planners_set_and_read_the_sections_per_language(
    client: Client, process_id: uuid.UUID, planner: Headers, reports_writer: Headers
) -> None:
    stored = await _translate(
        client, process_id, planner, {"en": ENGLISH, "de-x-simple": EASY, "ar": ARABIC}
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["sections"] == SECTIONS  # v1: the German text
    assert stored.json()["translations"] == {"en": ENGLISH, "de-x-simple": EASY, "ar": ARABIC}
    read = (await client.get(_path(process_id), headers=planner)).json()
    assert read["translations"] == {"en": ENGLISH, "de-x-simple": EASY, "ar": ARABIC}
    # A save keeps only the languages sent (as a goal's or measure's new version); a language
    # whose sections are all empty is no translation.
    again = await _translate(
        client, process_id, reports_writer, {"en": ENGLISH, "tr": {"needs": "  "}}
    )
    assert again.status_code == 200, again.text
    assert again.json()["translations"] == {"en": ENGLISH}
    german_only = await client.put(
        f"{_path(process_id)}/sections", json={"sections": SECTIONS}, headers=planner
    )
    assert german_only.json()["translations"] == {}


async def test_bad_section_translations_are_refused_naming_the_field(
    client: Client, process_id: uuid.UUID, planner: Headers
) -> None:
    too_long = await _translate(client, process_id, planner, {"en": {"needs": "x" * 20_001}})
    assert too_long.status_code == 400, too_long.text  # bounded like the German text
    assert any(name.startswith("translations.en.needs") for name in _fields(too_long))
    at_the_bound = await _translate(client, process_id, planner, {"en": {"needs": "x" * 20_000}})
    assert at_the_bound.status_code == 200, at_the_bound.text
    unknown_language = await _translate(client, process_id, planner, {"fr": {"needs": "Besoin"}})
    assert unknown_language.status_code == 400
    assert any(name.startswith("translations") for name in _fields(unknown_language))
    unknown_section = await _translate(client, process_id, planner, {"en": {"appendix": "x"}})
    assert unknown_section.status_code == 400
    assert any(name.startswith("translations.en") for name in _fields(unknown_section))
    nul = await _translate(client, process_id, planner, {"en": {"needs": "a\u0000b"}})
    assert nul.status_code == 400
    kept = (await client.get(_path(process_id), headers=planner)).json()
    assert kept["translations"] == {"en": {"needs": "x" * 20_000}}


async def test_a_language_the_deployment_does_not_enable_is_refused(
    client: Client, process_id: uuid.UUID, planner: Headers, only_english: None
) -> None:
    refused = await _translate(client, process_id, planner, {"ar": ARABIC})
    assert refused.status_code == 422, refused.text
    assert _fields(refused) == {"translations.ar"}


async def test_the_released_report_keeps_its_translations_as_released(
    client: Client, full_cycle: uuid.UUID, planner: Headers, engine: AsyncEngine
) -> None:
    assert (await _translate(client, full_cycle, planner, {"en": ENGLISH})).status_code == 200
    released = await client.post(f"{_path(full_cycle)}/release", headers=planner)
    assert released.status_code == 200, released.text
    assert released.json()["translations"] == {"en": ENGLISH}
    # Translations cannot change through the API once released …
    later = await _translate(client, full_cycle, planner, {"en": {"outlook": "Rewritten."}})
    assert later.status_code == 409 and later.json()["type"].endswith("/report-released")
    # … and the published report is the stored release, whatever the row says now.
    async with async_sessionmaker(engine)() as db, db.begin():
        await db.execute(
            sa.update(SocialReport)
            .where(SocialReport.process_id == full_cycle)
            .values(translations={"en": {"outlook": "Rewritten."}}, sections={})
        )
    public = await client.get(_path(full_cycle))
    assert public.json()["translations"] == {"en": ENGLISH}
    assert public.json()["sections"] == SECTIONS
    page = await client.get(f"/processes/{full_cycle}/report?lang=en")
    assert ENGLISH["outlook"] in page.text and "Rewritten." not in page.text


async def test_residents_read_the_sections_in_their_language_or_german_with_the_note(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    translated = await _translate(client, full_cycle, planner, {"en": ENGLISH, "ar": ARABIC})
    assert translated.status_code == 200, translated.text
    assert (await client.post(f"{_path(full_cycle)}/release", headers=planner)).status_code == 200
    path = f"/processes/{full_cycle}/report"

    english = await client.get(path, headers={"Accept": "text/html", "Accept-Language": "en"})
    assert english.status_code == 200 and english.headers["content-language"] == "en"
    assert f'<p class="report-text">{ENGLISH["introduction"]}</p>' in english.text
    assert ENGLISH["outlook"] in english.text
    assert SECTIONS["introduction"] not in english.text
    # The needs section has no English text: German, marked, and the page says so.
    needs = SECTIONS["needs"].split("\n\n")[0]
    assert re.search(
        rf'<div lang="de" dir="ltr">\s*<p class="report-text">{needs}</p>', english.text
    )
    assert FALLBACK in english.text
    # The link to the PDF keeps the page's language.
    assert f'href="/api/v1/processes/{full_cycle}/social-report/pdf?lang=en"' in english.text

    arabic = await client.get(f"{path}?lang=ar", headers={"Accept": "text/html"})
    assert arabic.headers["content-language"] == "ar"
    assert ARABIC["outlook"] in arabic.text and FALLBACK in arabic.text

    german = await client.get(path, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert german.headers["content-language"] == "de"
    assert SECTIONS["introduction"] in german.text and ENGLISH["introduction"] not in german.text
    assert FALLBACK not in german.text

    # Easy-read German without an easy-read text is plain German: no note, nothing marked.
    easy = await client.get(f"{path}?lang=de-x-simple", headers={"Accept": "text/html"})
    assert SECTIONS["introduction"] in easy.text and FALLBACK not in easy.text


async def test_the_pdf_is_in_the_readers_language(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    assert (await _translate(client, full_cycle, planner, {"en": ENGLISH})).status_code == 200
    assert (await client.post(f"{_path(full_cycle)}/release", headers=planner)).status_code == 200
    english = await client.get(f"{_path(full_cycle)}/pdf?lang=en")
    assert english.status_code == 200, english.text[:300]
    assert english.headers["content-language"] == "en"
    reader = PdfReader(io.BytesIO(english.content))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    text = _pdf_text(english.content)
    assert ENGLISH["introduction"] in text and ENGLISH["outlook"] in text
    assert "Kinderbetreuung fehlt vor allem in Moabit." in text  # German where untranslated
    assert "have not been translated" in text  # … and the document says so
    assert SECTIONS["introduction"] not in text
    german = await client.get(f"{_path(full_cycle)}/pdf", headers={"Accept-Language": "de"})
    assert german.headers["content-language"] == "de"
    text = _pdf_text(german.content)
    assert SECTIONS["introduction"] in text and ENGLISH["introduction"] not in text


async def test_planners_write_the_sections_in_every_language_in_the_editor(
    client: Client, full_cycle: uuid.UUID, login_as: LoginFactory
) -> None:
    planner = await login_as("planner")
    html = {"Accept": "text/html", "Accept-Language": "en"}
    path = f"/workspace/processes/{full_cycle}/report"
    page = await client.get(path, headers={**html, **planner})
    assert page.status_code == 200, page.text[:500]
    for name in ("introduction_en", "needs_simple", "measures_tr", "outlook_ar"):
        assert f'name="{name}"' in page.text, name
    assert re.search(r'<textarea[^>]*name="outlook_ar"[^>]*lang="ar" dir="rtl"', page.text)
    assert '<label class="label" for="outlook_en">Outlook (English)</label>' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {
        "csrf_token": csrf.group(1),
        **SECTIONS,
        "level": "",
        "introduction_en": ENGLISH["introduction"],
        "outlook_en": ENGLISH["outlook"],
        "introduction_simple": EASY["introduction"],
    }
    cookie = {"Cookie": planner["Cookie"]}
    saved = await client.post(path, data=form, headers={**html, **cookie}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:1000]
    stored = (await client.get(_path(full_cycle), headers=planner)).json()
    assert stored["translations"] == {"en": ENGLISH, "de-x-simple": EASY}
    shown = await client.get(saved.headers["location"], headers={**html, **planner})
    assert ENGLISH["outlook"] in shown.text and EASY["introduction"] in shown.text
    too_long = await client.post(
        path, data={**form, "needs_en": "x" * 20_001}, headers={**html, **cookie}
    )
    assert too_long.status_code == 400 and '<a href="#needs_en">' in too_long.text
    # Emptying a language's fields removes it.
    emptied = await client.post(
        path,
        data={**form, "introduction_simple": ""},
        headers={**html, **cookie},
        follow_redirects=False,
    )
    assert emptied.status_code == 303
    stored = (await client.get(_path(full_cycle), headers=planner)).json()
    assert stored["translations"] == {"en": ENGLISH}


# -- the process's title and topic, the measures' titles (their own translations) ---------------

PROCESS_EN = "Preventing child poverty in Mitte"
MEASURE_EN = "Family centre Moabit"
MEASURE_SUMMARY_EN = "A family centre with open consultation hours."
GERMAN_TITLE = "Kinderarmut in Mitte vorbeugen"
GERMAN_TOPIC = "Kinder- und Familienarmut"
GERMAN_MEASURE = "Familienzentrum Moabit"


async def _translate_process(
    client: Client, process_id: uuid.UUID, headers: Headers, texts: dict[str, str]
) -> None:
    changed = await client.patch(
        f"/api/v1/processes/{process_id}", json={"translations": {"en": texts}}, headers=headers
    )
    assert changed.status_code == 200, changed.text


async def _translate_measures(
    engine: AsyncEngine, process_id: uuid.UUID, texts: dict[str, dict[str, str]]
) -> None:
    """Give the process's measures (their current versions) these translations."""
    from quartier.measures.models import Measure, MeasureVersion

    async with async_sessionmaker(engine)() as db, db.begin():
        await db.execute(
            sa.update(MeasureVersion)
            .where(
                MeasureVersion.measure_id == Measure.id,
                MeasureVersion.version == Measure.current_version,
                Measure.process_id == process_id,
            )
            .values(translations=texts)
        )


async def test_residents_read_title_and_measures_in_their_language_or_german_marked(
    client: Client, full_cycle: uuid.UUID, planner: Headers, engine: AsyncEngine
) -> None:
    # The title is translated, the topic is not; the measure's title and summary are.
    await _translate_process(client, full_cycle, planner, {"title": PROCESS_EN})
    await _translate_measures(
        engine, full_cycle, {"en": {"title": MEASURE_EN, "summary": MEASURE_SUMMARY_EN}}
    )
    draft = (await client.get(_path(full_cycle), headers=planner)).json()
    assert draft["title"] == GERMAN_TITLE  # v1: the German text
    assert draft["title_translations"] == {"en": {"title": PROCESS_EN}}  # no description
    (measure,) = draft["measures"]
    assert measure["title"] == GERMAN_MEASURE
    assert measure["translations"] == {"en": {"title": MEASURE_EN, "summary": MEASURE_SUMMARY_EN}}
    # Every section translated: what falls back is the topic alone, and the note says so.
    everything = {key: f"{key} in English" for key, text in SECTIONS.items() if text}
    assert (await _translate(client, full_cycle, planner, {"en": everything})).status_code == 200
    assert (await client.post(f"{_path(full_cycle)}/release", headers=planner)).status_code == 200
    path = f"/processes/{full_cycle}/report"

    english = await client.get(path, headers={"Accept": "text/html", "Accept-Language": "en"})
    assert english.status_code == 200 and english.headers["content-language"] == "en"
    assert f"Social report: <span>{PROCESS_EN}</span></h1>" in english.text
    assert f"<title>Social report: {PROCESS_EN} (Cycle" in english.text
    assert f'<span lang="de" dir="ltr">{GERMAN_TOPIC}</span>' in english.text
    assert f'<th scope="row"><span>{MEASURE_EN}</span></th>' in english.text
    assert f"<h3><span>{MEASURE_EN}</span></h3>" in english.text  # its evaluation
    assert GERMAN_MEASURE not in english.text and GERMAN_TITLE not in english.text
    assert english.text.count(FALLBACK) == 1

    # Arabic has no translation of either: German, marked, with the one note.
    arabic = await client.get(f"{path}?lang=ar", headers={"Accept": "text/html"})
    assert f'<span lang="de" dir="ltr">{GERMAN_TITLE}</span></h1>' in arabic.text
    assert f'<th scope="row"><span lang="de" dir="ltr">{GERMAN_MEASURE}</span></th>' in arabic.text
    assert arabic.text.count(FALLBACK) == 1

    german = await client.get(path, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert GERMAN_TITLE in german.text and GERMAN_MEASURE in german.text
    assert PROCESS_EN not in german.text and MEASURE_EN not in german.text
    assert '<span lang="de"' not in german.text and FALLBACK not in german.text


async def test_the_released_report_keeps_the_process_and_measure_translations(
    client: Client, full_cycle: uuid.UUID, planner: Headers, engine: AsyncEngine
) -> None:
    await _translate_process(client, full_cycle, planner, {"title": PROCESS_EN})
    await _translate_measures(engine, full_cycle, {"en": {"title": MEASURE_EN}})
    released = await client.post(f"{_path(full_cycle)}/release", headers=planner)
    assert released.status_code == 200, released.text
    assert released.json()["title_translations"] == {"en": {"title": PROCESS_EN}}
    assert released.json()["measures"][0]["translations"] == {"en": {"title": MEASURE_EN}}
    # The process and its measures are translated anew after the release …
    await _translate_process(client, full_cycle, planner, {"title": "Rewritten title"})
    await _translate_measures(engine, full_cycle, {"en": {"title": "Rewritten measure"}})
    # … the published report stays as released, in the API and on the page.
    public = (await client.get(_path(full_cycle))).json()
    assert public["title_translations"] == {"en": {"title": PROCESS_EN}}
    assert public["measures"][0]["translations"] == {"en": {"title": MEASURE_EN}}
    page = await client.get(f"/processes/{full_cycle}/report?lang=en")
    assert PROCESS_EN in page.text and MEASURE_EN in page.text
    assert "Rewritten" not in page.text

    # A report released before these translations were kept reads in German, marked.
    async with async_sessionmaker(engine)() as db, db.begin():
        row = await db.scalar(sa.select(SocialReport).where(SocialReport.process_id == full_cycle))
        assert row is not None and row.released_content is not None
        old = dict(row.released_content)
        old.pop("title_translations")
        old["measures"] = [
            {key: value for key, value in measure.items() if key != "translations"}
            for measure in old["measures"]
        ]
        row.released_content = old
    public = (await client.get(_path(full_cycle))).json()
    assert public["title_translations"] == {} and public["measures"][0]["translations"] == {}
    page = await client.get(f"/processes/{full_cycle}/report?lang=en")
    assert f'<span lang="de" dir="ltr">{GERMAN_TITLE}</span></h1>' in page.text
    assert f'<span lang="de" dir="ltr">{GERMAN_MEASURE}</span>' in page.text
    assert FALLBACK in page.text and "Rewritten" not in page.text


async def test_the_english_pdf_has_the_translated_title_mandate_and_measure(
    client: Client, full_cycle: uuid.UUID, planner: Headers, engine: AsyncEngine
) -> None:
    await _translate_process(client, full_cycle, planner, {"title": PROCESS_EN})
    await _translate_measures(engine, full_cycle, {"en": {"title": MEASURE_EN}})
    await _mandate(client, full_cycle, planner, {"aim": MANDATE_EN})
    assert (await client.post(f"{_path(full_cycle)}/release", headers=planner)).status_code == 200
    english = await client.get(f"{_path(full_cycle)}/pdf?lang=en")
    assert english.status_code == 200, english.text[:300]
    text = _pdf_text(english.content)
    assert PROCESS_EN in text and MEASURE_EN in text and MANDATE_EN in text
    assert GERMAN_MEASURE not in text and "Präventionskette" not in text
    assert GERMAN_TOPIC in text and "have not been translated" in text  # the topic: German
    german = _pdf_text((await client.get(f"{_path(full_cycle)}/pdf?lang=de")).content)
    assert GERMAN_TITLE in german and GERMAN_MEASURE in german and MEASURE_EN not in german


# -- the mandate (the process's, with its own translations) -------------------------------------

MANDATE = {
    "commissioned_by": "BVV Mitte",
    "aim": "Präventionskette",
    "report_recipients": "Jugendhilfeausschuss",
}
MANDATE_EN = "A prevention chain"


async def _mandate(
    client: Client, process_id: uuid.UUID, headers: Headers, english: dict[str, str]
) -> None:
    changed = await client.patch(
        f"/api/v1/processes/{process_id}",
        json={"mandate": {**MANDATE, "translations": {"en": english}}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text


async def test_the_report_shows_the_mandate_in_the_readers_language_assembled_and_released(
    client: Client, full_cycle: uuid.UUID, planner: Headers, engine: AsyncEngine
) -> None:
    await _mandate(client, full_cycle, planner, {"aim": MANDATE_EN})
    # Assembled now: the mandate carries its translations, as the process gives them.
    draft = (await client.get(_path(full_cycle), headers=planner)).json()
    assert draft["mandate"]["aim"] == "Präventionskette"  # v1: the German text
    assert draft["mandate"]["translations"] == {"en": {"aim": MANDATE_EN}}
    html = {"Accept": "text/html", "Accept-Language": "en"}
    preview = await client.get(f"/processes/{full_cycle}/report", headers={**html, **planner})
    assert preview.status_code == 200 and f"<dd>{MANDATE_EN}</dd>" in preview.text

    released = await client.post(f"{_path(full_cycle)}/release", headers=planner)
    assert released.status_code == 200, released.text
    assert released.json()["mandate"]["translations"] == {"en": {"aim": MANDATE_EN}}
    # The mandate is translated anew (and changed in German) after the release …
    await _mandate(client, full_cycle, planner, {"aim": "Rewritten aim"})
    # … the published report stays as released, in the API and on the page.
    public = (await client.get(_path(full_cycle))).json()
    assert public["mandate"]["translations"] == {"en": {"aim": MANDATE_EN}}
    page = await client.get(f"/processes/{full_cycle}/report", headers=html)
    assert f"<dd>{MANDATE_EN}</dd>" in page.text and "Rewritten" not in page.text
    # The mandate's other texts have no English: German, marked, counted in the one note.
    assert '<dd lang="de" dir="ltr">BVV Mitte</dd>' in page.text
    assert '<dd lang="de" dir="ltr">Jugendhilfeausschuss</dd>' in page.text
    assert page.text.count(FALLBACK) == 1
    german = await client.get(f"/processes/{full_cycle}/report?lang=de", headers=HTML_ONLY)
    assert "<dd>Präventionskette</dd>" in german.text and MANDATE_EN not in german.text

    # A report released before the mandate's translations were kept reads in German, marked.
    async with async_sessionmaker(engine)() as db, db.begin():
        row = await db.scalar(sa.select(SocialReport).where(SocialReport.process_id == full_cycle))
        assert row is not None and row.released_content is not None
        old = dict(row.released_content)
        old["mandate"] = {
            key: value for key, value in old["mandate"].items() if key != "translations"
        }
        row.released_content = old
    public = (await client.get(_path(full_cycle))).json()
    assert public["mandate"]["translations"] == {}
    assert public["mandate"]["aim"] == "Präventionskette"
    page = await client.get(f"/processes/{full_cycle}/report", headers=html)
    assert '<dd lang="de" dir="ltr">Präventionskette</dd>' in page.text
    assert FALLBACK in page.text and MANDATE_EN not in page.text
