"""Modules contribute sections to the process page, the home page and the dashboard through
the participation registry; a module with nothing to offer shows no card."""

from __future__ import annotations

import ast
from pathlib import Path

from quartier.core.i18n import translations
from quartier.settings import PROJECT_ROOT
from tests.surveys.conftest import Client, Headers, Surveys

HTML = {"Accept": "text/html", "Accept-Language": "en"}


def test_processes_imports_no_participation_module() -> None:
    modules = {"quartier.surveys", "quartier.ideas", "quartier.measures", "quartier.participation"}
    for path in Path(PROJECT_ROOT / "backend/quartier/processes").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not any(name.startswith(m) for m in modules), (path.name, name)


async def test_the_survey_card_appears_only_with_a_published_survey(
    client: Client, surveys: Surveys
) -> None:
    page = f"/processes/{surveys.process_id}"
    html = (await client.get(page, headers=HTML)).text
    assert 'id="module-surveys"' not in html
    draft = await surveys.create()
    html = (await client.get(page, headers=HTML)).text
    assert 'id="module-surveys"' not in html and draft["id"] not in html
    published = await surveys.create(publish=True)
    html = (await client.get(page, headers=HTML)).text
    assert 'id="module-surveys"' in html
    assert "Take part in the survey" in html
    assert f'href="/surveys/{published["id"]}"' in html
    assert f'href="/surveys/{draft["id"]}"' not in html
    # the start page links the open survey on its process's card
    home = (await client.get("/", headers=HTML)).text
    assert f'href="/surveys/{published["id"]}"' in home


async def test_staff_see_results_sections_residents_do_not(
    client: Client, surveys: Surveys, planner: Headers
) -> None:
    survey = await surveys.create(publish=True)
    page = f"/processes/{surveys.process_id}"
    results = f'href="/dashboard/surveys/{survey["id"]}/results"'
    assert results not in (await client.get(page, headers=HTML)).text
    staff = (await client.get(page, headers=HTML | planner)).text
    assert results in staff and "Survey results" in staff
    dashboard = (await client.get("/dashboard", headers=HTML | planner)).text
    assert 'href="/dashboard/surveys"' in dashboard
    assert translations("en").gettext("Surveys and their results") in dashboard
