"""Pages of the social report: the printable report (404 for residents before release), the
planners' editor (sections with CSRF, release after confirmation), the link on the process
page once released, and the next cycle starting from the report and its gaps."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import LoginFactory
from tests.reports.conftest import SECTIONS, Client, Headers
from tests.support.disclosure import without_noise  # noqa: F401

pytestmark = pytest.mark.usefixtures("without_noise")
HTML = {"Accept": "text/html", "Accept-Language": "en"}


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, text[:500]
    return found.group(1)


def _phase(text: str, key: str) -> str:
    found = re.search(rf'<li id="phase-{key}".*?</li>\s*(?=<li id="phase-|</ol>)', text, re.S)
    assert found, key
    return found.group(0)


async def test_residents_see_the_report_only_once_released(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    path = f"/processes/{full_cycle}/report"
    hidden = await client.get(path, headers=HTML)
    assert hidden.status_code == 404
    draft = await client.get(path, headers={**HTML, **planner})
    assert draft.status_code == 200, draft.text[:500]
    assert "Draft – not released, only staff can see it" in draft.text
    assert f'href="/workspace/processes/{full_cycle}/report"' in draft.text
    assert 'class="bar-chart"' in draft.text and 'class="map__svg"' in draft.text
    assert "protected (too few people)" in draft.text  # Moabit Ost: withheld, never 0
    staff_view = await client.get(f"/processes/{full_cycle}", headers={**HTML, **planner})
    assert "Edit and release the social report" in staff_view.text
    resident_view = await client.get(f"/processes/{full_cycle}", headers=HTML)
    assert path not in resident_view.text
    released = await client.post(
        f"/api/v1/processes/{full_cycle}/social-report/release", headers=planner
    )
    assert released.status_code == 200
    public = await client.get(path, headers=HTML)
    assert public.status_code == 200
    assert "<title>Social report: Kinderarmut in Mitte vorbeugen (Cycle 1)" in public.text
    assert "Keine Kita im Kiez" in public.text and "Familienzentrum Moabit" in public.text
    assert "Draft" not in public.text and "Edit and release" not in public.text
    assert "Released by" not in public.text  # no staff names for residents
    page = await client.get(f"/processes/{full_cycle}", headers=HTML)
    reporting = _phase(page.text, "social_reporting")
    assert f'href="{path}"' in reporting
    assert f'href="/api/v1/processes/{full_cycle}/social-report/pdf"' in reporting


async def test_the_editor_saves_sections_and_releases_after_confirmation(
    client: Client, full_cycle: uuid.UUID, login_as: LoginFactory
) -> None:
    planner = await login_as("planner")
    path = f"/workspace/processes/{full_cycle}/report"
    page = await client.get(path, headers={**HTML, **planner})
    assert page.status_code == 200, page.text[:500]
    assert SECTIONS["outlook"] in page.text
    cookie = {"Cookie": planner["Cookie"]}
    form = {"csrf_token": _csrf(page.text), **SECTIONS, "outlook": "Neu geschrieben.", "level": ""}
    saved = await client.post(path, data=form, headers={**HTML, **cookie}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    assert saved.headers["location"] == f"{path}?saved=true"
    shown = await client.get(saved.headers["location"], headers={**HTML, **planner})
    assert "The sections are saved." in shown.text and "Neu geschrieben." in shown.text
    too_long = await client.post(
        path, data={**form, "needs": "x" * 20_001}, headers={**HTML, **cookie}
    )
    assert too_long.status_code == 400 and '<a href="#needs">' in too_long.text
    forged = await client.post(path, data={**form, "csrf_token": "x"}, headers={**HTML, **cookie})
    assert forged.status_code == 403
    release = {"csrf_token": _csrf(page.text)}
    unconfirmed = await client.post(f"{path}/release", data=release, headers={**HTML, **cookie})
    assert unconfirmed.status_code == 400 and '<a href="#confirm">' in unconfirmed.text
    done = await client.post(
        f"{path}/release",
        data={**release, "confirm": "yes"},
        headers={**HTML, **cookie},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/processes/{full_cycle}/report"
    after = await client.get(path, headers={**HTML, **planner})
    assert "Released by" in after.text and 'name="needs"' not in after.text
    moderator = await login_as("moderator")
    assert (await client.get(path, headers={**HTML, **moderator})).status_code == 403
    anonymous = await client.get(path, headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


async def test_the_next_cycle_starts_from_the_released_report_and_its_gaps(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    started = await client.post(f"/api/v1/processes/{full_cycle}/next-cycle", headers=planner)
    assert started.status_code == 201, started.text
    next_id = started.json()["id"]
    published = await client.post(f"/api/v1/processes/{next_id}/publish", headers=planner)
    assert published.status_code == 200, published.text
    previous = f"/processes/{full_cycle}/report"
    before = await client.get(f"/processes/{next_id}", headers=HTML)
    assert previous not in before.text  # not released yet: residents see no link
    staff = await client.get(f"/processes/{next_id}", headers={**HTML, **planner})
    assert previous in _phase(staff.text, "guidelines") and "(not released yet)" in staff.text
    released = await client.post(
        f"/api/v1/processes/{full_cycle}/social-report/release", headers=planner
    )
    assert released.status_code == 200
    after = await client.get(f"/processes/{next_id}", headers=HTML)
    guidelines = _phase(after.text, "guidelines")
    assert (
        "Social report of the previous cycle" in guidelines and f'href="{previous}"' in guidelines
    )
    needs = _phase(after.text, "needs_assessment")
    assert "Starting point: gaps found in the previous cycle" in needs
    assert "Moabit Ost (010102): Keine Kita im Kiez" in needs
    report = await client.get(f"/api/v1/processes/{full_cycle}/social-report")
    assert report.json()["next_process_id"] == next_id
    following = await client.get(f"/api/v1/processes/{next_id}/social-report", headers=planner)
    assert following.json()["cycle"] == 2
    assert following.json()["previous_process_id"] == str(full_cycle)
    assert [gap["note"] for gap in following.json()["starting_point"]] == ["Keine Kita im Kiez"]
    draft = await client.get(f"/processes/{next_id}/report", headers={**HTML, **planner})
    assert "Moabit Ost (010102): Keine Kita im Kiez" in draft.text


async def test_the_report_shows_goals_in_the_readers_language_or_says_they_are_german(
    client: Client, full_cycle: uuid.UUID, planner: Headers
) -> None:
    goal = (await client.get(f"/api/v1/processes/{full_cycle}/goals", headers=planner)).json()[
        "items"
    ][0]
    translated = await client.put(
        f"/api/v1/goals/{goal['id']}",
        json={
            "statement": goal["statement"],
            "need_categories": ["childcare"],
            "area_codes": ["0101"],
            "translations": {"en": {"statement": "Every child in Moabit has a nursery place."}},
        },
        headers=planner,
    )
    assert translated.status_code == 200, translated.text
    path = f"/processes/{full_cycle}/report"
    english = await client.get(path, headers={**HTML, **planner})
    assert "<span>Every child in Moabit has a nursery place.</span>" in english.text
    turkish = await client.get(
        path, headers={**planner, "Accept": "text/html", "Accept-Language": "tr"}
    )
    assert '<span lang="de" dir="ltr">Jedes Kind in Moabit hat einen Kitaplatz.</span>' in (
        turkish.text
    )
    assert "data-language-fallback" in turkish.text
