"""The import service: what is an error (nothing changes), what is a warning, CRS handling,
atomicity and idempotency."""

from __future__ import annotations

import datetime

import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Polygon
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import services
from quartier.areas.models import AreaPopulation, SocialArea

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


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(SocialArea.id))) or 0)


async def _failed(session: AsyncSession, *args: object) -> services.ImportFailed:
    with pytest.raises(services.ImportFailed) as caught:
        await services.import_areas(session, *args)  # type: ignore[arg-type]
    return caught.value


def _errors(failed: services.ImportFailed) -> list[str]:
    return [row.message for row in failed.report.rows if row.severity == "error"]


async def test_small_city_imports_with_parents_by_code_prefix(session: AsyncSession) -> None:
    report = await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    assert report.ok and report.errors == 0
    assert [(lv.key, lv.created) for lv in report.levels] == [("district", 2), ("quarter", 3)]
    assert report.population.imported == 3
    assert report.population.age_bands == ["below_18", "18_65", "above_65"]
    north = await services.get_area_by_code(session, "01")
    assert north.population is not None
    assert north.population.total == 150
    assert north.population.female == 76
    assert [(b.key, b.count) for b in north.population.age_bands] == [
        ("below_18", 30),
        ("18_65", 90),
        ("above_65", 30),
    ]
    south = await services.get_area_by_code(session, "02")
    assert south.population is not None
    assert south.population.female is None  # 0201 has no figure for women


async def test_duplicate_code_on_the_top_level_is_an_error(session: AsyncSession) -> None:
    districts = collection(
        feature("01", "Nord", square(13.0, 52.0)), feature("01", "Nord II", square(14.0, 52.0))
    )
    failed = await _failed(session, [level("district", districts)], [])
    assert failed.report.ok is False
    assert any("code 01 appears 2 times" in m for m in _errors(failed))
    assert await _count(session) == 0


async def test_duplicate_code_inside_its_parent_wins_over_one_outside(
    session: AsyncSession,
) -> None:
    quarters = collection(
        feature("0101", "Inside", square(13.01, 52.01)),
        feature("0101", "Elsewhere", square(13.5, 52.5)),
    )
    report = await services.import_areas(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    assert report.ok
    warning = next(r for r in report.rows if r.code == "0101")
    assert warning.severity == "warning" and warning.feature == 1
    assert (await services.get_area_by_code(session, "0101")).name == "Inside"


async def test_unknown_parent_is_an_error(session: AsyncSession) -> None:
    quarters = collection(feature("0901", "Nowhere", square(13.0, 52.0)))
    failed = await _failed(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    row = next(r for r in failed.report.rows if r.severity == "error")
    assert row.code == "0901" and row.feature == 0
    assert "prefix" in row.message
    assert await _count(session) == 0


async def test_parent_by_explicit_property(session: AsyncSession) -> None:
    quarters = collection(
        feature("A", "Nordwest", square(13.0, 52.0, 0.05), district="01"),
        feature("B", "Unbekannt", square(13.0, 52.0, 0.05), district="07"),
    )
    failed = await _failed(
        session,
        [
            level("district", SMALL_CITY["district"]),
            level("quarter", quarters, parent_property="district"),
        ],
        [],
    )
    assert _errors(failed) == ["parent 07 (property `district`) is not an area of the level above"]
    quarters = collection(feature("A", "Nordwest", square(13.0, 52.0, 0.05), district="01"))
    await services.import_areas(
        session,
        [
            level("district", SMALL_CITY["district"]),
            level("quarter", quarters, parent_property="district"),
        ],
        [],
    )
    assert (await services.get_area_by_code(session, "A")).parent_code == "01"


async def test_a_self_intersecting_polygon_is_repaired_with_a_warning(
    session: AsyncSession,
) -> None:
    bow_tie = [[[13.0, 52.0], [13.1, 52.1], [13.1, 52.0], [13.0, 52.1], [13.0, 52.0]]]
    report = await services.import_areas(
        session, [level("district", collection(feature("01", "Schleife", bow_tie)))], []
    )
    row = report.rows[0]
    assert row.severity == "warning" and row.field == "geometry"
    assert "Self-intersection" in row.message
    area = await services.get_area_by_code(session, "01")
    assert area.area_m2 > 0


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [13.0, 52.0]}, "Point is not supported"),
        ({"type": "Polygon", "coordinates": [[[13.0, 52.0], "x"]]}, "malformed"),
        ({"type": "Polygon", "coordinates": [[[13.0, 52.0], [13.1, 52.0], [13.0, 52.0]]]}, ""),
        (None, "no geometry"),
    ],
)
async def test_unusable_geometry_is_an_error(
    session: AsyncSession, geometry: dict[str, object] | None, message: str
) -> None:
    bad = {"type": "Feature", "properties": {"id": "02", "name": "Kaputt"}, "geometry": geometry}
    districts = collection(feature("01", "Gut", square(13.0, 52.0)), bad)
    failed = await _failed(session, [level("district", districts)], [])
    errors = [r for r in failed.report.rows if r.severity == "error"]
    assert len(errors) == 1
    assert errors[0].code == "02" and errors[0].feature == 1
    assert message in errors[0].message
    assert await _count(session) == 0


async def test_missing_code_or_name_is_an_error(session: AsyncSession) -> None:
    nameless = feature("01", "", square(13.0, 52.0))
    codeless = feature("", "Ohne Code", square(13.0, 52.0))
    failed = await _failed(session, [level("district", collection(nameless, codeless))], [])
    assert [r.field for r in failed.report.rows] == ["properties.name", "properties.id"]


def _utm33(lon: float, lat: float) -> tuple[float, float]:
    transformer = Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
    x, y = transformer.transform(lon, lat)
    return float(x), float(y)


@pytest.mark.parametrize(
    "crs",
    ["urn:ogc:def:crs:EPSG::25833", "EPSG:25833", "http://www.opengis.net/def/crs/EPSG/0/25833"],
)
async def test_utm_33n_boundaries_are_transformed_to_wgs84(session: AsyncSession, crs: str) -> None:
    # A 1 km square in ETRS89 / UTM 33N whose south-west corner is Alexanderplatz.
    x, y = _utm33(13.4132, 52.5219)
    ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
    districts = collection(feature("01", "Alex", [ring], area=1_000_000), crs=crs)
    report = await services.import_areas(session, [level("district", districts)], [])
    assert report.ok and report.warnings == 0  # the declared 1 km² matches within 1 %
    area = await services.get_area_by_code(session, "01", boundaries=True)
    assert area.boundary is not None
    corners = area.boundary.coordinates[0][0]
    # The south-west corner is Alexanderplatz again; the others are where pyproj's inverse
    # puts them (grid north is not true north, so the square is slightly rotated).
    back = Transformer.from_crs("EPSG:25833", "EPSG:4326", always_xy=True)
    expected = [back.transform(cx, cy) for cx, cy in ring]
    for lon, lat in expected:
        assert any(abs(lon - c[0]) < 1e-6 and abs(lat - c[1]) < 1e-6 for c in corners), (lon, lat)
    assert any(abs(c[0] - 13.4132) < 1e-6 and abs(c[1] - 52.5219) < 1e-6 for c in corners)
    west, south, east, north = area.bbox
    assert 0.0145 < east - west < 0.0152  # 1 km east at 52.5° N is about 0.0148°
    assert 0.0089 < north - south < 0.0093  # 1 km north is about 0.0090°
    assert area.area_m2 == pytest.approx(1_000_000, rel=2e-3)  # UTM scale error below 0.1 %
    found = await services.lookup_point(session, 52.5219 + 0.004, 13.4132 + 0.007)
    assert [a.code for a in found] == ["01"]


async def test_the_level_crs_option_declares_a_crs_the_file_lacks(
    session: AsyncSession,
) -> None:
    x, y = _utm33(13.4132, 52.5219)
    ring = [[x, y], [x + 500, y], [x + 500, y + 500], [x, y + 500], [x, y]]
    report = await services.import_areas(
        session,
        [level("district", collection(feature("01", "Alex", [ring])), crs="EPSG:25833")],
        [],
    )
    assert report.ok


async def test_an_unknown_crs_is_refused_by_name(session: AsyncSession) -> None:
    districts = collection(feature("01", "Alt", square(4590000, 5820000, 100)), crs="EPSG:31468")
    failed = await _failed(session, [level("district", districts)], [])
    (message,) = _errors(failed)
    assert "unsupported coordinate reference system 'EPSG:31468'" in message
    assert "EPSG:25833" in message  # the supported ones are listed


async def test_projected_coordinates_without_a_crs_are_refused(session: AsyncSession) -> None:
    x, y = _utm33(13.4132, 52.5219)
    districts = collection(feature("01", "Alex", square(x, y, 500)))
    failed = await _failed(session, [level("district", districts)], [])
    (message,) = _errors(failed)
    assert "look projected" in message and "no CRS is declared" in message


async def test_a_failed_import_leaves_the_previous_data_untouched(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await session.commit()
    renamed = collection(
        feature("01", "Neu-Nord", square(13.0, 52.0, 0.1)),
        feature("02", "Neu-Süd", square(13.0, 51.9, 0.1)),
    )
    broken = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0901", "Verwaist", square(13.0, 52.0, 0.05)),
    )
    changed_population = "id,inhabitants\n0101,999\n"
    failed = await _failed(
        session,
        [level("district", renamed), level("quarter", broken)],
        [population(changed_population)],
    )
    assert failed.report.errors == 1
    await session.rollback()
    assert (await services.get_area_by_code(session, "01")).name == "Nord"
    assert await _count(session) == 5
    assert await session.scalar(select(func.sum(AreaPopulation.total))) == 180


async def test_re_importing_the_same_data_changes_nothing(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await session.commit()
    before = (
        await session.execute(select(SocialArea.code, SocialArea.id, SocialArea.updated_at))
    ).all()
    report = await services.import_areas(session, small_city(), [population(SMALL_POPULATION)])
    await session.commit()
    assert [(lv.created, lv.updated, lv.unchanged) for lv in report.levels] == [
        (0, 0, 2),
        (0, 0, 3),
    ]
    after = (
        await session.execute(select(SocialArea.code, SocialArea.id, SocialArea.updated_at))
    ).all()
    assert sorted(after) == sorted(before)
    assert await session.scalar(select(func.count(AreaPopulation.id))) == 3
    assert (await services.get_area_by_code(session, "01")).population.total == 150  # type: ignore[union-attr]


async def test_re_importing_a_changed_area_updates_it_by_code(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    await session.commit()
    old = await services.get_area_by_code(session, "0102")
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0102", "Nordost (neu)", square(13.05, 52.0, 0.05)),
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
    )
    report = await services.import_areas(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    assert [(lv.created, lv.updated, lv.unchanged) for lv in report.levels][1] == (0, 1, 2)
    new = await services.get_area_by_code(session, "0102")
    assert new.id == old.id and new.name == "Nordost (neu)"


async def test_areas_missing_from_a_re_import_are_kept_only_when_confirmed(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
    )
    levels = [level("district", SMALL_CITY["district"]), level("quarter", quarters)]
    with pytest.raises(services.ImportNeedsConfirmation) as refused:
        await services.import_areas(session, levels, [])
    rows = refused.value.report.rows
    assert [(r.code, r.severity, r.needs_confirmation) for r in rows] == [("0102", "warning", True)]
    assert "retire" in rows[0].message
    report = await services.import_areas(session, levels, [], confirm_warnings=True)
    assert [(r.code, r.severity) for r in report.rows] == [("0102", "warning")]
    assert await _count(session) == 5


async def test_population_rows_without_an_area_or_for_a_parent_are_skipped(
    session: AsyncSession,
) -> None:
    table = "id,inhabitants\n0101,10\n0999,5\n01,15\n"
    report = await services.import_areas(session, small_city(), [population(table)])
    assert report.ok
    assert [(r.code, r.line) for r in report.rows] == [("0999", 3), ("01", 4)]
    assert "no area with code 0999" in report.rows[0].message
    assert "has sub-areas" in report.rows[1].message
    assert (report.population.rows, report.population.imported) == (3, 1)
    assert (report.population.inhabitants_read, report.population.inhabitants_imported) == (30, 10)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("id,inhabitants\n0101,ten\n", "not a whole number"),
        ("id,inhabitants\n0101,-3\n", "not a whole number"),
        ("id,inhabitants,inhabitants_female\n0101,10,11\n", "11 women but 10 inhabitants"),
        ("id,inhabitants\n0101,10\n0101,10\n", "appears twice"),
        ("code,inhabitants\n0101,10\n", "missing column(s) id"),
        ("id,inhabitants,inhabitants_age_young\n0101,10,3\n", "as an age band"),
    ],
)
async def test_unusable_population_rows_are_errors(
    session: AsyncSession, table: str, message: str
) -> None:
    failed = await _failed(session, small_city(), [population(table)])
    assert any(message in m for m in _errors(failed)), _errors(failed)
    assert await _count(session) == 0


async def test_two_tables_of_one_date_merge_and_must_agree(session: AsyncSession) -> None:
    t1 = "id,inhabitants,inhabitants_foreigners\n0101,100,7\n"
    t2 = "id,inhabitants,inhabitants_female\n0101,100,51\n"
    report = await services.import_areas(session, small_city(), [population(t1), population(t2)])
    assert report.population.rows == 1
    assert report.population.inhabitants_read == 100
    t2_disagrees = "id,inhabitants\n0101,101\n"
    failed = await _failed(session, small_city(), [population(t1), population(t2_disagrees)])
    assert "inhabitants 100 vs 101" in _errors(failed)[0]


async def test_the_latest_reference_date_is_reported(session: AsyncSession) -> None:
    older = population("id,inhabitants\n0101,90\n0102,40\n", datetime.date(2019, 12, 31))
    newer = population("id,inhabitants\n0101,100\n0102,50\n", datetime.date(2020, 12, 31))
    await services.import_areas(session, small_city(), [older, newer])
    north = await services.get_area_by_code(session, "01")
    assert north.population is not None
    assert (north.population.reference_date, north.population.total) == (
        datetime.date(2020, 12, 31),
        150,
    )


async def test_levels_must_keep_their_depth(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    failed = await _failed(
        session,
        [level("quarter", SMALL_CITY["quarter"]), level("district", SMALL_CITY["district"])],
        [],
    )
    # The first level keeps its stored depth (1), so the district would come below it.
    assert any("level district is at depth 0, not 2" in m for m in _errors(failed))


async def test_age_bands_that_do_not_add_up_are_a_warning(session: AsyncSession) -> None:
    table = "id,inhabitants,inhabitants_age_below_18,inhabitants_age_above_18\n0101,10,3,6\n"
    report = await services.import_areas(session, small_city(), [population(table)])
    assert [r.message for r in report.rows] == ["age bands add up to 9, not 10 inhabitants"]


def test_geodesic_area_of_a_known_square() -> None:
    # Cross-check the stored area with pyproj directly: the importer uses the same ellipsoid.
    from quartier.areas.geometry import geodesic_area

    polygon = Polygon(square(13.0, 52.0, 0.01)[0])
    expected, _ = Geod(ellps="WGS84").geometry_area_perimeter(polygon)
    assert geodesic_area(polygon) == pytest.approx(abs(expected), abs=0.1)
