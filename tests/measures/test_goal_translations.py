"""A goal's (and sub-goal's) statement per language (`translations`, `core.translations`, as a
measure's title and summary): API round trip and bounds, every version keeps what was sent with
it, the resident chain from needs to measures in the reader's language with the fallback note,
and the goal form with a column per language."""

from __future__ import annotations

import uuid
from typing import Any

from .conftest import Client, Headers

HTML = {"Accept": "text/html", "Accept-Language": "en"}
FALLBACK = "data-language-fallback"
GERMAN = "Jede Familie findet Beratung."
ENGLISH = "Every family finds advice."
ARABIC = "كل عائلة تجد المشورة."


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


async def test_goal_statements_round_trip_per_language_and_versions_keep_what_was_sent(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    base = f"/api/v1/processes/{measuring_process}/goals"
    created = await client.post(
        base,
        json={
            "statement": GERMAN,
            "need_categories": ["childcare"],
            "translations": {"en": {"statement": ENGLISH}, "ar": {"statement": ARABIC}},
        },
        headers=planner,
    )
    assert created.status_code == 201, created.text
    goal = created.json()
    assert goal["statement"] == GERMAN  # v1: the German text
    assert goal["translations"] == {"en": {"statement": ENGLISH}, "ar": {"statement": ARABIC}}

    # A sub-goal carries its own; one without translations returns an empty map.
    sub = await client.post(
        base, json={"statement": "Beratung im Kiez.", "parent_id": goal["id"]}, headers=planner
    )
    assert sub.status_code == 201 and sub.json()["translations"] == {}

    updated = await client.put(
        f"/api/v1/goals/{goal['id']}",
        json={
            "statement": GERMAN,
            "translations": {"tr": {"statement": "Her aile danışma bulur."}},
        },
        headers=planner,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["translations"] == {"tr": {"statement": "Her aile danışma bulur."}}
    first = await client.get(f"/api/v1/goals/{goal['id']}?version=1", headers=planner)
    assert first.json()["translations"]["en"] == {"statement": ENGLISH}
    listed = (await client.get(base, headers=planner)).json()["items"]
    assert {item["id"]: item["translations"] for item in listed}[goal["id"]] == {
        "tr": {"statement": "Her aile danışma bulur."}
    }


async def test_bad_goal_translations_are_refused_naming_the_field(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    base = f"/api/v1/processes/{measuring_process}/goals"
    too_long = await client.post(
        base,
        json={"statement": GERMAN, "translations": {"en": {"statement": "x" * 2_001}}},
        headers=planner,
    )
    assert too_long.status_code == 400, too_long.text  # the body does not decode
    assert any(name.startswith("translations.en.statement") for name in _fields(too_long))
    unknown = await client.post(
        base,
        json={"statement": GERMAN, "translations": {"fr": {"statement": "Chaque famille"}}},
        headers=planner,
    )
    assert unknown.status_code == 400
    assert any(name.startswith("translations") for name in _fields(unknown))


async def test_a_goal_language_the_deployment_does_not_enable_is_refused(
    client: Client, planner: Headers, measuring_process: uuid.UUID, only_english: None
) -> None:
    response = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={"statement": GERMAN, "translations": {"ar": {"statement": ARABIC}}},
        headers=planner,
    )
    assert response.status_code == 422
    assert _fields(response) == {"translations.ar"}


async def test_the_chain_from_needs_to_measures_shows_goals_in_the_readers_language(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    goal = await client.post(
        f"/api/v1/processes/{measuring_process}/goals",
        json={
            "statement": GERMAN,
            "need_categories": ["childcare"],
            "translations": {"en": {"statement": ENGLISH}},
        },
        headers=planner,
    )
    assert goal.status_code == 201, goal.text
    trace = (await client.get(f"/api/v1/processes/{measuring_process}/traceability")).json()
    assert trace["needs"][0]["goals"][0]["translations"] == {"en": {"statement": ENGLISH}}
    url = f"/processes/{measuring_process}/traceability"
    english = await client.get(url, headers=HTML)
    assert f"<span>{ENGLISH}</span>" in english.text and GERMAN not in english.text
    arabic = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "ar"})
    assert f'<span lang="de" dir="ltr">{GERMAN}</span>' in arabic.text
    assert FALLBACK in arabic.text  # the statement is shown in German, and the page says so
    german = await client.get(url, headers={"Accept": "text/html", "Accept-Language": "de"})
    assert GERMAN in german.text and FALLBACK not in german.text


async def test_planners_set_a_goal_in_every_language(
    client: Client, planner: Headers, measuring_process: uuid.UUID
) -> None:
    headers = {**planner, **HTML}
    path = f"/dashboard/processes/{measuring_process}/goals/new"
    form = await client.get(path, headers=headers)
    for name in ("statement", "statement_en", "statement_simple", "statement_tr", "statement_ar"):
        assert f'name="{name}"' in form.text
    data = {"statement": GERMAN, "statement_ar": "x" * 2_001, "statement_en": ENGLISH}
    too_long = await client.post(path, data=data, headers=headers)
    assert too_long.status_code == 422 and 'href="#statement_ar"' in too_long.text
    assert f">{ENGLISH}</textarea>" in too_long.text  # what was sent is shown again
    data["statement_ar"] = ARABIC
    created = await client.post(path, data=data, headers=headers, follow_redirects=False)
    assert created.status_code == 303, created.text
    listed = (
        await client.get(f"/api/v1/processes/{measuring_process}/goals", headers=planner)
    ).json()["items"]
    assert listed[0]["statement"] == GERMAN
    assert listed[0]["translations"] == {
        "en": {"statement": ENGLISH},
        "ar": {"statement": ARABIC},
    }
