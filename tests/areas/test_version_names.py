"""A re-import dated `valid_from` that renames an area or moves it to another parent keeps the
earlier name and parent for earlier dates (issue #13 §5): every dated read answers with the
name and parent of its date, population roll-ups follow the parent of the date (an area counts
under one parent on every date, never under two), and the import report says what changed."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services
from quartier.areas.services import AreaFilter, Validity

from .conftest import (
    SMALL_CITY,
    SMALL_POPULATION,
    collection,
    feature,
    level,
    population,
    square,
)
from .conftest import small_city as small_city_levels

CHANGE = datetime.date(2024, 1, 1)
BEFORE = datetime.date(2023, 6, 30)
AFTER = datetime.date(2024, 6, 30)
Client = AsyncTestClient[Litestar]
TokenFactory = Callable[..., Awaitable[dict[str, str]]]

# The district boundary is redrawn: the north-east quarter 0102 (13.05–13.1, 52.0–52.05) now
# lies in district 02, whose boundary takes it in; 0101 is renamed.
NORTH = [
    [
        [13.0, 52.0],
        [13.05, 52.0],
        [13.05, 52.05],
        [13.1, 52.05],
        [13.1, 52.1],
        [13.0, 52.1],
        [13.0, 52.0],
    ]
]
SOUTH = [
    [
        [13.0, 51.9],
        [13.1, 51.9],
        [13.1, 52.05],
        [13.05, 52.05],
        [13.05, 52.0],
        [13.0, 52.0],
        [13.0, 51.9],
    ]
]
QUARTERS = SMALL_CITY["quarter"]["features"]


def _quarter(index: int, **changes: Any) -> dict[str, Any]:
    original = QUARTERS[index]
    properties = {**original["properties"], "district": original["properties"]["id"][:2]}
    return {**original, "properties": properties | changes}


REDRAWN = {
    "district": collection(feature("01", "Nord", NORTH), feature("02", "Süd", SOUTH)),
    "quarter": collection(
        _quarter(0, name="Nordwest-Mitte"), _quarter(1, district="02"), _quarter(2)
    ),
}


def redrawn() -> list[Any]:
    return [
        level("district", REDRAWN["district"]),
        level("quarter", REDRAWN["quarter"], parent_property="district"),
    ]


async def _reimport(session: AsyncSession) -> services.ImportReport:
    await services.import_areas(session, small_city_levels(), [population(SMALL_POPULATION)])
    return await services.import_areas(session, redrawn(), [], validity=Validity(valid_from=CHANGE))


async def _codes(session: AsyncSession, at: datetime.date | None, **filters: Any) -> list[str]:
    page = await services.list_areas(session, AreaFilter(at=at, **filters), limit=100, cursor=None)
    return [area.code for area in page.items]


async def test_the_report_says_what_changed(session: AsyncSession) -> None:
    report = await _reimport(session)
    assert report.ok
    assert [(c.code, c.field, c.before, c.after, c.valid_from) for c in report.changes] == [
        ("01", "boundary", None, None, CHANGE),
        ("0101", "name", "Nordwest", "Nordwest-Mitte", CHANGE),
        ("0102", "parent", "01", "02", CHANGE),
        ("02", "boundary", None, None, CHANGE),
    ]
    assert [(lv.key, lv.updated, lv.unchanged) for lv in report.levels] == [
        ("district", 2, 0),
        ("quarter", 2, 1),
    ]
    again = await services.import_areas(session, redrawn(), [], validity=Validity(valid_from=AFTER))
    assert again.changes == [] and again.levels[1].unchanged == 3


async def test_name_and_parent_are_those_of_the_date(session: AsyncSession) -> None:
    await _reimport(session)
    renamed_then = await services.get_area_by_code(session, "0101", at=BEFORE)
    renamed_now = await services.get_area_by_code(session, "0101")
    assert (renamed_then.name, renamed_now.name) == ("Nordwest", "Nordwest-Mitte")
    assert renamed_then.id == renamed_now.id
    moved_then = await services.get_area_by_code(session, "0102", at=BEFORE)
    moved_now = await services.get_area_by_code(session, "0102", at=AFTER)
    assert (moved_then.parent_code, moved_now.parent_code) == ("01", "02")
    north = (await services.get_area_by_code(session, "01")).id
    south = (await services.get_area_by_code(session, "02")).id
    assert (moved_then.parent_id, moved_now.parent_id) == (north, south)
    # list: parent and name filters of the date
    assert await _codes(session, BEFORE, parent_code="02") == ["0201"]
    assert await _codes(session, AFTER, parent_code="02") == ["0102", "0201"]
    assert await _codes(session, BEFORE, parent_id=north) == ["0101", "0102"]
    assert await _codes(session, AFTER, parent_id=north) == ["0101"]
    assert await _codes(session, BEFORE, q="mitte") == []
    assert await _codes(session, AFTER, q="mitte") == ["0101"]
    # children and ancestors of the date
    for day, expected in ((BEFORE, ["0101", "0102"]), (AFTER, ["0101"])):
        page = await services.children(session, north, limit=10, cursor=None, at=day)
        assert [a.code for a in page.items] == expected, day
    moved = moved_now.id
    assert [a.code for a in await services.ancestors(session, moved, at=BEFORE)] == ["01"]
    assert [a.code for a in await services.ancestors(session, moved, at=AFTER)] == ["02"]
    # a point in 0102 lies in the district of the date
    point = {"lat": 52.02, "lon": 13.07}
    then = await services.lookup_point(session, **point, at=BEFORE)
    now = await services.lookup_point(session, **point, at=AFTER)
    assert [(a.code, a.parent_code) for a in then] == [("01", None), ("0102", "01")]
    assert [(a.code, a.parent_code) for a in now] == [("02", None), ("0102", "02")]
    # every version keeps its name and parent
    versions = await services.area_versions(session, moved)
    assert [(v.valid_from, v.valid_to, v.parent_code) for v in versions.items] == [
        (None, CHANGE, "01"),
        (CHANGE, None, "02"),
    ]
    versions = await services.area_versions(session, renamed_now.id)
    assert [v.name for v in versions.items] == ["Nordwest", "Nordwest-Mitte"]


async def test_population_counts_under_the_parent_of_the_date_and_once(
    session: AsyncSession,
) -> None:
    await _reimport(session)
    north = (await services.get_area_by_code(session, "01")).id
    south = (await services.get_area_by_code(session, "02")).id
    for day, expected in (
        (BEFORE, {north: 150, south: 30}),
        (CHANGE - datetime.timedelta(days=1), {north: 150, south: 30}),
        (CHANGE, {north: 100, south: 80}),
        (AFTER, {north: 100, south: 80}),
        (None, {north: 100, south: 80}),
    ):
        figures = await services.populations(session, [north, south], at=day)
        assert {k: v.total for k, v in figures.items()} == expected, day
        assert sum(v.total for v in figures.values()) == 180, day
    listed = await services.list_areas(
        session, AreaFilter(at=BEFORE, level="district"), limit=10, cursor=None
    )
    assert [(a.code, a.population and a.population.total) for a in listed.items] == [
        ("01", 150),
        ("02", 30),
    ]


async def test_the_geojson_export_gives_name_and_parent_of_the_date(
    session: AsyncSession,
) -> None:
    import msgspec

    await _reimport(session)
    await session.commit()  # the stream reads on a connection of its own
    engine = session.bind
    for day, names, parents in (
        (BEFORE, "Nordwest", "01"),
        (AFTER, "Nordwest-Mitte", "02"),
    ):
        level_, figures = await services.export_level(session, "quarter", day)
        body = b"".join(
            [
                chunk
                async for chunk in services.stream_level_geojson(engine, level_, figures, day)  # type: ignore[arg-type]
            ]
        )
        features = {f["id"]: f["properties"] for f in msgspec.json.decode(body)["features"]}
        assert features["0101"]["name"] == names, day
        assert features["0102"]["parent_code"] == parents, day


async def test_the_api_reports_and_answers_for_both_dates(
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
            {"key": "district", "geojson": REDRAWN["district"]},
            {"key": "quarter", "geojson": REDRAWN["quarter"], "parent_property": "district"},
        ],
        "valid_from": "2024-01-01",
    }
    response = await client.post(url, json=second, headers=headers)
    assert response.status_code == 200, response.text
    changes = [(c["code"], c["field"], c["before"], c["after"]) for c in response.json()["changes"]]
    assert ("0101", "name", "Nordwest", "Nordwest-Mitte") in changes
    assert ("0102", "parent", "01", "02") in changes

    api = "/api/v1/social-areas"
    then = (await client.get(f"{api}/by-code/0102", params={"at": "2023-06-30"})).json()
    now = (await client.get(f"{api}/by-code/0102", params={"at": "2024-06-30"})).json()
    assert (then["parent_code"], now["parent_code"]) == ("01", "02")
    districts = {
        at: {
            a["code"]: a["population"]["total"]
            for a in (await client.get(api, params={"level": "district", "at": at})).json()["items"]
        }
        for at in ("2023-06-30", "2024-06-30")
    }
    assert districts == {"2023-06-30": {"01": 150, "02": 30}, "2024-06-30": {"01": 100, "02": 80}}
    versions = (await client.get(f"{api}/{now['id']}/versions")).json()["items"]
    assert [(v["valid_to"], v["parent_code"]) for v in versions] == [
        ("2024-01-01", "01"),
        (None, "02"),
    ]
    renamed = (await client.get(f"{api}/by-code/0101", params={"at": "2023-06-30"})).json()
    assert renamed["name"] == "Nordwest"


async def test_the_cli_report_lists_the_changes(session: AsyncSession) -> None:
    from quartier.areas.cli import format_report

    lines = format_report(await _reimport(session))
    assert "changed: quarter 0101: name Nordwest → Nordwest-Mitte from 2024-01-01" in lines
    assert "changed: quarter 0102: parent 01 → 02 from 2024-01-01" in lines
    assert "changed: district 01: new boundary from 2024-01-01" in lines


async def test_areas_below_a_moved_area_follow_it_on_its_date(session: AsyncSession) -> None:
    """The moved area has a sub-area the re-import does not name: its path changes with the
    move, so its population counts under the old district before the date, the new after."""
    block = collection(feature("010201", "Block", square(13.06, 52.01, 0.02)))
    await services.import_areas(
        session,
        [*small_city_levels(), level("block", block)],
        [population("id,inhabitants\n0101,100\n010201,40\n0201,30\n")],
    )
    await services.import_areas(session, redrawn(), [], validity=Validity(valid_from=CHANGE))
    below = await services.get_area_by_code(session, "010201")
    assert [a.code for a in await services.ancestors(session, below.id, at=BEFORE)] == [
        "01",
        "0102",
    ]
    assert [a.code for a in await services.ancestors(session, below.id, at=AFTER)] == [
        "02",
        "0102",
    ]
    north = (await services.get_area_by_code(session, "01")).id
    south = (await services.get_area_by_code(session, "02")).id
    for day, expected in ((BEFORE, {north: 140, south: 30}), (AFTER, {north: 100, south: 70})):
        figures = await services.populations(session, [north, south], at=day)
        assert {k: v.total for k, v in figures.items()} == expected, day
    versions = await services.area_versions(session, below.id)
    assert [(v.valid_to, v.parent_code) for v in versions.items] == [
        (CHANGE, "0102"),
        (None, "0102"),
    ]
