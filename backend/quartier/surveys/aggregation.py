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
  the hierarchy by unnesting the path the area has on the date asked for (`at`, default today;
  an area not valid then: the path of its last or first valid day, areas.services.hierarchy_on),
  so every level and the scope total come out of one pass. With age weighting the same
  statements also group by age stratum, rolled up to the chosen level only
  (`path[depth + 1]`). Python receives the small grid (areas × categories), never a response.
* **Which areas.** Every area of the process's scope (its areas, their sub-areas and their
  ancestors; every area when the process names none) down to the level the survey asks for,
  plus every area that has responses — those valid on `at`, in the hierarchy of that date, with
  the population of that date. Areas without responses take part as zeros: they are
  withheld like any area below `min_respondents`, so an empty area is indistinguishable from
  a small one.
* **Disclosure control** (stats.cellkey, docs/PRIVACY.md): SQL sums the responses' record keys
  next to every count, and every published count is the perturbation of its cell (count, key
  sum) — the same value for the same set of responses here, in the per-question results and in
  every export. Shares, intervals, weighted shares and n_eff are computed from perturbed
  counts only (the weighted share from perturbed counts per age stratum, strata collapsed until
  each group has k); an area whose perturbed n is below `min_respondents` is not shown.
* **Representativeness** per area (and age stratum with weighting=age; and sex where a
  survey maps a single-choice question's options to the population's sexes): the published
  respondents against the population. The respondents by sex of an area are the cells of the
  mapped options in that area — for one survey exactly the cells, hence the values, of the
  per-question results.
* **Process aggregates** pool the responses of all the process's surveys with the strictest
  thresholds among them (largest k and min_respondents); their age strata are the finest
  grouping of population bands that every survey's options are unions of. A pooled cell is a
  cell of its own (the union of the surveys' responses, with its own key), so subtracting one
  survey's export from the process export gives noise, not another survey's cells.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct
from sqlalchemy import ARRAY, Date, String, Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AgeBand, AreaLevel, today
from quartier.areas.services import hierarchy_on_sql, populations
from quartier.core import i18n
from quartier.core.bilingual import Method
from quartier.core.errors import FieldError, InvalidInput, NotFound, Unprocessable
from quartier.processes.models import PlanningProcess, process_areas
from quartier.stats import cellkey, intervals, weighting
from quartier.stats.cellkey import EMPTY, Cell, Release
from quartier.surveys import definition as d
from quartier.surveys import schemas as s
from quartier.surveys.models import NeedCategory, Survey


class Weighting(enum.StrEnum):
    NONE = "none"  # raw shares only
    AGE = "age"  # plus population-weighted shares (post-stratification by age band)


CellReason = Literal["protected"]
AreaReason = Literal["protected"]
WeightedGap = Literal[
    "not_requested",
    "cell_suppressed",
    "no_population",
    "no_age_strata",
    "no_age_given",
    "not_for_totals",
]

# Each method in English (the document, csv) and German (csv-de, XLSX): core.bilingual.
WEIGHTING_METHODS = {
    Weighting.NONE: Method("none", "keine"),
    Weighting.AGE: Method(
        "post-stratification by age band: weight = (population share of the stratum) / "
        "(sample share of the stratum) among respondents with an age band; strata with fewer "
        "than k respondents (perturbed counts) merged with a neighbour; respondents without an "
        "age band keep "
        "weight 1; effective sample size after Kish; interval: Wilson with the effective "
        "sample size",
        "Nachschichtung nach Altersgruppen: Gewicht = (Bevölkerungsanteil der Schicht) / "
        "(Stichprobenanteil der Schicht) unter den Antwortenden mit Altersgruppe; Schichten mit "
        "weniger als k Antwortenden (überlagerte Anzahlen) mit einer Nachbarschicht "
        "zusammengelegt; Antwortende ohne Altersgruppe behalten das Gewicht 1; effektive "
        "Stichprobengröße nach Kish; Intervall: Wilson mit der effektiven Stichprobengröße",
    ),
}
# The `weighting` parameter's values in German.
WEIGHTINGS_DE = {Weighting.NONE: "keine", Weighting.AGE: "nach Alter"}
INTERVAL_METHOD = Method(
    "Wilson score interval, 95%, of the published (perturbed) counts",
    "Wilson-Intervall (Score-Intervall), 95 %, aus den veröffentlichten (überlagerten) Anzahlen",
)
REPRESENTATIVENESS_METHOD = (
    "response rate = perturbed respondents / population, per area and per age stratum (areas "
    "not shown carry no figures); R-indicator = 1 − 2·S, S the population-weighted standard "
    "deviation of the response rates of all area × stratum cells at this level, from perturbed "
    "counts (capped at 1)"
)
REPRESENTATIVENESS_BY_AREA_METHOD = (
    "response rate = perturbed respondents / population, per area (areas not shown carry no "
    "figures; by age stratum with weighting=age); R-indicator = 1 − 2·S, S the "
    "population-weighted standard deviation of the response rates of all areas at this level, "
    "from perturbed counts (capped at 1)"
)
SEX_METHOD = Method(
    "by sex: respondents who chose the option of {questions} mapped to female (male) — the "
    "perturbed count of that option in the area (for one survey the same value as in its "
    "per-question results; pooled over surveys a cell of its own) — against the area's women "
    "(inhabitants minus women); respondents with another "
    "answer or none are not counted by sex; areas not shown, and areas without the number of "
    "women, carry no figures",
    "nach Geschlecht: Antwortende, die die Option von {questions} gewählt haben, die Frauen "
    "(Männern) zugeordnet ist — die gestörte Anzahl dieser Option im Gebiet (für eine Befragung "
    "derselbe Wert wie in ihren Ergebnissen je Frage; über Befragungen zusammengefasst eine "
    "eigene Zelle) — gegenüber den Frauen des Gebiets (Einwohnerinnen und Einwohner ohne "
    "Frauen); Antwortende mit anderer oder keiner Antwort werden nicht nach Geschlecht "
    "gezählt; nicht gezeigte Gebiete und Gebiete ohne Zahl der Frauen haben keine Angaben",
)
DISCLOSURE_METHOD = Method(
    "cell key method: every count is perturbed by noise chosen by its cell key (two-sided "
    "geometric, alpha {alpha}, at most ±{noise}), the same noise for the same cell in every "
    "table, level and format; results below {k} are published as 0; shares, intervals and "
    "weighted shares are computed from perturbed counts; areas whose perturbed number of "
    "respondents is below the minimum are not shown",
    "Cell-Key-Verfahren: jede Anzahl wird mit einer Abweichung überlagert, die ihr Zellschlüssel "
    "bestimmt (zweiseitig geometrisch, Alpha {alpha}, höchstens ±{noise}), dieselbe Abweichung "
    "für dieselbe Zelle in jeder Tabelle, Ebene und jedem Format; Ergebnisse unter {k} werden "
    "als 0 veröffentlicht; Anteile, Intervalle und gewichtete Anteile werden aus überlagerten "
    "Anzahlen berechnet; Gebiete, deren überlagerte Zahl der Antwortenden unter der "
    "Mindestzahl liegt, werden nicht gezeigt",
)
SCOPE = "scope"  # the root of the disclosure tree: all respondents


class Interval(Struct, kw_only=True):
    """A 95% confidence interval of a share (0 … 1)."""

    low: float
    high: float


class NeedFigure(Struct, kw_only=True):
    """One need category in one area (or in the whole scope)."""

    category: Annotated[str, Meta(description="Need category key")]
    expressing: Annotated[
        int | None,
        Meta(
            description="Respondents expressing the need, perturbed (cell key method; 0 "
            "stands for 0 to k−1); null when the area is not shown"
        ),
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
    reason: Annotated[CellReason | None, Meta(description="protected: the area is not shown")] = (
        None
    )


class AreaNeeds(Struct, kw_only=True):
    id: UUID
    code: str
    name: str
    parent_code: str | None
    respondents: Annotated[
        int | None, Meta(description="n, perturbed; null when the area is not shown")
    ]
    withheld: bool = False
    reason: Annotated[AreaReason | None, Meta(description="protected: not shown")] = None
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


_NO_CELL_SUPPRESSION = (
    "Deprecated, always 0 (kept so v1 clients still parse): the cell key method "
    "(disclosure_method) perturbs counts instead of hiding cells, and telling primary from "
    "secondary suppression told which hidden counts were small. Areas not shown are counted "
    "in withheld_areas."
)

_DEPRECATED_ZERO = Meta(
    description=_NO_CELL_SUPPRESSION,
    extra_json_schema={"description": _NO_CELL_SUPPRESSION, "extra": {"deprecated": True}},
)


class Metadata(Struct, kw_only=True):
    surveys: list[SurveyRef]
    process_id: UUID
    process_title: str
    first_submission: Annotated[
        datetime.date | None, Meta(description="Date of the first response")
    ]
    last_submission: Annotated[datetime.date | None, Meta(description="Date of the last response")]
    level: LevelRef
    at: Annotated[
        datetime.date,
        Meta(
            description="The date of the area hierarchy (query parameter `at`, default "
            "today): the areas valid then, each response counted along the path its area had "
            "then (an area not valid then: on its last or first valid day), population of "
            "that date"
        ),
    ]
    k_threshold: int
    min_respondents: int
    weighting: Weighting
    weighting_method: str
    age_strata: list[StratumRef]
    interval_method: str
    generated_at: datetime.datetime
    disclosure_method: str
    withheld_areas: Annotated[int, Meta(description="Areas of this result not shown")]
    suppressed_primary: Annotated[int, _DEPRECATED_ZERO]
    suppressed_secondary: Annotated[int, _DEPRECATED_ZERO]
    attribution: str | None = None


class StratumRepresentation(Struct, kw_only=True):
    stratum: Annotated[str, Meta(description="Age stratum key (see metadata.age_strata)")]
    respondents: Annotated[int, Meta(description="Respondents in the stratum, perturbed")]
    population: int
    response_rate: Annotated[
        float | None, Meta(description="respondents / population (perturbed respondents)")
    ]


class SexRepresentation(Struct, kw_only=True):
    sex: Annotated[
        s.PopulationSex,
        Meta(description="female: the area's women; male: its other inhabitants"),
    ]
    respondents: Annotated[
        int,
        Meta(
            description="Respondents who chose the option mapped to this sex, perturbed: "
            "the option's count in the per-question results of this area"
        ),
    ]
    population: int
    response_rate: Annotated[
        float | None, Meta(description="respondents / population (perturbed respondents)")
    ]


class AreaRepresentation(Struct, kw_only=True):
    id: UUID
    code: str
    respondents: Annotated[
        int | None, Meta(description="n, perturbed; null when the area is not shown")
    ]
    population: int | None
    response_rate: Annotated[float | None, Meta(description="respondents / population")]
    strata: list[StratumRepresentation]
    sexes: Annotated[
        list[SexRepresentation],
        Meta(
            description="By sex, where a survey maps a question's options to the population's "
            "sexes and the area's number of women is known (see representativeness.sex_method); "
            "empty when the area is not shown"
        ),
    ] = msgspec.field(default_factory=list)


class Representativeness(Struct, kw_only=True):
    """Respondents against the population by area, age stratum and sex, from perturbed
    counts."""

    method: str
    r_indicator: Annotated[
        float | None,
        Meta(
            description="R-indicator (Schouten, Cobben & Bethlehem 2009) of the response "
            "propensities per area × age stratum: 1 − 2·S(ρ); 1 = fully representative"
        ),
    ]
    areas: list[AreaRepresentation]
    sex_method: Annotated[
        str | None,
        Meta(
            description="How respondents are counted by sex; null when no survey of the result "
            "maps a question's options to the population's sexes"
        ),
    ] = None


class AggregatedNeeds(Struct, kw_only=True):
    metadata: Metadata
    categories: list[CategoryRef]
    areas: list[AreaNeeds]
    totals: ScopeTotals
    representativeness: Annotated[
        Representativeness | None,
        Meta(
            description="Respondents against the population per area (and per age stratum "
            "with weighting=age); null only without areas (a survey without a social-area "
            "question)"
        ),
    ] = None


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
    # (survey id, question key, option key, sex) of the options mapped to population sexes.
    sex_options: list[tuple[UUID, str, str, str]] = field(default_factory=list)


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
    for survey, definition in zip(surveys, definitions, strict=True):
        mapped = d.sex_options(definition)
        if mapped is not None:
            question, options = mapped
            source.sex_options += [
                (survey.id, question, option, sex) for option, sex in sorted(options.items())
            ]
    return source


# -- SQL -----------------------------------------------------------------------------------------

_SURVEYS = bindparam("surveys", type_=ARRAY(Uuid))
_AT = bindparam("at", type_=Date)
# Every area with the path it has on :at (one valid then) or on its last or first valid day (one
# not valid then): responses roll up along the hierarchy of that date (areas.services).
_AREA_ON = hierarchy_on_sql("at")

# Respondents and need rows per area, rolled up to every ancestor and (node NULL, prepended to
# each path) to the whole scope — in one statement, so that both counts come from one snapshot
# (two statements in the request's READ COMMITTED transaction could count the need rows of a
# response committed between them without the response). Rows with category NULL are the
# respondents (n, first, last); the others are need rows (x). `area` is the response's area as
# on :at (_AREA_ON).
_COUNTS = text(
    f"""
    WITH area_on AS ({_AREA_ON}), responses AS (
        SELECT area_id, count(*) AS n, sum(record_key) AS keys,
               min(submitted_at) AS first, max(submitted_at) AS last
        FROM survey_responses
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id
    ), needs AS (
        SELECT area_id, need_category_id, count(*) AS x, sum(record_key) AS keys
        FROM survey_response_needs
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, need_category_id
    )
    SELECT node, NULL::uuid AS category, sum(r.n)::bigint, sum(r.keys), min(r.first), max(r.last)
    FROM responses r
    JOIN area_on area ON area.id = r.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node
    UNION ALL
    SELECT node, x.need_category_id, sum(x.x)::bigint, sum(x.keys), NULL, NULL
    FROM needs x
    JOIN area_on area ON area.id = x.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node, x.need_category_id
    """  # noqa: S608 (_AREA_ON is constant SQL)
).bindparams(_SURVEYS, _AT)

# With age weighting, the same grouped by survey and age option as well, then rolled up twice
# from the one grouped pass: over every ancestor (as above), and to the areas at the level by
# age stratum. (`path[:position]` is element access: `:position` is a bound parameter,
# depth + 1.) One statement again; each table is read once.
_STRATUM_BINDS = (
    _SURVEYS,
    _AT,
    bindparam("map_surveys", type_=ARRAY(Uuid)),
    bindparam("map_options", type_=ARRAY(String)),
    bindparam("map_strata", type_=ARRAY(String)),
)
_COUNTS_AGED = text(
    f"""
    WITH area_on AS ({_AREA_ON}), responses AS MATERIALIZED (
        SELECT area_id, survey_id, age_stratum, count(*) AS n, sum(record_key) AS keys,
               min(submitted_at) AS first, max(submitted_at) AS last
        FROM survey_responses
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, survey_id, age_stratum
    ), needs AS MATERIALIZED (
        SELECT area_id, survey_id, age_stratum, need_category_id, count(*) AS x,
               sum(record_key) AS keys
        FROM survey_response_needs
        WHERE survey_id = ANY(:surveys)
        GROUP BY area_id, survey_id, age_stratum, need_category_id
    ), stratum_map AS (
        SELECT * FROM unnest(:map_surveys, :map_options, :map_strata)
            AS m(survey_id, option_key, stratum)
    )
    SELECT false AS by_stratum, node, NULL AS stratum, NULL::uuid AS category,
           sum(r.n)::bigint, sum(r.keys), min(r.first), max(r.last)
    FROM responses r
    JOIN area_on area ON area.id = r.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node
    UNION ALL
    SELECT true, area.path[:position], m.stratum, NULL::uuid, sum(r.n)::bigint, sum(r.keys),
           NULL, NULL
    FROM responses r
    JOIN area_on area ON area.id = r.area_id
    LEFT JOIN stratum_map m ON m.survey_id = r.survey_id AND m.option_key = r.age_stratum
    WHERE cardinality(area.path) >= :position
    GROUP BY 2, 3
    UNION ALL
    SELECT false, node, NULL, x.need_category_id, sum(x.x)::bigint, sum(x.keys), NULL, NULL
    FROM needs x
    JOIN area_on area ON area.id = x.area_id
    CROSS JOIN LATERAL unnest(array_prepend(NULL::uuid, area.path)) AS node
    GROUP BY node, x.need_category_id
    UNION ALL
    SELECT true, area.path[:position], m.stratum, x.need_category_id, sum(x.x)::bigint,
           sum(x.keys), NULL, NULL
    FROM needs x
    JOIN area_on area ON area.id = x.area_id
    LEFT JOIN stratum_map m ON m.survey_id = x.survey_id AND m.option_key = x.age_stratum
    WHERE cardinality(area.path) >= :position
    GROUP BY 2, 3, 4
    """  # noqa: S608 (_AREA_ON is constant SQL)
).bindparams(*_STRATUM_BINDS)


# Respondents per area at the level (`path[:position]`, depth + 1) and sex: those who chose an
# option mapped to a population sex. For one survey each cell is the set of responses the
# per-question results count for that option in that area (the same rows, hence the same
# record-key sum and the same perturbed value).
_SEX_BINDS = (
    bindparam("sex_surveys", type_=ARRAY(Uuid)),
    bindparam("sex_questions", type_=ARRAY(String)),
    bindparam("sex_options", type_=ARRAY(String)),
    bindparam("sex_values", type_=ARRAY(String)),
)
_COUNTS_BY_SEX = text(
    f"""
    WITH area_on AS ({_AREA_ON})
    SELECT area.path[:position] AS node, m.sex, count(*)::bigint, sum(r.record_key)
    FROM unnest(:sex_surveys, :sex_questions, :sex_options, :sex_values)
        AS m(survey_id, question_key, option_key, sex)
    JOIN survey_answer_options o
        ON o.survey_id = m.survey_id AND o.question_key = m.question_key
        AND o.option_key = m.option_key
    JOIN survey_responses r ON r.id = o.response_id AND r.survey_id = m.survey_id
    JOIN area_on area ON area.id = r.area_id
    WHERE cardinality(area.path) >= :position
    GROUP BY 1, 2
    """  # noqa: S608 (_AREA_ON is constant SQL)
).bindparams(*_SEX_BINDS, _AT)


async def _count_by_sex(
    session: AsyncSession, source: _Source, depth: int, at: datetime.date
) -> dict[UUID, dict[str, Cell]]:
    """Cells of the respondents per area at `depth` (in the hierarchy of `at`) and population
    sex."""
    if not source.sex_options:
        return {}
    params = {
        "position": depth + 1,
        "at": at,
        "sex_surveys": [survey_id for survey_id, _, _, _ in source.sex_options],
        "sex_questions": [question for _, question, _, _ in source.sex_options],
        "sex_options": [option for _, _, option, _ in source.sex_options],
        "sex_values": [sex for _, _, _, sex in source.sex_options],
    }
    found: dict[UUID, dict[str, Cell]] = {}
    for node, sex, count, keys in await session.execute(_COUNTS_BY_SEX, params):
        found.setdefault(node, {})[sex] = Cell(count, int(keys))
    return found


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
    """Cells (count and sum of record keys) per area, and per area and category."""

    n: dict[UUID | str, Cell] = field(default_factory=dict)
    x: dict[tuple[UUID | str, UUID], Cell] = field(default_factory=dict)
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    # With age weighting, at the chosen level: stratum None = no age given.
    n_by_stratum: dict[UUID, dict[str | None, Cell]] = field(default_factory=dict)
    x_by_stratum: dict[tuple[UUID, UUID], dict[str | None, Cell]] = field(default_factory=dict)


# For this transaction only: the hash aggregates by area, age stratum and category (~30 000
# groups per survey for Berlin's planning areas, ~10 MB) stay in memory instead of spilling
# batches to disk, and JIT compilation (~50 ms) does not pay off for statements that run a few
# hundred milliseconds.
_ANALYTIC_SETTINGS = (text("SET LOCAL work_mem = '64MB'"), text("SET LOCAL jit = off"))


async def _count(
    session: AsyncSession, source: _Source, depth: int, by_age: bool, at: datetime.date
) -> _Counts:
    """The cells, each response rolled up along the path its area has on `at`."""
    counts = _Counts()
    for setting in _ANALYTIC_SETTINGS:
        await session.execute(setting)
    if not by_age:
        params: dict[str, Any] = {"surveys": [survey.id for survey in source.surveys], "at": at}
        for node, category, count, keys, first, last in await session.execute(_COUNTS, params):
            key = node if node is not None else SCOPE
            if category is not None:
                counts.x[(key, category)] = Cell(count, int(keys))
                continue
            counts.n[key] = Cell(count, int(keys))
            if node is None:
                counts.first, counts.last = first, last
        return counts
    params = _stratum_params(source, depth + 1) | {"at": at}
    rows = await session.execute(_COUNTS_AGED, params)
    for by_stratum, node, stratum, category, count, keys, first, last in rows:
        cell = Cell(count, int(keys))
        if category is not None:
            if by_stratum:
                counts.x_by_stratum.setdefault((node, category), {})[stratum] = cell
            else:
                counts.x[(node if node is not None else SCOPE, category)] = cell
        elif by_stratum:
            counts.n_by_stratum.setdefault(node, {})[stratum] = cell
        else:
            counts.n[node if node is not None else SCOPE] = cell
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
    session: AsyncSession, source: _Source, with_responses: Iterable[UUID], at: datetime.date
) -> list[_Area]:
    """The areas of the tree on `at`: the scope closure down to the response level, and every
    area with responses (with its ancestors, which the roll-up already named)."""
    return await scope_areas(
        session, source.process.id, source.response_depth, with_responses, at=at
    )


async def scope_areas(
    session: AsyncSession,
    process_id: UUID,
    depth: int,
    with_responses: Iterable[UUID],
    *,
    at: datetime.date | None = None,
) -> list[_Area]:
    """Every area of a process's scope (its areas, their sub-areas and ancestors; every area
    when it names none) down to `depth`, and the areas named in `with_responses`, ordered by
    depth and code: those valid on `at` (default today), with the name, parent and path of that
    day. Results list all of them, so that an absent area says nothing."""
    scope = (
        await session.scalars(
            select(process_areas.c.area_id).where(process_areas.c.process_id == process_id)
        )
    ).all()
    statement = text(
        f"""
        WITH area_on AS ({_AREA_ON})
        SELECT area.id, area.code, area.name, area.parent_id, level.depth
        FROM area_on area
        JOIN area_levels level ON level.id = area.level_id
        WHERE area.valid AND level.depth <= :depth AND (
            area.id = ANY(:named)
            OR cardinality(:scope) = 0
            OR area.path && :scope
            OR area.id IN (
                SELECT unnest(scope_area.path) FROM area_on scope_area
                WHERE scope_area.id = ANY(:scope)
            )
        )
        ORDER BY level.depth, area.code
        """  # noqa: S608 (_AREA_ON is constant SQL)
    ).bindparams(bindparam("named", type_=ARRAY(Uuid)), bindparam("scope", type_=ARRAY(Uuid)), _AT)
    rows = await session.execute(
        statement,
        {
            "depth": depth,
            "named": list(with_responses),
            "scope": list(scope),
            "at": at or today(),
        },
    )
    return [_Area(*row) for row in rows]


# -- the result ----------------------------------------------------------------------------------


def _interval(value: intervals.Interval | None) -> Interval | None:
    return None if value is None else Interval(low=value.low, high=value.high)


def _figure(category: str, n: int, x: int) -> NeedFigure:
    """A published need figure: `n` and `x` are perturbed counts (stats.cellkey)."""
    shown = min(x, n)  # noise can put x above n; the share and interval use at most n
    return NeedFigure(
        category=category,
        expressing=x,
        share=Release.share(x, n),
        share_ci=_interval(intervals.wilson(shown, n)) if n else None,
    )


def _withheld_figure(category: str) -> NeedFigure:
    return NeedFigure(
        category=category,
        expressing=None,
        share=None,
        share_ci=None,
        suppressed=True,
        reason="protected",
        weighted_gap="cell_suppressed",
    )


@dataclass(slots=True)
class _AreaWeights:
    weights: weighting.Weights | None  # from published respondents per stratum
    gap: WeightedGap | None


def _area_weights(
    source: _Source,
    release: Release,
    counts: _Counts,
    area_id: UUID,
    population: dict[str, int] | None,
) -> _AreaWeights:
    """The weighting inputs of an area, from perturbed counts only."""
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
                respondents=release.count(by_stratum.get(stratum.key, EMPTY)),
                population=sum(population[band] for band in stratum.population_bands),
            )
        )
    if not any(stratum.respondents for stratum in strata):
        return _AreaWeights(None, "no_age_given")
    found = cellkey.weights(strata, release.count(by_stratum.get(None, EMPTY)), minimum=release.k)
    return _AreaWeights(found, None if found is not None else "no_population")


def _weighted(
    figure: NeedFigure,
    area: _AreaWeights,
    by_stratum: dict[str | None, Cell],
    release: Release,
) -> float | None:
    """Add the weighted share to a figure; return the effective sample size. Every input is
    a perturbed count, so the estimate is published wherever the weighting works: strata
    collapse until each group has k (perturbed) respondents (stats.weighting)."""
    if figure.suppressed:
        return None
    if area.gap is not None:
        figure.weighted_gap = area.gap
        return None
    if area.weights is None:
        figure.weighted_gap = "no_population"
        return None
    expressing = {key: release.count(cell) for key, cell in by_stratum.items() if key is not None}
    share = cellkey.share_of(area.weights, expressing, release.count(by_stratum.get(None, EMPTY)))
    effective = area.weights.effective_sample_size
    figure.weighted_share = share
    figure.weighted_share_ci = _interval(intervals.wilson_from_share(share, effective))
    return effective


async def _aggregate(
    session: AsyncSession,
    source: _Source,
    level_key: str,
    weighting_: Weighting,
    at: datetime.date | None = None,
) -> AggregatedNeeds:
    day = at or today()
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
    counts = await _count(session, source, level.depth, by_age, day)
    named = [node for node in counts.n if isinstance(node, UUID)]
    areas = await _areas(session, source, named, day) if source.response_depth >= 0 else []
    by_id = {area.id: area for area in areas}
    categories = await _categories(session, source, counts)
    release = Release(source.k, source.min_respondents)

    at_level = [area for area in areas if area.depth == level.depth]
    figures: dict[UUID, dict[str, int]] | None = None
    populations_found: dict[UUID, Any] = {}
    if at_level:
        populations_found = await populations(session, [area.id for area in at_level], at=day)
    if by_age:
        figures = {
            area_id: {band.key: band.count for band in population.age_bands}
            for area_id, population in populations_found.items()
        }

    withheld_count = 0
    rows: list[AreaNeeds] = []
    for area in at_level:
        n = release.respondents(counts.n.get(area.id, EMPTY))
        parent_code = by_id[area.parent_id].code if area.parent_id in by_id else None
        if n is None:
            withheld_count += 1
            rows.append(
                AreaNeeds(
                    id=area.id,
                    code=area.code,
                    name=area.name,
                    parent_code=parent_code,
                    respondents=None,
                    withheld=True,
                    reason="protected",
                    needs=[_withheld_figure(key) for _, key, _ in categories],
                )
            )
            continue
        area_weights = (
            _area_weights(source, release, counts, area.id, (figures or {}).get(area.id))
            if by_age
            else None
        )
        needs = []
        effective: float | None = None
        for category_id, key, _ in categories:
            figure = _figure(key, n, release.count(counts.x.get((area.id, category_id), EMPTY)))
            if area_weights is None:
                figure.weighted_gap = "not_requested"
            else:
                found_effective = _weighted(
                    figure,
                    area_weights,
                    counts.x_by_stratum.get((area.id, category_id), {}),
                    release,
                )
                effective = effective if found_effective is None else found_effective
            needs.append(figure)
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

    representation = (
        _representativeness(
            source,
            release,
            counts,
            at_level,
            populations_found,
            rows,
            by_age,
            await _count_by_sex(session, source, level.depth, day),
        )
        if at_level
        else None
    )
    total_n = release.respondents(counts.n.get(SCOPE, EMPTY))
    if total_n is None:
        withheld_count += 1
        totals = ScopeTotals(
            respondents=None,
            withheld=True,
            reason="protected",
            needs=[_withheld_figure(key) for _, key, _ in categories],
        )
    else:
        total_needs = []
        for category_id, key, _ in categories:
            figure = _figure(key, total_n, release.count(counts.x.get((SCOPE, category_id), EMPTY)))
            figure.weighted_gap = "not_for_totals" if by_age else "not_requested"
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
            at=day,
            attribution=level.attribution,
            k_threshold=source.k,
            min_respondents=source.min_respondents,
            weighting=weighting_,
            weighting_method=WEIGHTING_METHODS[weighting_].format(),
            age_strata=source.strata if by_age else [],
            interval_method=INTERVAL_METHOD.format(),
            disclosure_method=DISCLOSURE_METHOD.format(
                k=release.k, noise=release.ptable.max_noise, alpha=release.ptable.alpha
            ),
            generated_at=datetime.datetime.now(datetime.UTC),
            withheld_areas=withheld_count,
            suppressed_primary=0,
            suppressed_secondary=0,
        ),
        categories=[CategoryRef(key=key, label=label) for _, key, label in categories],
        areas=rows,
        totals=totals,
        representativeness=representation,
    )


def _representativeness(
    source: _Source,
    release: Release,
    counts: _Counts,
    at_level: list[_Area],
    found: dict[UUID, Any],
    rows: list[AreaNeeds],
    by_age: bool,
    by_sex: dict[UUID, dict[str, Cell]],
) -> Representativeness:
    """Respondents against the population per area (and per age stratum `by_age`; per sex
    where a survey maps an option to each), and the R-indicator over areas (× strata), all
    from perturbed counts (stats.cellkey): functions of protected values only."""
    shown = {row.id: row.respondents for row in rows}
    cells: list[tuple[int, int]] = []  # (perturbed respondents, population) per area (× stratum)
    areas: list[AreaRepresentation] = []
    for area in at_level:
        population = found.get(area.id)
        bands = {band.key: band.count for band in population.age_bands} if population else {}
        by_stratum = counts.n_by_stratum.get(area.id, {})
        strata: list[StratumRepresentation] = []
        if not by_age and population is not None and population.total:
            cells.append((release.count(counts.n.get(area.id, EMPTY)), population.total))
        for stratum in source.strata if by_age else []:
            if not bands or any(b not in bands for b in stratum.population_bands):
                continue
            people = sum(bands[b] for b in stratum.population_bands)
            respondents = release.count(by_stratum.get(stratum.key, EMPTY))
            cells.append((respondents, people))
            strata.append(
                StratumRepresentation(
                    stratum=stratum.key,
                    respondents=respondents,
                    population=people,
                    response_rate=min(1.0, respondents / people) if people else None,
                )
            )
        n = shown.get(area.id)
        total = population.total if population else None
        sexes: list[SexRepresentation] = []
        if source.sex_options and n is not None and population and population.female is not None:
            cells_by_sex = by_sex.get(area.id, {})
            pairs: tuple[tuple[s.PopulationSex, int], ...] = (
                ("female", population.female),
                ("male", population.total - population.female),
            )
            for sex, people in pairs:
                respondents = release.count(cells_by_sex.get(sex, EMPTY))
                sexes.append(
                    SexRepresentation(
                        sex=sex,
                        respondents=respondents,
                        population=people,
                        response_rate=min(1.0, respondents / people) if people else None,
                    )
                )
        areas.append(
            AreaRepresentation(
                id=area.id,
                code=area.code,
                respondents=n,
                population=total,
                response_rate=min(1.0, n / total) if n is not None and total else None,
                strata=strata if n is not None else [],
                sexes=sexes,
            )
        )
    return Representativeness(
        method=REPRESENTATIVENESS_METHOD if by_age else REPRESENTATIVENESS_BY_AREA_METHOD,
        r_indicator=r_indicator(cells),
        areas=areas,
        sex_method=_sex_method(source),
    )


def _sex_method(source: _Source) -> str | None:
    if not source.sex_options:
        return None
    questions = sorted({question for _, question, _, _ in source.sex_options})
    return SEX_METHOD.format(questions=", ".join(f"{q!r}" for q in questions))


def r_indicator(cells: list[tuple[int, int]]) -> float | None:
    """1 − 2·S(ρ) over cells of (respondents, population): ρ = min(1, respondents /
    population), S the population-weighted standard deviation. None without population."""
    population = sum(people for _, people in cells)
    if population <= 1:
        return None
    rates = [(min(1.0, n / people), people) for n, people in cells if people > 0]
    mean = sum(rate * people for rate, people in rates) / population
    variance = sum(people * (rate - mean) ** 2 for rate, people in rates) / (population - 1)
    return float(1 - 2 * math.sqrt(variance))


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
    at: datetime.date | None = None,
) -> AggregatedNeeds:
    """Needs per social area at `level_key` for one survey, disclosure-controlled, by the
    area hierarchy of `at` (default today)."""
    survey = await session.scalar(select(Survey).where(Survey.id == survey_id))
    if survey is None:
        raise NotFound(f"No survey {survey_id}.")
    process = await session.get_one(PlanningProcess, survey.process_id)
    return await _aggregate(
        session, await _source(session, [survey], process), level_key, weighting, at
    )


async def process_aggregated_needs(
    session: AsyncSession,
    process_id: UUID,
    *,
    level_key: str,
    weighting: Weighting = Weighting.NONE,
    at: datetime.date | None = None,
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
    return await _aggregate(
        session, await _source(session, surveys, process), level_key, weighting, at
    )
