"""Property: no suppressed value of an aggregated-needs export can be recomputed — on the real
Berlin hierarchy, through the real code path, whatever the responses.

Each example creates a planning process scoped to one to three random Berlin districts (or the
whole city), one or two surveys (k from 3 to 6, min_respondents from k to 12, the social-area
question at a random level, and when there are two, at different levels — so the process export
has responses at parent areas too), and random respondents: a random subset of the areas of
the survey's level, mostly tiny counts (0 … 2·min_respondents) and some large ones, each
respondent expressing each of four needs with an area-specific probability, and an age option
or none. It inserts them into the real tables, asks the service for the aggregated needs at
every level the responses allow (with age weighting at a random level), renders each as the
JSON export, and reads it back as a client would.

Then, acting as the attacker of tests/stats/attacker.py, it collects every published number of
all levels of one survey (or of the process) at once, plus the public hierarchy and the counts
made at parent areas themselves, writes down every linear relation — n = x + (n − x), parent =
Σ children for n, x and n − x, the scope totals — and tries to recompute every suppressed value
by exact rational elimination and by integer bounds. The test also checks that every published
number is true, that primary suppression is exactly the rule, and that no suppressed value
shows as 0 or leaks through a share, an interval or a weighted share.

`QUARTIER_DISCLOSURE_EXAMPLES` sets the number of examples (default 30).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quartier.areas.models import AreaLevel, SocialArea
from quartier.processes import schemas as ps
from quartier.processes import services as processes
from quartier.stats.disclosure import is_small
from quartier.stats.intervals import wilson
from quartier.surveys import aggregation, exports
from quartier.surveys.aggregation import Weighting
from tests.areas.conftest import berlin_engine, berlin_template, berlin_url  # noqa: F401
from tests.stats.attacker import Publication, Var, attack

from .test_aggregation import Respondent, add_responses, create_survey

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("QUARTIER_DISCLOSURE_EXAMPLES", "30"))
NEEDS = ["childcare", "money_and_debt", "health", "housing"]
LEVELS = ["district", "forecast_area", "district_region", "planning_area"]
AGES = {
    "young": ["18_27"],
    "middle": ["27_45", "45_55"],
    "old": ["55_65", "above_65"],
}


def definition(level: str) -> dict[str, Any]:
    text = {"de": "Frage"}
    return {
        "title": {"de": "Eigenschaftstest"},
        "purpose": text,
        "organiser": text,
        "estimated_minutes": 5,
        "privacy_note": text,
        "pages": [
            {
                "key": "main",
                "questions": [
                    {"type": "social_area", "key": "area", "text": text, "level": level},
                    {
                        "type": "age_band",
                        "key": "age",
                        "text": text,
                        "options": [
                            {"key": key, "label": text, "population_bands": bands}
                            for key, bands in AGES.items()
                        ]
                        + [{"key": "no_answer", "label": text}],
                    },
                    {
                        "type": "multiple_choice",
                        "key": "needs",
                        "text": text,
                        "options": [
                            {"key": key, "label": text, "need_categories": [key]} for key in NEEDS
                        ],
                    },
                ],
            }
        ],
    }


@dataclass
class Berlin:
    code: dict[uuid.UUID, str]
    parent: dict[str, str | None]  # code → parent code
    level: dict[str, int]  # code → depth
    by_level: dict[int, list[str]]
    ids: dict[str, uuid.UUID]

    def ancestors(self, code: str) -> list[str]:
        """The code and its ancestors."""
        chain: list[str] = []
        node: str | None = code
        while node is not None:
            chain.append(node)
            node = self.parent[node]
        return chain


@pytest.fixture(scope="module")
async def berlin(berlin_engine: AsyncEngine) -> Berlin:  # noqa: F811
    async with async_sessionmaker(berlin_engine)() as session:
        rows = (
            await session.execute(
                select(SocialArea.id, SocialArea.code, SocialArea.parent_id, AreaLevel.depth).join(
                    AreaLevel, AreaLevel.id == SocialArea.level_id
                )
            )
        ).all()
    code = {area_id: area_code for area_id, area_code, _, _ in rows}
    by_level: dict[int, list[str]] = defaultdict(list)
    for _, area_code, _, depth in rows:
        by_level[depth].append(area_code)
    return Berlin(
        code=code,
        parent={c: code[p] if p else None for _, c, p, _ in rows},
        level={c: depth for _, c, _, depth in rows},
        by_level={depth: sorted(codes) for depth, codes in by_level.items()},
        ids={c: area_id for area_id, c in code.items()},
    )


@dataclass
class Scenario:
    seed: int
    districts: list[str]  # empty: the whole city
    k: int
    min_respondents: int
    levels: list[int]  # the social-area level of each survey
    sizes: list[int]  # how many respondents the chosen areas get (cycled)
    areas_share: float
    weighted_level: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    k = draw(st.integers(3, 6))
    return Scenario(
        seed=draw(st.integers(0, 2**32 - 1)),
        districts=draw(
            st.one_of(
                st.lists(
                    st.sampled_from([f"{d:02d}" for d in range(1, 13)]),
                    min_size=1,
                    max_size=3,
                    unique=True,
                ),
                st.just([]),
            )
        ),
        k=k,
        min_respondents=draw(st.integers(k, 12)),
        levels=draw(
            st.one_of(
                st.tuples(st.integers(1, 3)).map(list),
                st.lists(st.integers(1, 3), min_size=2, max_size=2, unique=True),
            )
        ),
        sizes=draw(
            st.lists(
                st.one_of(st.integers(0, 24), st.integers(0, 6), st.integers(25, 120)),
                min_size=1,
                max_size=12,
            )
        ),
        areas_share=draw(st.floats(0.05, 0.8)),
        weighted_level=draw(st.integers(0, 3)),
    )


@dataclass
class Truth:
    n: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    x: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    direct: dict[Var, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, berlin: Berlin, respondent: Respondent, leaf_depth: int) -> None:
        chain = [*berlin.ancestors(respondent.area), "scope"]
        for node in chain:
            self.n[node] += 1
            for need in respondent.needs:
                self.x[(node, need)] += 1
        # Counted at an area that has children in the tree: the attacker is told.
        if berlin.level[respondent.area] < leaf_depth:
            self.direct[("n", respondent.area)] += 1
            for need in NEEDS:
                kind = "x" if need in respondent.needs else "y"
                self.direct[(kind, respondent.area, need)] += 1


def respondents(
    berlin: Berlin, scenario: Scenario, level: int, rng: random.Random
) -> list[Respondent]:
    candidates = [
        code
        for code in berlin.by_level[level]
        if not scenario.districts or berlin.ancestors(code)[-1] in scenario.districts
    ]
    chosen = [code for code in candidates if rng.random() < scenario.areas_share] or candidates[:1]
    result: list[Respondent] = []
    for i, code in enumerate(chosen):
        size = scenario.sizes[i % len(scenario.sizes)]
        propensity = {need: rng.choice([0.0, 0.05, 0.2, 0.5, 0.9, 1.0]) for need in NEEDS}
        for _ in range(size):
            needs = tuple(need for need in NEEDS if rng.random() < propensity[need])
            age = rng.choice([*AGES, "no_answer", None])
            result.append(Respondent(code, needs, age))
    return result


@pytest.fixture(scope="module")
async def berlin_session(berlin_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:  # noqa: F811
    async with async_sessionmaker(berlin_engine, expire_on_commit=False)() as session:
        yield session


TRIED: dict[str, int] = defaultdict(int)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=False,
)
@given(scenario=scenarios())
async def test_no_suppressed_value_of_a_berlin_export_can_be_recomputed(
    berlin: Berlin, berlin_session: AsyncSession, scenario: Scenario
) -> None:
    note(repr(scenario))
    session = berlin_session
    rng = random.Random(scenario.seed)
    try:
        process_id = await processes.create_process(
            session,
            ps.ProcessCreate(
                title="Eigenschaftstest", topic="Bedarfe", area_codes=scenario.districts
            ),
            processes.SYSTEM,
        )
        truth = Truth()
        leaf_depth = max(scenario.levels)
        survey_ids = []
        for level in scenario.levels:
            survey_id = await create_survey(
                session,
                process_id,
                body=definition(LEVELS[level]),
                k=scenario.k,
                min_respondents=scenario.min_respondents,
            )
            survey_ids.append(survey_id)
            people = respondents(berlin, scenario, level, rng)
            await add_responses(session, survey_id, berlin.ids, people)
            for person in people:
                truth.count(berlin, person, leaf_depth)

        if len(survey_ids) == 1:

            async def result_at(
                level_key: str, weighting: Weighting
            ) -> aggregation.AggregatedNeeds:
                return await aggregation.aggregated_needs(
                    session, survey_ids[0], level_key=level_key, weighting=weighting
                )
        else:

            async def result_at(
                level_key: str, weighting: Weighting
            ) -> aggregation.AggregatedNeeds:
                return await aggregation.process_aggregated_needs(
                    session, process_id, level_key=level_key, weighting=weighting
                )

        published: list[dict[str, Any]] = []
        for depth in range(leaf_depth + 1):
            weighting = Weighting.AGE if depth == scenario.weighted_level else Weighting.NONE
            result = await result_at(LEVELS[depth], weighting)
            body = b"".join([chunk async for chunk in exports.render(result, exports.Format.JSON)])
            published.append(json.loads(body))
        TRIED["examples"] += 1
        TRIED["surveys"] += len(survey_ids)
        TRIED["exports"] += len(published)
        check(berlin, scenario, truth, published)
    finally:
        await session.rollback()


def check(
    berlin: Berlin, scenario: Scenario, truth: Truth, published: list[dict[str, Any]]
) -> None:
    k, minimum = scenario.k, scenario.min_respondents
    parent: dict[Hashable, Hashable | None] = {"scope": None}
    n: dict[Hashable, int | None] = {}
    area_reason: dict[Hashable, str | None] = {}
    x: dict[tuple[Hashable, Hashable], int | None] = {}
    cell_reason: dict[tuple[Hashable, Hashable], str | None] = {}
    totals = published[0]["totals"]

    def comparable(document: dict[str, Any]) -> Any:
        # Only the note on weighting differs between a weighted and an unweighted result.
        return [{**f, "weighted_gap": None} for f in document["totals"]["needs"]]

    for document in published:
        assert comparable(document) == comparable(published[0]), "scope totals differ by level"
        meta = document["metadata"]
        assert (meta["k_threshold"], meta["min_respondents"]) == (k, minimum)
        rows = [(area["code"], area) for area in document["areas"]] + [("scope", totals)]
        primary = secondary = withheld = 0
        for code, row in rows:
            if code != "scope":
                up = berlin.parent[code]
                parent[code] = up if up is not None else "scope"
                assert row["parent_code"] == up
            true_n = truth.n.get(code, 0)
            n[code] = row["respondents"]
            area_reason[code] = row["reason"]
            if row["withheld"]:
                withheld += code != "scope"
                assert row["respondents"] is None
                assert row["reason"] in ("min_respondents", "secondary")
                assert (row["reason"] == "min_respondents") == (true_n < minimum)
            else:
                assert row["respondents"] == true_n, f"wrong n for {code}"
                assert true_n >= minimum
            figures = {figure["category"]: figure for figure in row["needs"]}
            assert set(figures) == set(NEEDS)
            for need, figure in figures.items():
                true_x = truth.x.get((code, need), 0)
                x[(code, need)] = figure["expressing"]
                cell_reason[(code, need)] = figure["reason"] if not row["withheld"] else None
                if figure["suppressed"]:
                    assert figure["expressing"] is None  # never 0
                    assert figure["share"] is None and figure["share_ci"] is None
                    assert figure["weighted_share"] is None and figure["weighted_share_ci"] is None
                    if row["withheld"]:
                        assert figure["reason"] == "area_withheld"
                    else:
                        small = is_small(true_x, k) or is_small(true_n - true_x, k)
                        assert (figure["reason"] == "primary") == small
                        primary += figure["reason"] == "primary" and code != "scope"
                        secondary += figure["reason"] == "secondary" and code != "scope"
                    continue
                assert not row["withheld"]
                assert not is_small(true_x, k) and not is_small(true_n - true_x, k)
                assert figure["expressing"] == true_x, f"wrong x for {code} {need}"
                assert figure["share"] == pytest.approx(true_x / true_n)
                interval = wilson(true_x, true_n)
                assert figure["share_ci"] == pytest.approx(
                    {"low": interval.low, "high": interval.high}
                )
        scope_primary = sum(f["reason"] == "primary" for f in totals["needs"] if f["suppressed"])
        scope_secondary = sum(
            f["reason"] == "secondary" for f in totals["needs"] if f["suppressed"]
        )
        assert meta["suppressed_primary"] == primary + scope_primary
        assert meta["suppressed_secondary"] == secondary + scope_secondary
        assert meta["withheld_areas"] == withheld + bool(totals["withheld"])
        TRIED["cells"] += len(rows) * len(NEEDS)

    publication = Publication(
        parent=parent,
        categories=list(NEEDS),
        k=k,
        min_respondents=minimum,
        n=n,
        area_reason=area_reason,
        x=x,
        cell_reason=cell_reason,
        true_n={node: truth.n.get(str(node), 0) for node in parent},
        true_x={
            (node, need): truth.x.get((str(node), need), 0) for node in parent for need in NEEDS
        },
    )
    # Responses given for a parent area (a survey asking at a coarser level) are not published
    # anywhere in the export: the attacker knows only where they may be (the levels the
    # surveys ask at), not how many.
    coarser = {depth for depth in scenario.levels if depth < max(scenario.levels)}
    hidden = {
        var: truth.direct.get(var, 0)
        for node in parent
        if node != "scope" and berlin.level[str(node)] in coarser
        for var in [("n", node), *((kind, node, need) for kind in "xy" for need in NEEDS)]
    }
    findings = attack(publication, hidden_direct=hidden)
    TRIED["unknowns"] += findings.unknowns
    TRIED["relations"] += findings.relations
    TRIED["suppressed_examples"] += findings.unknowns > 0
    assert findings.disclosures() == {}, f"recomputed: {findings.disclosures()}"


def test_report_how_many_cases_were_tried() -> None:
    """Runs after the property (file order): the numbers for the record."""
    print(
        f"\ndisclosure property: {TRIED['examples']} examples, {TRIED['surveys']} surveys, "
        f"{TRIED['exports']} exports, {TRIED['cells']} published cells, "
        f"{TRIED['unknowns']} unknowns attacked with {TRIED['relations']} relations "
        f"({TRIED['suppressed_examples']} examples with suppression)"
    )
    assert TRIED["examples"] >= min(EXAMPLES, 1)
