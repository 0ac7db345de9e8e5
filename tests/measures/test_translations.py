"""A measure's texts per language: title and summary in `translations`, each section's heading
and text in its own `translations` (API round trip, validation, versions and their difference),
the resident pages in the reader's language with a visible note where a text is shown in German,
and the drafting form with a column per language."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from .conftest import Client, Headers, Json, measure_body

HTML = {"Accept": "text/html", "Accept-Language": "en"}
FALLBACK = "data-language-fallback"
Consult = Callable[..., Awaitable[Json]]

ENGLISH = {"title": "Family centre Moabit", "summary": "A family centre with open hours."}
EASY = {"summary": "Ein Haus für Familien. Sie können ohne Termin kommen."}
OFFER_EN = {"title": "What we offer", "body": "Open hours on Tuesdays."}


def _translated(**changes: Any) -> Json:
    body = measure_body(translations={"en": ENGLISH, "de-x-simple": EASY}, **changes)
    body["sections"][0]["translations"] = {"en": OFFER_EN}
    return body


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


async def test_translations_round_trip_and_each_version_keeps_what_was_sent(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    created = await client.post(
        f"/api/v1/processes/{measuring_process}/measures", json=_translated(), headers=planner
    )
    assert created.status_code == 201, created.text
    content = created.json()["content"]
    assert content["title"] == "Familienzentrum Moabit"  # v1: the German text
    assert content["translations"] == {"en": ENGLISH, "de-x-simple": EASY}
    assert content["sections"][0]["translations"] == {"en": OFFER_EN}
    assert content["sections"][1]["translations"] == {}
    measure_id = created.json()["id"]

    listed = await client.get(
        f"/api/v1/processes/{measuring_process}/measures", headers={**planner, **HTML}
    )
    assert listed.headers["content-language"] == "en"
    assert listed.json()["items"][0]["translations"]["en"] == ENGLISH

    # A v1 client saves a new version without translations: that version has none.
    plain = await client.put(f"/api/v1/measures/{measure_id}", json=measure_body(), headers=planner)
    assert plain.status_code == 200, plain.text
    assert plain.json()["content"]["translations"] == {}
    assert plain.json()["content"]["sections"][0]["translations"] == {}
    first = await client.get(f"/api/v1/measures/{measure_id}?version=1", headers=planner)
    assert first.json()["content"]["translations"]["en"] == ENGLISH  # versions are kept
    diff = await client.get(f"/api/v1/measures/{measure_id}/diff?from=1&to=2", headers=planner)
    changed = {change["field"]: change["change"] for change in diff.json()["changes"]}
    assert changed["translations.en.title"] == "removed"
    assert changed["sections.offer.translations.en.body"] == "removed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (measure_body(translations={"fr": {"title": "Centre"}}), "translations"),
        (measure_body(translations={"en": {"summary": "x" * 4001}}), "translations.en.summary"),
        (measure_body(translations={"de": {"title": "Deutsch"}}), "translations"),
        (
            measure_body(
                sections=[
                    {"key": "a", "title": "A", "body": "B", "translations": {"en": {"x": ""}}}
                ]
            ),
            "sections[0].translations.en",
        ),
        (
            measure_body(
                sections=[
                    {
                        "key": "a",
                        "title": "A",
                        "body": "B",
                        "translations": {"en": {"body": "x" * 20_001}},
                    }
                ]
            ),
            "sections[0].translations.en.body",
        ),
    ],
)
async def test_bad_translations_are_refused_naming_the_field(
    client: Client, planner: Headers, measuring_process: uuid.UUID, body: Json, field: str
) -> None:
    response = await client.post(
        f"/api/v1/processes/{measuring_process}/measures", json=body, headers=planner
    )
    assert response.status_code == 400, response.text  # the body does not decode
    assert any(name.startswith(field) for name in _fields(response)), response.text


async def test_a_language_the_deployment_does_not_enable_is_refused(
    client: Client, planner: Headers, measuring_process: uuid.UUID, only_english: None
) -> None:
    body = measure_body(translations={"tr": {"title": "Aile merkezi"}})
    body["sections"][1]["translations"] = {"ar": {"title": "التكاليف"}}
    response = await client.post(
        f"/api/v1/processes/{measuring_process}/measures", json=body, headers=planner
    )
    assert response.status_code == 422
    assert _fields(response) == {"translations.tr", "sections[1].translations.ar"}


async def test_resident_pages_show_the_readers_language_or_say_it_is_german(
    client: Client,
    planner: Headers,
    measuring_process: uuid.UUID,
    consult: Consult,
) -> None:
    created = await client.post(
        f"/api/v1/processes/{measuring_process}/measures", json=_translated(), headers=planner
    )
    measure_id = created.json()["id"]
    await consult(measure_id)
    url = f"/measures/{measure_id}"

    german = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert "Familienzentrum Moabit" in german.text and FALLBACK not in german.text

    # English: title, summary and the first section translated; the second section is not.
    english = await client.get(url, headers=HTML)
    assert "<h1>Family centre Moabit</h1>" in english.text
    assert "A family centre with open hours." in english.text
    assert "What we offer" in english.text and "Open hours on Tuesdays." in english.text
    assert 'lang="de" dir="ltr">Kosten</h2>' in english.text
    assert "Comment on “What we offer”" in english.text
    assert FALLBACK in english.text

    easy = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de-x-simple"})
    assert EASY["summary"] in easy.text and FALLBACK not in easy.text  # German is not a fallback

    turkish = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "tr"})
    assert "Familienzentrum Moabit" in turkish.text and FALLBACK in turkish.text

    listing = f"/processes/{measuring_process}/measures"
    listed = await client.get(listing, headers=HTML)
    assert "Family centre Moabit" in listed.text
    assert "A family centre with open hours." in listed.text
    listed_tr = await client.get(listing, headers={"Accept": "text/html", "Accept-Language": "tr"})
    assert "Familienzentrum Moabit" in listed_tr.text and FALLBACK in listed_tr.text


async def test_planners_draft_the_texts_in_every_language(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    headers = {**planner, **HTML}
    base = f"/dashboard/processes/{measuring_process}/measures"
    form = await client.get(f"{base}/new", headers=headers)
    for name in ("title_en", "summary_simple", "sections-0-title_tr", "sections-1-body_ar"):
        assert f'name="{name}"' in form.text
    data = {
        "title": "Jugendtreff Wedding",
        "title_en": "Youth club Wedding",
        "summary": "Ein offener Treff.",
        "summary_simple": "Ein Ort für Jugendliche.",
        "area_codes": "0102",
        "sections-0-key": "",  # a blank row first: the next one becomes section 0
        "sections-0-title": "",
        "sections-0-body": "",
        "sections-1-key": "offer",
        "sections-1-title": "Angebot",
        "sections-1-title_en": "Offer",
        "sections-1-body": "Dienstags offen.",
        "sections-1-body_en": "x" * 20_001,
    }
    too_long = await client.post(f"{base}/new", data=data, headers=headers)
    assert too_long.status_code == 422 and 'href="#sections-0-body_en"' in too_long.text
    assert 'value="Youth club Wedding"' in too_long.text  # what was sent is shown again
    data["sections-1-body_en"] = "Open on Tuesdays."
    created = await client.post(f"{base}/new", data=data, headers=headers, follow_redirects=False)
    assert created.status_code == 303, created.text
    measure_id = created.headers["location"].rsplit("/", 1)[1]
    content = (await client.get(f"/api/v1/measures/{measure_id}", headers=planner)).json()[
        "content"
    ]
    assert content["translations"] == {
        "en": {"title": "Youth club Wedding"},
        "de-x-simple": {"summary": "Ein Ort für Jugendliche."},
    }
    assert content["sections"] == [
        {
            "key": "offer",
            "title": "Angebot",
            "body": "Dienstags offen.",
            "translations": {"en": {"title": "Offer", "body": "Open on Tuesdays."}},
        }
    ]
    edit = await client.get(f"/dashboard/measures/{measure_id}/edit", headers=headers)
    assert 'value="Youth club Wedding"' in edit.text
    assert ">Open on Tuesdays.</textarea>" in edit.text


async def test_the_chain_from_needs_to_measures_names_measures_in_the_readers_language(
    client: Client, planner: Headers, measuring_process: uuid.UUID, consult: Consult
) -> None:
    goal = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={"statement": "Jede Familie findet Beratung.", "need_categories": ["childcare"]},
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    created = await client.post(
        f"/api/v1/processes/{measuring_process}/measures",
        json=_translated(goal_ids=[goal.json()["id"]]),
        headers=planner,
    )
    await consult(created.json()["id"])
    url = f"/processes/{measuring_process}/traceability"
    trace = (await client.get(f"/api/v1/processes/{measuring_process}/traceability")).json()
    assert trace["needs"][0]["goals"][0]["measures"][0]["translations"]["en"] == ENGLISH
    english = await client.get(url, headers=HTML)
    assert ">Family centre Moabit</a>" in english.text
    assert '<span lang="de" dir="ltr">Jede Familie findet Beratung.</span>' in english.text
    assert FALLBACK in english.text  # this goal has no English statement
    german = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert ">Familienzentrum Moabit</a>" in german.text and FALLBACK not in german.text
