"""Goals: statement, need categories, areas, target groups, evidence with the survey figure as
published at the time, one level of sub-goals, versions."""

from __future__ import annotations

import uuid

import pytest

from tests.support.disclosure import without_noise  # noqa: F401
from tests.surveys.conftest import Surveys, answers

from .conftest import Client, Headers, MakeProcess


def goal_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "statement": "Jede Familie in Moabit findet einen Kitaplatz.",
        "need_categories": ["childcare"],
        "area_codes": ["010101"],
        "target_groups": ["Familien mit Kindern unter 6"],
        "evidence": [{"kind": "link", "label": "Kitabericht 2026", "url": "https://example.org/k"}],
    }
    body.update(changes)
    return body


async def test_a_goal_is_versioned_and_nests_one_level(
    client: Client, planner: Headers, make_process: MakeProcess
) -> None:
    process_id = await make_process()
    response = await client.post(
        f"/api/v1/processes/{process_id}/goals", json=goal_body(), headers=planner
    )
    assert response.status_code == 201, response.text
    goal = response.json()
    assert response.headers["location"] == f"/api/v1/goals/{goal['id']}"
    assert goal["need_categories"][0]["key"] == "childcare"
    assert goal["areas"][0]["code"] == "010101"
    assert goal["evidence"][0]["url"] == "https://example.org/k"

    sub = await client.post(
        f"/api/v1/processes/{process_id}/goals",
        json=goal_body(statement="Zehn neue Plätze in Moabit West", parent_id=goal["id"]),
        headers=planner,
    )
    assert sub.status_code == 201
    subsub = await client.post(
        f"/api/v1/processes/{process_id}/goals",
        json=goal_body(parent_id=sub.json()["id"]),
        headers=planner,
    )
    assert subsub.status_code == 422
    assert subsub.json()["errors"][0]["field"] == "parent_id"

    updated = await client.put(
        f"/api/v1/goals/{goal['id']}",
        json=goal_body(statement="Jede Familie findet einen Kitaplatz in 1 km."),
        headers=planner,
    )
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["sub_goals"] == [sub.json()["id"]]
    first = await client.get(f"/api/v1/goals/{goal['id']}?version=1")
    assert first.json()["statement"] == "Jede Familie in Moabit findet einen Kitaplatz."
    listed = (await client.get(f"/api/v1/processes/{process_id}/goals")).json()["items"]
    assert {g["version"] for g in listed} == {1, 2}


async def test_unknown_need_categories_are_named(
    client: Client, planner: Headers, make_process: MakeProcess
) -> None:
    process_id = await make_process()
    response = await client.post(
        f"/api/v1/processes/{process_id}/goals",
        json=goal_body(need_categories=["childcare", "unicorns"]),
        headers=planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "need_categories[1]"


@pytest.mark.usefixtures("without_noise")
async def test_survey_evidence_keeps_the_figure_as_published(
    client: Client, planner: Headers, surveys: Surveys, process_id: uuid.UUID
) -> None:
    survey = await surveys.create(publish=True)
    for _ in range(12):
        assert (await surveys.submit(survey["id"])).status_code == 201
    evidence = {
        "kind": "survey_figure",
        "survey_id": survey["id"],
        "need_category": "childcare",
        "area_code": "010101",
    }
    response = await client.post(
        f"/api/v1/processes/{process_id}/goals",
        json=goal_body(evidence=[evidence]),
        headers=planner,
    )
    assert response.status_code == 201, response.text
    goal = response.json()
    figure = goal["evidence"][0]["figure"]
    assert (figure["respondents"], figure["expressing"], figure["share"]) == (12, 12, 1.0)
    assert figure["area_name"] == "Moabit West"

    # later responses do not change the evidence the goal rests on
    for _ in range(3):
        await surveys.submit(survey["id"], answers(missing=["homework"]))
    again = (await client.get(f"/api/v1/goals/{goal['id']}")).json()
    assert again["evidence"][0]["figure"]["respondents"] == 12

    trace = (await client.get(f"/api/v1/processes/{process_id}/traceability")).json()
    assert trace["needs"][0]["need_category"]["key"] == "childcare"
    assert trace["needs"][0]["area"]["code"] == "010101"
    assert trace["needs"][0]["goals"][0]["figures"][0]["expressing"] == 12


async def test_evidence_from_a_survey_of_another_process_is_refused(
    client: Client, planner: Headers, surveys: Surveys, make_process: MakeProcess
) -> None:
    survey = await surveys.create(publish=True)
    other = await make_process()
    response = await client.post(
        f"/api/v1/processes/{other}/goals",
        json=goal_body(
            evidence=[
                {
                    "kind": "survey_figure",
                    "survey_id": survey["id"],
                    "need_category": "childcare",
                    "area_code": "010101",
                }
            ]
        ),
        headers=planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "evidence[0].survey_id"
