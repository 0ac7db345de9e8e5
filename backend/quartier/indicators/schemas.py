"""Request and response bodies of the indicators API (msgspec)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

Key = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$", description="Indicator key")]
Text200 = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
Direction = Literal["higher_is_better", "higher_is_worse", "neutral"]
Aggregation = Literal["sum", "ratio", "none"]
Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[^\x00]*$")]
Number = Annotated[float, Meta(ge=-1e15, le=1e15)]
MAX_VALUES = 50_000


class IndicatorIn(Struct, kw_only=True, forbid_unknown_fields=True):
    key: Key
    name_de: Text200
    name_en: Text200
    unit: Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]
    direction: Annotated[
        Direction, Meta(description="Whether a higher value is better, worse, or neither")
    ]
    aggregation: Annotated[
        Aggregation,
        Meta(
            description="How values combine over sub-areas: `sum` (a count), `ratio` (Σ "
            "numerator / Σ denominator × scale: a share or rate with a known denominator), "
            "`none` (not additive: never rolled up)"
        ),
    ]
    scale: Annotated[
        float, Meta(gt=0, le=1_000_000, description="Ratio values: 100 for %, 1000 for ‰")
    ] = 1.0
    decimals: Annotated[int, Meta(ge=0, le=4, description="Decimals shown")] = 1
    source: Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]
    licence: Text200


class IndicatorValueIn(Struct, kw_only=True, forbid_unknown_fields=True):
    area_code: Code
    reference_date: datetime.date
    value: Number | None = None
    numerator: Annotated[float, Meta(ge=0, le=1e15)] | None = None
    denominator: Annotated[float, Meta(gt=0, le=1e15)] | None = None


class IndicatorImport(Struct, kw_only=True, forbid_unknown_fields=True):
    """An indicator's definition (created, or updated when the key exists) and values (added,
    or replacing the value of the same area and reference date)."""

    indicator: IndicatorIn
    values: Annotated[list[IndicatorValueIn], Meta(max_length=MAX_VALUES)] = []


class IndicatorCsvImport(Struct, kw_only=True, forbid_unknown_fields=True):
    """A statistics office's CSV file: as text (`csv`), or byte for byte in Base64
    (`csv_base64`, for Windows-1252 files) — exactly one of the two."""

    csv: Annotated[str, Meta(min_length=1, max_length=8_000_000, pattern=r"^[^\x00]*$")] | None = (
        None
    )
    csv_base64: (
        Annotated[str, Meta(min_length=4, max_length=10_700_000, pattern=r"^[A-Za-z0-9+/]+={0,2}$")]
        | None
    ) = None
    reference_date: Annotated[
        datetime.date | None, Meta(description="For files without a date column")
    ] = None


class IndicatorOut(Struct, kw_only=True):
    id: UUID
    key: str
    name: Annotated[str, Meta(description="In the response language")]
    name_de: str
    name_en: str
    unit: str
    direction: Direction
    aggregation: Aggregation
    scale: float
    decimals: int
    source: str
    licence: str
    reference_dates: list[datetime.date]
    levels: Annotated[
        list[str], Meta(description="Level keys the values are given for (before roll-up)")
    ]
    need_categories: list[str]


class ImportResult(Struct, kw_only=True):
    indicator: IndicatorOut
    values_created: int
    values_updated: int
    warnings: list[str]


class AreaValue(Struct, kw_only=True):
    area_id: UUID
    code: str
    name: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    rolled_up: Annotated[bool, Meta(description="Computed from the values of sub-areas")] = False
    complete: Annotated[
        bool, Meta(description="Every sub-area contributed a value (rolled-up values)")
    ] = True


class LevelValues(Struct, kw_only=True):
    indicator: IndicatorOut
    level: str
    reference_date: datetime.date | None
    items: list[AreaValue]


class SeriesPoint(Struct, kw_only=True):
    reference_date: datetime.date
    value: float | None
    rolled_up: bool = False
    complete: bool = True


class AreaSeries(Struct, kw_only=True):
    indicator: IndicatorOut
    area_id: UUID
    code: str
    name: str
    points: list[SeriesPoint]
