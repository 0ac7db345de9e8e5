"""File formats of a measure's feedback summary: JSON, CSV, German-Excel CSV and XLSX, in the
shape of the surveys' exports and rendered by their code (`surveys.exports.table_csv`,
`table_xlsx`): metadata as `#` lines (CSV) or the sheet `Metadaten` (XLSX), then one long table.

Every figure comes from the one `FeedbackSummary` (`feedback.summary`, cell key method), so a
cell has the same perturbed value in every format and on the pages. Rows (`row_type`):

* `group` — an anonymous group (all, a kind, a kind in an area): its perturbed responses, or
  empty with `group_withheld` and reason `protected`;
* `stance` — a stance in a group; `rating` — a rating value (1–5) of a criterion in a group;
  `criterion` — a criterion's n, mean, median and 95% interval in a group;
* `organisation` — an organisation's named statement (stance), `organisation_rating` its
  ratings; `comment` — a visible comment (`item`: the section, or `general`).

GeoJSON (`surveys.exports.feature_collection`, as the aggregated needs): one feature per social
area of the summary's area groups (the measure's areas and every area a response named) with its
boundary and flat properties per anonymous kind — `<kind>_respondents`, `<kind>_withheld`,
`<kind>_reason`, `<kind>_<stance>`, `<kind>_support_share` and `<kind>_<criterion>_n|mean|
median|ci_low|ci_high|suppressed` — null for a protected group, never 0; the foreign members
`metadata` (the summary's, with measure, process and the attribution of the area data),
`responses_by_kind`, `totals` (the groups without an area) and `organisations` (the named
statements).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quartier.areas.models import SocialArea
from quartier.core.bilingual import Bilingual
from quartier.measures import schemas as s
from quartier.measures.feedback import DISCLOSURE_METHOD, INTERVAL_METHOD
from quartier.measures.models import RespondentKind, Stance
from quartier.surveys import exports
from quartier.surveys.exports import Column, MetadataItem


class SummaryFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    CSV_DE = "csv-de"
    XLSX = "xlsx"
    GEOJSON = "geojson"


ANONYMOUS_KINDS = (RespondentKind.RESIDENT.value, RespondentKind.PROFESSIONAL.value)
MEDIA_TYPES = {fmt: exports.MEDIA_TYPES[exports.Format(fmt.value)] for fmt in SummaryFormat}

COLUMNS: list[Column] = [
    ("row_type", "Zeilenart"),
    ("group", "Gruppe"),
    ("kind", "Art der Antwortenden"),
    ("area_code", "Gebietsschlüssel"),
    ("respondents", "Antwortende"),
    ("group_withheld", "Gruppe zurückgehalten"),
    ("group_reason", "Grund (Gruppe)"),
    ("item", "Merkmal"),
    ("item_label", "Bezeichnung"),
    ("value", "Wert"),
    ("count", "Anzahl"),
    ("n", "Bewertungen"),
    ("mean", "Mittelwert"),
    ("median", "Median"),
    ("ci_low", "95%-KI unten"),
    ("ci_high", "95%-KI oben"),
    ("suppressed", "Unterdrückt"),
    ("reason", "Grund (Zelle)"),
]


def filename(summary: s.FeedbackSummary, fmt: SummaryFormat) -> str:
    """`feedback-measure-<id>-v<version>.csv` (`-de` before the extension for csv-de)."""
    meta = summary.metadata
    suffix = "-de" if fmt is SummaryFormat.CSV_DE else ""
    extension = exports.EXTENSIONS[exports.Format(fmt.value)]
    return f"feedback-measure-{meta.measure_id}-v{meta.version}{suffix}.{extension}"


def metadata_items(
    summary: s.FeedbackSummary, title: str, process: str, attribution: str = ""
) -> list[MetadataItem]:
    """(key, German label, value) of every metadata item, as the surveys' exports have them
    (text values in English and German)."""
    meta = summary.metadata
    return [
        ("measure", "Maßnahme", f"{title} ({meta.measure_id})"),
        ("version", "Fassung", meta.version),
        ("process", "Planungsprozess", process),
        ("consultation", "Beteiligung", str(meta.consultation_id)),
        ("opens_at", "Beginn", meta.opens_at.isoformat(timespec="seconds")),
        ("closes_at", "Ende", meta.closes_at.isoformat(timespec="seconds")),
        (
            "level",
            "Gruppen",
            Bilingual(
                "all; kind of respondents; kind × social area",
                "alle; Art der Antwortenden; Art × Sozialraum",
            ),
        ),
        ("k_threshold", "Schwelle k (Werte 1 bis k−1 nie veröffentlicht)", meta.k_threshold),
        ("min_respondents", "Mindestzahl Antwortende je Gruppe", meta.min_respondents),
        ("weighting", "Gewichtung", Bilingual("none", "keine")),
        ("interval_method", "Konfidenzintervall", INTERVAL_METHOD.of(meta.interval_method)),
        ("generated_at", "Erstellt am", meta.generated_at.isoformat(timespec="seconds")),
        (
            "disclosure_method",
            "Geheimhaltungsverfahren",
            DISCLOSURE_METHOD.of(meta.disclosure_method),
        ),
        ("suppressed_cells", "Unterdrückte Werte", meta.suppressed_cells),
        ("withheld_groups", "Nicht gezeigte Gruppen", meta.withheld_groups),
        ("attribution", "Quellen der Gebietsdaten", attribution),
    ]


def _count_row(
    row_type: str, group: s.GroupSummary, item: str, label: str, value: Any, count: s.Count
) -> list[Any]:
    return [
        row_type,
        group.key,
        group.kind,
        group.area_code,
        None,
        None,
        None,
        item,
        label,
        value,
        count.count,
        None,
        None,
        None,
        None,
        None,
        count.suppressed,
        count.reason,
    ]


def rows(summary: s.FeedbackSummary) -> Iterator[list[Any]]:
    """The long table of the summary; Python values, None for empty."""
    for group in summary.groups:
        yield [
            "group",
            group.key,
            group.kind,
            group.area_code,
            group.respondents,
            group.withheld,
            group.reason,
            *([None] * 9),
            group.withheld,
            group.reason,
        ]
        for stance in group.stances:
            yield _count_row("stance", group, "stance", stance.key, stance.key, stance)
        for figure in group.criteria:
            yield [
                "criterion",
                group.key,
                group.kind,
                group.area_code,
                None,
                None,
                None,
                figure.criterion,
                figure.label,
                None,
                None,
                figure.n,
                figure.mean,
                figure.median,
                figure.low,
                figure.high,
                figure.suppressed,
                "protected" if figure.suppressed else None,
            ]
            for rating in figure.distribution:
                yield _count_row(
                    "rating", group, figure.criterion, figure.label, int(rating.key), rating
                )
    for statement in summary.organisations:
        name = statement.organisation.name
        base = ["organisation", name, "organisation", None, None, None, None]
        yield [*base, "stance", statement.stance.value, statement.stance.value, *([None] * 8)]
        for criterion, value in statement.ratings.items():
            yield [
                "organisation_rating",
                *base[1:],
                criterion,
                criterion,
                value,
                *([None] * 8),
            ]
    for comment in summary.comments:
        yield [
            "comment",
            comment.organisation,
            comment.kind.value,
            None,
            None,
            None,
            None,
            comment.section or "general",
            comment.body,
            *([None] * 9),
        ]


def support_share(group: s.GroupSummary) -> float | None:
    """The share of a shown group's responses that support the measure, from its published
    (perturbed) stance counts only; None for a withheld group or one whose counts read 0."""
    if group.withheld:
        return None
    counts = {count.key: count.count or 0 for count in group.stances}
    total = sum(counts.values())
    return counts.get(Stance.SUPPORT.value, 0) / total if total else None


class Area(msgspec.Struct, frozen=True):
    id: UUID
    code: str
    name: str


async def areas_of(session: AsyncSession, summary: s.FeedbackSummary) -> list[Area]:
    """The social areas of the summary's area groups (read before the response streams)."""
    codes = {group.area_code for group in summary.groups if group.area_code is not None}
    if not codes:
        return []
    rows = await session.execute(
        sa.select(SocialArea.id, SocialArea.code, SocialArea.name)
        .where(SocialArea.code.in_(codes))
        .order_by(SocialArea.code)
    )
    return [Area(id=row.id, code=row.code, name=row.name) for row in rows]


def feature_properties(summary: s.FeedbackSummary, area: Area) -> dict[str, Any]:
    """Flat properties of one area: its groups' figures per anonymous kind (null when the
    group is protected)."""
    groups = {group.key: group for group in summary.groups}
    properties: dict[str, Any] = {"code": area.code, "name": area.name}
    for kind in ANONYMOUS_KINDS:
        group = groups.get(f"{kind}/{area.code}")
        if group is None:
            continue
        properties |= {
            f"{kind}_respondents": group.respondents,
            f"{kind}_withheld": group.withheld,
            f"{kind}_reason": group.reason,
            f"{kind}_support_share": support_share(group),
        }
        for count in group.stances:
            properties[f"{kind}_{count.key}"] = count.count
        for figure in group.criteria:
            key = f"{kind}_{figure.criterion}"
            properties |= {
                f"{key}_n": figure.n,
                f"{key}_mean": figure.mean,
                f"{key}_median": figure.median,
                f"{key}_ci_low": figure.low,
                f"{key}_ci_high": figure.high,
                f"{key}_suppressed": figure.suppressed,
            }
    return properties


def _geojson(
    summary: s.FeedbackSummary,
    engine: AsyncEngine,
    areas: list[Area],
    *,
    title: str,
    process: str,
    attribution: str,
) -> AsyncIterator[bytes]:
    by_id = {area.id: area for area in areas}
    metadata = msgspec.to_builtins(summary.metadata) | {
        "measure_title": title,
        "process": process,
        "attribution": attribution,
    }

    def feature(area_id: UUID) -> tuple[str, dict[str, Any]]:
        area = by_id[area_id]
        return area.code, feature_properties(summary, area)

    return exports.feature_collection(
        engine,
        [
            ("metadata", metadata),
            ("responses_by_kind", summary.responses_by_kind),
            ("totals", [group for group in summary.groups if group.area_code is None]),
            ("organisations", summary.organisations),
        ],
        by_id,
        feature,
    )


def render(
    summary: s.FeedbackSummary,
    fmt: SummaryFormat,
    *,
    title: str,
    process: str,
    attribution: str = "",
    engine: AsyncEngine | None = None,
    areas: list[Area] | None = None,
) -> AsyncIterator[bytes]:
    """The summary in `fmt` as chunks of bytes. GeoJSON needs `engine` to read the boundaries
    and the summary's `areas` (`areas_of`)."""
    items = metadata_items(summary, title, process, attribution)
    if fmt is SummaryFormat.JSON:
        return _json(summary)
    if fmt is SummaryFormat.XLSX:
        return exports.table_xlsx(items, COLUMNS, rows(summary), sheet_name="Rückmeldungen")
    if fmt is SummaryFormat.GEOJSON:
        if engine is None or areas is None:
            raise ValueError("the GeoJSON export reads boundaries and needs an engine and areas")
        return _geojson(
            summary, engine, areas, title=title, process=process, attribution=attribution
        )
    return exports.table_csv(items, COLUMNS, rows(summary), german=fmt is SummaryFormat.CSV_DE)


async def _json(summary: s.FeedbackSummary) -> AsyncIterator[bytes]:
    yield msgspec.json.encode(summary)
