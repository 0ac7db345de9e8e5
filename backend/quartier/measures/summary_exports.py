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

GeoJSON is not offered: the summary's areas are the measure's few areas, not a level's grid.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec

from quartier.measures import schemas as s
from quartier.surveys import exports
from quartier.surveys.exports import Column, MetadataItem


class SummaryFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    CSV_DE = "csv-de"
    XLSX = "xlsx"


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


def metadata_items(summary: s.FeedbackSummary, title: str, process: str) -> list[MetadataItem]:
    """(key, German label, value) of every metadata item, as the surveys' exports have them."""
    meta = summary.metadata
    return [
        ("measure", "Maßnahme", f"{title} ({meta.measure_id})"),
        ("version", "Fassung", meta.version),
        ("process", "Planungsprozess", process),
        ("consultation", "Beteiligung", str(meta.consultation_id)),
        ("opens_at", "Beginn", meta.opens_at.isoformat(timespec="seconds")),
        ("closes_at", "Ende", meta.closes_at.isoformat(timespec="seconds")),
        ("level", "Gruppen", "alle; Art der Antwortenden; Art × Sozialraum"),
        ("k_threshold", "Schwelle k (Werte 1 bis k−1 nie veröffentlicht)", meta.k_threshold),
        ("min_respondents", "Mindestzahl Antwortende je Gruppe", meta.min_respondents),
        ("weighting", "Gewichtung", "none"),
        ("interval_method", "Konfidenzintervall", meta.interval_method),
        ("generated_at", "Erstellt am", meta.generated_at.isoformat(timespec="seconds")),
        ("disclosure_method", "Geheimhaltungsverfahren", meta.disclosure_method),
        ("suppressed_cells", "Unterdrückte Werte", meta.suppressed_cells),
        ("withheld_groups", "Nicht gezeigte Gruppen", meta.withheld_groups),
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


def render(
    summary: s.FeedbackSummary, fmt: SummaryFormat, *, title: str, process: str
) -> AsyncIterator[bytes]:
    """The summary in `fmt` as chunks of bytes."""
    items = metadata_items(summary, title, process)
    if fmt is SummaryFormat.JSON:
        return _json(summary)
    if fmt is SummaryFormat.XLSX:
        return exports.table_xlsx(items, COLUMNS, rows(summary), sheet_name="Rückmeldungen")
    return exports.table_csv(items, COLUMNS, rows(summary), german=fmt is SummaryFormat.CSV_DE)


async def _json(summary: s.FeedbackSummary) -> AsyncIterator[bytes]:
    yield msgspec.json.encode(summary)
