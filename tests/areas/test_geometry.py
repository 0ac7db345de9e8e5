"""Pure helpers: CRS names, name folding for search, SVG outlines, reference dates."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from quartier.areas import geometry, importer, text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84"),
        ("OGC:CRS84", "OGC:CRS84"),
        ("urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:EPSG::4326"),  # latitude first
        ("http://www.opengis.net/def/crs/EPSG/0/4326", "urn:ogc:def:crs:EPSG::4326"),
        ("EPSG:4326", "EPSG:4326"),
        ("EPSG:25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG:6.9:25833", "EPSG:25833"),
        ("https://www.opengis.net/def/crs/EPSG/0/25833", "EPSG:25833"),
        ("epsg:4258", "EPSG:4258"),
    ],
)
def test_crs_names_are_normalised(name: str, expected: str) -> None:
    assert geometry.normalise_crs(name) == expected


@pytest.mark.parametrize("name", ["EPSG:31468", "EPSG:3857", "LOCAL_CS", ""])
def test_other_crs_are_refused_by_name(name: str) -> None:
    with pytest.raises(geometry.CrsError, match="unsupported coordinate reference system"):
        geometry.normalise_crs(name)


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("Treptow-Köpenick", "köpenick"),
        ("Treptow-Köpenick", "Koepenick"),
        ("Treptow-Köpenick", "KOPENICK"),
        ("Schloßstraße", "schlossstr"),
        ("Schloßstraße", "SCHLOSS"),
        ("Müggelheim", "muggel"),
        ("Neu-Hohenschönhausen Süd", "hohenschoenhausen  süd"),
    ],
)
def test_search_forms_match_any_umlaut_spelling(name: str, query: str) -> None:
    stored = text.search_forms(name)
    assert any(text.fold_query(query) in line for line in stored.split("\n"))


def test_like_patterns_escape_wildcards() -> None:
    assert text.like_pattern("100%_x") == "%100\\%\\_x%"


def test_svg_outline_fits_the_box_north_up() -> None:
    boundary = {
        "type": "MultiPolygon",
        "coordinates": [[[[13.0, 52.0], [13.2, 52.0], [13.2, 52.1], [13.0, 52.1], [13.0, 52.0]]]],
    }
    outline = geometry.svg_outline(boundary, size=200)
    assert outline.width == 200
    assert outline.height < outline.width  # 0.2° of longitude at 52° N is wider than 0.1° lat
    assert outline.path.startswith("M") and outline.path.endswith("Z")
    assert 13 < outline.width_km < 14.5 and 10.5 < outline.height_km < 11.5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("population-2020-12-t2-planning-areas.csv", datetime.date(2020, 12, 31)),
        ("population-2021-02.csv", datetime.date(2021, 2, 28)),
        ("einwohner-2019-06-30.csv", datetime.date(2019, 6, 30)),
        ("population.csv", None),
    ],
)
def test_reference_date_from_the_file_name(name: str, expected: datetime.date | None) -> None:
    assert importer.reference_date_from_name(Path(name)) == expected


def test_a_file_that_is_no_feature_collection_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "Feature"}')
    with pytest.raises(importer.SourceError, match=r"x\.geojson"):
        importer.level_from_file("district", path)
