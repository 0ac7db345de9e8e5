"""Aggregated needs per social area: the SQL, and the disclosure-controlled result grid.

(Work in progress: the Structs and the signatures below are the published interface; the
implementation follows.)
"""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct
from sqlalchemy.ext.asyncio import AsyncSession


class Weighting(enum.StrEnum):
    NONE = "none"  # raw shares only
    AGE = "age"  # plus population-weighted shares (post-stratification by age band)


CellReason = Literal["primary", "secondary"]
AreaReason = Literal["min_respondents", "secondary"]
WeightedGap = Literal[
    "not_requested", "cell_suppressed", "no_population", "small_strata", "no_age_strata"
]


class Interval(Struct, kw_only=True):
    """A 95% confidence interval of a share (0 … 1)."""

    low: float
    high: float


class NeedFigure(Struct, kw_only=True):
    """One need category in one area (or in the whole scope)."""

    category: Annotated[str, Meta(description="Need category key")]
    expressing: Annotated[
        int | None, Meta(description="Respondents expressing the need; null when suppressed")
    ]
    share: Annotated[float | None, Meta(description="expressing / respondents")]
    share_ci: Annotated[Interval | None, Meta(description="Wilson 95% interval of the share")]
    weighted_share: Annotated[
        float | None, Meta(description="Population-weighted share (post-stratified by age)")
    ] = None
    weighted_share_ci: Annotated[
        Interval | None, Meta(description="Wilson 95% interval with the effective sample size")
    ] = None
    weighted_gap: Annotated[
        WeightedGap | None, Meta(description="Why the weighted share is missing")
    ] = None
    suppressed: bool = False
    reason: Annotated[
        CellReason | None,
        Meta(description="primary: a count from 1 to k−1; secondary: protects another cell"),
    ] = None


class AreaNeeds(Struct, kw_only=True):
    id: UUID
    code: str
    name: str
    parent_code: str | None
    respondents: Annotated[int | None, Meta(description="n; null when the area is withheld")]
    withheld: bool = False
    reason: Annotated[
        AreaReason | None,
        Meta(description="min_respondents: too few responses; secondary: protects another area"),
    ] = None
    effective_sample_size: Annotated[
        float | None, Meta(description="Kish effective sample size of the age weighting")
    ] = None
    needs: list[NeedFigure]


class ScopeTotals(Struct, kw_only=True):
    """All respondents of the scope (every level)."""

    respondents: int | None
    withheld: bool = False
    reason: AreaReason | None = None
    needs: list[NeedFigure]


class CategoryRef(Struct, kw_only=True):
    key: str
    label: str


class LevelRef(Struct, kw_only=True):
    key: str
    depth: int
    name: str


class SurveyRef(Struct, kw_only=True):
    id: UUID
    title: str


class Metadata(Struct, kw_only=True):
    surveys: list[SurveyRef]
    process_id: UUID
    process_title: str
    first_submission: datetime.date | None
    last_submission: datetime.date | None
    level: LevelRef
    k_threshold: int
    min_respondents: int
    weighting: Weighting
    weighting_method: str
    interval_method: str
    generated_at: datetime.datetime
    suppressed_primary: Annotated[int, Meta(description="Cells suppressed because 1 ≤ count < k")]
    suppressed_secondary: Annotated[int, Meta(description="Cells suppressed to protect others")]
    withheld_areas: int
    attribution: str | None = None


class AggregatedNeeds(Struct, kw_only=True):
    metadata: Metadata
    categories: list[CategoryRef]
    areas: list[AreaNeeds]
    totals: ScopeTotals


async def aggregated_needs(
    session: AsyncSession,
    survey_id: UUID,
    *,
    level_key: str,
    weighting: Weighting = Weighting.NONE,
) -> AggregatedNeeds:
    """Needs per social area at `level_key` for one survey, disclosure-controlled."""
    raise NotImplementedError


async def process_aggregated_needs(
    session: AsyncSession,
    process_id: UUID,
    *,
    level_key: str,
    weighting: Weighting = Weighting.NONE,
) -> AggregatedNeeds:
    """The same across all surveys of a planning process."""
    raise NotImplementedError
