"""Social areas as versioned reference data (issue #13 §5): a changed boundary becomes a new
version from the import's date, missing areas are retired (with successors) or must be
confirmed, and lookups and population answer for a date."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services
from quartier.areas.models import AreaSuccession, AreaVersion
from quartier.areas.services import AreaFilter, Validity

from .conftest import (
    SMALL_CITY,
    SMALL_POPULATION,
    collection,
    feature,
    level,
    population,
    small_city,
    square,
)

CHANGE = datetime.date(2024, 1, 1)
BEFORE = datetime.date(2023, 6, 30)
AFTER = datetime.date(2024, 6, 30)
Client = AsyncTestClient[Litestar]
TokenFactory = Callable[..., Awaitable[dict[str, str]]]


def quarters(*features: dict[str, Any]) -> list[Any]:
    return [level("district", SMALL_CITY["district"]), level("quarter", collection(*features))]


NORTH_WEST = feature("0101", "Nordwest", square(13.0, 52.0, 0.05))
NORTH_EAST = feature("0102", "Nordost", square(13.05, 52.0, 0.05))
SOUTH_WEST = feature("0201", "Südwest", square(13.0, 51.9, 0.05))
# 0102 renumbered as 0103: same place, same boundary, new code.
RENUMBERED = feature("0103", "Nordost", square(13.05, 52.0, 0.05))
RENUMBERED_POPULATION = SMALL_POPULATION.replace("\n0102,", "\n0103,")


async def _codes(session: AsyncSession, at: datetime.date | None, **filters: Any) -> list[str]:
    page = await services.list_areas(session, AreaFilter(at=at, **filters), limit=100, cursor=None)
    return [area.code for area in page.items]


async def _renumber(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await services.import_areas(
        session,
        quarters(NORTH_WEST, RENUMBERED, SOUTH_WEST),
        [population(RENUMBERED_POPULATION)],
        validity=Validity(valid_from=CHANGE, successors={"0102": ["0103"]}),
    )


# -- the first import --------------------------------------------------------------------------


async def test_a_first_import_is_valid_since_ever(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    area = await services.get_area_by_code(session, "0101")
    assert (area.valid_from, area.valid_to) == (None, None)
    assert area.version is not None and area.version.valid_from is None
    assert await _codes(session, datetime.date(1990, 1, 1), level="quarter") == [
        "0101",
        "0102",
        "0201",
    ]


# -- renumbering: retire with a successor ----------------------------------------------------


async def test_a_renumbered_area_is_retired_with_its_successor_and_history_kept(
    session: AsyncSession,
) -> None:
    await _renumber(session)
    old = await services.get_area_by_code(session, "0102")
    new = await services.get_area_by_code(session, "0103")
    assert (old.valid_from, old.valid_to, old.successors) == (None, CHANGE, ["0103"])
    assert (new.valid_from, new.valid_to, new.predecessors) == (CHANGE, None, ["0102"])
    # A retired area answers as on its last day: its population is still readable.
    assert old.population is not None and old.population.total == 50
    assert await _codes(session, BEFORE, level="quarter") == ["0101", "0102", "0201"]
    assert await _codes(session, None, level="quarter") == ["0101", "0103", "0201"]
    assert await _codes(session, AFTER, parent_code="01") == ["0101", "0103"]
    succession = (await session.scalars(select(AreaSuccession))).one()
    assert succession.valid_from == CHANGE


async def test_population_of_a_renumbered_area_is_counted_once_on_every_date(
    session: AsyncSession,
) -> None:
    await _renumber(session)
    north = (await services.get_area_by_code(session, "01")).id
    for day in (BEFORE, CHANGE, AFTER, None):
        figures = await services.populations(session, [north], at=day)
        assert figures[north].total == 150, day
    # On the day before the change the old area counts, from the change on the new one.
    page = await services.children(session, north, limit=10, cursor=None, at=BEFORE)
    assert [(a.code, a.population.total if a.population else None) for a in page.items] == [
        ("0101", 100),
        ("0102", 50),
    ]


async def test_a_point_lies_only_in_the_area_valid_on_the_date(session: AsyncSession) -> None:
    await _renumber(session)
    point = {"lat": 52.02, "lon": 13.07}
    assert [a.code for a in await services.lookup_point(session, **point)] == ["01", "0103"]
    earlier = await services.lookup_point(session, **point, at=BEFORE)
    assert [a.code for a in earlier] == ["01", "0102"]


async def test_a_retired_area_cannot_be_read_for_a_date_after_its_retirement(
    session: AsyncSession,
) -> None:
    await _renumber(session)
    assert (await services.get_area_by_code(session, "0102", at=BEFORE)).code == "0102"
    with pytest.raises(services.NotFound, match="valid from always until before 2024-01-01"):
        await services.get_area_by_code(session, "0102", at=AFTER)
    with pytest.raises(services.NotFound):
        await services.get_area_by_code(session, "0103", at=BEFORE)


async def test_a_retired_code_cannot_be_imported_again(session: AsyncSession) -> None:
    await _renumber(session)
    with pytest.raises(services.ImportFailed) as failed:
        await services.import_areas(
            session,
            quarters(NORTH_WEST, NORTH_EAST, RENUMBERED, SOUTH_WEST),
            [],
            validity=Validity(valid_from=AFTER),
        )
    assert any("retired on 2024-01-01" in row.message for row in failed.value.report.rows)


async def test_repeating_the_renumbering_import_changes_nothing(session: AsyncSession) -> None:
    await _renumber(session)
    report = await services.import_areas(
        session,
        quarters(NORTH_WEST, RENUMBERED, SOUTH_WEST),
        [],
        validity=Validity(valid_from=AFTER, retire_missing=True),
    )
    assert report.ok and report.warnings == 0
    assert [(lv.created, lv.updated, lv.retired) for lv in report.levels] == [(0, 0, 0)] * 2


# -- retiring without successors, and refusals ---------------------------------------------------


async def test_retire_missing_retires_every_area_missing_from_the_import(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    report = await services.import_areas(
        session,
        quarters(NORTH_WEST, SOUTH_WEST),
        [],
        validity=Validity(valid_from=CHANGE, retire_missing=True),
    )
    assert [(lv.key, lv.retired) for lv in report.levels] == [("district", 0), ("quarter", 1)]
    assert [(r.code, r.message) for r in report.rows] == [
        ("0102", "not in this import; retired as of 2024-01-01")
    ]
    assert await _codes(session, None, level="quarter") == ["0101", "0201"]
    north = (await services.get_area_by_code(session, "01")).population
    assert north is not None and north.total == 100


async def test_successors_are_checked(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    with pytest.raises(services.ImportFailed) as failed:
        await services.import_areas(
            session,
            quarters(NORTH_WEST, NORTH_EAST, SOUTH_WEST),
            [],
            validity=Validity(successors={"0101": ["0102"], "0999": ["0888"]}),
        )
    rows = [(r.source, r.field, r.message) for r in failed.value.report.rows]
    assert rows == [
        (
            "successors[0]",
            "code",
            "area 0101 is in this import; only an area missing from it can be retired",
        ),
        (
            "successors[1]",
            "code",
            "there is no valid stored area 0999 on the imported levels to retire",
        ),
        (
            "successors[1]",
            "successors",
            "successor 0888 is neither in this import nor a valid stored area",
        ),
    ]


async def test_an_area_with_valid_sub_areas_cannot_be_retired_alone(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    with pytest.raises(services.ImportFailed) as failed:
        await services.import_areas(
            session,
            [level("district", collection(feature("01", "Nord", square(13.0, 52.0, 0.1))))],
            [],
            validity=Validity(retire_missing=True),
        )
    assert [r.message for r in failed.value.report.rows if r.severity == "error"] == [
        "area 0201 lies in 02, which this import retires: import the level of 0201 as well, "
        "or retire 0201 too"
    ]


# -- changed boundaries -----------------------------------------------------------------------


async def test_a_changed_boundary_is_a_new_version_and_the_old_one_stays_readable(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    wider = feature("0201", "Südwest", square(13.0, 51.9, 0.06))
    report = await services.import_areas(
        session,
        quarters(NORTH_WEST, NORTH_EAST, wider),
        [],
        validity=Validity(valid_from=CHANGE),
    )
    assert report.levels[1].updated == 1
    now = await services.get_area_by_code(session, "0201", boundaries=True)
    then = await services.get_area_by_code(session, "0201", boundaries=True, at=BEFORE)
    assert now.id == then.id
    assert now.version is not None and then.version is not None
    assert (now.version.valid_from, now.version.valid_to) == (CHANGE, None)
    assert (then.version.valid_from, then.version.valid_to) == (None, CHANGE)
    assert now.bbox[2] == pytest.approx(13.06) and then.bbox[2] == pytest.approx(13.05)
    assert now.boundary != then.boundary
    versions = await services.area_versions(session, now.id)
    assert [(v.valid_from, v.valid_to) for v in versions.items] == [(None, CHANGE), (CHANGE, None)]
    # A point in the added strip lies in 0201 only from the change on.
    strip = {"lat": 51.92, "lon": 13.055}
    assert [a.code for a in await services.lookup_point(session, **strip)] == ["02", "0201"]
    assert [a.code for a in await services.lookup_point(session, **strip, at=BEFORE)] == ["02"]
    # The same change again is no change; a change dated before the version is refused.
    again = await services.import_areas(
        session, quarters(NORTH_WEST, NORTH_EAST, wider), [], validity=Validity(valid_from=AFTER)
    )
    assert again.levels[1].unchanged == 3
    with pytest.raises(services.ImportFailed) as failed:
        await services.import_areas(
            session,
            quarters(NORTH_WEST, NORTH_EAST, SOUTH_WEST),
            [],
            validity=Validity(valid_from=BEFORE),
        )
    assert "cannot start before it" in failed.value.report.rows[0].message


async def test_a_correction_on_the_same_date_replaces_the_version(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    for size in (0.06, 0.055):
        await services.import_areas(
            session,
            quarters(NORTH_WEST, NORTH_EAST, feature("0201", "Südwest", square(13.0, 51.9, size))),
            [],
            validity=Validity(valid_from=CHANGE),
        )
    assert await session.scalar(select(func.count(AreaVersion.id))) == 1
    area = await services.get_area_by_code(session, "0201")
    assert area.bbox[2] == pytest.approx(13.055)


async def test_the_geojson_export_gives_the_version_of_the_date(session: AsyncSession) -> None:
    await _renumber(session)
    await session.commit()  # the stream reads on a connection of its own
    engine = session.bind
    level_, figures = await services.export_level(session, "quarter", BEFORE)
    assert {str(f.reference_date) for f in figures.values()} == {"2020-12-31"}
    assert len(figures) == 3
    chunks = [
        chunk
        async for chunk in services.stream_level_geojson(engine, level_, figures, BEFORE)  # type: ignore[arg-type]
    ]
    assert b'"0102"' in b"".join(chunks) and b'"0103"' not in b"".join(chunks)


# -- the API ----------------------------------------------------------------------------------


async def test_the_api_imports_a_renumbering_and_answers_for_a_date(
    client: Client, make_token: TokenFactory
) -> None:
    headers = await make_token({"areas:write"})
    url = "/api/v1/social-areas/import"
    first = {
        "levels": [
            {"key": "district", "geojson": SMALL_CITY["district"]},
            {"key": "quarter", "geojson": SMALL_CITY["quarter"]},
        ],
        "population": [{"reference_date": "2020-12-31", "csv": SMALL_POPULATION}],
    }
    assert (await client.post(url, json=first, headers=headers)).status_code == 200
    second = {
        "levels": [
            {"key": "district", "geojson": SMALL_CITY["district"]},
            {"key": "quarter", "geojson": collection(NORTH_WEST, RENUMBERED, SOUTH_WEST)},
        ],
        "population": [{"reference_date": "2020-12-31", "csv": RENUMBERED_POPULATION}],
    }
    refused = await client.post(url, json=second, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/import-needs-confirmation"
    assert refused.json()["errors"][0]["message"].startswith("area 0102: not in this import")
    twice = {**second, "successors": [{"code": "0102", "successors": ["0103"]}] * 2}
    response = await client.post(url, json=twice, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "successors[1].code"
    second |= {"valid_from": "2024-01-01", "successors": [{"code": "0102", "successors": ["0103"]}]}
    response = await client.post(url, json=second, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["levels"][1]["retired"] == 1

    api = "/api/v1/social-areas"
    old = (await client.get(f"{api}/by-code/0102")).json()
    assert (old["valid_to"], old["successors"]) == ("2024-01-01", ["0103"])
    listed = (await client.get(api, params={"level": "quarter", "at": "2023-06-30"})).json()
    assert [a["code"] for a in listed["items"]] == ["0101", "0102", "0201"]
    listed = (await client.get(api, params={"level": "quarter"})).json()
    assert [a["code"] for a in listed["items"]] == ["0101", "0103", "0201"]
    gone = await client.get(f"{api}/by-code/0102", params={"at": "2024-06-30"})
    assert gone.status_code == 404
    north = (await client.get(f"{api}/by-code/01")).json()
    assert north["population"]["total"] == 150
    children = await client.get(f"{api}/{north['id']}/children", params={"at": "2023-06-30"})
    assert [a["code"] for a in children.json()["items"]] == ["0101", "0102"]
    versions = (await client.get(f"{api}/{old['id']}/versions")).json()
    assert [(v["valid_from"], v["valid_to"]) for v in versions["items"]] == [(None, "2024-01-01")]
    point = {"lat": 52.02, "lon": 13.07}
    found = (await client.get(f"{api}/lookup", params=point)).json()["items"]
    assert [a["code"] for a in found] == ["01", "0103"]
    found = (await client.get(f"{api}/lookup", params={**point, "at": "2023-06-30"})).json()
    assert [a["code"] for a in found["items"]] == ["01", "0102"]
    bad = await client.get(api, params={"at": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "at"
