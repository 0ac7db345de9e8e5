"""Staff entry pages: a paper questionnaire typed into one form, and a CSV import previewed
(first rows, errors per line) before anything is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.surveys.models import SurveyResponse
from tests.surveys.conftest import Client, Headers, Surveys
from tests.surveys.test_builder_pages import _get, _post


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


PAPER = {
    "channel": "phone",
    "q_area": "010101",
    "q_children": "yes",
    "q_missing": ["kita", "other"],
    "o_missing": "Ruhe",
    "q_household": "3",
    "q_rent_share": "37,5",
}


async def test_a_paper_response_is_stored_and_the_form_comes_back_empty(
    client: Client, surveys: Surveys, planner: Headers, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    form = await _get(client, f"/workspace/surveys/{survey['id']}/paper", headers=planner)
    assert form.status_code == 200
    assert 'name="q_area"' in form.text and 'name="q_comments"' in form.text
    assert 'name="o_missing"' in form.text
    stored = await _post(
        client, f"/workspace/surveys/{survey['id']}/paper", data=PAPER, headers=planner
    )
    assert stored.status_code == 200, stored.text
    assert "notification--success" in stored.text
    assert await _count(session) == 1
    channel = await session.scalar(select(SurveyResponse.channel))
    assert channel == "phone"


async def test_invalid_paper_answers_are_shown_at_their_fields_and_nothing_is_stored(
    client: Client, surveys: Surveys, planner: Headers, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    refused = await _post(
        client,
        f"/workspace/surveys/{survey['id']}/paper",
        data={"channel": "paper", "q_area": "010101", "q_children": "yes", "q_household": "99"},
        headers=planner,
    )
    assert refused.status_code == 400
    assert 'href="#q_household"' in refused.text
    assert await _count(session) == 0


CSV_OK = "area,children,missing,household\n010101,yes,kita|homework,3\n010102,no,,2\n"
CSV_BAD = "area,children,missing,household\n010101,yes,kita,3\n999999,no,,2\n010101,maybe,,x\n"


async def test_a_csv_import_is_previewed_before_it_is_stored(
    client: Client, surveys: Surveys, planner: Headers, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/workspace/surveys/{survey['id']}/import"
    page = await _get(client, url, headers=planner)
    assert page.status_code == 200
    preview = await _post(client, url, data={"csv": CSV_OK, "action": "preview"}, headers=planner)
    assert preview.status_code == 200, preview.text
    assert "<td>010102</td>" in preview.text
    assert 'value="import"' in preview.text
    assert await _count(session) == 0
    imported = await _post(client, url, data={"csv": CSV_OK, "action": "import"}, headers=planner)
    assert imported.status_code == 200
    assert await _count(session) == 2


async def test_csv_errors_are_listed_per_line_and_nothing_is_stored(
    client: Client, surveys: Surveys, planner: Headers, session: AsyncSession
) -> None:
    survey = await surveys.create(publish=True)
    url = f"/workspace/surveys/{survey['id']}/import"
    response = await _post(client, url, data={"csv": CSV_BAD, "action": "import"}, headers=planner)
    assert response.status_code == 400
    assert "Line 3" in response.text or "Zeile 3" in response.text
    assert "Line 4" in response.text or "Zeile 4" in response.text
    assert 'value="import"' not in response.text
    assert await _count(session) == 0


async def test_entry_pages_need_staff(client: Client, surveys: Surveys) -> Any:
    survey = await surveys.create(publish=True)
    response = await _get(client, f"/workspace/surveys/{survey['id']}/paper")
    assert response.status_code in (302, 303, 401)
