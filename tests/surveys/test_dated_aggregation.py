"""Aggregates of responses take a date (issue #13 §5): each response's area is rolled up along
the path that area has on `at` (default today; an area not valid then along the path of its
last or first valid day), the areas listed are those valid on `at`, and population and
representativeness are those of the same date — in the aggregated needs of a survey and of a
process, their exports, and the per-question results.

The areas come from the importer (tests/areas): quarter 0102 moves from district 01 to 02 on
CHANGE (tests/areas/test_version_names.py), or is retired on CHANGE with successor 0103
(tests/areas/test_validity.py)."""

from __future__ import annotations

import copy
import datetime
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services as areas
from quartier.areas.models import SocialArea, today
from quartier.areas.services import Validity
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.surveys import aggregation, exports, services
from quartier.surveys.aggregation import AggregatedNeeds
from quartier.surveys.exports import Format
from tests.areas.conftest import SMALL_POPULATION, population, small_city
from tests.areas.test_validity import (
    NORTH_WEST,
    RENUMBERED,
    RENUMBERED_POPULATION,
    SOUTH_WEST,
    quarters,
)
from tests.areas.test_version_names import redrawn
from tests.conftest import TokenFactory
from tests.support.disclosure import without_noise  # noqa: F401

from .test_aggregation import add_responses, create_survey, people, sexed_definition

# Structure with exact counts; the protection itself: tests/surveys/test_release.py
pytestmark = pytest.mark.usefixtures("without_noise")

Client = AsyncTestClient[Litestar]
CHANGE = datetime.date(2024, 1, 1)
BEFORE = datetime.date(2023, 6, 30)
EVE = CHANGE - datetime.timedelta(days=1)
AFTER = datetime.date(2024, 6, 30)


def _quarter_survey() -> dict[str, Any]:
    """The surveys tests' definition with a question mapped to sexes, its social-area question
    asking for a quarter."""
    body = copy.deepcopy(sexed_definition())
    for page in body["pages"]:
        for question in page["questions"]:
            if question["type"] == "social_area":
                question["level"] = "quarter"
                question.pop("point_lookup", None)
    return body


async def _codes(session: AsyncSession) -> dict[str, uuid.UUID]:
    return dict((await session.execute(select(SocialArea.code, SocialArea.id))).tuples().all())


async def _survey(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    process_id = await processes.create_process(
        session,
        ps.ProcessCreate(title="Kiezbefragung", topic="Familien", area_codes=["01", "02"]),
        processes.SYSTEM,
    )
    return process_id, await create_survey(session, process_id, body=_quarter_survey())


@pytest.fixture
async def moved(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """(process, survey): 20 responses in 0101, 15 in 0102, 12 in 0201; 0102 lies in district
    01 before CHANGE and in 02 from CHANGE (population 150 / 30, then 100 / 80)."""
    await areas.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await areas.import_areas(session, redrawn(), [], validity=Validity(valid_from=CHANGE))
    process_id, survey_id = await _survey(session)
    await add_responses(
        session,
        survey_id,
        await _codes(session),
        [
            *people(20, "0101", "childcare", gender="woman"),
            *people(15, "0102", "safety", gender="man"),
            *people(12, "0201", "safety", gender="woman"),
        ],
    )
    await session.commit()
    return process_id, survey_id


def _respondents(result: AggregatedNeeds) -> dict[str, int | None]:
    return {area.code: area.respondents for area in result.areas}


def _expressing(result: AggregatedNeeds, code: str, category: str) -> int | None:
    row = next(area for area in result.areas if area.code == code)
    return next(f.expressing for f in row.needs if f.category == category)


def _population(result: AggregatedNeeds) -> dict[str, int | None]:
    assert result.representativeness is not None
    return {area.code: area.population for area in result.representativeness.areas}


@pytest.mark.parametrize(
    ("at", "north", "south"),
    [(BEFORE, 35, 12), (EVE, 35, 12), (CHANGE, 20, 27), (AFTER, 20, 27), (None, 20, 27)],
)
async def test_a_moved_area_counts_under_the_district_of_the_date(
    session: AsyncSession,
    moved: tuple[uuid.UUID, uuid.UUID],
    at: datetime.date | None,
    north: int,
    south: int,
) -> None:
    _, survey_id = moved
    result = await aggregation.aggregated_needs(session, survey_id, level_key="district", at=at)
    assert _respondents(result) == {"01": north, "02": south}
    # need rows of 0201 and (from CHANGE) 0102 in 02, of 0102 before CHANGE in 01
    assert _expressing(result, "02", "safety") == south
    assert _expressing(result, "01", "safety") == north - 20
    assert result.totals.respondents == 47
    assert result.metadata.at == (at or today())
    populations = {"01": 150, "02": 30} if north == 35 else {"01": 100, "02": 80}
    assert _population(result) == populations
    # by sex: the mapped options' cells in the district of the date, against its women
    assert result.representativeness is not None
    sexes = {
        area.code: {(x.sex, x.respondents, x.population) for x in area.sexes}
        for area in result.representativeness.areas
    }
    assert sexes["01"] == (
        {("female", 20, 76), ("male", 15, 74)}
        if north == 35
        else {("female", 20, 51), ("male", 0, 49)}
    )


async def test_the_quarters_have_the_parent_of_the_date(
    session: AsyncSession, moved: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _, survey_id = moved
    for at, parent in ((BEFORE, "01"), (AFTER, "02"), (None, "02")):
        result = await aggregation.aggregated_needs(session, survey_id, level_key="quarter", at=at)
        assert _respondents(result) == {"0101": 20, "0102": 15, "0201": 12}
        row = next(area for area in result.areas if area.code == "0102")
        assert row.parent_code == parent, at


async def test_the_process_aggregate_and_its_export_take_the_date(
    session: AsyncSession, moved: tuple[uuid.UUID, uuid.UUID]
) -> None:
    process_id, _ = moved
    for at, counts in ((BEFORE, {"01": 35, "02": 12}), (AFTER, {"01": 20, "02": 27})):
        result = await aggregation.process_aggregated_needs(
            session, process_id, level_key="district", at=at
        )
        assert _respondents(result) == counts
        items = {key: value for key, _, value in exports.metadata_items(result)}
        assert items["at"] == at
        csv = b"".join([chunk async for chunk in exports.render(result, Format.CSV)]).decode()
        assert f"# at: {at.isoformat()}\r\n" in csv


async def test_the_per_question_results_take_the_date(
    session: AsyncSession, moved: tuple[uuid.UUID, uuid.UUID]
) -> None:
    _, survey_id = moved
    for at, counts in ((BEFORE, [35, 12]), (AFTER, [20, 27]), (None, [20, 27])):
        results = await services.results_by_question(session, survey_id, level="district", at=at)
        assert [group.area.code for group in results.groups if group.area] == ["01", "02"]
        assert [group.respondents for group in results.groups] == counts, at
        assert results.at == (at or today())


async def test_a_retired_area_counts_along_its_last_path_and_is_listed_while_valid(
    session: AsyncSession,
) -> None:
    """0102 is retired on CHANGE, succeeded by 0103 (both in district 01): its responses keep
    counting in district 01 after it ends, it is listed only while valid; responses given in
    0103 count in 01 before 0103 begins as well (its first valid day)."""
    await areas.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await areas.import_areas(
        session,
        quarters(NORTH_WEST, RENUMBERED, SOUTH_WEST),
        [population(RENUMBERED_POPULATION)],
        validity=Validity(valid_from=CHANGE, successors={"0102": ["0103"]}),
    )
    _, survey_id = await _survey(session)
    await add_responses(
        session,
        survey_id,
        await _codes(session),
        [*people(20, "0101"), *people(15, "0102"), *people(11, "0103"), *people(12, "0201")],
    )
    await session.commit()
    for at, listed in (
        (BEFORE, {"0101": 20, "0102": 15, "0201": 12}),
        (AFTER, {"0101": 20, "0103": 11, "0201": 12}),
    ):
        by_quarter = await aggregation.aggregated_needs(
            session, survey_id, level_key="quarter", at=at
        )
        assert _respondents(by_quarter) == listed, at
        by_district = await aggregation.aggregated_needs(
            session, survey_id, level_key="district", at=at
        )
        assert _respondents(by_district) == {"01": 46, "02": 12}, at
        assert by_district.totals.respondents == 58
        # population of the date: 0102 and 0103 never both
        assert _population(by_district) == {"01": 150, "02": 30}, at


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture
async def reader(make_token: TokenFactory) -> dict[str, str]:
    return await make_token({"surveys:read", "exports:read"}, name="results integration")


async def test_the_api_takes_at(
    client: Client, moved: tuple[uuid.UUID, uuid.UUID], reader: dict[str, str]
) -> None:
    process_id, survey_id = moved
    needs = f"/api/v1/surveys/{survey_id}/aggregated-needs"
    pooled = f"/api/v1/processes/{process_id}/aggregated-needs"
    for at, counts in (("2023-06-30", [35, 12]), ("2024-06-30", [20, 27])):
        for path in (needs, pooled):
            found = await client.get(path, params={"level": "district", "at": at}, headers=reader)
            assert found.status_code == 200, found.text
            body = found.json()
            assert [a["respondents"] for a in body["areas"]] == counts, (path, at)
            assert body["metadata"]["at"] == at
            exported = await client.get(
                f"{path}/export",
                params={"level": "district", "at": at, "format": "csv"},
                headers=reader,
            )
            assert exported.status_code == 200, exported.text
            assert f"# at: {at}\r\n" in exported.text
        results = await client.get(
            f"/api/v1/surveys/{survey_id}/results",
            params={"level": "district", "at": at},
            headers=reader,
        )
        assert results.status_code == 200, results.text
        assert [g["respondents"] for g in results.json()["groups"]] == counts
        assert results.json()["at"] == at
    # the GeoJSON export has the boundaries of the date: district 01 gave 0102 to 02 on CHANGE
    for at, corners in (("2023-06-30", 5), ("2024-06-30", 7)):
        geojson = await client.get(
            f"{needs}/export",
            params={"level": "district", "at": at, "format": "geojson"},
            headers=reader,
        )
        assert geojson.status_code == 200, geojson.text
        features = {f["id"]: f for f in geojson.json()["features"]}
        assert geojson.json()["metadata"]["at"] == at
        assert features["01"]["properties"]["respondents"] == (35 if corners == 5 else 20)
        assert len(features["01"]["geometry"]["coordinates"][0][0]) == corners, at
    today_ = (await client.get(needs, params={"level": "district"}, headers=reader)).json()
    assert today_["metadata"]["at"] == today().isoformat()
    assert [a["respondents"] for a in today_["areas"]] == [20, 27]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/surveys/{survey}/aggregated-needs",
        "/api/v1/surveys/{survey}/aggregated-needs/export",
        "/api/v1/processes/{process}/aggregated-needs",
        "/api/v1/processes/{process}/aggregated-needs/export",
        "/api/v1/surveys/{survey}/results",
    ],
)
async def test_a_bad_at_is_a_400_naming_at(
    client: Client, moved: tuple[uuid.UUID, uuid.UUID], reader: dict[str, str], path: str
) -> None:
    process_id, survey_id = moved
    url = path.format(survey=survey_id, process=process_id)
    for bad in ("yesterday", "2024-02-30"):
        found = await client.get(url, params={"level": "district", "at": bad}, headers=reader)
        assert found.status_code == 400, found.text
        assert found.json()["errors"][0]["field"] == "at"
