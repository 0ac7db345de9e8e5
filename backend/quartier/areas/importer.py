"""Reading an import: GeoJSON levels and population CSVs into validated, in-memory records and
an import report. Nothing here touches the database (services.import_areas does, after this).

Policy — errors abort the whole import (nothing changes); warnings to confirm abort it too
unless the importer confirms them (services.ImportNeedsConfirmation); other warnings are
reported and the import goes on:

errors
  * an unsupported or unknown CRS, or coordinates that look projected while no CRS is declared
    (the message names the CRS or shows the coordinates);
  * a feature without code or name, or with a geometry that is missing, not a (Multi)Polygon
    (a GeometryCollection is named as unsupported), has a ring that is not closed (shapely
    would close it without a word), is malformed, outside longitude/latitude after
    transformation, or empty after repair;
  * a code twice in one level when the duplicate cannot be resolved (see below), or one code on
    two levels;
  * a parent that cannot be found (by the parent property, or by code prefix);
  * population: no code or `inhabitants` column, a count that is not a whole number ≥ 0, more
    women than inhabitants, a code twice in one table, the same area with different figures in
    two tables, an age-band column whose name we cannot read as an age range.

warnings to confirm (plausibility; `needs_confirmation` in the report)
  * a boundary far from its previous version (old and new overlap by less than
    PREVIOUS_OVERLAP of their union; the distance when they do not touch);
  * a child more than CHILD_OUTSIDE_SHARE outside its parent, or not touching it (the distance);
  * siblings (same level and parent) overlapping by more than SIBLING_OVERLAP of the smaller;
  * a population table most of whose codes match no area (services: it needs the database),
    naming leading zeros a spreadsheet dropped when zeros in front make the codes match.

axis order
  * `urn:ogc:def:crs:EPSG::4326` is latitude first and swapped, unless only the longitude-first
    reading fits where the level above or the previous versions lie (a warning says so);
    `OGC:CRS84` and the short `EPSG:4326` are longitude first.

warnings
  * an invalid polygon (e.g. self-intersecting) repaired with shapely's make_valid — repair is
    safe because the polygonal parts keep the area, and refusing real data for a bow-tie would
    block municipalities for a cosmetic defect; the reason GEOS gives is reported;
  * a duplicate code resolved by geometry: when exactly one of the features with that code lies
    inside its parent (its representative point does), it is kept and the others are skipped
    (Berlin's planning areas contain such a case: a second "06010102 Schloßstraße" that lies in
    Charlottenburg, not in Steglitz);
  * a declared area (`area` property) more than 1 % off the geodesic area, which is stored;
  * population rows for codes without an area, or for areas that have sub-areas (parents'
    figures are always computed from their children), are skipped; age bands that do not add
    up to the total.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from shapely import STRtree
from shapely.geometry import Point
from shapely.prepared import prep

from quartier.areas import geometry as geo
from quartier.areas.models import CODE_MAX, NAME_MAX
from quartier.areas.schemas import (
    AreaChange,
    FeatureCollectionIn,
    ImportReport,
    LevelSummary,
    PopulationSummary,
    ReportRow,
    Severity,
)

MAX_REPORT_ROWS = 1000
AREA_TOLERANCE = 0.01
# Plausibility (warnings the importer must confirm); shares of area, measured in degrees², which
# is exact enough for a ratio at city scale.
CHILD_OUTSIDE_SHARE = 0.05
SIBLING_OVERLAP = 0.05
PREVIOUS_OVERLAP = 0.5
UNMATCHED_SHARE = 0.5

TOTAL_COLUMN = "inhabitants"
FEMALE_COLUMN = "inhabitants_female"
_BAND_COLUMN = re.compile(r"^inhabitants_age_(.+)$")
_BELOW = re.compile(r"^below_(\d{1,3})$")
_RANGE = re.compile(r"^(\d{1,3})_(\d{1,3})$")
_ABOVE = re.compile(r"^above_(\d{1,3})$")
_IGNORED_SUFFIXES = ("_percentage", "_share", "_percent")


class Report:
    """Collects report rows; keeps the first MAX_REPORT_ROWS and counts the rest."""

    def __init__(self) -> None:
        self.rows: list[ReportRow] = []
        self.errors = 0
        self.warnings = 0
        self.to_confirm = 0
        self.omitted = 0
        self.changes: list[AreaChange] = []

    def add(
        self,
        severity: Severity,
        source: str,
        message: str,
        *,
        needs_confirmation: bool = False,
        **where: Any,
    ) -> None:
        if severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
            if needs_confirmation:
                self.to_confirm += 1
        if len(self.rows) >= MAX_REPORT_ROWS:
            self.omitted += 1
            return
        self.rows.append(
            ReportRow(
                severity=severity,
                source=source,
                message=message,
                needs_confirmation=needs_confirmation,
                **where,
            )
        )

    def error(self, source: str, message: str, **where: Any) -> None:
        self.add("error", source, message, **where)

    def warning(self, source: str, message: str, **where: Any) -> None:
        self.add("warning", source, message, **where)

    def confirm(self, source: str, message: str, **where: Any) -> None:
        """A plausibility warning: the import stores nothing until the importer confirms it."""
        self.add("warning", source, message, needs_confirmation=True, **where)

    def build(
        self,
        levels: list[LevelSummary],
        population: PopulationSummary,
        *,
        confirmed: bool = True,
    ) -> ImportReport:
        return ImportReport(
            ok=self.errors == 0 and (confirmed or self.to_confirm == 0),
            errors=self.errors,
            warnings=self.warnings,
            needs_confirmation=self.to_confirm,
            levels=levels,
            population=population,
            rows=self.rows,
            rows_omitted=self.omitted,
            changes=sorted(self.changes, key=lambda c: (c.code, c.field)),
        )


@dataclass(slots=True)
class LevelSource:
    """One level to import: where it comes from (`source`, a file name or request path) and how
    its properties map to our fields."""

    key: str
    collection: FeatureCollectionIn
    source: str
    name_de: str | None = None
    name_en: str | None = None
    code_property: str = "id"
    name_property: str = "name"
    parent_property: str | None = None
    area_property: str | None = "area"
    crs: str | None = None


@dataclass(slots=True)
class PopulationSource:
    text: str
    reference_date: datetime.date
    source: str
    code_column: str = "id"
    separator: str | None = None  # None: `;` or `,`, whichever the header has more of


@dataclass(slots=True)
class AreaRecord:
    code: str
    name: str
    depth: int
    feature: int
    boundary: geo.Boundary
    inside: Point
    parent_code: str | None = None


@dataclass(slots=True)
class RetiredArea:
    """A stored area of the level that the import retires (it is missing from the import)."""

    code: str
    name: str
    parent_code: str | None
    boundary: dict[str, Any]  # GeoJSON, WGS 84
    successors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LevelRecord:
    source: LevelSource
    depth: int
    areas: dict[str, AreaRecord] = field(default_factory=dict)
    summary: LevelSummary | None = None
    # Filled when the areas are written: code → "created", "updated" or "unchanged".
    outcomes: dict[str, str] = field(default_factory=dict)
    retired: list[RetiredArea] = field(default_factory=list)


@dataclass(slots=True)
class BandDefinition:
    key: str
    min_age: int
    max_age: int | None
    label_de: str
    label_en: str


@dataclass(slots=True)
class PopulationRecord:
    code: str
    reference_date: datetime.date
    source: str
    line: int
    total: int
    female: int | None = None
    bands: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class PreparedImport:
    levels: list[LevelRecord]
    population: list[PopulationRecord]
    bands: list[BandDefinition]
    report: Report
    population_summary: PopulationSummary


# -- reading files (CLI, demo, tests) ---------------------------------------------------------


class SourceError(ValueError):
    """A file that cannot be read as what it should be; the message names the file."""


_FEATURE_COLLECTION = msgspec.json.Decoder(FeatureCollectionIn)
_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


def read_collection(raw: bytes, name: str) -> FeatureCollectionIn:
    """A GeoJSON FeatureCollection from bytes; SourceError names `name` and says why not."""
    try:
        return _FEATURE_COLLECTION.decode(raw)
    except msgspec.DecodeError as error:
        raise SourceError(
            f"{name}: not a GeoJSON FeatureCollection we can read ({error})"
        ) from error


def level_from_file(key: str, path: Path, **options: Any) -> LevelSource:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror})") from error
    collection = read_collection(raw, str(path))
    return LevelSource(key=key, collection=collection, source=str(path), **options)


def reference_date_from_name(path: Path) -> datetime.date | None:
    """`population-2020-12-….csv` → 2020-12-31 (a month means its last day)."""
    match = _YEAR_MONTH.search(path.name)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    try:
        if match.group(3):
            return datetime.date(year, month, int(match.group(3)))
        following = datetime.date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        return None
    return following - datetime.timedelta(days=1)


def population_from_file(
    path: Path,
    reference_date: datetime.date | None = None,
    code_column: str = "id",
    encoding: str | None = None,
) -> PopulationSource:
    """A population table from a file: in `encoding` when given (a charset name, see
    `charset_encoding`), otherwise UTF-8 or, when the bytes are not UTF-8, Windows-1252."""
    date = reference_date or reference_date_from_name(path)
    if date is None:
        raise SourceError(f"{path}: give the reference date (the file name does not say it)")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror})") from error
    return PopulationSource(
        text=read_table(raw, str(path), encoding),
        reference_date=date,
        source=str(path),
        code_column=code_column,
    )


ENCODINGS = ("utf-8", "windows-1252")
# Charset names (as in `Content-Type: text/csv; charset=…` or a command option) of the
# encodings we read. ISO-8859-1 means Windows-1252, as browsers (WHATWG Encoding) take it.
_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "windows-1252": "windows-1252",
    "cp1252": "windows-1252",
    "x-cp1252": "windows-1252",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
}


def charset_encoding(charset: str | None) -> str | None:
    """One of ENCODINGS for a declared charset, None when none or an unknown one is declared
    (then the bytes decide, `detect_encoding`)."""
    if not charset:
        return None
    return _CHARSETS.get(charset.strip().strip('"').lower())


def read_table(raw: bytes, name: str, charset: str | None = None) -> str:
    """The text of a CSV file: in the declared charset when it is one we read, otherwise UTF-8
    or, when the bytes are not UTF-8, Windows-1252. SourceError names `name`."""
    encoding = charset_encoding(charset)
    if charset and encoding is None:
        raise SourceError(
            f"{name}: unsupported encoding {charset!r}; supported: " + ", ".join(ENCODINGS)
        )
    encoding = encoding or detect_encoding(raw)
    try:
        return decode_table(raw, encoding)
    except UnicodeDecodeError as error:
        raise SourceError(f"{name}: cannot read as {encoding} text ({error})") from error


def detect_encoding(raw: bytes) -> str:
    """`utf-8` when the bytes are UTF-8 (with or without a byte order mark), otherwise
    `windows-1252`, what spreadsheets on German Windows save as "CSV"."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def decode_table(raw: bytes, encoding: str) -> str:
    """The text of a table in `encoding` (one of ENCODINGS); a UTF-8 byte order mark is dropped.
    Raises UnicodeDecodeError when the bytes are not in that encoding."""
    if encoding == "utf-8":
        return raw.decode("utf-8-sig")
    return raw.decode(encoding)


# -- levels ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text or None
    return None


Bounds = tuple[float, float, float, float]


def _union_bounds(boxes: Iterable[Bounds]) -> Bounds | None:
    found = list(boxes)
    if not found:
        return None
    return (
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    )


def _axis_order(level: LevelSource, crs: str, reference: Bounds | None, report: Report) -> str:
    """The CRS to read a level in whose declared CRS puts latitude first
    (`urn:ogc:def:crs:EPSG::4326`). That is the authority's order and the default; but many
    writers put longitude first under that name (Berlin's LOR files do), so the data decides
    when it can: when only the longitude-first reading is a valid longitude/latitude, or only
    it lies where the level above (or the areas' previous versions) lie, it is taken, with a
    warning that says so. Returns the CRS to transform with."""
    boxes: list[Bounds] = []
    for feature in level.collection.features:
        if feature.geometry is None:
            continue
        try:
            shape = geo.parse_polygonal(feature.geometry.type, feature.geometry.coordinates)
        except geo.GeometryError:
            continue
        boxes.append(tuple(float(v) for v in shape.bounds))  # type: ignore[arg-type]
    as_given = _union_bounds(boxes)
    if as_given is None:
        return crs
    latitude_first = geo.swapped_bounds(as_given)

    def fits(bounds: Bounds) -> bool:
        if not geo.bounds_in_range(bounds):
            return False
        return reference is None or geo.bounds_intersect(bounds, reference)

    if fits(latitude_first) or not fits(as_given):
        return crs
    why = (
        "read latitude first, they would lie away from the level above or from their "
        "previous versions"
        if geo.bounds_in_range(latitude_first)
        else "read latitude first, they would be no valid longitude/latitude"
    )
    report.warning(
        level.source,
        f"the file declares {crs}, whose axis order is latitude, longitude, but its coordinates "
        f"are longitude, latitude ({why}); they are read as longitude, latitude. Declare "
        "OGC:CRS84 to say so",
        field="crs",
    )
    return geo.WGS84


def _read_features(
    level: LevelSource, depth: int, report: Report, reference: Bounds | None = None
) -> list[AreaRecord]:
    src = level.source
    try:
        declared = level.crs or geo.crs_of(level.collection.crs)
        crs = geo.normalise_crs(declared) if declared else None
    except geo.CrsError as error:
        report.error(src, str(error), field="crs")
        return []
    if crs in geo.LATITUDE_FIRST:
        crs = _axis_order(level, crs, reference, report)
    records: list[AreaRecord] = []
    for index, feature in enumerate(level.collection.features):
        properties = feature.properties or {}
        code = _text(properties.get(level.code_property))
        name = _text(properties.get(level.name_property))
        where: dict[str, Any] = {"feature": index, "code": code}
        if code is None:
            report.error(
                src,
                f"no code in property `{level.code_property}`",
                **where,
                field=f"properties.{level.code_property}",
            )
            continue
        if len(code) > CODE_MAX:
            report.error(
                src,
                f"code longer than {CODE_MAX} characters",
                **where,
                field=f"properties.{level.code_property}",
            )
            continue
        if name is None or len(name) > NAME_MAX:
            report.error(
                src,
                f"no name (1 to {NAME_MAX} characters) in property `{level.name_property}`",
                **where,
                field=f"properties.{level.name_property}",
            )
            continue
        if feature.geometry is None:
            report.error(src, "the feature has no geometry", **where, field="geometry")
            continue
        try:
            raw = geo.parse_polygonal(feature.geometry.type, feature.geometry.coordinates)
            if crs is None:
                if not geo.looks_geographic(raw):
                    x, y = raw.geoms[0].exterior.coords[0]
                    report.error(
                        src,
                        f"coordinates look projected (e.g. {x:.1f}, {y:.1f}) but no CRS is "
                        "declared; declare it in the `crs` member or with the level's `crs` "
                        "(e.g. EPSG:25833)",
                        **where,
                        field="geometry",
                    )
                    return []
                wgs84 = raw
            else:
                wgs84 = geo.to_wgs84(raw, crs)
            boundary = geo.normalise(wgs84)
        except geo.GeometryError as error:
            report.error(src, str(error), **where, field="geometry")
            continue
        if boundary.repaired:
            report.warning(
                src, f"invalid geometry repaired ({boundary.repaired})", **where, field="geometry"
            )
        declared_area = properties.get(level.area_property) if level.area_property else None
        if (
            isinstance(declared_area, int | float)
            and not isinstance(declared_area, bool)
            and declared_area > 0
        ):
            deviation = abs(boundary.area_m2 - declared_area) / declared_area
            if deviation > AREA_TOLERANCE:
                report.warning(
                    src,
                    f"declared area {declared_area:,.0f} m² differs from the geodesic area "
                    f"{boundary.area_m2:,.0f} m² by {deviation:.1%}; the geodesic area is "
                    "stored",
                    **where,
                    field=f"properties.{level.area_property}",
                )
        parent_code = None
        if level.parent_property:
            parent_code = _text(properties.get(level.parent_property))
        records.append(
            AreaRecord(
                code=code,
                name=name,
                depth=depth,
                feature=index,
                boundary=boundary,
                inside=boundary.geometry.representative_point(),
                parent_code=parent_code,
            )
        )
    return records


def _parent_by_prefix(code: str, parents: dict[str, AreaRecord]) -> str | None:
    for length in range(len(code) - 1, 0, -1):
        if code[:length] in parents:
            return code[:length]
    return None


def _place_level(
    level: LevelSource,
    depth: int,
    records: list[AreaRecord],
    parents: dict[str, AreaRecord] | None,
    report: Report,
) -> dict[str, AreaRecord]:
    """Resolve parents and duplicates; return the accepted areas by code."""
    src = level.source
    prepared_parents: dict[str, Any] = {}

    def prepared_parent(record: AreaRecord) -> Any:
        assert record.parent_code is not None
        assert parents is not None
        prepared = prepared_parents.get(record.parent_code)
        if prepared is None:
            prepared = prepared_parents[record.parent_code] = prep(
                parents[record.parent_code].boundary.geometry
            )
        return prepared

    def inside_parent(record: AreaRecord) -> bool:
        return bool(prepared_parent(record).contains(record.inside))

    by_code: dict[str, list[AreaRecord]] = {}
    for record in records:
        by_code.setdefault(record.code, []).append(record)

    accepted: dict[str, AreaRecord] = {}
    for code, candidates in by_code.items():
        placed: list[AreaRecord] = []
        for record in candidates:
            if parents is None:  # top level
                record.parent_code = None
                placed.append(record)
                continue
            if level.parent_property:
                if record.parent_code is None or record.parent_code not in parents:
                    given = record.parent_code or "(none)"
                    report.error(
                        src,
                        f"parent {given} (property `{level.parent_property}`) is not an area "
                        "of the level above",
                        feature=record.feature,
                        code=code,
                        field=f"properties.{level.parent_property}",
                    )
                    continue
            else:
                record.parent_code = _parent_by_prefix(code, parents)
                if record.parent_code is None:
                    report.error(
                        src,
                        "no area of the level above has a code that is a prefix of this code",
                        feature=record.feature,
                        code=code,
                    )
                    continue
            placed.append(record)
        if not placed:
            continue
        if len(candidates) == 1:
            record = placed[0]
            if parents is not None:
                assert record.parent_code is not None
                _check_inside_parent(
                    src, record, parents[record.parent_code], prepared_parent(record), report
                )
            accepted[code] = record
            continue
        features = ", ".join(str(r.feature) for r in candidates)
        inside = [r for r in placed if parents is not None and inside_parent(r)]
        if parents is None or len(inside) != 1 or len(placed) != len(candidates):
            report.error(
                src,
                f"code {code} appears {len(candidates)} times (features {features}) and the "
                "duplicates cannot be told apart by their parent's boundary",
                feature=candidates[1].feature,
                code=code,
            )
            continue
        kept = inside[0]
        for record in candidates:
            if record is not kept:
                report.warning(
                    src,
                    f"code {code} appears {len(candidates)} times (features {features}); this "
                    f"one lies outside its parent {record.parent_code} and is skipped, feature "
                    f"{kept.feature} is kept",
                    feature=record.feature,
                    code=code,
                )
        accepted[code] = kept
    return accepted


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else "less than 1 %"


def _check_inside_parent(
    src: str, record: AreaRecord, parent: AreaRecord, prepared: Any, report: Report
) -> None:
    """A child should lie in its parent: more than CHILD_OUTSIDE_SHARE of its area outside (or
    its representative point outside) is a warning to confirm; one that does not touch its
    parent at all says how far away it is (e.g. swapped coordinates, a wrong CRS)."""
    child, outer = record.boundary.geometry, parent.boundary.geometry
    point_inside = bool(prepared.contains(record.inside))
    if point_inside and prepared.contains(child):
        return
    if not child.intersects(outer):
        report.confirm(
            src,
            f"lies {geo.distance_km(child, outer):,} km away from its parent "
            f"{parent.code} ({parent.name}); check the coordinates and the CRS",
            feature=record.feature,
            code=record.code,
            field="geometry",
        )
        return
    outside = 1 - child.intersection(outer).area / child.area
    if outside > CHILD_OUTSIDE_SHARE or not point_inside:
        report.confirm(
            src,
            f"lies outside its parent {parent.code} ({parent.name}): {_percent(outside)} of "
            "its area is outside",
            feature=record.feature,
            code=record.code,
            field="geometry",
        )


def _check_siblings(src: str, areas: dict[str, AreaRecord], report: Report) -> None:
    """Areas with the same parent should not overlap: an overlap of more than SIBLING_OVERLAP
    of the smaller one is a warning to confirm (shared edges and slivers are not)."""
    records = list(areas.values())
    if len(records) < 2:
        return
    tree = STRtree([r.boundary.geometry for r in records])
    pairs = tree.query([r.boundary.geometry for r in records], predicate="intersects")
    for first, second in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
        if first >= second:
            continue
        a, b = records[first], records[second]
        if a.parent_code != b.parent_code:
            continue
        overlap = a.boundary.geometry.intersection(b.boundary.geometry).area
        smaller = min(a.boundary.geometry.area, b.boundary.geometry.area)
        if smaller > 0 and overlap / smaller > SIBLING_OVERLAP:
            later, other = (b, a) if b.feature > a.feature else (a, b)
            report.confirm(
                src,
                f"overlaps {other.code} ({other.name}), an area of the same level and parent, "
                f"by {_percent(overlap / smaller)} of the smaller one",
                feature=later.feature,
                code=later.code,
                field="geometry",
            )


def _check_previous(
    src: str, areas: dict[str, AreaRecord], previous: dict[str, Any], report: Report
) -> None:
    """A boundary should stay near its stored version: old and new overlapping by less than
    PREVIOUS_OVERLAP (of their union) is a warning to confirm."""
    for code, record in areas.items():
        old = previous.get(code)
        if old is None:
            continue
        new = record.boundary.geometry
        union = new.union(old).area
        share = new.intersection(old).area / union if union else 1.0
        if share >= PREVIOUS_OVERLAP:
            continue
        if share == 0:
            how = f"lies {geo.distance_km(new, old):,} km away from its previous version"
        else:
            how = f"overlaps its previous version by only {_percent(share)}"
        report.confirm(
            src,
            f"the new boundary {how}; check that the code still means the same area",
            feature=record.feature,
            code=code,
            field="geometry",
        )


def read_levels(
    levels: list[LevelSource],
    report: Report,
    parents: dict[str, AreaRecord] | None = None,
    first_depth: int = 0,
    previous: dict[str, Any] | None = None,
) -> list[LevelRecord]:
    """Read the levels from `first_depth` down; `parents` are the areas of the level above the
    first one (stored areas, when a level is added below existing ones), None at the top;
    `previous` the stored boundaries (shapely, WGS 84) by code, to compare with."""
    result: list[LevelRecord] = []
    seen: dict[str, str] = {}
    previous = previous or {}
    previous_bounds = _union_bounds(
        tuple(float(v) for v in g.bounds)  # type: ignore[misc]
        for g in previous.values()
    )
    for depth, level in enumerate(levels, start=first_depth):
        if parents:
            reference = _union_bounds(p.boundary.bbox for p in parents.values())
        else:
            reference = previous_bounds
        records = _read_features(level, depth, report, reference)
        accepted = _place_level(level, depth, records, parents, report)
        _check_siblings(level.source, accepted, report)
        _check_previous(level.source, accepted, previous, report)
        for code in accepted:
            if code in seen:
                report.error(
                    level.source,
                    f"code {code} is also used on level {seen[code]}",
                    code=code,
                    feature=accepted[code].feature,
                )
            seen[code] = level.key
        features = len(level.collection.features)
        summary = LevelSummary(
            key=level.key, depth=depth, features=features, skipped=features - len(accepted)
        )
        result.append(LevelRecord(source=level, depth=depth, areas=accepted, summary=summary))
        parents = accepted
    return result


# -- population --------------------------------------------------------------------------------


def band_definition(key: str) -> BandDefinition | None:
    """`below_6`, `6_15`, `above_65` → age ranges with labels; None if unreadable."""
    if match := _BELOW.match(key):
        upper = int(match.group(1))
        return BandDefinition(key, 0, upper, f"unter {upper}", f"under {upper}")
    if match := _RANGE.match(key):
        lower, upper = int(match.group(1)), int(match.group(2))
        if upper <= lower:
            return None
        return BandDefinition(
            key, lower, upper, f"{lower} bis unter {upper}", f"{lower} to under {upper}"
        )
    if match := _ABOVE.match(key):
        lower = int(match.group(1))
        return BandDefinition(key, lower, None, f"{lower} und älter", f"{lower} and over")
    return None


def _count(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def detect_separator(text: str) -> str:
    """`;` or `,`: whichever the header line has more of (German spreadsheets write `;`)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_population(
    sources: list[PopulationSource], report: Report, summary: PopulationSummary
) -> tuple[list[PopulationRecord], list[BandDefinition]]:
    merged: dict[tuple[str, datetime.date], PopulationRecord] = {}
    bands: dict[str, BandDefinition] = {}
    for source in sources:
        try:
            src = source.source
            text = source.text.lstrip("\ufeff")
            reader = csv.DictReader(
                io.StringIO(text, newline=""), delimiter=source.separator or detect_separator(text)
            )
            columns = [c.strip() for c in reader.fieldnames or []]
            reader.fieldnames = columns
            missing = [c for c in (source.code_column, TOTAL_COLUMN) if c not in columns]
            if missing:
                report.error(src, "missing column(s) " + ", ".join(missing), line=1)
                continue
            band_columns: dict[str, str] = {}
            for column in columns:
                match = _BAND_COLUMN.match(column)
                if not match or column.endswith(_IGNORED_SUFFIXES):
                    continue
                definition = band_definition(match.group(1))
                if definition is None:
                    report.error(
                        src, f"cannot read column {column} as an age band", line=1, field=column
                    )
                    continue
                bands.setdefault(definition.key, definition)
                band_columns[column] = definition.key
            seen_here: set[str] = set()
            for row in reader:
                line = reader.line_num
                code = (row.get(source.code_column) or "").strip()
                if not code:
                    report.error(
                        src,
                        f"no code in column {source.code_column}",
                        line=line,
                        field=source.code_column,
                    )
                    continue
                summary.rows += 1
                if code in seen_here:
                    report.error(
                        src, f"code {code} appears twice in this table", line=line, code=code
                    )
                    continue
                seen_here.add(code)
                try:
                    total = _count(row.get(TOTAL_COLUMN))
                    female = _count(row.get(FEMALE_COLUMN))
                    counts = {band_columns[c]: _count(row.get(c)) for c in band_columns}
                except ValueError as error:
                    report.error(src, f"not a whole number ≥ 0: {error}", line=line, code=code)
                    continue
                if total is None:
                    report.error(
                        src,
                        f"no value in column {TOTAL_COLUMN}",
                        line=line,
                        code=code,
                        field=TOTAL_COLUMN,
                    )
                    continue
                summary.inhabitants_read += total
                if female is not None and female > total:
                    report.error(
                        src,
                        f"{female} women but {total} inhabitants",
                        line=line,
                        code=code,
                        field=FEMALE_COLUMN,
                    )
                    continue
                record = PopulationRecord(
                    code=code,
                    reference_date=source.reference_date,
                    source=src,
                    line=line,
                    total=total,
                    female=female,
                    bands={k: v for k, v in counts.items() if v is not None},
                )
                key = (code, source.reference_date)
                existing = merged.get(key)
                if existing is None:
                    merged[key] = record
                elif _merge(existing, record, report):
                    summary.inhabitants_read -= total  # counted once per area and date
        except csv.Error as error:  # e.g. a line break inside an unquoted field
            report.error(source.source, f"the CSV cannot be read: {error}")
    ordered = sorted(bands.values(), key=lambda b: (b.min_age, b.max_age or 999))
    return list(merged.values()), ordered


def _merge(existing: PopulationRecord, new: PopulationRecord, report: Report) -> bool:
    """Combine figures of one area from two tables (e.g. Berlin's t1 and t2); disagreeing
    figures are an error. Returns True when merged."""
    conflicts: list[str] = []
    if existing.total != new.total:
        conflicts.append(f"inhabitants {existing.total} vs {new.total}")
    if new.female is not None:
        if existing.female is not None and existing.female != new.female:
            conflicts.append(f"women {existing.female} vs {new.female}")
        existing.female = new.female
    for key, count in new.bands.items():
        if key in existing.bands and existing.bands[key] != count:
            conflicts.append(f"age {key} {existing.bands[key]} vs {count}")
        existing.bands[key] = count
    if conflicts:
        report.error(
            new.source,
            f"figures differ from {existing.source} line {existing.line}: " + "; ".join(conflicts),
            line=new.line,
            code=new.code,
        )
        return False
    return True


def prepare(
    levels: list[LevelSource],
    population: Iterable[PopulationSource],
    parents: dict[str, AreaRecord] | None = None,
    first_depth: int = 0,
    previous: dict[str, Any] | None = None,
) -> PreparedImport:
    report = Report()
    level_records = read_levels(levels, report, parents, first_depth, previous)
    summary = PopulationSummary()
    records, bands = read_population(list(population), report, summary)
    for record in records:
        # Only when the table gives every band: a partial set cannot be checked.
        if bands and len(record.bands) == len(bands):
            added = sum(record.bands.values())
            if added != record.total:
                report.warning(
                    record.source,
                    f"age bands add up to {added}, not {record.total} inhabitants",
                    line=record.line,
                    code=record.code,
                )
    summary.reference_dates = sorted({r.reference_date for r in records})
    summary.age_bands = [b.key for b in bands]
    return PreparedImport(
        levels=level_records,
        population=records,
        bands=bands,
        report=report,
        population_summary=summary,
    )
