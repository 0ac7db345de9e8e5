"""Exports of the aggregated needs over HTTP: every format with its metadata, suppressed cells
empty and flagged (never 0), access, errors, and streaming."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AreaLevel
from quartier.settings import Settings
from quartier.surveys import aggregation, exports
from quartier.surveys.aggregation import Weighting
from tests.conftest import LoginFactory, TokenFactory
from tests.support.disclosure import without_noise  # noqa: F401

from .conftest import MakeProcess
from .test_aggregation import (
    POPULATION,
    add_population,
    add_responses,
    create_survey,
    people,
    sexed_definition,
)

# Structure with exact counts; the protection itself: tests/surveys/test_release.py
pytestmark = pytest.mark.usefixtures("without_noise")

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def survey(
    session: AsyncSession, make_process: MakeProcess, areas: dict[str, uuid.UUID]
) -> uuid.UUID:
    """Four planning areas: one with a small cell (3 of 40 in Körnerpark need childcare), one
    below min_respondents (Moabit Ost), two ordinary ones; population by age everywhere."""
    process_id = await make_process(area_codes=("01", "08"))
    survey_id = await create_survey(session, process_id, body=sexed_definition())
    for code in ("010101", "010102", "010201", "080101"):
        await add_population(session, areas[code], POPULATION, female=4_100)
    await add_responses(
        session,
        survey_id,
        areas,
        [
            *people(20, "010101", "safety", age="from_45", gender="woman"),
            *people(20, "010101", age="from_27_to_44", gender="man"),
            *people(6, "010102", "childcare"),
            *people(20, "010201", "childcare", age="under_27", gender="woman"),
            *people(20, "010201", age="from_45"),
            *people(3, "080101", "childcare", "safety", age="from_45"),
            *people(17, "080101", "safety", age="from_45"),
            *people(20, "080101", age="from_27_to_44"),
        ],
    )
    await session.commit()
    return survey_id


@pytest.fixture
async def exporter(make_token: TokenFactory) -> dict[str, str]:
    return await make_token({"exports:read"}, name="GIS department")


def url(survey_id: uuid.UUID, **params: str) -> tuple[str, dict[str, str]]:
    return f"/api/v1/surveys/{survey_id}/aggregated-needs/export", params


async def test_json_export_is_the_aggregated_needs_document(
    client: Client, survey: uuid.UUID, exporter: dict[str, str], session: AsyncSession
) -> None:
    path, params = url(survey, level="planning_area", format="json", weighting="age")
    response = await client.get(path, params=params, headers=exporter)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert (
        f'filename="needs-survey-{survey}-planning_area.json"'
        in response.headers["content-disposition"]
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert set(document) == {"metadata", "categories", "areas", "totals", "representativeness"}
    meta = document["metadata"]
    assert meta["k_threshold"] == 5 and meta["min_respondents"] == 10
    assert meta["level"]["key"] == "planning_area"
    assert meta["weighting"] == "age"
    assert meta["first_submission"] == "2026-03-02"
    assert meta["withheld_areas"] >= 1 and "cell key" in meta["disclosure_method"]
    # The area data's attribution (issue #13 §1): never null — without one recorded at
    # import, the deployment's configured attribution; with one, the level's.
    settings: Settings = client.app.state["settings"]
    assert meta["attribution"] == settings.area_data_attribution
    await session.execute(
        update(AreaLevel)
        .where(AreaLevel.key == "planning_area")
        .values(attribution="© Testamt (CC BY 4.0)")
    )
    await session.commit()
    again = await client.get(path, params={**params, "format": "csv"}, headers=exporter)
    assert again.status_code == 200, again.text
    assert "© Testamt (CC BY 4.0)" in again.text
    # Representativeness (issue #8 §4) travels with the age-weighted document.
    representation = document["representativeness"]
    assert representation["r_indicator"] is not None
    assert [a["code"] for a in representation["areas"]] == [a["code"] for a in document["areas"]]
    # The same as the service gives.
    direct = await aggregation.aggregated_needs(
        session, survey, level_key="planning_area", weighting=Weighting.AGE
    )
    assert [a["respondents"] for a in document["areas"]] == [a.respondents for a in direct.areas]
    small = next(a for a in document["areas"] if a["code"] == "080101")
    childcare = next(n for n in small["needs"] if n["category"] == "childcare")
    # 3 of 40: published as 0 (stands for 0 … k−1), no marker telling why
    assert childcare["expressing"] == 0 and childcare["suppressed"] is False
    assert childcare["reason"] is None and childcare["share"] == 0.0


async def test_csv_has_metadata_comment_lines_and_a_long_table(
    client: Client, survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    path, params = url(survey, level="planning_area", format="csv")
    response = await client.get(path, params=params, headers=exporter)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert not body.startswith("\ufeff")
    comments = [line for line in body.splitlines() if line.startswith("#")]
    meta = dict(line[2:].split(": ", 1) for line in comments if ": " in line)
    assert meta["k_threshold"] == "5"
    assert meta["min_respondents"] == "10"
    assert meta["level"] == "planning_area (planning_area)"
    assert meta["weighting"] == "none"
    assert meta["first_submission"] == "2026-03-02"
    assert {"generated_at", "disclosure_method", "withheld_areas", "surveys"} <= set(meta)
    table = list(csv.DictReader(line for line in body.splitlines() if not line.startswith("#")))
    assert table[0].keys() >= {"row_type", "area_code", "respondents", "category", "share"}
    areas = {row["area_code"] for row in table if row["row_type"] == "area"}
    assert areas == {"010101", "010102", "010201", "080101"}
    scope = [row for row in table if row["row_type"] == "scope"]
    assert len(scope) == 6  # one per need category of the survey
    small = next(r for r in table if r["area_code"] == "080101" and r["category"] == "childcare")
    assert (small["expressing"], small["share"], small["suppressed"], small["reason"]) == (
        "0",
        "0.0",
        "false",
        "",
    )
    withheld = [r for r in table if r["area_code"] == "010102"]
    assert {r["area_withheld"] for r in withheld} == {"true"}
    assert {r["respondents"] for r in withheld} == {""}
    shown = next(r for r in table if r["area_code"] == "010201" and r["category"] == "childcare")
    assert (shown["expressing"], shown["share"], shown["suppressed"]) == ("20", "0.5", "false")


async def test_csv_de_is_for_german_excel(
    client: Client, survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    path, params = url(survey, level="planning_area", format="csv-de")
    response = await client.get(path, params=params, headers=exporter)
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    body = response.content.decode("utf-8-sig")
    assert "# Schwelle k (Werte 1 bis k−1 nie veröffentlicht): 5" in body
    lines = [line for line in body.splitlines() if not line.startswith("#")]
    table = list(csv.DictReader(lines, delimiter=";"))
    assert "Gebietsschlüssel" in table[0]
    shown = next(
        r
        for r in table
        if r["Gebietsschlüssel"] == "010201" and r["Bedarfskategorie"] == "childcare"
    )
    assert (shown["Davon mit Bedarf"], shown["Anteil"], shown["Unterdrückt"]) == (
        "20",
        "0,5",
        "nein",
    )


def _sheet_rows(archive: zipfile.ZipFile, number: int, width: int) -> list[list[str]]:
    """The rows of a sheet, `width` cells each, empty cells as ""."""
    xml = archive.read(f"xl/worksheets/sheet{number}.xml").decode()
    shared: list[str] = []
    if "xl/sharedStrings.xml" in archive.namelist():
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", archive.read("xl/sharedStrings.xml").decode())
    found: dict[int, list[str]] = {}
    for cell in re.finditer(r'<c r="([A-Z])(\d+)"([^>]*)>(.*?)</c>', xml):
        column, row, attributes, content = cell.groups()
        if 't="s"' in attributes:
            value = shared[int(re.search(r"<v>(\d+)</v>", content).group(1))]  # type: ignore[union-attr]
        else:
            match = re.search(r"<(?:v|t)[^>]*>([^<]*)</(?:v|t)>", content)
            value = match.group(1) if match else ""
        found.setdefault(int(row), [""] * width)[ord(column) - ord("A")] = value
    return [found[row] for row in sorted(found)]


def _sheet_cells(archive: zipfile.ZipFile, number: int) -> list[str]:
    xml = archive.read(f"xl/worksheets/sheet{number}.xml").decode()
    shared: list[str] = []
    if "xl/sharedStrings.xml" in archive.namelist():
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", archive.read("xl/sharedStrings.xml").decode())
    values = []
    for cell in re.finditer(r'<c r="[A-Z]+\d+"([^>]*)>(.*?)</c>', xml):
        attributes, content = cell.groups()
        if 't="s"' in attributes:
            values.append(shared[int(re.search(r"<v>(\d+)</v>", content).group(1))])  # type: ignore[union-attr]
        else:
            found = re.search(r"<(?:v|t)[^>]*>([^<]*)</(?:v|t)>", content)
            values.append(found.group(1) if found else "")
    return values


async def test_xlsx_has_a_data_sheet_and_a_metadata_sheet(
    client: Client, survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    path, params = url(survey, level="district", format="xlsx", weighting="age")
    response = await client.get(path, params=params, headers=exporter)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    workbook = archive.read("xl/workbook.xml").decode()
    sheets = re.findall(r'<sheet name="([^"]+)"', workbook)
    assert sheets == ["Bedarfe", "Repräsentativität", "Metadaten"]
    data = _sheet_cells(archive, 1)
    assert "Gebietsschlüssel" in data and "Gewichteter Anteil" in data
    assert "01" in data and "08" in data
    meta = _sheet_cells(archive, 3)
    assert "Gewichtungsverfahren" in meta and "age" in meta
    assert "Geheimhaltungsverfahren" in meta


async def test_geojson_has_boundaries_flat_properties_and_metadata(
    client: Client, survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    path, params = url(survey, level="planning_area", format="geojson")
    response = await client.get(path, params=params, headers=exporter)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    document = json.loads(response.content)
    assert document["type"] == "FeatureCollection"
    assert document["metadata"]["level"]["key"] == "planning_area"
    assert document["totals"]["respondents"] == 126
    features = {f["id"]: f for f in document["features"]}
    assert set(features) == {"010101", "010102", "010201", "080101"}
    assert features["010201"]["geometry"]["type"] == "MultiPolygon"
    properties = features["010201"]["properties"]
    assert properties["respondents"] == 40
    assert (properties["childcare_expressing"], properties["childcare_share"]) == (20, 0.5)
    assert properties["childcare_suppressed"] is False
    small = features["080101"]["properties"]
    assert small["childcare_expressing"] == 0 and small["childcare_suppressed"] is False
    assert features["010102"]["properties"]["withheld"] is True


async def test_representativeness_is_in_every_format_with_the_same_figures(
    client: Client, survey: uuid.UUID, exporter: dict[str, str]
) -> None:
    """Issue #8 §4: respondents against population per area and age stratum, and the
    R-indicator, travel with the age-weighted export in every format, identically."""

    async def export(fmt: str) -> bytes:
        path, params = url(survey, level="planning_area", format=fmt, weighting="age")
        response = await client.get(path, params=params, headers=exporter)
        assert response.status_code == 200, response.text
        return response.content

    reference = json.loads(await export("json"))["representativeness"]
    areas = {a["code"]: a for a in reference["areas"]}
    shown = areas["010201"]
    assert shown["population"] > 0 and 0 < shown["response_rate"] <= 1
    assert {s["stratum"] for s in shown["strata"]} >= {"under_27", "from_45"}
    assert areas["010102"]["strata"] == []  # not shown: no stratum figures either
    assert areas["010102"]["sexes"] == []
    assert "'gender'" in reference["sex_method"]
    west = {x["sex"]: x for x in areas["010101"]["sexes"]}
    assert (west["female"]["respondents"], west["male"]["respondents"]) == (20, 20)
    assert west["male"]["population"] == sum(POPULATION.values()) - 4_100
    by_sex = {x["sex"]: x["respondents"] for x in areas["010201"]["sexes"]}
    assert by_sex == {"female": 20, "male": 0}

    body = (await export("csv")).decode()
    comments = dict(
        line[2:].split(": ", 1)
        for line in body.splitlines()
        if line.startswith("# ") and ": " in line
    )
    assert float(comments["r_indicator"]) == round(reference["r_indicator"], 4)
    table = csv.DictReader(line for line in body.splitlines() if not line.startswith("#"))
    for row in table:
        if row["row_type"] != "area":
            assert row["population"] == row["response_rate"] == ""
            continue
        area = areas[row["area_code"]]
        assert int(row["population"]) == area["population"]
        expected = area["response_rate"]
        assert row["response_rate"] == ("" if expected is None else repr(round(expected, 6)))
        found = {x["sex"]: x for x in area["sexes"]}
        for sex in ("female", "male"):
            if sex not in found:
                assert row[f"{sex}_respondents"] == row[f"{sex}_response_rate"] == ""
                continue
            assert int(row[f"{sex}_respondents"]) == found[sex]["respondents"]
            assert int(row[f"{sex}_population"]) == found[sex]["population"]
            assert row[f"{sex}_response_rate"] == repr(round(found[sex]["response_rate"], 6))
    assert comments["sex_method"] == reference["sex_method"]
    german = (await export("csv-de")).decode("utf-8-sig")
    table = csv.DictReader(
        (line for line in german.splitlines() if not line.startswith("#")), delimiter=";"
    )
    for row in table:
        if row["Zeilenart"] == "area" and row["Gebietsschlüssel"] == "010101":
            assert row["Antwortende Frauen (Gebiet)"] == "20"
            assert row["Einwohnerinnen (Gebiet)"] == "4100"

    features = {f["id"]: f["properties"] for f in json.loads(await export("geojson"))["features"]}
    for code, area in areas.items():
        assert features[code]["response_rate"] == area["response_rate"]
        for stratum in area["strata"]:
            key = stratum["stratum"]
            assert features[code][f"{key}_respondents"] == stratum["respondents"]
            assert features[code][f"{key}_response_rate"] == stratum["response_rate"]
        for item in area["sexes"]:
            sex = item["sex"]
            assert features[code][f"sex_{sex}_respondents"] == item["respondents"]
            assert features[code][f"sex_{sex}_population"] == item["population"]
            assert features[code][f"sex_{sex}_response_rate"] == item["response_rate"]

    archive = zipfile.ZipFile(io.BytesIO(await export("xlsx")))
    sheet = _sheet_rows(archive, 2, 6)
    assert sheet[0] == [
        "Gebietsschlüssel",
        "Altersschicht",
        "Geschlecht",
        "Antwortende",
        "Einwohner",
        "Rücklaufquote",
    ]
    listed = [
        (area["code"], stratum["stratum"], "", stratum["respondents"], stratum["population"])
        for area in reference["areas"]
        for stratum in area["strata"]
    ]
    listed_by_sex = [
        (area["code"], "", item["sex"], item["respondents"], item["population"])
        for area in reference["areas"]
        for item in area["sexes"]
    ]
    found_rows = [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in sheet[1:]]
    assert sorted(found_rows) == sorted(listed + listed_by_sex)


async def test_process_export_pools_the_surveys(
    client: Client,
    survey: uuid.UUID,
    exporter: dict[str, str],
    session: AsyncSession,
) -> None:
    process_id = (
        await aggregation.aggregated_needs(session, survey, level_key="district")
    ).metadata.process_id
    response = await client.get(
        f"/api/v1/processes/{process_id}/aggregated-needs/export",
        params={"level": "district", "format": "csv"},
        headers=exporter,
    )
    assert response.status_code == 200, response.text
    assert f"needs-process-{process_id}-district.csv" in response.headers["content-disposition"]
    document = (
        await client.get(
            f"/api/v1/processes/{process_id}/aggregated-needs",
            params={"level": "district"},
            headers=exporter,
        )
    ).json()
    assert document["totals"]["respondents"] == 126


async def test_the_planner_page_reads_the_document(
    client: Client, survey: uuid.UUID, login_as: LoginFactory, make_token: TokenFactory
) -> None:
    path = f"/api/v1/surveys/{survey}/aggregated-needs"
    planner = await login_as("planner")
    response = await client.get(path, params={"level": "district"}, headers=planner)
    assert response.status_code == 200, response.text
    assert [a["code"] for a in response.json()["areas"]] == ["01", "08"]
    reader = await make_token({"surveys:read"})
    assert (await client.get(path, params={"level": "district"}, headers=reader)).status_code == 200
    export_path, params = url(survey, level="district", format="csv")
    assert (await client.get(export_path, params=params, headers=reader)).status_code == 403


async def test_access(client: Client, survey: uuid.UUID, login_as: LoginFactory) -> None:
    path, params = url(survey, level="district", format="csv")
    assert (await client.get(path, params=params)).status_code == 401
    moderator = await login_as("moderator")
    assert (await client.get(path, params=params, headers=moderator)).status_code == 403
    admin = await login_as("admin")
    assert (await client.get(path, params=params, headers=admin)).status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"level": "district", "format": "pdf"}, 400, "format"),
        ({"level": "district", "weighting": "income"}, 400, "weighting"),
        ({"level": "Bezirk; DROP"}, 400, "level"),
        ({"level": "x" * 41}, 400, "level"),
        ({}, 400, "level"),
        ({"level": "street"}, 422, "level"),
    ],
)
async def test_bounded_parameters(
    client: Client,
    survey: uuid.UUID,
    exporter: dict[str, str],
    params: dict[str, str],
    status: int,
    field: str,
) -> None:
    response = await client.get(
        f"/api/v1/surveys/{survey}/aggregated-needs/export", params=params, headers=exporter
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in json.dumps(response.json())


async def test_unknown_survey_and_weighting_without_age_question(
    client: Client,
    exporter: dict[str, str],
    session: AsyncSession,
    make_process: MakeProcess,
    areas: dict[str, uuid.UUID],
) -> None:
    response = await client.get(
        f"/api/v1/surveys/{uuid.uuid4()}/aggregated-needs/export",
        params={"level": "district"},
        headers=exporter,
    )
    assert response.status_code == 404
    from .conftest import definition

    body = definition()
    body["pages"][0]["questions"] = [
        q for q in body["pages"][0]["questions"] if q["type"] != "age_band"
    ]
    survey_id = await create_survey(session, await make_process(), body=body)
    await session.commit()
    response = await client.get(
        f"/api/v1/surveys/{survey_id}/aggregated-needs/export",
        params={"level": "district", "weighting": "age"},
        headers=exporter,
    )
    assert response.status_code == 422
    assert "age band" in response.json()["detail"]


async def test_exports_are_streamed_area_by_area(session: AsyncSession, survey: uuid.UUID) -> None:
    result = await aggregation.aggregated_needs(session, survey, level_key="planning_area")
    chunks = [chunk async for chunk in exports.render(result, exports.Format.JSON)]
    assert len(chunks) == len(result.areas) + 2  # head, one per area, tail
    assert json.loads(b"".join(chunks))["totals"]["respondents"] == 126
    with pytest.raises(ValueError, match="engine"):
        exports.render(result, exports.Format.GEOJSON)
