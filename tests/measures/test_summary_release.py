"""Property: the whole release of a measure's feedback holds against the release attacker.

Each example draws thresholds (k 3 … 5, min_respondents k … 8) and anonymous respondents — per
kind (resident, professional) and per area (the measure's two planning areas and "no area")
none, a few (1 … 4) or many (5 … 14), each with a random stance and random ratings of a random
subset of the criteria — and submits them through the API. It then collects **every output of
the release**: the feedback summary, the consultation report (JSON and its page with the maps
per area), the decision template's consultation result and the summary exports (CSV, GeoJSON).

Checks:

* every published count is the perturbation of its true cell, counted here from the stored
  rows (a cell has one value in every group, document and format); a group below
  min_respondents is withheld (null, never 0);
* means, medians and intervals are functions of the published distribution only, and the
  maps' shares of the published stance counts only;
* the attacker of tests/support/release_attacker.py, given every published value (a withheld
  group as "perturbed below min_respondents"), the public perturbation table and every true
  relation between the cells (all = Σ kinds, a kind = Σ its areas, n = Σ stances, a criterion's
  n = Σ its rating values, for stances and rating values at every node too, a criterion's n ≤
  n), finds nothing: no count of 1 … k − 1 determined or proven to lie in [1, k − 1].
"""

from __future__ import annotations

import csv
import itertools
import random
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from quartier.measures.feedback import mean_interval
from quartier.stats.cellkey import EMPTY, Cell, PTable, Release
from tests.support.release_attacker import ReleaseAttacker, Report

from .conftest import Client, CreateMeasure, Headers, Json

Consult = Callable[..., Awaitable[Json]]
KINDS = ("resident", "professional")
AREAS = ("010101", "010102", "-")
NAMES = {"010101": "Moabit West", "010102": "Moabit Ost"}
CRITERIA = ("relevance", "feasibility", "reach")
STANCES = ("support", "neutral", "oppose")
VALUES = ("1", "2", "3", "4", "5")
Node = tuple[str, ...]
_tokens = itertools.count()


async def _submit_random(client: Client, measure_id: str, rng: random.Random) -> None:
    for kind, area in itertools.product(KINDS, AREAS):
        size = rng.choice([0, rng.randint(1, 4), rng.randint(5, 14)])
        for _ in range(size):
            body: dict[str, Any] = {
                "kind": kind,
                "stance": rng.choice(STANCES),
                "ratings": {c: rng.randint(1, 5) for c in rng.sample(CRITERIA, rng.randint(0, 3))},
            }
            if area != "-":
                body["area_code"] = area
            headers = {"Respondent-Token": f"release-token-{next(_tokens):06d}-abcdef"}
            response = await client.post(
                f"/api/v1/measures/{measure_id}/feedback", json=body, headers=headers
            )
            assert response.status_code == 201, response.text


class Truth:
    """True cells, from the stored rows: per node the respondents, the stances, and per
    criterion the ratings by value and all ratings."""

    def __init__(self) -> None:
        self.cells: dict[tuple[Any, ...], Cell] = defaultdict(lambda: EMPTY)

    def __getitem__(self, name: tuple[Any, ...]) -> Cell:
        return self.cells.get(name, EMPTY)


async def _truth(engine: AsyncEngine, measure_id: str) -> Truth:
    truth = Truth()
    async with engine.connect() as db:
        responses = await db.execute(
            text(
                "SELECT f.id, f.kind, coalesce(a.code, '-'), f.stance, f.record_key "
                "FROM measure_feedback f "
                "JOIN measure_consultations c ON c.id = f.consultation_id "
                "LEFT JOIN social_areas a ON a.id = f.area_id "
                "WHERE c.measure_id = :measure AND f.kind <> 'organisation'"
            ),
            {"measure": measure_id},
        )
        keys: dict[Any, tuple[Node, int]] = {}
        for feedback_id, kind, code, stance, key in responses:
            keys[feedback_id] = ((kind, code), key)
            for node in ((), (kind,), (kind, code)):
                truth.cells[("n", node)] += Cell(1, key)
                truth.cells[("stance", node, stance)] += Cell(1, key)
        ratings = await db.execute(
            text(
                "SELECT feedback_id, criterion, value FROM measure_feedback_ratings "
                "WHERE feedback_id = ANY(:ids)"
            ),
            {"ids": list(keys)},
        )
        for feedback_id, criterion, value in ratings:
            leaf, key = keys[feedback_id]
            for node in ((), leaf[:1], leaf):
                truth.cells[("rating", node, criterion, str(value))] += Cell(1, key)
                truth.cells[("rated", node, criterion)] += Cell(1, key)
    return truth


def _node(key: str) -> Node:
    return () if key == "all" else tuple(key.split("/"))


def _withheld_bounds(ptable: PTable, min_respondents: int) -> tuple[int, int]:
    """What "withheld" says of a group's true size: its perturbed size is below min."""
    published = [0, *range(ptable.k, min_respondents)]
    return 0, max(ptable.preimage(p)[1] for p in published)


def _check_and_attack(summary: Json, truth: Truth, release: Release) -> ReleaseAttacker:
    attacker = ReleaseAttacker(release.ptable)

    def publish(name: tuple[Any, ...], value: int | None) -> None:
        assert value is not None, name
        assert value == release.count(truth[name]), name
        attacker.published_cell(name, truth[name].count, value)

    def hidden(name: tuple[Any, ...]) -> None:
        attacker.hidden_cell(name, truth[name].count)

    withheld_low, withheld_high = _withheld_bounds(release.ptable, release.min_respondents)
    nodes: list[Node] = []
    for group in summary["groups"]:
        node = _node(group["key"])
        nodes.append(node)
        n = ("n", node)
        assert group["respondents"] == release.respondents(truth[n]), group["key"]
        stance_names = [("stance", node, c["key"]) for c in group["stances"]]
        if group["withheld"]:
            # protected: one marker, nothing else — never 0
            assert group["reason"] == "protected"
            assert all(c["count"] is None for c in group["stances"])
            assert all(f["suppressed"] and f["n"] is None for f in group["criteria"])
            hidden(n)
            v = attacker.index[n]
            attacker.low[v], attacker.high[v] = withheld_low, withheld_high
            assert withheld_low <= truth[n].count <= withheld_high
            for name in stance_names:
                hidden(name)
            for criterion in CRITERIA:
                hidden(("rated", node, criterion))
                for value in VALUES:
                    hidden(("rating", node, criterion, value))
        else:
            publish(n, group["respondents"])
            for count, name in zip(group["stances"], stance_names, strict=True):
                publish(name, count["count"])
            for figure in group["criteria"]:
                criterion = figure["criterion"]
                distribution = {c["key"]: c["count"] for c in figure["distribution"]}
                for value in VALUES:
                    publish(("rating", node, criterion, value), distribution[value])
                publish(("rated", node, criterion), figure["n"])
                # the figures of a criterion come from the published distribution only
                counts = {float(k): c for k, c in distribution.items()}
                mean, median = Release.distribution_summary(counts)
                assert (figure["mean"], figure["median"]) == (mean, median)
                stats = mean_interval({int(k): c for k, c in distribution.items()})
                if stats is None:
                    assert figure["low"] is None and figure["high"] is None
                else:
                    assert figure["low"] == round(stats[1], 2)
                    assert figure["high"] == round(stats[2], 2)
        attacker.equal([n], stance_names)
        for criterion in CRITERIA:
            rated = ("rated", node, criterion)
            attacker.equal([rated], [("rating", node, criterion, v) for v in VALUES])
            attacker.at_most(rated, n)
    for node in nodes:
        children = [c for c in nodes if len(c) == len(node) + 1 and c[:-1] == node]
        if not children:
            continue
        attacker.equal([("n", node)], [("n", c) for c in children])
        for stance in STANCES:
            attacker.equal([("stance", node, stance)], [("stance", c, stance) for c in children])
        for criterion in CRITERIA:
            attacker.equal(
                [("rated", node, criterion)], [("rated", c, criterion) for c in children]
            )
            for value in VALUES:
                attacker.equal(
                    [("rating", node, criterion, value)],
                    [("rating", c, criterion, value) for c in children],
                )
    by_kind = {c["key"]: c for c in summary["responses_by_kind"]}
    for kind in KINDS:
        assert by_kind[kind]["count"] == release.respondents(truth[("n", (kind,))])
    return attacker


def _maps_agree(html: str, summary: Json) -> None:
    """The maps (of the report and of the summary page) show the groups' published figures:
    the share in support of the published stance counts, or "protected" — never a figure of
    their own."""
    groups = {g["key"]: g for g in summary["groups"]}
    for kind in KINDS:
        start = html.index(f'id="support-map-{kind}-table"')
        table = html[start : html.index("</table>", start)]
        cells = dict(
            re.findall(
                r'<th scope="row">([^<]+) <span[^>]*>[^<]*</span></th>'
                r'<td class="numeric[^"]*">([^<]*)</td>',
                table,
            )
        )
        for code, name in NAMES.items():
            group = groups[f"{kind}/{code}"]
            if group["withheld"]:
                assert cells[name] == "protected (too few people)", (kind, code)
                continue
            counts = {c["key"]: c["count"] for c in group["stances"]}
            total = sum(counts.values())
            if not total:
                assert cells[name] == "no data"
                continue
            share = f"{counts['support'] / total * 100:.1f}".rstrip("0").rstrip(".") + "%"
            assert cells[name] == f"{share} of {group['respondents']} responses", (kind, code)


async def _release(
    seed: int,
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    engine: AsyncEngine,
    make_token: Any,
) -> tuple[Report, ReleaseAttacker]:
    rng = random.Random(seed)
    k = rng.randint(3, 5)
    min_respondents = rng.randint(k, 8)
    measure_id = await create_measure(area_codes=["010101", "010102"])
    await consult(measure_id, k_threshold=k, min_respondents=min_respondents)
    await _submit_random(client, measure_id, rng)
    release = Release(k, min_respondents)
    base = f"/api/v1/measures/{measure_id}"
    summary = (await client.get(f"{base}/summary", headers=planner)).json()
    truth = await _truth(engine, measure_id)
    attacker = _check_and_attack(summary, truth, release)

    # every other output of the release shows the same figures
    report = (await client.get(f"{base}/consultation-report", headers=planner)).json()
    assert report["summary"]["groups"] == summary["groups"]
    assert report["summary"]["responses_by_kind"] == summary["responses_by_kind"]
    template = (await client.get(f"{base}/decision-template", headers=planner)).json()
    everyone = summary["groups"][0]
    assert template["consultation"]["respondents"] == everyone["respondents"]
    assert template["consultation"]["stances"] == everyone["stances"]
    assert template["consultation"]["criteria"] == everyone["criteria"]
    exporter = await make_token({"exports:read"})
    export = f"{base}/summary/export"
    lines = (await client.get(export, params={"format": "csv"}, headers=exporter)).text
    rows = list(csv.DictReader(x for x in lines.splitlines() if not x.startswith("#")))
    groups = {g["key"]: g for g in summary["groups"]}

    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    for row in rows:
        group = groups.get(row["group"])
        if row["row_type"] == "group":
            assert row["respondents"] == cell(group["respondents"])
        elif row["row_type"] == "stance":
            count = next(c for c in group["stances"] if c["key"] == row["value"])["count"]
            assert row["count"] == cell(count)
        elif row["row_type"] == "rating":
            figure = next(f for f in group["criteria"] if f["criterion"] == row["item"])
            count = next(c for c in figure["distribution"] if c["key"] == row["value"])["count"]
            assert row["count"] == cell(count)
    collection = (await client.get(export, params={"format": "geojson"}, headers=exporter)).json()
    for feature in collection["features"]:
        properties = feature["properties"]
        for kind in KINDS:
            group = groups[f"{kind}/{feature['id']}"]
            assert properties[f"{kind}_respondents"] == group["respondents"]
            for count in group["stances"]:
                assert properties[f"{kind}_{count['key']}"] == count["count"]
            for figure in group["criteria"]:
                assert properties[f"{kind}_{figure['criterion']}_n"] == figure["n"]
                assert properties[f"{kind}_{figure['criterion']}_mean"] == figure["mean"]
    await client.post(f"{base}/revise", json={"reason": "Auswertung"}, headers=planner)
    page = await client.get(
        f"/measures/{measure_id}/consultation-report",
        headers={"Accept": "text/html", "Accept-Language": "en"},
    )
    assert page.status_code == 200, page.text
    _maps_agree(page.text, summary)
    page = await client.get(
        f"/measures/{measure_id}/summary", headers={"Accept": "text/html", "Accept-Language": "en"}
    )
    assert page.status_code == 200, page.text
    _maps_agree(page.text, summary)
    return attacker.attack(), attacker


@pytest.mark.parametrize("seed", range(4))
async def test_the_whole_feedback_release_holds_against_the_attacker(
    seed: int,
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    engine: AsyncEngine,
    make_token: Any,
) -> None:
    report, attacker = await _release(
        seed, client, create_measure, consult, planner, engine, make_token
    )
    assert report.findings == [], report.findings[:5]
    assert report.cells > 100 and report.relations > 100
    # The protection is not vacuous: small cells exist and are published as 0 or ≥ k.
    assert any(1 <= attacker.truth[v] < attacker.k for v in range(len(attacker.truth)))
    assert not any(1 <= value < attacker.k for value in attacker.published.values())


async def test_without_noise_the_same_attack_recovers_small_counts(
    client: Client,
    create_measure: CreateMeasure,
    consult: Consult,
    planner: Headers,
    engine: AsyncEngine,
    make_token: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack is real: with exact counts (small ones shown as 0) it finds them."""
    monkeypatch.setattr(PTable, "noise", lambda self, key: 0)
    monkeypatch.setattr(
        PTable, "preimage", lambda self, p: (p, p) if p >= self.k else (0, self.k - 1)
    )
    report, _ = await _release(0, client, create_measure, consult, planner, engine, make_token)
    assert report.findings
    assert any(finding.exact for finding in report.findings)
