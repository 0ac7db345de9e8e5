"""File formats of the aggregated needs: JSON, CSV, German-Excel CSV, XLSX and GeoJSON.

Every format renders one `AggregatedNeeds` (surveys.aggregation) — the disclosure-controlled
grid — and carries its metadata: survey(s) and process, period of the responses, area level,
k and min_respondents, weighting method, interval method, disclosure-control method, generation
time and the number of areas not shown. Every figure comes from the one `AggregatedNeeds`, so
a cell has the same (perturbed, stats.cellkey) value in every format.

* **json**: the `AggregatedNeeds` document (`metadata`, `categories`, `areas`, `totals`,
  `representativeness`).

Representativeness (per area with either weighting; per age stratum too with weighting=age,
where the population by age band is known) is in every format: the R-indicator in the
metadata; each area's population and response rate as the columns `population` /
`response_rate` of its rows (CSV, XLSX) or properties (GeoJSON, with `<stratum>_respondents` /
`<stratum>_population` / `<stratum>_response_rate` per age stratum); the XLSX sheet
`Repräsentativität` lists area × age stratum. Respondent counts in it are the
same perturbed values as everywhere else, so it adds nothing an attacker could difference.
Where a survey maps a question's options to the population's sexes, each area's figures by
sex are the columns `female_respondents` … `male_response_rate` (CSV, XLSX), the properties
`sex_female_respondents` … (GeoJSON) and rows area × sex of `Repräsentativität` (column
`Geschlecht`); the respondents by sex are the options' perturbed counts of the per-question
results, and `metadata` item `sex_method` says how they are counted.
* **csv**: UTF-8, comma, decimal point, one row per area × need category plus one row per
  category for the whole scope (`row_type` = `area` | `scope`). The metadata come first as
  comment lines `# key: value` (one per item, then an empty `#` line); readers skip them with
  e.g. pandas `read_csv(comment="#")` or R `read.csv(comment.char = "#")`.
* **csv-de**: the same for German spreadsheet programs: UTF-8 with byte-order mark, semicolon,
  decimal comma, German column names, metadata labels and metadata values (the methods' German
  texts, `core.bilingual`), `ja`/`nein`.
* **xlsx**: German like csv-de, whatever the request's language: a sheet `Bedarfe` (the rows of
  csv-de, numbers as numbers, shares formatted as percentages) and a sheet `Metadaten`; written
  by xlsxwriter in constant-memory mode to a temporary file that is then streamed.
* **geojson**: a FeatureCollection of the areas with their boundary (passed through from the
  database as stored, one area at a time) and flat properties for GIS tools —
  `<category>_expressing`, `<category>_share`, … per need category — plus the foreign members
  `metadata`, `categories`, `totals` and `r_indicator`.

Values of areas not shown are empty (CSV, XLSX) or null (JSON, GeoJSON) and flagged
(`suppressed`, reason `protected`), never 0. All renderers are async generators of bytes.
`table_csv` and `table_xlsx` render any long table with its metadata items this way, and
`feature_collection` any figures per social area with their boundaries; other modules' exports
(the feedback summaries of measures) use them, so every export of Quartier has the same shape.
"""

from __future__ import annotations

import csv
import datetime
import enum
import functools
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, NamedTuple
from uuid import UUID

import anyio.to_thread
import msgspec
from sqlalchemy import ARRAY, Uuid, any_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.areas.services import boundaries_on
from quartier.core.bilingual import Bilingual
from quartier.surveys.aggregation import (
    DISCLOSURE_METHOD,
    INTERVAL_METHOD,
    SEX_METHOD,
    WEIGHTING_METHODS,
    WEIGHTINGS_DE,
    AggregatedNeeds,
    AreaNeeds,
    AreaRepresentation,
    NeedFigure,
)
from quartier.surveys.schemas import PopulationSex


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    CSV_DE = "csv-de"
    XLSX = "xlsx"
    GEOJSON = "geojson"


MEDIA_TYPES = {
    Format.JSON: "application/json",
    # Litestar adds `; charset=utf-8` to every text/* type: stating it here repeated it.
    Format.CSV: "text/csv; header=present",
    Format.CSV_DE: "text/csv; header=present",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.GEOJSON: "application/geo+json",
}
EXTENSIONS = {
    Format.JSON: "json",
    Format.CSV: "csv",
    Format.CSV_DE: "csv",
    Format.XLSX: "xlsx",
    Format.GEOJSON: "geojson",
}
CHUNK = 64 * 1024
Column = tuple[str, str]  # (key, German column name)
# (key, German label, value); a value that is text in words is a `Bilingual`: its English text
# in csv, its German text in csv-de and XLSX (`value_of`).
MetadataItem = tuple[str, str, Any]
_encoder = msgspec.json.Encoder()


def filename(result: AggregatedNeeds, fmt: Format, *, process: bool = False) -> str:
    """`needs-survey-<id>-<level>.csv`, or `needs-process-<id>-…` for a process's surveys."""
    scope = (
        f"process-{result.metadata.process_id}"
        if process
        else f"survey-{result.metadata.surveys[0].id}"
    )
    suffix = "-de" if fmt is Format.CSV_DE else ""
    return f"needs-{scope}-{result.metadata.level.key}{suffix}.{EXTENSIONS[fmt]}"


# -- metadata --------------------------------------------------------------------------------------


def metadata_items(result: AggregatedNeeds) -> list[MetadataItem]:
    """(key, German label, value) of every metadata item, in reading order."""
    meta = result.metadata
    return [
        ("surveys", "Befragung(en)", "; ".join(f"{s.title} ({s.id})" for s in meta.surveys)),
        ("process", "Planungsprozess", f"{meta.process_title} ({meta.process_id})"),
        ("first_submission", "Erste Antwort", meta.first_submission),
        ("last_submission", "Letzte Antwort", meta.last_submission),
        ("level", "Gebietsebene", f"{meta.level.name} ({meta.level.key})"),
        ("at", "Stichtag der Gebietsgliederung", meta.at),
        ("k_threshold", "Schwelle k (Werte 1 bis k−1 nie veröffentlicht)", meta.k_threshold),
        ("min_respondents", "Mindestzahl Antwortende je Gebiet", meta.min_respondents),
        ("weighting", "Gewichtung", Bilingual(meta.weighting.value, WEIGHTINGS_DE[meta.weighting])),
        (
            "weighting_method",
            "Gewichtungsverfahren",
            WEIGHTING_METHODS[meta.weighting].of(meta.weighting_method),
        ),
        (
            "age_strata",
            "Altersschichten",
            "; ".join(f"{s.key}: {', '.join(s.population_bands)}" for s in meta.age_strata),
        ),
        ("interval_method", "Konfidenzintervall", INTERVAL_METHOD.of(meta.interval_method)),
        ("generated_at", "Erstellt am", meta.generated_at.isoformat(timespec="seconds")),
        (
            "disclosure_method",
            "Geheimhaltungsverfahren",
            DISCLOSURE_METHOD.of(meta.disclosure_method),
        ),
        (
            "r_indicator",
            "R-Indikator (Repräsentativität der Antwortquoten, je Gebiet und Altersschicht)",
            ""
            if result.representativeness is None or result.representativeness.r_indicator is None
            else round(result.representativeness.r_indicator, 4),
        ),
        (
            "sex_method",
            "Repräsentativität nach Geschlecht",
            SEX_METHOD.of(result.representativeness.sex_method)
            if result.representativeness and result.representativeness.sex_method
            else "",
        ),
        ("withheld_areas", "Nicht gezeigte Gebiete", meta.withheld_areas),
        ("attribution", "Quellen der Gebietsdaten", meta.attribution or ""),
    ]


# -- rows (CSV and XLSX) ---------------------------------------------------------------------------

COLUMNS = [
    ("row_type", "Zeilenart"),
    ("area_id", "Gebiet-ID"),
    ("area_code", "Gebietsschlüssel"),
    ("area_name", "Gebiet"),
    ("parent_code", "Übergeordnetes Gebiet"),
    ("respondents", "Antwortende"),
    ("area_withheld", "Gebiet zurückgehalten"),
    ("area_reason", "Grund (Gebiet)"),
    ("effective_sample_size", "Effektive Stichprobengröße"),
    ("category", "Bedarfskategorie"),
    ("category_label", "Bedarf"),
    ("expressing", "Davon mit Bedarf"),
    ("share", "Anteil"),
    ("share_ci_low", "Anteil 95%-KI unten"),
    ("share_ci_high", "Anteil 95%-KI oben"),
    ("weighted_share", "Gewichteter Anteil"),
    ("weighted_ci_low", "Gewichteter Anteil 95%-KI unten"),
    ("weighted_ci_high", "Gewichteter Anteil 95%-KI oben"),
    ("weighted_gap", "Grund ohne gewichteten Anteil"),
    ("suppressed", "Unterdrückt"),
    ("reason", "Grund (Zelle)"),
    ("population", "Einwohner (Gebiet)"),
    ("response_rate", "Rücklaufquote (Gebiet)"),
    ("female_respondents", "Antwortende Frauen (Gebiet)"),
    ("female_population", "Einwohnerinnen (Gebiet)"),
    ("female_response_rate", "Rücklaufquote Frauen (Gebiet)"),
    ("male_respondents", "Antwortende Männer (Gebiet)"),
    ("male_population", "Einwohner ohne Frauen (Gebiet)"),
    ("male_response_rate", "Rücklaufquote Männer (Gebiet)"),
]
SEXES: tuple[PopulationSex, ...] = ("female", "male")
SHARE_COLUMNS = {
    "share",
    "share_ci_low",
    "share_ci_high",
    "weighted_share",
    "weighted_ci_low",
    "weighted_ci_high",
    "response_rate",
    "female_response_rate",
    "male_response_rate",
}
REPRESENTATION_COLUMNS = [
    ("area_code", "Gebietsschlüssel"),
    ("stratum", "Altersschicht"),
    ("sex", "Geschlecht"),
    ("respondents", "Antwortende"),
    ("population", "Einwohner"),
    ("response_rate", "Rücklaufquote"),
]


def _represented(result: AggregatedNeeds) -> dict[UUID, AreaRepresentation]:
    if result.representativeness is None:
        return {}
    return {area.id: area for area in result.representativeness.areas}


def rows(result: AggregatedNeeds) -> Iterator[list[Any]]:
    """The long table: one row per area × category, then one per category for the scope.
    Values are Python values (None for empty); the formats render them."""
    labels = {c.key: c.label for c in result.categories}
    represented = _represented(result)
    for area in result.areas:
        shown = represented.get(area.id)
        rate = [shown.population, shown.response_rate] if shown else [None, None]
        rate += _by_sex(shown)
        for figure in area.needs:
            yield [*_row("area", area, figure, labels), *rate]
    totals = result.totals
    for figure in totals.needs:
        yield [
            "scope",
            None,
            None,
            None,
            None,
            totals.respondents,
            totals.withheld,
            totals.reason,
            None,
            *_cells(figure, labels),
            None,
            None,
            *_by_sex(None),
        ]


def _by_sex(shown: AreaRepresentation | None) -> list[Any]:
    """Respondents, population and response rate by sex (female, then male); empty where
    the area has no figures by sex."""
    found = {item.sex: item for item in shown.sexes} if shown else {}
    values: list[Any] = []
    for sex in SEXES:
        item = found.get(sex)
        values += [item.respondents, item.population, item.response_rate] if item else [None] * 3
    return values


def representation_rows(result: AggregatedNeeds) -> Iterator[list[Any]]:
    """Area × age stratum, then area × sex: perturbed respondents, population, response
    rate."""
    if result.representativeness is None:
        return
    for area in result.representativeness.areas:
        for stratum in area.strata:
            yield [
                area.code,
                stratum.stratum,
                None,
                stratum.respondents,
                stratum.population,
                stratum.response_rate,
            ]
        for item in area.sexes:
            yield [
                area.code,
                None,
                item.sex,
                item.respondents,
                item.population,
                item.response_rate,
            ]


def _row(kind: str, area: AreaNeeds, figure: NeedFigure, labels: dict[str, str]) -> list[Any]:
    return [
        kind,
        str(area.id),
        area.code,
        area.name,
        area.parent_code,
        area.respondents,
        area.withheld,
        area.reason,
        area.effective_sample_size,
        *_cells(figure, labels),
    ]


def _cells(figure: NeedFigure, labels: dict[str, str]) -> list[Any]:
    ci = figure.share_ci
    weighted = figure.weighted_share_ci
    return [
        figure.category,
        labels.get(figure.category, figure.category),
        figure.expressing,
        figure.share,
        ci.low if ci else None,
        ci.high if ci else None,
        figure.weighted_share,
        weighted.low if weighted else None,
        weighted.high if weighted else None,
        figure.weighted_gap,
        figure.suppressed,
        figure.reason,
    ]


def value_of(value: Any, *, german: bool) -> Any:
    """A metadata value in the export's language: a `Bilingual`'s German or English text, any
    other value as it is."""
    if isinstance(value, Bilingual):
        return value.de if german else value.en
    return value


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _german(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float):
        return repr(round(value, 6)).replace(".", ",")
    return str(value)


async def table_csv(
    items: Sequence[MetadataItem],
    columns: Sequence[Column],
    table: Iterable[Sequence[Any]],
    *,
    german: bool,
) -> AsyncIterator[bytes]:
    """Any long table as csv or csv-de: the metadata `items` as `#` comment lines (German
    labels and values for csv-de), the header (German column names for csv-de), then the rows. Other
    modules' exports (feedback summaries) render their own tables through this."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german else ",", lineterminator="\r\n")
    show: Callable[[Any], str] = _german if german else _plain
    if german:
        buffer.write("\ufeff")
    for key, label, value in items:
        name = label if german else key
        text = show(value_of(value, german=german))
        buffer.write(f"# {name}: {text}".replace("\r", " ").replace("\n", " ") + "\r\n")
    buffer.write("#\r\n")
    writer.writerow([german_name if german else key for key, german_name in columns])
    for row in table:
        writer.writerow([show(value) for value in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _csv(result: AggregatedNeeds, *, german: bool) -> AsyncIterator[bytes]:
    return table_csv(metadata_items(result), COLUMNS, rows(result), german=german)


# -- JSON ----------------------------------------------------------------------------------------


async def _json(result: AggregatedNeeds) -> AsyncIterator[bytes]:
    """The document of `result`, one area at a time."""
    yield (
        b'{"metadata":'
        + _encoder.encode(result.metadata)
        + b',"categories":'
        + _encoder.encode(result.categories)
        + b',"areas":['
    )
    separator = b""
    for area in result.areas:
        yield separator + _encoder.encode(area)
        separator = b","
    yield (
        b'],"totals":'
        + _encoder.encode(result.totals)
        + b',"representativeness":'
        + _encoder.encode(result.representativeness)
        + b"}"
    )


# -- XLSX ----------------------------------------------------------------------------------------


class Sheet(NamedTuple):
    """A further sheet of a workbook (between the table and `Metadaten`)."""

    name: str
    columns: Sequence[Column]
    table: Iterable[Sequence[Any]]
    share_columns: Collection[str] = ()


def write_xlsx_table(
    path: str,
    items: Sequence[MetadataItem],
    columns: Sequence[Column],
    table: Iterable[Sequence[Any]],
    *,
    sheet_name: str,
    share_columns: Collection[str] = (),
    more_sheets: Sequence[Sheet] = (),
) -> None:
    """Any long table as a workbook, in German: the sheet `sheet_name` (German column names,
    numbers as numbers, `share_columns` as percentages), `more_sheets` alike, and the sheet
    `Metadaten` (German labels and values)."""
    import xlsxwriter  # type: ignore[import-untyped]

    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "default_date_format": "yyyy-mm-dd"}
    )
    try:
        bold = workbook.add_format({"bold": True})
        percent = workbook.add_format({"num_format": "0.0%"})
        decimal = workbook.add_format({"num_format": "0.0"})
        for name, sheet_columns, sheet_table, shares in (
            Sheet(sheet_name, columns, table, share_columns),
            *more_sheets,
        ):
            sheet = workbook.add_worksheet(name)
            for column, (_, german_name) in enumerate(sheet_columns):
                sheet.write_string(0, column, german_name, bold)
            keys = [key for key, _ in sheet_columns]
            for number, row in enumerate(sheet_table, start=1):
                for column, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        sheet.write_string(number, column, "ja" if value else "nein")
                    elif isinstance(value, float):
                        style = percent if keys[column] in shares else decimal
                        sheet.write_number(number, column, value, style)
                    elif isinstance(value, int):
                        sheet.write_number(number, column, value)
                    else:
                        sheet.write_string(number, column, str(value))
            sheet.freeze_panes(1, 0)
        meta = workbook.add_worksheet("Metadaten")
        meta.write_string(0, 0, "Angabe", bold)
        meta.write_string(0, 1, "Schlüssel", bold)
        meta.write_string(0, 2, "Wert", bold)
        for number, (key, label, item) in enumerate(items, start=1):
            value = value_of(item, german=True)
            meta.write_string(number, 0, label)
            meta.write_string(number, 1, key)
            if isinstance(value, int) and not isinstance(value, bool):
                meta.write_number(number, 2, value)
            else:
                meta.write_string(number, 2, "" if value is None else str(value))
    finally:
        workbook.close()


async def table_xlsx(
    items: Sequence[MetadataItem],
    columns: Sequence[Column],
    table: Iterable[Sequence[Any]],
    *,
    sheet_name: str,
    share_columns: Collection[str] = (),
    more_sheets: Sequence[Sheet] = (),
) -> AsyncIterator[bytes]:
    """`write_xlsx_table` to a temporary file (in a worker thread), streamed in chunks."""
    handle, path = tempfile.mkstemp(prefix="quartier-export-", suffix=".xlsx")
    os.close(handle)
    try:
        await anyio.to_thread.run_sync(
            functools.partial(
                write_xlsx_table,
                path,
                items,
                columns,
                table,
                sheet_name=sheet_name,
                share_columns=share_columns,
                more_sheets=more_sheets,
            )
        )
        with open(path, "rb") as file:  # noqa: ASYNC230 - local temporary file, read in chunks
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def _xlsx(result: AggregatedNeeds) -> AsyncIterator[bytes]:
    return table_xlsx(
        metadata_items(result),
        COLUMNS,
        rows(result),
        sheet_name="Bedarfe",
        share_columns=SHARE_COLUMNS,
        more_sheets=(
            []
            if result.representativeness is None
            else [
                Sheet(
                    "Repräsentativität",
                    REPRESENTATION_COLUMNS,
                    representation_rows(result),
                    {"response_rate"},
                )
            ]
        ),
    )


# -- GeoJSON -------------------------------------------------------------------------------------

_BOUNDARIES = text(
    """
    SELECT id, boundary::text FROM social_areas WHERE id = ANY(:ids) ORDER BY code
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid)))


def _boundaries(at: datetime.date | None) -> Any:
    """The boundaries of `:ids` in code order: as stored, or (`at`) those valid on that day."""
    if at is None:
        return _BOUNDARIES
    dated = boundaries_on(at).subquery("dated")
    return (
        select(dated.c.id, dated.c.boundary)
        .where(dated.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))
        .order_by(dated.c.code)
    )


def feature_properties(area: AreaNeeds, shown: AreaRepresentation | None = None) -> dict[str, Any]:
    """Flat properties of one area, for GIS tools that cannot read nested values; with
    `shown`, its representativeness (population and response rates, per age stratum too)."""
    properties: dict[str, Any] = {
        "code": area.code,
        "name": area.name,
        "parent_code": area.parent_code,
        "respondents": area.respondents,
        "withheld": area.withheld,
        "withheld_reason": area.reason,
        "effective_sample_size": area.effective_sample_size,
    }
    for figure in area.needs:
        key = figure.category
        ci, weighted = figure.share_ci, figure.weighted_share_ci
        properties |= {
            f"{key}_expressing": figure.expressing,
            f"{key}_share": figure.share,
            f"{key}_ci_low": ci.low if ci else None,
            f"{key}_ci_high": ci.high if ci else None,
            f"{key}_weighted_share": figure.weighted_share,
            f"{key}_weighted_ci_low": weighted.low if weighted else None,
            f"{key}_weighted_ci_high": weighted.high if weighted else None,
            f"{key}_suppressed": figure.suppressed,
            f"{key}_reason": figure.reason,
        }
    if shown is not None:
        properties |= {"population": shown.population, "response_rate": shown.response_rate}
        for stratum in shown.strata:
            properties |= {
                f"{stratum.stratum}_respondents": stratum.respondents,
                f"{stratum.stratum}_population": stratum.population,
                f"{stratum.stratum}_response_rate": stratum.response_rate,
            }
        for item in shown.sexes:
            properties |= {
                f"sex_{item.sex}_respondents": item.respondents,
                f"sex_{item.sex}_population": item.population,
                f"sex_{item.sex}_response_rate": item.response_rate,
            }
    return properties


async def feature_collection(
    engine: AsyncEngine,
    members: Sequence[tuple[str, Any]],
    area_ids: Collection[UUID],
    feature: Callable[[UUID], tuple[str, dict[str, Any]]],
    at: datetime.date | None = None,
) -> AsyncIterator[bytes]:
    """A FeatureCollection of social areas with their boundaries: the foreign `members` (name,
    value) first, then one feature per area of `area_ids` in the order of their codes, its id
    and flat properties from `feature(area_id)`. Boundaries are read one area at a time on the
    export's own connection (the request's session is closed once the response starts) and
    passed through as stored — with `at`, the boundary version valid on that day. Other
    modules' exports (feedback summaries) write their
    GeoJSON through this, so every GeoJSON of Quartier has the same shape."""
    yield (
        b'{"type":"FeatureCollection"'
        + b"".join(
            b"," + _encoder.encode(name) + b":" + _encoder.encode(value) for name, value in members
        )
        + b',"features":['
    )
    separator = b""
    async with engine.connect() as connection:
        stream = await connection.stream(
            _boundaries(at).execution_options(yield_per=50), {"ids": list(area_ids)}
        )
        async for area_id, boundary in stream:
            code, properties = feature(area_id)
            yield (
                separator
                + b'{"type":"Feature","id":'
                + _encoder.encode(code)
                + b',"properties":'
                + _encoder.encode(properties)
                + b',"geometry":'
                + boundary.encode()
                + b"}"
            )
            separator = b","
    yield b"]}"


def _geojson(result: AggregatedNeeds, engine: AsyncEngine) -> AsyncIterator[bytes]:
    by_id: dict[UUID, AreaNeeds] = {area.id: area for area in result.areas}
    represented = _represented(result)

    def feature(area_id: UUID) -> tuple[str, dict[str, Any]]:
        area = by_id[area_id]
        return area.code, feature_properties(area, represented.get(area_id))

    return feature_collection(
        engine,
        [
            ("metadata", result.metadata),
            ("categories", result.categories),
            ("totals", result.totals),
            (
                "r_indicator",
                result.representativeness.r_indicator if result.representativeness else None,
            ),
        ],
        by_id,
        feature,
        result.metadata.at,
    )


# -- entry point ---------------------------------------------------------------------------------


def render(
    result: AggregatedNeeds, fmt: Format, engine: AsyncEngine | None = None
) -> AsyncIterator[bytes]:
    """The export of `result` in `fmt`, as chunks of bytes. GeoJSON needs `engine` to read
    the boundaries."""
    if fmt is Format.JSON:
        return _json(result)
    if fmt is Format.CSV:
        return _csv(result, german=False)
    if fmt is Format.CSV_DE:
        return _csv(result, german=True)
    if fmt is Format.XLSX:
        return _xlsx(result)
    if engine is None:
        raise ValueError("the GeoJSON export reads boundaries and needs an engine")
    return _geojson(result, engine)
