"""Property: the whole release of a process holds against the release attacker.

Each example draws a **random tree** of social areas (1 … 3 districts, each with 1 … 3 district
regions of 1 … 3 planning areas, beside the fixed test hierarchy), a process scoped to it with
two surveys of the full test definition (single, multiple, ranking, rating, number and text
questions, a conditional page and a conditional question, an age question mapped to population
bands) and random thresholds (k 3 … 6, min_respondents k … 12), and random respondents stored
through the import path (`responses.insert_prepared`): per planning area none, a few (1 … 4), or
many, with random answers. It then collects **through the API** every output of the release:
per-question results of each survey for all responses and at every level (GetSurveyResults);
aggregated needs of each survey at every level, plain and age-weighted, as JSON and as the JSON
export (GetAggregatedNeeds, ExportAggregatedNeeds; with representativeness, by age stratum and
by sex — the surveys map `children` to the population's sexes); the pooled needs
of the process at every level, plain and age-weighted (GetProcessAggregatedNeeds); and the
tabular export rows of one.

Checks:

* every published count is the perturbation of its true cell (counted independently here from
  the stored rows) — so a cell has one value in every table, level and format;
* summaries are functions of published counts only (shares, rating mean and median, weighted
  shares and n_eff from the published stratum counts);
* every area of a level is listed;
* the attacker of tests/support/release_attacker.py, given every published value, the public
  perturbation table and every true relation between the cells (hierarchy sums, pooled = Σ
  surveys, options of a single choice and of a rating = answered, the conditional question's
  answers = the option that shows it, needs = the options that express them, strata = n,
  x ≤ n …), finds nothing: no count of 1 … k − 1 determined or proven to lie in [1, k − 1].
  Each example prints its figures (run with -s): trees, outputs, cells, relations, findings.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.stats import cellkey, intervals, weighting
from quartier.stats.cellkey import Cell, PTable, Release
from quartier.surveys import aggregation, exports, schemas
from quartier.surveys import definition as d
from quartier.surveys import responses as r
from quartier.surveys.aggregation import Weighting
from quartier.surveys.models import Channel, Survey
from tests.support.areas import add_areas
from tests.support.release_attacker import ReleaseAttacker, Report

from .conftest import AREAS, Client, Headers, MakeProcess, definition
from .test_aggregation import POPULATION, add_population, create_survey

ALL = "all"
DEPTH = {2: "district", 4: "district_region", 6: "planning_area"}


@dataclass(frozen=True)
class Tree:
    """A hierarchy of social areas, code → (name, parent code), codes of 2, 4 and 6 digits
    (district, district region, planning area), parents first and in the order of the codes."""

    areas: dict[str, tuple[str, str | None]]

    @property
    def parent(self) -> dict[str, str]:
        return {code: parent or ALL for code, (_, parent) in self.areas.items()}

    @property
    def leaves(self) -> list[str]:
        return self.at(6)

    def at(self, width: int) -> list[str]:
        return [code for code in self.areas if len(code) == width]


FIXED = Tree(AREAS)


def random_tree(rng: random.Random) -> Tree:
    """1 … 3 districts (beside the fixed tree's 01 and 08), each with 1 … 3 district regions
    of 1 … 3 planning areas, at most 9 planning areas in all."""
    areas: dict[str, tuple[str, str | None]] = {}
    leaves = 0
    for district in sorted(rng.sample(range(11, 40), rng.randint(1, 3))):
        code = f"{district}"
        areas[code] = (f"Bezirk {code}", None)
        for region in range(1, rng.randint(1, 3) + 1):
            region_code = f"{code}{region:02d}"
            areas[region_code] = (f"Region {region_code}", code)
            for leaf in range(1, rng.randint(1, 3) + 1):
                if leaves >= 9 and leaf > 1:
                    break
                leaf_code = f"{region_code}{leaf:02d}"
                areas[leaf_code] = (f"Planungsraum {leaf_code}", region_code)
                leaves += 1
    ordered = sorted(areas, key=lambda c: (c[:2], c[2:4], c[4:]))
    return Tree({code: areas[code] for code in ordered})


# need category ← the options expressing it (tests/surveys/conftest.py definition())
NEED_OPTIONS = {
    "childcare": [("missing", "kita")],
    "school_success": [("missing", "homework")],
    "youth_work": [("missing", "youth_club")],
    "medical_care": [("missing", "doctor")],
    "everyday_support": [("priorities", "counselling")],
    "safety": [("safety", "1"), ("safety", "2")],
}
PARTITIONS = {
    "children": ["yes", "no"],
    "safety": ["1", "2", "3", "4", "5"],
    "age": ["under_27", "from_27_to_44", "from_45", "no_answer"],
}
STRATA = {"under_27", "from_27_to_44", "from_45"}
# The surveys map `children` to the population's sexes (any single choice would do): the
# representativeness by sex publishes these options' cells once more.
SEX_OPTIONS = {"female": "yes", "male": "no"}


def sexed_definition() -> dict[str, Any]:
    body = definition()
    children = body["pages"][0]["questions"][2]
    for option in children["options"]:
        option["population_sex"] = next(s for s, o in SEX_OPTIONS.items() if o == option["key"])
    return body


T = TypeVar("T")


def random_answers(rng: random.Random, area: str) -> dict[str, Any]:
    answers: dict[str, Any] = {"area": area, "children": rng.choice(["yes", "no"])}
    if rng.random() < 0.8:
        answers["age"] = rng.choice(["under_27", "from_27_to_44", "from_45", "no_answer"])
    if answers["children"] == "yes":
        answers["missing"] = rng.sample(
            ["kita", "homework", "youth_club", "doctor"], rng.randint(1, 3)
        )
        if "kita" in answers["missing"] and rng.random() < 0.7:
            answers["priorities"] = rng.sample(["playground", "counselling", "sports"], 2)
    if rng.random() < 0.9:
        answers["safety"] = rng.randint(1, 5)
    if rng.random() < 0.8:
        answers["household"] = rng.randint(1, 6)
    return answers


async def fill(
    session: AsyncSession,
    survey_id: uuid.UUID,
    areas: dict[str, uuid.UUID],
    rng: random.Random,
    tree: Tree = FIXED,
) -> None:
    survey = await session.get_one(Survey, survey_id)
    definition = d.compiled(survey).definition
    rows = []
    for leaf in tree.leaves:
        size = rng.choice([0, rng.randint(1, 4), rng.randint(5, 14), rng.randint(15, 45)])
        for _ in range(size):
            prepared = r.prepare(definition, random_answers(rng, leaf))
            rows.append((prepared, areas[prepared.area_code]))
    if rows:
        await r.insert_prepared(session, survey, rows, Channel.IMPORT)


# -- the truth, counted here from the stored rows ------------------------------------------------


class Truth:
    """True cells of a set of surveys: per node (ALL and every area code) the respondents, the
    answers per question, the choices per option, the needs, and by age stratum at each node."""

    def __init__(self) -> None:
        self.cells: dict[tuple[Any, ...], Cell] = defaultdict(lambda: cellkey.EMPTY)

    def add(self, name: tuple[Any, ...], key: int) -> None:
        self.cells[name] = self.cells[name] + Cell(1, key)

    def __getitem__(self, name: tuple[Any, ...]) -> Cell:
        return self.cells[name]


async def truth_of(session: AsyncSession, survey_ids: list[uuid.UUID], tree: Tree = FIXED) -> Truth:
    truth = Truth()
    parent = tree.parent
    responses = await session.execute(
        text(
            "SELECT r.id, a.code, r.age_stratum, r.record_key, r.answers FROM survey_responses r "
            "JOIN social_areas a ON a.id = r.area_id WHERE r.survey_id = ANY(:ids)"
        ),
        {"ids": survey_ids},
    )
    by_id: dict[uuid.UUID, tuple[list[str], int]] = {}
    for rid, code, age, key, answers in responses:
        nodes = [ALL]
        node = code
        while node != ALL:
            nodes.append(node)
            node = parent[node]
        by_id[rid] = (nodes, key)
        stratum = age if age in STRATA else None
        for node in nodes:
            truth.add(("n", node), key)
            truth.add(("stratum_n", node, stratum), key)
            for question in answers:
                truth.add(("answered", node, question), key)
    for rid, question, option in await session.execute(
        text(
            "SELECT response_id, question_key, option_key FROM survey_answer_options "
            "WHERE survey_id = ANY(:ids)"
        ),
        {"ids": survey_ids},
    ):
        nodes, key = by_id[rid]
        for node in nodes:
            truth.add(("option", node, question, option), key)
    for rid, category, age in await session.execute(
        text(
            "SELECT n.response_id, c.key, n.age_stratum FROM survey_response_needs n "
            "JOIN need_categories c ON c.id = n.need_category_id WHERE n.survey_id = ANY(:ids)"
        ),
        {"ids": survey_ids},
    ):
        nodes, key = by_id[rid]
        stratum = age if age in STRATA else None
        for node in nodes:
            truth.add(("x", node, category), key)
            truth.add(("stratum_x", node, stratum, category), key)
    return truth


# -- collecting the release ----------------------------------------------------------------------


class Feed:
    """Feeds the attacker, checking each published value against its true cell."""

    def __init__(self, attacker: ReleaseAttacker) -> None:
        self.attacker = attacker
        self.outputs = 0
        self.sex_figures = 0

    def cell(
        self, release: Release, tag: Any, truth: Truth, name: tuple[Any, ...], value: int
    ) -> None:
        expected = release.count(truth[name])
        assert value == expected, (tag, name, value, truth[name])
        self.attacker.published_cell((tag, *name), truth[name].count, value, release.ptable)

    def withheld(self, release: Release, tag: Any, truth: Truth, name: tuple[Any, ...]) -> None:
        """A group not shown: its perturbed n is below min_respondents."""
        assert release.respondents(truth[name]) is None
        full = (tag, *name)
        self.attacker.hidden_cell(full, truth[name].count)
        v = self.attacker.index[full]
        bound = release.min_respondents - 1 + release.ptable.max_noise
        self.attacker.high[v] = min(self.attacker.high[v], bound)


def collect_results(feed: Feed, release: Release, tag: Any, truth: Truth, result: Any) -> None:
    feed.outputs += 1
    for group in result.groups:
        node = ALL if group.area is None else group.area.code
        if group.withheld:
            feed.withheld(release, tag, truth, ("n", node))
            continue
        feed.cell(release, tag, truth, ("n", node), group.respondents)
        for question in group.questions:
            if question.type == "social_area":
                continue
            feed.cell(release, tag, truth, ("answered", node, question.key), question.answered)
            published: dict[str, int] = {}
            for option in question.options or []:
                name = ("option", node, question.key, option.key)
                feed.cell(release, tag, truth, name, option.count)
                published[option.key] = option.count
                assert option.share == (
                    None
                    if not question.answered
                    else round(min(1.0, option.count / question.answered), 4)
                )
            if question.type == "rating":
                assert question.summary is not None
                mean, median = Release.distribution_summary(
                    {int(key): count for key, count in published.items()}
                )
                assert (question.summary.mean, question.summary.median) == (mean, median)
            if question.type == "number" and question.summary and not question.summary.suppressed:
                assert question.summary.n == question.answered


def collect_needs(
    feed: Feed,
    release: Release,
    tag: Any,
    truth: Truth,
    result: aggregation.AggregatedNeeds,
    population: dict[str, int] | None,
) -> None:
    feed.outputs += 1
    strata = [s.key for s in result.metadata.age_strata]
    if result.representativeness is not None:
        # Every figure of the representativeness table is a published stratum count.
        for area in result.representativeness.areas:
            for item in area.strata:
                name = ("stratum_n", area.code, item.stratum)
                feed.cell(release, tag, truth, name, item.respondents)
            # By sex: the published count of the option mapped to that sex (one cell).
            for by_sex in area.sexes:
                name = ("option", area.code, "children", SEX_OPTIONS[by_sex.sex])
                feed.cell(release, tag, truth, name, by_sex.respondents)
                feed.sex_figures += 1
    rows = [(area.code, area) for area in result.areas] + [(ALL, result.totals)]
    for node, row in rows:
        if row.withheld:
            feed.withheld(release, tag, truth, ("n", node))
            assert all(f.expressing is None for f in row.needs)
            continue
        feed.cell(release, tag, truth, ("n", node), row.respondents)
        for figure in row.needs:
            feed.cell(release, tag, truth, ("x", node, figure.category), figure.expressing)
            assert figure.share == Release.share(figure.expressing, row.respondents)
            shown = min(figure.expressing, row.respondents)
            expected_ci = intervals.wilson(shown, row.respondents)
            assert figure.share_ci is not None and expected_ci is not None
            assert (figure.share_ci.low, figure.share_ci.high) == (
                expected_ci.low,
                expected_ci.high,
            )
            if figure.weighted_share is None or population is None:
                continue
            # Worst case: the weighted share and n_eff reveal the stratum counts behind them.
            n_by = {s: release.count(truth[("stratum_n", node, s)]) for s in [*strata, None]}
            x_by = {
                s: release.count(truth[("stratum_x", node, s, figure.category)])
                for s in [*strata, None]
            }
            for s in [*strata, None]:
                feed.cell(release, tag, truth, ("stratum_n", node, s), n_by[s])
                feed.cell(release, tag, truth, ("stratum_x", node, s, figure.category), x_by[s])
            bands = {st.key: st.population_bands for st in result.metadata.age_strata}
            found = cellkey.weighted_share(
                [
                    weighting.Stratum(s, n_by[s], sum(population[b] for b in bands[s]))
                    for s in strata
                ],
                n_by[None],
                {s: x_by[s] for s in strata},
                x_by[None],
                minimum=release.k,
            )
            assert found is not None and figure.weighted_share == found[0]
            assert row.effective_sample_size == found[1]


def relations(
    attacker: ReleaseAttacker, truths: dict[Any, Truth], pooled: Any, tree: Tree = FIXED
) -> None:
    """Every true relation between the cells the attacker has seen; a cell a relation needs
    that was not published (in an area not shown) enters as an unknown."""
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in tree.parent.items():
        children[parent].append(code)

    def need(full: tuple[Any, ...]) -> tuple[Any, ...]:
        if full not in attacker.index:
            attacker.hidden_cell(full, truths[full[0]][full[1:]].count)
        return full

    seen = list(attacker.index)
    for full in seen:
        tag, kind, node, *rest = full
        if node in children:
            kids = [need((tag, kind, child, *rest)) for child in children[node]]
            attacker.equal([full], kids)
        if kind != "n":
            attacker.at_most(full, need((tag, "n", node)))
        if kind == "option":
            attacker.at_most(full, need((tag, "answered", node, rest[0])))
        if kind == "stratum_x":
            attacker.at_most(full, need((tag, "stratum_n", node, rest[0])))
    for tag in truths:
        for node in [ALL, *tree.areas]:
            if (tag, "n", node) not in attacker.index:
                continue
            for question, options in PARTITIONS.items():
                whole = (tag, "answered", node, question)
                if whole in attacker.index:
                    attacker.equal(
                        [whole], [need((tag, "option", node, question, o)) for o in options]
                    )
            follow = (tag, "answered", node, "missing")
            if follow in attacker.index:
                attacker.equal([follow], [need((tag, "option", node, "children", "yes"))])
            for category, options in NEED_OPTIONS.items():
                x = (tag, "x", node, category)
                if x in attacker.index and tag != pooled:
                    attacker.equal([x], [need((tag, "option", node, q, o)) for q, o in options])
            if (tag, "stratum_n", node, None) in attacker.index:
                attacker.equal(
                    [(tag, "n", node)],
                    [need((tag, "stratum_n", node, st)) for st in [*sorted(STRATA), None]],
                )
    for full in list(attacker.index):
        if full[0] != pooled:
            continue
        attacker.equal([full], [need((tag, *full[1:])) for tag in truths if tag != pooled])


@pytest.mark.parametrize("seed", range(6))
async def test_the_whole_release_holds_against_the_attacker(
    seed: int,
    session: AsyncSession,
    make_process: MakeProcess,
    areas: dict[str, uuid.UUID],
    client: Client,
    planner: Headers,
) -> None:
    report, attacker = await attack_release(seed, session, make_process, client, planner)
    assert report.findings == [], report.findings[:5]
    # The protection is not vacuous: small cells exist and are published as 0 or ≥ k.
    assert any(1 <= attacker.truth[v] < 3 for v in range(len(attacker.truth)))
    assert not any(1 <= value < 3 for value in attacker.published.values())


async def test_without_noise_the_same_attack_recovers_small_counts(
    session: AsyncSession,
    make_process: MakeProcess,
    areas: dict[str, uuid.UUID],
    client: Client,
    planner: Headers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack is real: with exact counts (small ones shown as 0) it finds them."""
    monkeypatch.setattr(PTable, "noise", lambda self, key: 0)
    monkeypatch.setattr(
        PTable, "preimage", lambda self, p: (p, p) if p >= self.k else (0, self.k - 1)
    )
    report, _ = await attack_release(0, session, make_process, client, planner)
    assert report.findings
    assert any(finding.exact for finding in report.findings)


async def _get(client: Client, planner: Headers, path: str, type_: type[T], **params: str) -> T:
    response = await client.get(path, params=params, headers=planner)
    assert response.status_code == 200, response.text
    return msgspec.json.decode(response.content, type=type_)


async def attack_release(
    seed: int,
    session: AsyncSession,
    make_process: MakeProcess,
    client: Client,
    planner: Headers,
) -> tuple[Report, ReleaseAttacker]:
    """A random tree (beside the fixed one), a process over it with two surveys of random
    thresholds and respondents, every output of the release collected **through the API**
    (GetSurveyResults for all responses and per level; GetAggregatedNeeds and its JSON export
    per level, plain and age-weighted; GetProcessAggregatedNeeds per level, plain and
    age-weighted), fed to the attacker and attacked."""
    rng = random.Random(seed)
    tree = random_tree(rng)
    ids = await add_areas(session, tree.areas)
    await session.commit()
    process_id = await make_process(area_codes=tuple(tree.at(2)))
    for code in tree.leaves:
        await add_population(session, ids[code], POPULATION, female=4_100)
    thresholds = []
    survey_ids = []
    for title in ("Erste", "Zweite"):
        k = rng.randint(3, 6)
        minimum = rng.randint(k, 12)
        thresholds.append((k, minimum))
        survey_id = await create_survey(
            session, process_id, k=k, min_respondents=minimum, title=title, body=sexed_definition()
        )
        await fill(session, survey_id, ids, rng, tree)
        survey_ids.append(survey_id)
    await session.commit()

    pooled_k = max(k for k, _ in thresholds)
    pooled_min = max(m for _, m in thresholds)
    attacker = ReleaseAttacker(Release(pooled_k, pooled_min).ptable)
    feed = Feed(attacker)
    population = POPULATION
    for index, survey_id in enumerate(survey_ids):
        k, minimum = thresholds[index]
        release = Release(k, minimum)
        # The attacker knows every survey's table; findings are judged by the strictest k.
        truth = await truth_of(session, [survey_id], tree)
        results_path = f"/api/v1/surveys/{survey_id}/results"
        collect_results(
            feed,
            release,
            index,
            truth,
            await _get(client, planner, results_path, schemas.SurveyResults),
        )
        for width, level in DEPTH.items():
            by_level = await _get(client, planner, results_path, schemas.SurveyResults, level=level)
            # every area of the level is listed, with responses or not
            assert [g.area.code for g in by_level.groups if g.area] == tree.at(width)
            collect_results(feed, release, index, truth, by_level)
            needs_path = f"/api/v1/surveys/{survey_id}/aggregated-needs"
            for weighting_ in (Weighting.NONE, Weighting.AGE):
                for path, extra in ((needs_path, {}), (f"{needs_path}/export", {"format": "json"})):
                    result = await _get(
                        client,
                        planner,
                        path,
                        aggregation.AggregatedNeeds,
                        level=level,
                        weighting=weighting_.value,
                        **extra,
                    )
                    assert [a.code for a in result.areas] == tree.at(width)
                    collect_needs(
                        feed,
                        release,
                        index,
                        truth,
                        result,
                        population if level == "planning_area" else None,
                    )
    pooled_release = Release(pooled_k, pooled_min)
    pooled_truth = await truth_of(session, survey_ids, tree)
    for level in DEPTH.values():
        for weighting_ in (Weighting.NONE, Weighting.AGE):
            result = await _get(
                client,
                planner,
                f"/api/v1/processes/{process_id}/aggregated-needs",
                aggregation.AggregatedNeeds,
                level=level,
                weighting=weighting_.value,
            )
            collect_needs(
                feed,
                pooled_release,
                "pooled",
                pooled_truth,
                result,
                population if level == "planning_area" else None,
            )
    # The tabular exports carry the same values.
    result = await aggregation.aggregated_needs(session, survey_ids[0], level_key="planning_area")
    column = [key for key, _ in exports.COLUMNS].index("expressing")
    published = [f.expressing for area in result.areas for f in area.needs]
    exported = [row[column] for row in exports.rows(result)]
    assert exported[: len(published)] == published

    assert feed.sex_figures > 0  # the representativeness by sex was published and fed

    truths: dict[Any, Truth] = {
        i: await truth_of(session, [sid], tree) for i, sid in enumerate(survey_ids)
    }
    truths["pooled"] = pooled_truth
    relations(attacker, truths, "pooled", tree)
    report = attacker.attack()
    print(
        f"seed {seed}: tree of {len(tree.at(2))} districts, {len(tree.at(4))} regions, "
        f"{len(tree.leaves)} planning areas; {feed.outputs} outputs, {report.cells} cells, "
        f"{report.relations} relations, {len(report.findings)} findings "
        f"({sum(f.exact for f in report.findings)} exact)"
    )
    return report, attacker
