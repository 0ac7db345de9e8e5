"""Regression tests for the leaks of issue #8 §1, each reproduced in its setting and shown
closed with the real perturbation (stats.cellkey): the attacker of
tests/support/release_attacker.py finds nothing, and the figures that gave the leak away are
now functions of perturbed counts only.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.stats import cellkey, weighting
from quartier.stats.cellkey import Release
from quartier.surveys import aggregation, exports, services
from quartier.surveys import definition as d
from quartier.surveys import responses as r
from quartier.surveys.aggregation import Weighting
from quartier.surveys.models import Channel, Survey
from tests.support.release_attacker import ReleaseAttacker

from .conftest import AREAS, MakeProcess
from .test_aggregation import POPULATION, add_population, create_survey
from .test_release import Feed, Truth, collect_needs, collect_results, relations, truth_of

K, MINIMUM = 5, 10
LEVELS = ["district", "district_region", "planning_area"]


def answer(area: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"area": area, "children": "no", "safety": 4, "household": 3}
    base.update(overrides)
    return base


async def store(
    session: AsyncSession,
    survey_id: uuid.UUID,
    areas: dict[str, uuid.UUID],
    groups: list[tuple[int, dict[str, Any]]],
) -> None:
    survey = await session.get_one(Survey, survey_id)
    definition = d.compiled(survey).definition
    rows = []
    for count, answers in groups:
        for _ in range(count):
            prepared = r.prepare(definition, answers)
            rows.append((prepared, areas[prepared.area_code]))
    await r.insert_prepared(session, survey, rows, Channel.IMPORT)
    await session.commit()


async def attack(
    session: AsyncSession,
    survey_ids: list[uuid.UUID],
    process_id: uuid.UUID | None = None,
    *,
    weighted: bool = False,
) -> tuple[ReleaseAttacker, list[Any]]:
    """Everything the surveys (and their pooled needs) publish, attacked."""
    release = Release(K, MINIMUM)
    attacker = ReleaseAttacker(release.ptable)
    feed = Feed(attacker)
    truths: dict[Any, Truth] = {}
    for index, survey_id in enumerate(survey_ids):
        truth = truths[index] = await truth_of(session, [survey_id])
        collect_results(
            feed, release, index, truth, await services.results_by_question(session, survey_id)
        )
        for level in LEVELS:
            collect_results(
                feed,
                release,
                index,
                truth,
                await services.results_by_question(session, survey_id, level=level),
            )
            result = await aggregation.aggregated_needs(
                session,
                survey_id,
                level_key=level,
                weighting=Weighting.AGE
                if weighted and level == "planning_area"
                else Weighting.NONE,
            )
            collect_needs(feed, release, index, truth, result, POPULATION if weighted else None)
    pooled = None
    if process_id is not None:
        pooled = "pooled"
        truths[pooled] = await truth_of(session, survey_ids)
        for level in LEVELS:
            result = await aggregation.process_aggregated_needs(
                session, process_id, level_key=level
            )
            collect_needs(feed, release, pooled, truths[pooled], result, None)
    relations(attacker, truths, pooled)
    return attacker, attacker.attack().findings


@pytest.fixture
async def process(make_process: MakeProcess) -> uuid.UUID:
    return await make_process(area_codes=("01", "08"))


def small_truths(attacker: ReleaseAttacker) -> list[Any]:
    return [name for name, v in attacker.index.items() if 1 <= attacker.truth[v] < K]


async def test_a_hidden_option_cannot_be_recomputed_from_its_row_column_or_level(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: the second cell hidden to protect a row was recomputable from its column, and
    results at one level minus the children at the next gave hidden values."""
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (3, answer("010101", children="yes", missing=["doctor"])),
            (37, answer("010101", children="yes", missing=["kita"])),
            (12, answer("010102", children="yes", missing=["doctor"])),
            (18, answer("010102", children="yes", missing=["kita"])),
            (25, answer("010201")),
            (30, answer("080101")),
        ],
    )
    attacker, findings = await attack(session, [survey])
    assert (0, "option", "010101", "missing", "doctor") in attacker.index
    assert findings == []
    assert small_truths(attacker)  # there was something to protect


async def test_a_conditional_question_shows_the_same_value_as_the_option_that_opens_it(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: the number who answered the follow-up equalled the hidden count of the option that
    shows it. Now both are the same cell, with one (perturbed) value, and nothing leaks."""
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (2, answer("010101", children="yes", missing=["homework"])),
            (38, answer("010101")),
            (30, answer("010102")),
            (30, answer("010201", children="yes", missing=["kita"])),
        ],
    )
    for level in (None, *LEVELS):
        result = await services.results_by_question(session, survey, level=level)
        for group in result.groups:
            if group.withheld:
                continue
            questions = {q.key: q for q in group.questions}
            assert questions["missing"].answered == next(
                o.count for o in questions["children"].options or [] if o.key == "yes"
            )
    _, findings = await attack(session, [survey])
    assert findings == []


async def test_means_and_medians_come_from_published_counts_only(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: a median of 2.5 over n = 8 said that exactly 4 chose 1–2; a mean times n was a sum
    that pinned cells. A rating's mean and median are now those of its published
    distribution; free numbers need a perturbed n of `summary_minimum` and are rounded."""
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (4, answer("010101", safety=1, household=1)),
            (4, answer("010101", safety=4, household=7)),
            (3, answer("010101", safety=2, household=2)),
            (40, answer("010102", safety=5)),
        ],
    )
    result = await services.results_by_question(session, survey, level="planning_area")
    for group in result.groups:
        if group.withheld:
            continue
        questions = {q.key: q for q in group.questions}
        safety = questions["safety"]
        published = {int(o.key): o.count or 0 for o in safety.options or []}
        assert safety.summary is not None
        assert (safety.summary.mean, safety.summary.median) == Release.distribution_summary(
            published
        )
        household = questions["household"]
        assert household.summary is not None
        if household.summary.suppressed:
            continue
        assert household.summary.n is not None
        assert household.summary.n >= Release(K, MINIMUM).summary_minimum
        assert household.summary.mean is not None
        assert household.summary.mean == cellkey._significant(household.summary.mean)
    _, findings = await attack(session, [survey])
    assert findings == []


async def test_needs_and_results_show_one_value_per_area(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: needs and results were protected separately, so an area withheld in one was
    published in the other. Now n of an area is one cell with one value in both (and
    `Feed` checks every other cell the same way)."""
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (4, answer("010101")),
            (9, answer("010102")),
            (11, answer("010201")),
            (60, answer("080101")),
        ],
    )
    for level in LEVELS:
        results = await services.results_by_question(session, survey, level=level)
        needs = await aggregation.aggregated_needs(session, survey, level_key=level)
        assert [g.respondents for g in results.groups] == [a.respondents for a in needs.areas]
        assert [g.withheld for g in results.groups] == [a.withheld for a in needs.areas]


async def test_every_area_of_a_level_is_listed(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: results listed only areas with respondents, so absent areas were known zeros."""
    survey = await create_survey(session, process)
    await store(session, survey, areas, [(50, answer("010101"))])
    for width, level in ((2, "district"), (4, "district_region"), (6, "planning_area")):
        results = await services.results_by_question(session, survey, level=level)
        listed = [g.area.code for g in results.groups if g.area is not None]
        assert listed == [code for code in AREAS if len(code) == width]
    results = await services.results_by_question(session, survey, level="planning_area")
    empty = next(g for g in results.groups if g.area and g.area.code == "080101")
    assert (empty.withheld, empty.respondents, empty.questions) == (True, None, [])


async def test_no_marker_says_which_rule_protected_a_value(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: the marker `primary` told that x or n − x is 1 … k − 1."""
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (2, answer("010101", children="yes", missing=["doctor"])),
            (30, answer("010101")),
            (3, answer("010102")),
        ],
    )
    needs = await aggregation.aggregated_needs(session, survey, level_key="planning_area")
    documents = [
        msgspec.json.encode(needs).decode(),
        msgspec.json.encode(
            await services.results_by_question(session, survey, level="planning_area")
        ).decode(),
        repr(list(exports.rows(needs))),
    ]
    for document in documents:
        for marker in ("primary", "secondary", "min_respondents", "area_withheld", "small_strata"):
            assert f':"{marker}"' not in document and f"'{marker}'" not in document
    reasons = {a.reason for a in needs.areas} | {f.reason for a in needs.areas for f in a.needs}
    assert reasons <= {None, "protected"}


async def test_n_eff_and_weighted_shares_are_computed_from_perturbed_strata(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: n_eff with the public population fixed an area's age composition exactly. Now
    it is the n_eff of the perturbed stratum counts; and weighted shares are published
    wherever the weighting works (issue: 3 of 68 cells before)."""
    for code in ("010101", "010102", "010201", "080101"):
        await add_population(session, areas[code], POPULATION)
    survey = await create_survey(session, process)
    await store(
        session,
        survey,
        areas,
        [
            (2, answer("010101", age="under_27", children="yes", missing=["kita"])),
            (20, answer("010101", age="from_27_to_44", children="yes", missing=["kita"])),
            (23, answer("010101", age="from_45")),
            (3, answer("010101")),
            (33, answer("010102", age="from_45")),
            (12, answer("010201", age="under_27", children="yes", missing=["doctor"])),
            (30, answer("080101", age="from_27_to_44")),
        ],
    )
    result = await aggregation.aggregated_needs(
        session, survey, level_key="planning_area", weighting=Weighting.AGE
    )
    truth = await truth_of(session, [survey])
    release = Release(K, MINIMUM)
    published = [a for a in result.areas if not a.withheld]
    assert published
    for area in published:
        strata = [s.key for s in result.metadata.age_strata]
        n_by = {s: release.count(truth[("stratum_n", area.code, s)]) for s in [*strata, None]}
        bands = {s.key: s.population_bands for s in result.metadata.age_strata}
        weights = weighting.post_stratify(
            [weighting.Stratum(s, n_by[s], sum(POPULATION[b] for b in bands[s])) for s in strata],
            n_by[None],
            minimum=K,
        )
        assert weights is not None
        assert area.effective_sample_size == weights.effective_sample_size
        # published wherever the raw figure is
        assert all(f.weighted_share is not None for f in area.needs)
    _, findings = await attack(session, [survey], weighted=True)
    assert findings == []


async def test_pooled_needs_minus_one_survey_reveal_nothing_of_the_other(
    session: AsyncSession, process: uuid.UUID, areas: dict[str, uuid.UUID]
) -> None:
    """§1: process-level pooled needs minus one survey's needs revealed the other survey's
    cells (a documented limit of the old aggregation). A pooled cell is a cell of its own
    (its own key), so the difference is noise."""
    first = await create_survey(session, process, title="Erste")
    second = await create_survey(session, process, title="Zweite")
    await store(
        session,
        first,
        areas,
        [(40, answer("010101", children="yes", missing=["kita"])), (30, answer("010102"))],
    )
    await store(
        session,
        second,
        areas,
        [
            (3, answer("010101", children="yes", missing=["kita"])),
            (30, answer("010101")),
            (30, answer("010102")),
        ],
    )
    attacker, findings = await attack(session, [first, second], process)
    assert (1, "x", "010101", "childcare") in attacker.index
    assert findings == []
    pooled = await aggregation.process_aggregated_needs(session, process, level_key="planning_area")
    truth = await truth_of(session, [first, second])
    row = next(a for a in pooled.areas if a.code == "010101")
    childcare = next(f for f in row.needs if f.category == "childcare")
    assert childcare.expressing == Release(K, MINIMUM).count(truth[("x", "010101", "childcare")])
