"""File formats of the ideas aggregates: JSON, CSV, German-Excel CSV, XLSX and GeoJSON, in the
shape of the surveys' exports and written by their code (`surveys.exports.table_csv`,
`table_xlsx`): metadata as `#` lines (CSV) or the sheet `Metadaten` (XLSX), then one row per
area × need category.

Every figure comes from the one `IdeaAggregates` (`ideas.aggregates`, cell key method), so a
cell has the same perturbed value in every format and on the pages; values of areas not shown
are empty (CSV, XLSX) or null (JSON, GeoJSON) with `suppressed` true, never 0. GeoJSON gives
each area of the level its boundary (as stored) and flat properties `<category>_ideas`,
`<category>_supporters` for GIS tools, with the metadata as a foreign member.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
from sqlalchemy import ARRAY, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.ideas import schemas as s
from quartier.ideas.aggregates import COUNTS, DISCLOSURE_METHOD
from quartier.surveys import exports
from quartier.surveys.exports import Column, Format, MetadataItem

COLUMNS: list[Column] = [
    ("area_code", "Gebietsschlüssel"),
    ("area_name", "Gebiet"),
    ("need_category", "Bedarfskategorie"),
    ("ideas", "Ideen"),
    ("supporters", "Unterstützende"),
    ("suppressed", "Unterdrückt"),
]
_encoder = msgspec.json.Encoder()


def metadata_items(result: s.IdeaAggregates) -> list[MetadataItem]:
    """(key, German label, value) of every metadata item, in reading order (text values in
    English and German)."""
    return [
        ("process_id", "Planungsprozess", str(result.process_id)),
        ("area_level", "Gebietsebene", result.level),
        ("k", "Schwelle k (Werte 1 bis k−1 nie veröffentlicht)", result.k),
        ("min_respondents", "Mindestzahl je Gebiet", result.min_respondents),
        ("generated_at", "Erstellt am", result.generated_at.isoformat(timespec="seconds")),
        ("suppressed_cells", "Nicht gezeigte Zellen", result.suppressed_cells),
        (
            "disclosure_method",
            "Geheimhaltungsverfahren",
            DISCLOSURE_METHOD.of(result.disclosure_method),
        ),
        ("counts", "Zählweise", COUNTS),
    ]


def rows(result: s.IdeaAggregates) -> Iterator[list[Any]]:
    for cell in result.cells:
        yield [
            cell.area_code,
            cell.area_name,
            cell.need_category,
            cell.ideas,
            cell.supporters,
            cell.suppressed,
        ]


def filename(result: s.IdeaAggregates, fmt: Format) -> str:
    return f"ideas-{result.process_id}-{result.level}.{exports.EXTENSIONS[fmt]}"


_BOUNDARIES = text(
    "SELECT code, boundary::text FROM social_areas WHERE code = ANY(:codes) ORDER BY code"
).bindparams(bindparam("codes", type_=ARRAY(String)))


def feature_properties(code: str, cells: list[s.AggregateCell]) -> dict[str, Any]:
    """Flat properties of one area (its cells, one per need category)."""
    properties: dict[str, Any] = {
        "code": code,
        "name": cells[0].area_name,
        "withheld": all(cell.suppressed for cell in cells),
    }
    for cell in cells:
        properties |= {
            f"{cell.need_category}_ideas": cell.ideas,
            f"{cell.need_category}_supporters": cell.supporters,
        }
    return properties


async def _geojson(result: s.IdeaAggregates, engine: AsyncEngine) -> AsyncIterator[bytes]:
    by_area: dict[str, list[s.AggregateCell]] = {}
    for cell in result.cells:
        by_area.setdefault(cell.area_code, []).append(cell)
    metadata = {
        key: exports.value_of(value, german=False) for key, _label, value in metadata_items(result)
    }
    yield b'{"type":"FeatureCollection","metadata":' + _encoder.encode(metadata) + b',"features":['
    separator = b""
    async with engine.connect() as connection:
        stream = await connection.stream(
            _BOUNDARIES.execution_options(yield_per=50), {"codes": list(by_area)}
        )
        async for code, boundary in stream:
            yield (
                separator
                + b'{"type":"Feature","id":'
                + _encoder.encode(code)
                + b',"properties":'
                + _encoder.encode(feature_properties(code, by_area[code]))
                + b',"geometry":'
                + (boundary.encode() if boundary else b"null")
                + b"}"
            )
            separator = b","
    yield b"]}"


async def _json(result: s.IdeaAggregates) -> AsyncIterator[bytes]:
    yield _encoder.encode(result)


def render(result: s.IdeaAggregates, fmt: Format, engine: AsyncEngine) -> AsyncIterator[bytes]:
    """The aggregates in `fmt` as chunks of bytes (GeoJSON reads the boundaries on `engine`)."""
    if fmt is Format.JSON:
        return _json(result)
    if fmt is Format.GEOJSON:
        return _geojson(result, engine)
    if fmt is Format.XLSX:
        return exports.table_xlsx(metadata_items(result), COLUMNS, rows(result), sheet_name="Ideen")
    return exports.table_csv(
        metadata_items(result), COLUMNS, rows(result), german=fmt is Format.CSV_DE
    )
