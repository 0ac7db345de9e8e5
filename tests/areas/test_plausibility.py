"""Plausibility of an import before anything is stored (issue #13 §5): refusals (an unclosed
ring, a GeometryCollection), axis order per CRS, warnings the importer must confirm (a boundary
far from its previous version or its parent, overlapping siblings, children outside their
parent, population codes that match nothing), Windows-1252 tables, and one level imported on its
own under stored parents. One regression test per finding, through the import service."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas import importer, services
from quartier.areas.models import AreaPopulation, SocialArea
from quartier.core.errors import InvalidInput

from .conftest import (
    SMALL_CITY,
    collection,
    feature,
    level,
    population,
    small_city,
    square,
)


async def _count(session: AsyncSession, model: Any = SocialArea) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _refused(session: AsyncSession, *args: Any, **options: Any) -> services.ImportFailed:
    with pytest.raises(services.ImportFailed) as caught:
        await services.import_areas(session, *args, **options)
    return caught.value


async def _unconfirmed(
    session: AsyncSession, *args: Any, **options: Any
) -> services.ImportNeedsConfirmation:
    with pytest.raises(services.ImportNeedsConfirmation) as caught:
        await services.import_areas(session, *args, **options)
    assert caught.value.slug == "import-needs-confirmation"
    assert caught.value.report.ok is False
    return caught.value


def _to_confirm(report: Any) -> list[Any]:
    return [row for row in report.rows if row.needs_confirmation]


# -- refusals ----------------------------------------------------------------------------------


async def test_an_unclosed_ring_is_refused_naming_the_feature(session: AsyncSession) -> None:
    open_ring = [[[13.0, 52.0], [13.1, 52.0], [13.1, 52.1], [13.0, 52.1]]]
    districts = collection(
        feature("01", "Gut", square(13.0, 52.0)), feature("02", "Offen", open_ring)
    )
    failed = await _refused(session, [level("district", districts)], [])
    (row,) = [r for r in failed.report.rows if r.severity == "error"]
    assert (row.code, row.feature, row.field) == ("02", 1, "geometry")
    assert "outer ring is not closed" in row.message
    assert "starts at 13.0, 52.0 and ends at 13.0, 52.1" in row.message
    assert await _count(session) == 0  # all or nothing: the good feature is not stored either


async def test_an_unclosed_hole_of_a_multipolygon_is_refused(session: AsyncSession) -> None:
    outer = square(13.0, 52.0, 0.1)[0]
    hole = [[13.02, 52.02], [13.04, 52.02], [13.04, 52.04], [13.02, 52.04]]
    districts = collection(feature("01", "Loch", [[outer, hole]], kind="MultiPolygon"))
    failed = await _refused(session, [level("district", districts)], [])
    assert "hole 1 of polygon 0 is not closed" in failed.report.rows[0].message


async def test_a_geometry_collection_is_refused_as_unsupported(session: AsyncSession) -> None:
    bad = {
        "type": "Feature",
        "properties": {"id": "02", "name": "Sammlung"},
        "geometry": {
            "type": "GeometryCollection",
            "geometries": [{"type": "Polygon", "coordinates": square(13.1, 52.0)}],
        },
    }
    document = collection(feature("01", "Gut", square(13.0, 52.0)))
    document["features"].append(bad)
    failed = await _refused(session, [level("district", document)], [])
    (row,) = failed.report.rows
    assert (row.code, row.feature, row.field) == ("02", 1, "geometry")
    assert "GeometryCollection is not supported" in row.message
    assert await _count(session) == 0


def test_a_geometry_collection_with_geometries_is_read_and_refused_per_feature() -> None:
    """GeoJSON's GeometryCollection carries `geometries`, not `coordinates`: the file is still
    read, and the feature is refused with the type named."""
    raw = (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        b'{"id": "01", "name": "Sammlung"}, "geometry": {"type": "GeometryCollection", '
        b'"geometries": [{"type": "Point", "coordinates": [13.0, 52.0]}]}}]}'
    )
    source = importer.LevelSource(
        key="district", collection=importer.read_collection(raw, "x.geojson"), source="x"
    )
    prepared = importer.prepare([source], [])
    (row,) = prepared.report.rows
    assert row.severity == "error" and row.feature == 0
    assert "GeometryCollection is not supported" in row.message


# -- axis order --------------------------------------------------------------------------------


def _latitude_first(coordinates: list[list[list[float]]]) -> list[list[list[float]]]:
    return [[[lat, lon] for lon, lat in ring] for ring in coordinates]


async def test_epsg_4326_urn_is_read_latitude_first(session: AsyncSession) -> None:
    swapped = collection(
        feature("01", "Mitte", _latitude_first(square(13.40, 52.50, 0.02))),
        crs="urn:ogc:def:crs:EPSG::4326",
    )
    report = await services.import_areas(session, [level("district", swapped)], [])
    assert report.ok and report.warnings == 0
    area = await services.get_area_by_code(session, "01")
    assert area.bbox == pytest.approx([13.40, 52.50, 13.42, 52.52])
    found = await services.lookup_point(session, lat=52.51, lon=13.41)
    assert [a.code for a in found] == ["01"]


async def test_crs84_and_short_epsg_4326_are_read_longitude_first(session: AsyncSession) -> None:
    report = await services.import_areas(
        session,
        [
            level("district", collection(feature("01", "A", square(13.4, 52.5)), crs="OGC:CRS84")),
            level("quarter", collection(feature("0101", "B", square(13.4, 52.5, 0.005)))),
        ],
        [],
    )
    assert report.ok
    assert (await services.get_area_by_code(session, "01")).bbox[0] == pytest.approx(13.4)
    short = collection(feature("02", "C", square(13.5, 52.5)), crs="EPSG:4326")
    # District 01 is missing from this import: kept, confirmed.
    await services.import_areas(session, [level("district", short)], [], confirm_warnings=True)
    assert (await services.get_area_by_code(session, "02")).bbox[0] == pytest.approx(13.5)


async def test_a_urn_file_written_longitude_first_is_read_so_with_a_warning(
    session: AsyncSession,
) -> None:
    """Berlin's LOR files declare the URN but write longitude first: below a level that lies
    where only that reading puts them, the data decides, and the report says so."""
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)), crs="urn:ogc:def:crs:EPSG::4326"
    )
    report = await services.import_areas(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    assert report.ok and report.needs_confirmation == 0
    (row,) = [r for r in report.rows if r.field == "crs"]
    assert "longitude, latitude" in row.message and "OGC:CRS84" in row.message
    assert (await services.get_area_by_code(session, "0101")).bbox[0] == pytest.approx(13.0)


# -- warnings to confirm -----------------------------------------------------------------------


async def test_a_boundary_far_from_its_previous_version_must_be_confirmed(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    moved = collection(
        feature("01", "Nord", square(13.5, 52.0, 0.1)),  # 0.5° east: no overlap with before
        feature("02", "Süd", square(13.0, 51.9, 0.1)),
    )
    failed = await _unconfirmed(session, [level("district", moved)], [])
    (row,) = _to_confirm(failed.report)
    assert (row.code, row.feature, row.severity) == ("01", 0, "warning")
    assert "km away from its previous version" in row.message
    assert failed.report.needs_confirmation == 1
    area = await services.get_area_by_code(session, "01")
    assert area.bbox[0] == pytest.approx(13.0)  # nothing changed

    report = await services.import_areas(
        session, [level("district", moved)], [], confirm_warnings=True
    )
    assert report.ok and report.needs_confirmation == 1
    assert (await services.get_area_by_code(session, "01")).bbox[0] == pytest.approx(13.5)


async def test_a_partly_moved_boundary_reports_the_overlap(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    shifted = collection(
        feature("01", "Nord", square(13.07, 52.0, 0.1)), feature("02", "Süd", square(13.0, 51.9))
    )
    failed = await _unconfirmed(session, [level("district", shifted)], [])
    assert "overlaps its previous version by only 18%" in _to_confirm(failed.report)[0].message


async def test_a_child_far_from_its_parent_must_be_confirmed(session: AsyncSession) -> None:
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0201", "Verirrt", square(14.0, 51.9, 0.05)),  # district 02 ends at 13.1
    )
    failed = await _unconfirmed(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    (row,) = _to_confirm(failed.report)
    assert (row.code, row.feature) == ("0201", 1)
    assert "lies 61.9 km away from its parent 02 (Süd)" in row.message
    assert await _count(session) == 0


async def test_a_child_partly_outside_its_parent_must_be_confirmed(session: AsyncSession) -> None:
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0102", "Überstehend", square(13.08, 52.0, 0.05)),  # 60 % east of district 01
    )
    failed = await _unconfirmed(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    (row,) = _to_confirm(failed.report)
    assert row.code == "0102"
    assert "lies outside its parent 01 (Nord): 60% of its area is outside" in row.message


async def test_a_child_on_its_parents_edge_needs_no_confirmation(session: AsyncSession) -> None:
    quarters = collection(feature("0101", "Rand", square(13.05, 52.05, 0.05)))
    report = await services.import_areas(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    assert report.ok and report.needs_confirmation == 0


async def test_overlapping_siblings_must_be_confirmed(session: AsyncSession) -> None:
    quarters = collection(
        feature("0101", "Nordwest", square(13.0, 52.0, 0.05)),
        feature("0102", "Doppelt", square(13.02, 52.0, 0.05)),  # overlaps 0101 by 60 %
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
    )
    failed = await _unconfirmed(
        session, [level("district", SMALL_CITY["district"]), level("quarter", quarters)], []
    )
    (row,) = _to_confirm(failed.report)
    assert (row.code, row.feature) == ("0102", 1)
    assert "overlaps 0101 (Nordwest), an area of the same level and parent" in row.message
    assert "by 60% of the smaller one" in row.message


async def test_overlapping_top_level_areas_must_be_confirmed(session: AsyncSession) -> None:
    districts = collection(
        feature("01", "Nord", square(13.0, 52.0, 0.1)), feature("02", "Auch", square(13.0, 52.0))
    )
    failed = await _unconfirmed(session, [level("district", districts)], [])
    assert "by 100% of the smaller one" in _to_confirm(failed.report)[0].message


async def test_most_population_codes_matching_nothing_must_be_confirmed_naming_lost_zeros(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    # As a spreadsheet saves it after reading the codes as numbers.
    table = "id,inhabitants\n101,100\n102,50\n0201,30\n"
    failed = await _unconfirmed(session, [], [population(table)])
    (row,) = _to_confirm(failed.report)
    assert row.source == "population.csv"
    assert "2 of 3 codes match no area" in row.message
    assert "101 → 0101" in row.message and "leading zeros" in row.message
    assert await _count(session, AreaPopulation) == 0

    report = await services.import_areas(session, [], [population(table)], confirm_warnings=True)
    assert report.population.imported == 1


async def test_unmatched_codes_without_lost_zeros_say_to_check_the_column(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    failed = await _unconfirmed(session, [], [population("id,inhabitants\nA,1\nB,2\n")])
    message = _to_confirm(failed.report)[0].message
    assert "2 of 2 codes match no area" in message and "leading zeros" not in message


async def test_a_few_unmatched_population_codes_need_no_confirmation(
    session: AsyncSession,
) -> None:
    table = "id,inhabitants\n0101,10\n0102,5\n0999,1\n"
    report = await services.import_areas(session, small_city(), [population(table)])
    assert report.ok and report.needs_confirmation == 0


async def test_the_berlin_data_needs_no_confirmation(berlin_data: Path) -> None:
    from .conftest import berlin_levels, berlin_population

    prepared = importer.prepare(berlin_levels(berlin_data), berlin_population(berlin_data))
    assert prepared.report.errors == 0 and prepared.report.to_confirm == 0


# -- encodings ---------------------------------------------------------------------------------

WINDOWS_TABLE = "id;name;inhabitants\n0101;Köpenick-Süd;100\n".encode("windows-1252")


def test_a_windows_1252_table_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "population-2020-12.csv"
    path.write_bytes(WINDOWS_TABLE)
    source = importer.population_from_file(path)
    assert "Köpenick-Süd" in source.text
    assert source.reference_date == datetime.date(2020, 12, 31)


def test_a_declared_windows_1252_charset_is_used(tmp_path: Path) -> None:
    # These bytes are valid UTF-8 too ("Ã¼" in Windows-1252 is "ü" in UTF-8): the declaration
    # decides.
    raw = "id;name\n01;Ã¼\n".encode("windows-1252")
    assert importer.read_table(raw, "t.csv") == "id;name\n01;ü\n"
    assert importer.read_table(raw, "t.csv", "windows-1252") == "id;name\n01;Ã¼\n"
    assert importer.read_table(raw, "t.csv", "ISO-8859-1") == "id;name\n01;Ã¼\n"
    path = tmp_path / "population-2020-12.csv"
    path.write_bytes(raw)
    assert "Ã¼" in importer.population_from_file(path, encoding="windows-1252").text


def test_a_declared_encoding_that_does_not_fit_is_refused_naming_the_file() -> None:
    with pytest.raises(importer.SourceError, match=r"t\.csv: cannot read as utf-8"):
        importer.read_table(WINDOWS_TABLE, "t.csv", "utf-8")
    with pytest.raises(importer.SourceError, match="unsupported encoding 'koi8-r'"):
        importer.read_table(WINDOWS_TABLE, "t.csv", "koi8-r")


# -- one level on its own ----------------------------------------------------------------------


async def test_one_level_is_imported_on_its_own_under_its_stored_parents(
    session: AsyncSession,
) -> None:
    await services.import_areas(session, small_city(), [])
    quarters = collection(
        feature("0101", "Nordwest neu", square(13.0, 52.0, 0.05)),
        feature("0102", "Nordost", square(13.05, 52.0, 0.05)),
        feature("0201", "Südwest", square(13.0, 51.9, 0.05)),
        feature("0202", "Südost", square(13.05, 51.9, 0.05)),
    )
    report = await services.import_areas(session, [level("quarter", quarters)], [])
    assert [(lv.key, lv.depth, lv.created, lv.updated) for lv in report.levels] == [
        ("quarter", 1, 1, 1)
    ]
    area = await services.get_area_by_code(session, "0202")
    assert area.parent_code == "02" and area.level.depth == 1


async def test_a_new_level_goes_under_the_named_parent_level(session: AsyncSession) -> None:
    await services.import_areas(session, small_city(), [])
    blocks = collection(feature("010101", "Block", square(13.0, 52.0, 0.01)))
    report = await services.import_areas(
        session, [level("block", blocks)], [], parent_level="quarter"
    )
    assert report.levels[0].depth == 2
    assert (await services.get_area_by_code(session, "010101")).parent_code == "0101"
    with pytest.raises(InvalidInput) as caught:
        await services.import_areas(session, [level("block", blocks)], [], parent_level="nope")
    assert caught.value.errors and caught.value.errors[0].field == "parent_level"
