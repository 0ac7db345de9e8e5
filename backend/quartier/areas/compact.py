"""Building the compact copy of Berlin's LOR shipped as demo data (areas/data/berlin-lor).

    python -m quartier.areas.compact SOURCE_DIR backend/quartier/areas/data/berlin-lor

Each level is simplified as a coverage (GEOS coverage simplification keeps the borders that
neighbouring areas share identical, so no gaps or overlaps appear), with a tolerance of 1e-4°
(about 7 m east–west, 11 m north–south), then snapped to a 1e-6° grid. Ids, names, declared
areas, the data's quirks (the duplicate planning-area code) and the population table (without
its percentage columns) are kept as they are.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

TOLERANCE = 1e-4
GRID = 1e-6
LEVEL_FILES = (
    "districts.geojson",
    "forecast-areas.geojson",
    "district-regions.geojson",
    "planning-areas.geojson",
)
POPULATION_FILE = "population-2020-12-t2-planning-areas.csv"


def compact_level(source: Path, target: Path) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    features = data["features"]
    simplified = shapely.coverage_simplify(
        [shape(feature["geometry"]) for feature in features], TOLERANCE
    )
    out = []
    for feature, geometry in zip(features, simplified, strict=True):
        snapped = shapely.set_precision(geometry, GRID)
        properties = {k: feature["properties"][k] for k in ("id", "name", "area")}
        out.append({"type": "Feature", "properties": properties, "geometry": mapping(snapped)})
    collection = {"type": "FeatureCollection", "crs": data.get("crs"), "features": out}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    target.write_text(text + "\n", encoding="utf-8")


def compact_population(source: Path, target: Path) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if not c.endswith("_percentage")]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in LEVEL_FILES:
        compact_level(source / name, target / name)
    compact_population(source / POPULATION_FILE, target / POPULATION_FILE)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
