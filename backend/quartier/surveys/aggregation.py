"""Aggregated needs per social area: the SQL, and the disclosure-controlled result grid.

What it computes, for one survey or for all surveys of a planning process, at one level of the
area hierarchy: per area and need category the respondents n, those expressing the need x,
the share x/n with its Wilson 95% interval, and — with `weighting=age` — the share weighted
to the area's population by age band (stats.weighting) with its effective sample size; the
same counts for the whole scope.

How:

* **Counting in SQL.** One statement counts responses per area, another the need rows per area
  and category (a need row carries its response's area and age stratum, so neither statement
  joins the other's table, and each reads only an index that covers it); both are grouped by the
  response's area first (a few hundred groups even for a million responses) and then rolled up
  the hierarchy by unnesting `social_areas.path`, so every level and the scope total come out
  of one pass. With age weighting the same statements also group by age stratum, rolled up to
  the chosen level only (`path[depth + 1]`). Python receives the small grid
  (areas × categories), never a response.
* **Which areas.** Every area of the process's scope (its areas, their sub-areas and their
  ancestors; every area when the process names none) down to the level the survey asks for,
  plus every area that has responses. Areas without responses take part as zeros: they are
  withheld like any area below `min_respondents`, so an empty area is indistinguishable from
  a small one.
* **Disclosure control** (stats.disclosure) runs once over the whole tree — scope total and
  every level — so that the exports of different levels are safe together; a result shows one
  level of that pattern. A weighted share is shown only when the raw count is, and when no
  weighting group (collapsed age strata, and the group without an age) of the area has a count
  of 1 … k − 1 expressing or not expressing the need — otherwise the weighted share, together
  with n_eff, could give away counts of a small age group.
* **Process aggregates** pool the responses of all the process's surveys with the strictest
  thresholds among them (largest k and min_respondents); their age strata are the finest
  grouping of population bands that every survey's options are unions of.

Known limit: the pattern of a process aggregate and the patterns of its surveys are computed
separately. When a process has several surveys, subtracting one survey's export from the
process export could reveal a cell of another survey; protecting that needs the suppression
of the whole survey × area table at once (not a tree any more: stats.disclosure would need its
general linear audit there). Until then, hand process aggregates of multi-survey processes
only to those who may see the single surveys anyway (both need the same roles and scopes).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta, Struct
from sqlalchemy import ARRAY, String, Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AgeBand, AreaLevel
from quartier.areas.services import populations
from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput, NotFound, Unprocessable
from quartier.processes.models import PlanningProcess, process_areas
from quartier.stats import disclosure, intervals, weighting
from quartier.surveys import definition as d
from quartier.surveys import schemas as s
from quartier.surveys.models import NeedCategory, Survey


class Weighting(enum.StrEnum):
    NONE = "none"  # raw shares only
    AGE = "age"  # plus population-weighted shares (post-stratification by age band)


CellReason = Literal["primary", "secondary", "area_withheld"]
AreaReason = Literal["min_respondents", "secondary"]
WeightedGap = Literal[
    "not_requested",
    "cell_suppressed",
    "no_population",
    "small_strata",
    "no_age_strata",
    "no_age_given",
    "not_for_totals",
]

WEIGHTING_METHODS = {
    Weighting.NONE: "none",
    Weighting.AGE: (
        "post-stratification by age band: weight = (population share of the stratum) / "
        "(sample share of the stratum) among respondents with an age band; strata with fewer "
        "than k respondents merged with a neighbour; respondents without an age band keep "
        "weight 1; effective sample size after Kish; interval: Wilson with the effective "
        "sample size"
    ),
}
INTERVAL_METHOD = "Wilson score interval, 95%"
SCOPE = "scope"  # the root of the disclosure tree: all respondents


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
        Meta(
            description="primary: the count or its complement is from 1 to k−1; secondary: "
            "hidden to protect another cell; area_withheld: the whole area is withheld"
        ),
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


class StratumRef(Struct, kw_only=True):
    key: Annotated[str, Meta(description="Age option key(s) of the survey(s)")]
    population_bands: list[str]


class Metadata(Struct, kw_only=True):
    surveys: list[SurveyRef]
    process_id: UUID
    process_title: str
    first_submission: Annotated[
        datetime.date | None, Meta(description="Date of the first response")
    ]
    last_submission: Annotated[datetime.date | None, Meta(description="Date of the last response")]
    level: LevelRef
    k_threshold: int
    min_respondents: int
    weighting: Weighting
    weighting_method: str
    age_strata: list[StratumRef]
    interval_method: str
    generated_at: datetime.datetime
    suppressed_primary: Annotated[
        int, Meta(description="Cells of this result hidden because a count is from 1 to k−1")
    ]
    suppressed_secondary: Annotated[
        int, Meta(description="Cells of this result hidden to protect other cells")
    ]
    withheld_areas: Annotated[int, Meta(description="Areas of this result withheld entirely")]
    attribution: str | None = None


class AggregatedNeeds(Struct, kw_only=True):
    metadata: Metadata
    categories: list[CategoryRef]
    areas: list[AreaNeeds]
    totals: ScopeTotals


# -- what is aggregated ------------------------------------------------------------------------


@dataclass(slots=True)
class _Source:
    """The surveys pooled in one result, and what follows from their definitions."""

    process: PlanningProcess
    surveys: list[Survey]
    k: int
    min_respondents: int
    response_depth: int  # the deepest level responses are given for
    need_keys: list[str]
    # (survey id, age option key) → stratum key; strata in age order with their bands.
    stratum_of: dict[tuple[UUID, str], str] = field(default_factory=dict)
    strata: list[StratumRef] = field(default_factory=list)


def _need_keys(definition: s.Definition) -> list[str]:
    keys: list[str] = []
    for question in d.questions(definition):
        tagged: list[str] = []
        if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
            tagged = [k for o in question.options for k in o.need_categories]
            if question.other is not None:
                tagged += question.other.need_categories
        elif isinstance(question, s.RankingQuestion):
            tagged = [k for o in question.options for k in o.need_categories]
        elif isinstance(question, s.RatingQuestion):
            tagged = list(question.need_categories)
        keys += [k for k in tagged if k not in keys]
    return keys


async def _strata(session: AsyncSession, source: _Source) -> None:
    """The age strata: the finest grouping of population bands of which every survey's age
    options are unions (for one survey: its options), ordered by age."""
    options = [
        (survey.id, key, bands)
        for survey in source.surveys
        for key, bands in d.age_strata(d.definition_of(survey)).items()
    ]
    if not options:
        return
    # Union-find over band keys: bands of one option belong together.
    root: dict[str, str] = {}

    def find(band: str) -> str:
        while root.setdefault(band, band) != band:
            root[band] = root[root[band]]
            band = root[band]
        return band

    for _, _, bands in options:
        for band in bands[1:]:
            root[find(band)] = find(bands[0])
        find(bands[0])
    groups: dict[str, list[str]] = {}
    for band in root:
        groups.setdefault(find(band), []).append(band)
    min_age = dict((await session.execute(select(AgeBand.key, AgeBand.min_age))).tuples().all())
    ordered = sorted(groups.values(), key=lambda bands: min(min_age.get(b, 999) for b in bands))
    for bands in ordered:
        member = set(bands)
        keys = sorted({key for _, key, option_bands in options if set(option_bands) <= member})
        stratum = "|".join(keys)
        bands.sort(key=lambda b: min_age.get(b, 999))
        source.strata.append(StratumRef(key=stratum, population_bands=bands))
        for survey_id, key, option_bands in options:
            if set(option_bands) <= member:
                source.stratum_of[(survey_id, key)] = stratum


async def _source(
    session: AsyncSession, surveys: list[Survey], process: PlanningProcess
) -> _Source:
    definitions = [d.definition_of(survey) for survey in surveys]
    levels = {d.social_area_question(definition).level for definition in definitions}
    depths = (
        (await session.scalars(select(AreaLevel.depth).where(AreaLevel.key.in_(levels)))).all()
        if levels
        else []
    )
    need_keys: list[str] = []
    for definition in definitions:
        need_keys += [k for k in _need_keys(definition) if k not in need_keys]
    source = _Source(
        process=process,
        surveys=surveys,
        k=max((survey.k_threshold for survey in surveys), default=5),
        min_respondents=max((survey.min_respondents for survey in surveys), default=10),
        response_depth=max(depths, default=-1),
        need_keys=need_keys,
    )
    await _strata(session, source)
    return source


# -- SQL -----------------------------------------------------------------------------------------

_SURVEYS = bindparam("surveys", type_=ARRAY(Uuid))

# Respondents and need rows per area, rolled up to every ancestor and (node NULL, prepended to
# each path) to the whole scope — in one statement, so that both counts come from one snapshot
# (two statements in the request's READ COMMITTED transaction could count the need rows of a
# response committed between them without the response). Rows with category NULL are the
# respondents (n, first, last); the others are need rows (x).
_COUNTS = text(
    """
    WITH responses AS (
        SELECT area_id, count(*) AS n, min(submitted_at) AS first, max(submitted_at) AS last
        FROM survey_responses
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id
    ), needs AS (
        SELECT area_id, need_category_id, count(*) AS x
        FROM survey_response_needs
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, need_category_id
    )
    SELECT node, NULL::uuid AS category, sum(r.n)::bigint, min(r.first), max(r.last)
    FROM responses r
    JOIN social_areas area ON area.id = r.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node
    UNION ALL
    SELECT node, x.need_category_id, sum(x.x)::bigint, NULL, NULL
    FROM needs x
    JOIN social_areas area ON area.id = x.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node, x.need_category_id
    """
).bindparams(_SURVEYS)

# With age weighting, the same grouped by survey and age option as well, then rolled up twice
# from the one grouped pass: over every ancestor (as above), and to the areas at the level by
# age stratum. (`path[:position]` is element access: `:position` is a bound parameter,
# depth + 1.) One statement again; each table is read once.
_STRATUM_BINDS = (
    _SURVEYS,
    bindparam("map_surveys", type_=ARRAY(Uuid)),
    bindparam("map_options", type_=ARRAY(String)),
    bindparam("map_strata", type_=ARRAY(String)),
)
_COUNTS_AGED = text(
    """
    WITH responses AS MATERIALIZED (
        SELECT area_id, survey_id, age_stratum, count(*) AS n,
               min(submitted_at) AS first, max(submitted_at) AS last
        FROM survey_responses
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, survey_id, age_stratum
    ), needs AS MATERIALIZED (
        SELECT area_id, survey_id, age_stratum, need_category_id, count(*) AS x
        FROM survey_response_needs
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, survey_id, age_stratum, need_category_id
    ), stratum_map AS (
        SELECT * FROM unnest(:map_surveys, :map_options, :map_strata)
            AS m(survey_id, option_key, stratum)
    )
    SELECT false AS by_stratum, node, NULL AS stratum, NULL::uuid AS category,
           sum(r.n)::bigint, min(r.first), max(r.last)
    FROM responses r
    JOIN social_areas area ON area.id = r.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node
    UNION ALL
    SELECT true, area.path[:position], m.stratum, NULL::uuid, sum(r.n)::bigint, NULL, NULL
    FROM responses r
    JOIN social_areas area ON area.id = r.area_id
    LEFT JOIN stratum_map m ON m.survey_id = r.survey_id AND m.option_key = r.age_stratum
    WHERE cardinality(area.path) >= :position
    GROUP BY 2, 3
    UNION ALL
    SELECT false, node, NULL, x.need_category_id, sum(x.x)::bigint, NULL, NULL
    FROM needs x
    JOIN social_areas area ON area.id = x.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node, x.need_category_id
    UNION ALL
    SELECT true, area.path[:position], m.stratum, x.need_category_id, sum(x.x)::bigint,
           NULL, NULL
    FROM needs x
    JOIN social_areas area ON area.id = x.area_id
    LEFT JOIN stratum_map m ON m.survey_id = x.survey_id AND m.option_key = x.age_stratum
    WHERE cardinality(area.path) >= :position
    GROUP BY 2, 3, 4
    """
).bindparams(*_STRATUM_BINDS)


def _stratum_params(source: _Source, position: int) -> dict[str, Any]:
    items = sorted(source.stratum_of.items())
    return {
        "surveys": [survey.id for survey in source.surveys],
        "position": position,
        "map_surveys": [survey_id for (survey_id, _), _ in items],
        "map_options": [option for (_, option), _ in items],
        "map_strata": [stratum for _, stratum in items],
    }


@dataclass(slots=True)
class _Counts:
    n: dict[UUID | str, int] = field(default_factory=dict)
    x: dict[tuple[UUID | str, UUID], int] = field(default_factory=dict)
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    # With age weighting, at the chosen level: stratum None = no age given.
    n_by_stratum: dict[UUID, dict[str | None, int]] = field(default_factory=dict)
    x_by_stratum: dict[tuple[UUID, UUID], dict[str | None, int]] = field(default_factory=dict)


# For this transaction only: the hash aggregates by area, age stratum and category (~30 000
# groups per survey for Berlin's planning areas, ~10 MB) stay in memory instead of spilling
# batches to disk, and JIT compilation (~50 ms) does not pay off for statements that run a few
# hundred milliseconds.
_ANALYTIC_SETTINGS = (text("SET LOCAL work_mem = '64MB'"), text("SET LOCAL jit = off"))


async def _count(session: AsyncSession, source: _Source, depth: int, by_age: bool) -> _Counts:
    counts = _Counts()
    for setting in _ANALYTIC_SETTINGS:
        await session.execute(setting)
    if not by_age:
        params: dict[str, Any] = {"surveys": [survey.id for survey in source.surveys]}
        for node, category, count, first, last in await session.execute(_COUNTS, params):
            key = node if node is not None else SCOPE
            if category is not None:
                counts.x[(key, category)] = count
                continue
            counts.n[key] = count
            if node is None:
                counts.first, counts.last = first, last
        return counts
    params = _stratum_params(source, depth + 1)
    rows = await session.execute(_COUNTS_AGED, params)
    for by_stratum, node, stratum, category, count, first, last in rows:
        if category is not None:
            if by_stratum:
                counts.x_by_stratum.setdefault((node, category), {})[stratum] = count
            else:
                counts.x[(node if node is not None else SCOPE, category)] = count
        elif by_stratum:
            counts.n_by_stratum.setdefault(node, {})[stratum] = count
        else:
            counts.n[node if node is not None else SCOPE] = count
            if node is None:
                counts.first, counts.last = first, last
    return counts


@dataclass(frozen=True, slots=True)
class _Area:
    id: UUID
    code: str
    name: str
    parent_id: UUID | None
    depth: int


async def _areas(
    session: AsyncSession, source: _Source, with_responses: Iterable[UUID]
) -> list[_Area]:
    """The areas of the tree: the scope closure down to the response level, and every area
    with responses (with its ancestors, which the roll-up already named)."""
    scope = (
        await session.scalars(
            select(process_areas.c.area_id).where(process_areas.c.process_id == source.process.id)
        )
    ).all()
    statement = text(
        """
        SELECT area.id, area.code, area.name, area.parent_id, level.depth
        FROM social_areas area
        JOIN area_levels level ON level.id = area.level_id
        WHERE level.depth <= :depth AND (
            area.id = ANY(:named)
            OR cardinality(:scope) = 0
            OR area.path && :scope
            OR area.id IN (
                SELECT unnest(scope_area.path) FROM social_areas scope_area
                WHERE scope_area.id = ANY(:scope)
            )
        )
        ORDER BY level.depth, area.code
        """
    ).bindparams(bindparam("named", type_=ARRAY(Uuid)), bindparam("scope", type_=ARRAY(Uuid)))
    rows = await session.execute(
        statement,
        {"depth": source.response_depth, "named": list(with_responses), "scope": list(scope)},
    )
    return [_Area(*row) for row in rows]


# -- the result ----------------------------------------------------------------------------------


def _interval(value: intervals.Interval | None) -> Interval | None:
    return None if value is None else Interval(low=value.low, high=value.high)


def _raw_figure(category: str, n: int, x: int, reason: disclosure.CellReason | None) -> NeedFigure:
    if reason is not None:
        return NeedFigure(
            category=category,
            expressing=None,
            share=None,
            share_ci=None,
            suppressed=True,
            reason=reason,
            weighted_gap="cell_suppressed",
        )
    return NeedFigure(
        category=category,
        expressing=x,
        share=x / n,
        share_ci=_interval(intervals.wilson(x, n)),
    )


def _withheld_figure(category: str) -> NeedFigure:
    return NeedFigure(
        category=category,
        expressing=None,
        share=None,
        share_ci=None,
        suppressed=True,
        reason="area_withheld",
        weighted_gap="cell_suppressed",
    )


@dataclass(slots=True)
class _AreaWeights:
    weights: weighting.Weights | None
    gap: WeightedGap | None


def _area_weights(
    source: _Source,
    counts: _Counts,
    area_id: UUID,
    population: dict[str, int] | None,
) -> _AreaWeights:
    if not source.strata:
        return _AreaWeights(None, "no_age_strata")
    if population is None:
        return _AreaWeights(None, "no_population")
    by_stratum = counts.n_by_stratum.get(area_id, {})
    strata = []
    for stratum in source.strata:
        if any(band not in population for band in stratum.population_bands):
            return _AreaWeights(None, "no_population")
        strata.append(
            weighting.Stratum(
                key=stratum.key,
                respondents=by_stratum.get(stratum.key, 0),
                population=sum(population[band] for band in stratum.population_bands),
            )
        )
    if not any(stratum.respondents for stratum in strata):
        return _AreaWeights(None, "no_age_given")
    found = weighting.post_stratify(strata, by_stratum.get(None, 0), minimum=source.k)
    return _AreaWeights(found, None if found is not None else "no_population")


def _weighted(
    figure: NeedFigure,
    area: _AreaWeights,
    by_stratum: dict[str | None, int],
    k: int,
) -> None:
    """Add the weighted share to a published figure, unless a weighting group's count could
    be small (see the module docstring)."""
    if figure.suppressed:
        return
    if area.weights is None:
        figure.weighted_gap = area.gap
        return
    weights = area.weights
    for group in weights.groups:
        x = sum(by_stratum.get(key, 0) for key in group.keys)
        if disclosure.is_small(x, k) or disclosure.is_small(group.respondents - x, k):
            figure.weighted_gap = "small_strata"
            return
    unknown_x = by_stratum.get(None, 0)
    if weights.unknown and (
        disclosure.is_small(unknown_x, k) or disclosure.is_small(weights.unknown - unknown_x, k)
    ):
        figure.weighted_gap = "small_strata"
        return
    share = weights.share({key: v for key, v in by_stratum.items() if key is not None}, unknown_x)
    figure.weighted_share = share
    figure.weighted_share_ci = _interval(
        intervals.wilson_from_share(share, weights.effective_sample_size)
    )


async def _aggregate(
    session: AsyncSession, source: _Source, level_key: str, weighting_: Weighting
) -> AggregatedNeeds:
    level = await _level(session, level_key)
    if source.response_depth >= 0 and level.depth > source.response_depth:
        raise InvalidInput(
            "Responses are given for areas above this level; choose a coarser level.",
            errors=[FieldError(field="level", source="query", message="finer than the responses")],
        )
    by_age = weighting_ is Weighting.AGE
    if by_age and not source.strata:
        raise Unprocessable(
            "No survey of this result asks for an age band mapped to population age bands, "
            "so there is nothing to weight by; use weighting=none."
        )
    counts = await _count(session, source, level.depth, by_age)
    named = [node for node in counts.n if isinstance(node, UUID)]
    areas = await _areas(session, source, named) if source.response_depth >= 0 else []
    by_id = {area.id: area for area in areas}
    parent: dict[UUID | str, UUID | str | None] = {SCOPE: None}
    for area in areas:
        parent[area.id] = area.parent_id if area.parent_id in by_id else SCOPE

    categories = await _categories(session, source, counts)
    category_ids = [category_id for category_id, _, _ in categories]
    pattern = disclosure.protect(
        parent,
        counts.n,
        counts.x,
        category_ids,
        k=source.k,
        min_respondents=source.min_respondents,
    )

    at_level = [area for area in areas if area.depth == level.depth]
    figures: dict[UUID, dict[str, int]] | None = None
    if by_age:
        found = await populations(session, [area.id for area in at_level])
        figures = {
            area_id: {band.key: band.count for band in population.age_bands}
            for area_id, population in found.items()
        }

    primary = secondary = withheld_count = 0
    rows: list[AreaNeeds] = []
    for area in at_level:
        n = counts.n.get(area.id, 0)
        area_reason = pattern.withheld.get(area.id)
        parent_code = by_id[area.parent_id].code if area.parent_id in by_id else None
        if area_reason is not None:
            withheld_count += 1
            rows.append(
                AreaNeeds(
                    id=area.id,
                    code=area.code,
                    name=area.name,
                    parent_code=parent_code,
                    respondents=None,
                    withheld=True,
                    reason=area_reason,
                    needs=[_withheld_figure(key) for _, key, _ in categories],
                )
            )
            continue
        area_weights = (
            _area_weights(source, counts, area.id, (figures or {}).get(area.id)) if by_age else None
        )
        needs = []
        for category_id, key, _ in categories:
            reason = pattern.cell(area.id, category_id)
            primary += reason == "primary"
            secondary += reason == "secondary"
            figure = _raw_figure(key, n, counts.x.get((area.id, category_id), 0), reason)
            if area_weights is None:
                figure.weighted_gap = figure.weighted_gap or "not_requested"
            else:
                _weighted(
                    figure,
                    area_weights,
                    counts.x_by_stratum.get((area.id, category_id), {}),
                    source.k,
                )
            needs.append(figure)
        effective = (
            area_weights.weights.effective_sample_size
            if area_weights is not None and area_weights.weights is not None
            else None
        )
        rows.append(
            AreaNeeds(
                id=area.id,
                code=area.code,
                name=area.name,
                parent_code=parent_code,
                respondents=n,
                effective_sample_size=effective,
                needs=needs,
            )
        )

    total_n = counts.n.get(SCOPE, 0)
    scope_reason = pattern.withheld.get(SCOPE)
    if scope_reason is not None:
        withheld_count += 1
        totals = ScopeTotals(
            respondents=None,
            withheld=True,
            reason=scope_reason,
            needs=[_withheld_figure(key) for _, key, _ in categories],
        )
    else:
        total_needs = []
        for category_id, key, _ in categories:
            reason = pattern.cell(SCOPE, category_id)
            primary += reason == "primary"
            secondary += reason == "secondary"
            figure = _raw_figure(key, total_n, counts.x.get((SCOPE, category_id), 0), reason)
            figure.weighted_gap = figure.weighted_gap or (
                "not_for_totals" if by_age else "not_requested"
            )
            total_needs.append(figure)
        totals = ScopeTotals(respondents=total_n, needs=total_needs)

    return AggregatedNeeds(
        metadata=Metadata(
            surveys=[
                SurveyRef(id=survey.id, title=i18n.pick(survey.title)) for survey in source.surveys
            ],
            process_id=source.process.id,
            process_title=source.process.title,
            first_submission=counts.first.date() if counts.first else None,
            last_submission=counts.last.date() if counts.last else None,
            level=LevelRef(key=level.key, depth=level.depth, name=level.name),
            k_threshold=source.k,
            min_respondents=source.min_respondents,
            weighting=weighting_,
            weighting_method=WEIGHTING_METHODS[weighting_],
            age_strata=source.strata if by_age else [],
            interval_method=INTERVAL_METHOD,
            generated_at=datetime.datetime.now(datetime.UTC),
            suppressed_primary=primary,
            suppressed_secondary=secondary,
            withheld_areas=withheld_count,
        ),
        categories=[CategoryRef(key=key, label=label) for _, key, label in categories],
        areas=rows,
        totals=totals,
    )


async def _level(session: AsyncSession, key: str) -> AreaLevel:
    level = await session.scalar(select(AreaLevel).where(AreaLevel.key == key))
    if level is None:
        known = (await session.scalars(select(AreaLevel.key).order_by(AreaLevel.depth))).all()
        raise InvalidInput(
            f"There is no level {key!r}; levels: {', '.join(known) or 'none yet'}.",
            errors=[FieldError(field="level", source="query", message="unknown level")],
        )
    return level


async def _categories(
    session: AsyncSession, source: _Source, counts: _Counts
) -> list[tuple[UUID, str, str]]:
    """The need categories the surveys ask about, and any that responses carry (from earlier
    definition versions), in the deployment's order: (id, key, label)."""
    counted = {category for _, category in counts.x}
    rows = await session.execute(
        select(NeedCategory.id, NeedCategory.key, NeedCategory.label)
        .where(NeedCategory.key.in_(source.need_keys) | NeedCategory.id.in_(counted))
        .order_by(NeedCategory.position, NeedCategory.key)
    )
    return [(category_id, key, i18n.pick(label)) for category_id, key, label in rows]


# -- entry points --------------------------------------------------------------------------------


async def aggregated_needs(
    session: AsyncSession,
    survey_id: UUID,
    *,
    level_key: str,
    weighting: Weighting = Weighting.NONE,
) -> AggregatedNeeds:
    """Needs per social area at `level_key` for one survey, disclosure-controlled."""
    survey = await session.scalar(select(Survey).where(Survey.id == survey_id))
    if survey is None:
        raise NotFound(f"No survey {survey_id}.")
    process = await session.get_one(PlanningProcess, survey.process_id)
    return await _aggregate(
        session, await _source(session, [survey], process), level_key, weighting
    )


async def process_aggregated_needs(
    session: AsyncSession,
    process_id: UUID,
    *,
    level_key: str,
    weighting: Weighting = Weighting.NONE,
) -> AggregatedNeeds:
    """The same across all surveys of a planning process (pooled respondents)."""
    process = await session.get(PlanningProcess, process_id)
    if process is None:
        raise NotFound(f"No planning process {process_id}.")
    surveys = list(
        (
            await session.scalars(
                select(Survey).where(Survey.process_id == process_id).order_by(Survey.created_at)
            )
        ).all()
    )
    return await _aggregate(session, await _source(session, surveys, process), level_key, weighting)
