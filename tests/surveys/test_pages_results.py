"""The planners' results page (charts, tables, suppression, areas, needs, exports, access) and
the resident pages' weight budget."""

from __future__ import annotations

import gzip
import re
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.surveys import pages
from quartier.surveys import schemas as s
from tests.conftest import LoginFactory
from tests.support.disclosure import without_noise  # noqa: F401
from tests.surveys.conftest import Surveys, answers
from tests.surveys.test_aggregation import POPULATION, add_population, sexed_definition
from tests.surveys.test_pages import FIRST_PAGE, HTML, Resident, main_of, to_check_page

# Structure with exact counts; the protection itself: tests/surveys/test_release.py
pytestmark = pytest.mark.usefixtures("without_noise")

Client = AsyncTestClient[Litestar]
PAGE_BUDGET = 30 * 1024


async def answered_survey(surveys: Surveys, responses: int = 14) -> str:
    """A published survey with `responses` answers, all in Moabit West: six without children,
    eight with children, of whom two lack homework help (a count of 2: suppressed)."""
    survey = await surveys.create(publish=True)
    for index in range(responses):
        extra: dict[str, Any] = {"missing": ["kita", "homework"] if index < 2 else ["kita"]}
        if index >= 8:
            extra = {"children": "no", "missing": None, "priorities": None}
        response = await surveys.submit(survey["id"], answers(**extra))
        assert response.status_code == 201, response.text
    return str(survey["id"])


async def test_results_need_a_staff_session(
    surveys: Surveys, client: Client, login_as: LoginFactory
) -> None:
    survey_id = await answered_survey(surveys, responses=0)
    path = f"/dashboard/surveys/{survey_id}/results"
    anonymous = await client.get(path, headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=%2Fdashboard%2Fsurveys%2F")
    api = await client.get(path, follow_redirects=False)
    assert api.status_code == 401
    for role in ("planner", "moderator", "admin"):
        headers = await login_as(role)
        response = await client.get(path, headers={**HTML, **headers})
        assert response.status_code == 200, (role, response.text[:500])
    listing = await client.get("/dashboard/surveys", headers={**HTML, **headers})
    assert listing.status_code == 200
    assert f'href="/dashboard/surveys/{survey_id}/results"' in listing.text


async def test_results_show_accessible_charts_with_tables_and_suppressed_cells(
    surveys: Surveys, client: Client
) -> None:
    survey_id = await answered_survey(surveys)
    response = await client.get(
        f"/dashboard/surveys/{survey_id}/results", headers={**HTML, **surveys.planner}
    )
    assert response.status_code == 200, response.text
    main = main_of(response.text)
    assert "<h1>Familien in Mitte</h1>" in main
    # Children: "yes" 8 of 14. Homework help: 2 of 8 — published as 0 ("fewer than 5").
    chart = re.search(r'<svg class="bar-chart".*?</svg>', main, re.S)
    assert chart is not None
    svg = chart.group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-children-title chart-children-desc"' in main
    assert '<title id="chart-children-title">Leben Kinder in Ihrem Haushalt?</title>' in main
    assert "<desc id=" in svg
    assert "57,1\u202f% (8)" in main  # the share and count, in the chart and the table
    table = re.search(r'<table class="table" id="table-children"[^>]*>.*?</table>', main, re.S)
    assert table is not None and ">8<" in table.group(0) and ">6<" in table.group(0)
    missing = re.search(r'<table class="table" id="table-missing"[^>]*>.*?</table>', main, re.S)
    assert missing is not None
    homework = re.search(r"Hausaufgabenhilfe</th>(.*?)</tr>", missing.group(0), re.S)
    assert homework is not None
    assert 'numeric">0<' in homework.group(1)
    assert ">2<" not in homework.group(1) and "(2)" not in homework.group(1)
    assert "0 bedeutet also „weniger als 5“" in main
    # Who responded (issue #8 §4): the representativeness table beside the needs.
    assert "Wer geantwortet hat" in main and 'id="representativeness"' in main
    # Text answers never appear.
    assert "Mehr Grün" not in main and "Danke für die Befragung." not in main
    # The needs per area, with the downloads of ExportAggregatedNeeds.
    assert re.search(r"<table class=\"table\" id=\"needs\"", main)
    export = f"/api/v1/surveys/{survey_id}/aggregated-needs/export?level=planning_area"
    for label, fmt in (
        ("CSV", "csv"),
        ("CSV für deutsches Excel", "csv-de"),
        ("XLSX", "xlsx"),
        ("GeoJSON", "geojson"),
        ("JSON", "json"),
    ):
        link = re.search(rf'<a href="([^"]+)" download>{label}</a>', main)
        assert link is not None, label
        href = link.group(1).replace("&amp;", "&")
        assert href.startswith(export) and href.endswith(f"&format={fmt}")
        download = await client.get(href, headers=surveys.planner)
        assert download.status_code == 200, (label, download.text[:300])


async def test_results_below_the_minimum_of_respondents_are_protected_never_zero(
    surveys: Surveys, client: Client
) -> None:
    """Three responses (min_respondents 10): the number of responses reads "protected", not 0
    (which would read "fewer than 5"), and the questions say that there are too few."""
    survey_id = await answered_survey(surveys, responses=3)
    response = await client.get(
        f"/dashboard/surveys/{survey_id}/results", headers={**HTML, **surveys.planner}
    )
    assert response.status_code == 200, response.text
    main = main_of(response.text)
    assert "<dt>Antworten</dt><dd>geschützt</dd>" in main
    assert '<p class="suppressed">Zu wenige Antworten, um Ergebnisse zu zeigen.</p>' in main
    assert "bar-chart" not in main and 'id="table-children"' not in main


async def test_results_per_area_at_a_chosen_level(surveys: Surveys, client: Client) -> None:
    survey_id = await answered_survey(surveys)
    path = f"/dashboard/surveys/{survey_id}/results"
    response = await client.get(
        path, params={"level": "district_region"}, headers={**HTML, **surveys.planner}
    )
    assert response.status_code == 200
    main = main_of(response.text)
    assert '<option value="district_region" selected>' in main
    table = re.search(r'<table class="table" id="areas-children"[^>]*>.*?</table>', main, re.S)
    assert table is not None
    assert "Moabit" in table.group(0)
    unknown = await client.get(path, params={"level": "nope"}, headers={**HTML, **surveys.planner})
    assert unknown.status_code == 400
    assert '<a href="#level">' in unknown.text


def test_bar_chart_geometry_marks_suppressed_options() -> None:
    options = [
        s.OptionResult(
            key="a", label="Ein sehr langer Antworttext, der umbrochen wird", count=30, share=0.75
        ),
        s.OptionResult(key="b", label="Kurz", count=None, share=None, suppressed=True),
    ]
    chart = pages.bar_chart("c", "Frage", options, 40, 5)
    first, second = chart.rows
    assert len(first.label_lines) == 2
    assert first.bar_percent == 0.75 * pages.BAR_SPAN
    assert second.suppressed and second.bar_percent == 0
    assert "5" in second.value_text
    assert chart.height == second.bar_y + pages.BAR + pages.GAP


# -- the weight budget ----------------------------------------------------------------------------


async def transferred(client: Client, path: str, **kwargs: Any) -> int:
    """Bytes on the wire with gzip accepted (the app compresses responses)."""
    response = await client.request(
        kwargs.pop("method", "GET"),
        path,
        headers={**HTML, "Accept-Encoding": "gzip"},
        **kwargs,
    )
    assert response.status_code in (200, 400), (path, response.status_code)
    size = int(response.num_bytes_downloaded)
    if response.headers.get("content-encoding") != "gzip":
        size = len(response.content)  # sent uncompressed: count it as it is
    return size


async def test_each_survey_page_stays_under_30_kb_compressed(
    surveys: Surveys, client: Client
) -> None:
    survey = await surveys.create(publish=True)
    resident = Resident(client=client, survey_id=str(survey["id"]))
    await resident.open()
    await resident.start()
    question_page = resident.form()
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', resident.text))
    assert {"/static/css/quartier.css", "/static/css/survey.css", "/static/js/survey.js"} <= assets
    asset_bytes = sum([await transferred(client, asset) for asset in sorted(assets)])
    html_bytes = await transferred(
        client,
        question_page.action,
        method="POST",
        data={**question_page.hidden(), "action": "continue", **FIRST_PAGE},
    )
    intro_bytes = await transferred(client, f"/surveys/{survey['id']}")
    await to_check_page(resident)
    check = resident.form("data-survey-submit")
    check_page_bytes = await transferred(
        client,
        question_page.action,
        method="POST",
        data={**check.hidden(), "action": "goto:check"},
    )
    check_bytes = await transferred(
        client, check.action, method="POST", data={**check.hidden(), "action": "submit"}
    )
    for name, page_bytes in (
        ("intro", intro_bytes),
        ("question page", html_bytes),
        ("check answers", check_page_bytes),
        ("confirmation", check_bytes),
    ):
        total = page_bytes + asset_bytes
        print(f"{name}: {page_bytes} + assets {asset_bytes} = {total} bytes")
        assert total < PAGE_BUDGET, f"{name}: {total} bytes (assets {asset_bytes})"
    # The static files really are compressed on the wire.
    raw = await client.get("/static/css/quartier.css")
    assert len(gzip.compress(raw.content)) < len(raw.content)


async def test_results_map_a_need_per_area_with_protected_areas_never_as_zero(
    surveys: Surveys, client: Client
) -> None:
    survey_id = await answered_survey(surveys)
    path = f"/dashboard/surveys/{survey_id}/results"
    response = await client.get(
        path,
        params={"need": "school_success"},
        headers={**HTML, **surveys.planner, "Accept-Language": "en"},
    )
    assert response.status_code == 200, response.text[:500]
    main = main_of(response.text)
    figure = main[main.index('<figure class="map" id="need-map"') :]
    figure = figure[: figure.index("</figure>")]
    assert '<option value="school_success" selected>' in main
    assert 'class="map__svg"' in figure and "<desc" in figure
    # Only Moabit West has responses; every other area is withheld, drawn as protected.
    assert 'fill="url(#need-map-hatch)"' in figure
    assert re.search(r"<title>[^<]*: protected \(too few people\)</title>", figure)
    titles = re.findall(r"<title>([^<:]*): ([^<]*)</title>", figure)
    assert titles and dict(titles).get("Moabit West", "").endswith("%")
    withheld = [text for name, text in titles if name != "Moabit West"]
    # A withheld area is never drawn as a zero (or any figure): only as protected.
    assert withheld and all(text == "protected (too few people)" for text in withheld)
    assert 'href="/areas/' in figure
    unknown = await client.get(path, params={"need": "nope"}, headers={**HTML, **surveys.planner})
    assert unknown.status_code == 400
    assert '<a href="#need">' in unknown.text


async def test_results_show_who_responded_by_sex_where_a_question_maps_to_it(
    surveys: Surveys, client: Client, session: AsyncSession, areas: dict[str, uuid.UUID]
) -> None:
    """Issue #8 §4: with a gender question mapped to the population's sexes, the
    representativeness table has the response rates of women and men per area, their counts
    being the options' counts of the results."""
    survey = await surveys.create(body=sexed_definition(), publish=True)
    for index in range(14):
        gender = "woman" if index < 8 else "man" if index < 13 else "diverse"
        response = await surveys.submit(survey["id"], answers(gender=gender))
        assert response.status_code == 201, response.text
    await add_population(session, areas["010101"], POPULATION, female=4_000)
    await session.commit()
    response = await client.get(
        f"/dashboard/surveys/{survey['id']}/results", headers={**HTML, **surveys.planner}
    )
    assert response.status_code == 200, response.text
    main = main_of(response.text)
    table = re.search(r'<table class="table" id="representativeness"[^>]*>.*?</table>', main, re.S)
    assert table is not None
    assert ">Frauen</th>" in table.group(0) and ">Männer</th>" in table.group(0)
    west = re.search(r"010101</span></th>(.*?)</tr>", table.group(0), re.S)
    assert west is not None
    women = re.search(r'data-sex="female">([^<]*)<', west.group(1))
    men = re.search(r'data-sex="male">([^<]*)<', west.group(1))
    assert women is not None and "(8)" in women.group(1)
    assert men is not None and "(5)" in men.group(1)
    assert "nicht nach Geschlecht gezählt" in main
    # the same counts as the results of the gender question
    gender = re.search(r'<table class="table" id="table-gender"[^>]*>.*?</table>', main, re.S)
    assert gender is not None and ">8<" in gender.group(0) and ">5<" in gender.group(0)
