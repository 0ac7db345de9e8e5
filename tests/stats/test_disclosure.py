"""Primary and secondary suppression on hand-made hierarchies, and a property test on random
trees: whatever the counts, the attacker of tests/stats/attacker.py recomputes no suppressed
value. The property test over the real Berlin hierarchy and the real export is
tests/surveys/test_disclosure_property.py."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quartier.stats.disclosure import Suppression, check_thresholds, is_small, protect

from .attacker import Publication, attack

# A small city: scope → 2 districts → 2 + 3 quarters.
PARENT: dict[str, str | None] = {
    "scope": None,
    "north": "scope",
    "south": "scope",
    "n1": "north",
    "n2": "north",
    "s1": "south",
    "s2": "south",
    "s3": "south",
}
LEAVES = ("n1", "n2", "s1", "s2", "s3")


def roll_up(
    parent: Mapping[str, str | None],
    leaf_n: Mapping[str, int],
    leaf_x: Mapping[tuple[str, str], int],
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    n = dict.fromkeys(parent, 0)
    x: dict[tuple[str, str], int] = {}
    for leaf, count in leaf_n.items():
        node: str | None = leaf
        while node is not None:
            n[node] += count
            node = parent[node]
    for (leaf, c), count in leaf_x.items():
        node = leaf
        while node is not None:
            x[(node, c)] = x.get((node, c), 0) + count
            node = parent[node]
    return n, x


def publication(
    parent: Mapping[Hashable, Hashable | None],
    categories: list[Hashable],
    n: Mapping[Hashable, int],
    x: Mapping[tuple[Hashable, Hashable], int],
    result: Suppression[Hashable, Hashable],
    k: int,
    min_respondents: int,
) -> Publication:
    cells = {(node, c): x.get((node, c), 0) for node in parent for c in categories}
    return Publication(
        parent=parent,
        categories=categories,
        k=k,
        min_respondents=min_respondents,
        n={node: None if node in result.withheld else n[node] for node in parent},
        area_reason={node: result.withheld.get(node) for node in parent},
        x={
            key: None if key[0] in result.withheld or key in result.cells else value
            for key, value in cells.items()
        },
        cell_reason={key: result.cells.get(key) for key in cells},
        true_n=dict(n),
        true_x=cells,
    )


def test_thresholds_are_enforced() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        check_thresholds(2, 10)
    with pytest.raises(ValueError, match="at least k"):
        check_thresholds(5, 4)
    check_thresholds(3, 3)
    with pytest.raises(ValueError, match="at least 3"):
        protect(PARENT, {}, {}, [], k=2, min_respondents=10)


def test_the_primary_rule_is_one_to_k_minus_one() -> None:
    assert [count for count in range(8) if is_small(count, 5)] == [1, 2, 3, 4]


def test_a_small_cell_and_a_small_complement_are_primary_and_zero_is_not() -> None:
    n, x = roll_up(
        PARENT,
        dict.fromkeys(LEAVES, 40),
        {("n1", "a"): 3, ("n2", "a"): 20, ("s1", "a"): 38, ("s2", "a"): 0, ("s3", "a"): 40},
    )
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    assert result.withheld == {}
    assert result.cell("n1", "a") == "primary"  # 3 people have the need
    assert result.cell("s1", "a") == "primary"  # 2 people do not
    assert result.cell("s2", "a") != "primary"  # nobody: not sensitive
    assert result.cell("s3", "a") != "primary"  # everybody: not sensitive
    # Partners are not taken from cells at a bound (0 or all) while others are available.
    assert result.cell("s2", "a") is None
    assert result.cell("s3", "a") is None


def test_one_suppressed_sibling_gets_a_partner() -> None:
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 40), {("n1", "a"): 3, ("n2", "a"): 20})
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    # north = n1 + n2 would give n1 away: the cheapest partner is n2 (or north itself).
    suppressed = {node for (node, _), reason in result.cells.items() if reason == "secondary"}
    assert suppressed & {"n2", "north"}
    findings = attack(publication(PARENT, ["a"], n, x, result, 5, 10))
    assert findings.disclosures() == {}


def test_an_area_below_min_respondents_is_withheld_and_protected() -> None:
    n, x = roll_up(PARENT, {"n1": 4, "n2": 30, "s1": 30, "s2": 30, "s3": 30}, {})
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    assert result.withheld["n1"] == "min_respondents"
    # north − n2 would give n1's 4 away: another area (or north) is withheld too.
    assert set(result.withheld) - {"n1"}
    assert all(reason == "secondary" for node, reason in result.withheld.items() if node != "n1")
    # Cells of withheld areas are not listed as cells; they are withheld with the area.
    assert not any(node in result.withheld for node, _ in result.cells)
    assert attack(publication(PARENT, ["a"], n, x, result, 5, 10)).disclosures() == {}


def test_two_primary_cells_summing_to_two_are_not_left_alone() -> None:
    # Each is 1 and the attacker knows primaries are ≥ 1: x(n1) + x(n2) = 2 pins both to 1.
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 20), {("n1", "a"): 1, ("n2", "a"): 1})
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    assert result.cell("n1", "a") == "primary"
    assert result.cell("n2", "a") == "primary"
    assert len(result.cells) > 3  # north (2) is primary too, so more is needed
    assert attack(publication(PARENT, ["a"], n, x, result, 5, 10)).disclosures() == {}


def test_withheld_areas_whose_upper_bounds_add_up_are_not_left_alone() -> None:
    # north = 28 = 10 + n1 + n2 with n1, n2 ≤ 9 would pin both to 9.
    parent = {**PARENT, "n3": "north"}
    n, x = roll_up(parent, {"n1": 9, "n2": 9, "n3": 10, "s1": 30, "s2": 30, "s3": 30}, {})
    result = protect(parent, n, x, [], k=5, min_respondents=10)
    assert {"n1", "n2"} <= set(result.withheld)
    assert len(result.withheld) > 2
    assert attack(publication(parent, [], n, x, result, 5, 10)).disclosures() == {}


def test_nothing_is_suppressed_in_a_large_even_survey() -> None:
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 500), {(leaf, "a"): 250 for leaf in LEAVES})
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    assert result.withheld == {}
    assert result.cells == {}


def test_a_scope_below_min_respondents_withholds_everything() -> None:
    n, x = roll_up(PARENT, {"n1": 3, "s1": 2}, {("n1", "a"): 1})
    result = protect(PARENT, n, x, ["a"], k=5, min_respondents=10)
    assert set(result.withheld) == set(PARENT)
    assert attack(publication(PARENT, ["a"], n, x, result, 5, 10)).disclosures() == {}


# -- property: random trees, random counts -------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> tuple[dict[str, str | None], list[str]]:
    """A random tree of up to three levels under a root."""
    parent: dict[str, str | None] = {"root": None}
    frontier = ["root"]
    for depth in range(draw(st.integers(1, 3))):
        next_frontier = []
        for node in frontier:
            for i in range(draw(st.integers(1, 4))):
                child = f"{node}.{i}" if depth else f"a{i}"
                parent[child] = node
                next_frontier.append(child)
        frontier = next_frontier
    return parent, frontier


@st.composite
def tables(
    draw: st.DrawFn,
) -> tuple[dict[str, str | None], dict[str, int], dict[tuple[str, str], int], list[str], int, int]:
    parent, leaves = draw(trees())
    categories = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    k = draw(st.integers(3, 6))
    min_respondents = draw(st.integers(k, 12))
    small = st.integers(0, 2 * min_respondents)
    leaf_n = {leaf: draw(st.one_of(small, st.integers(0, 60))) for leaf in leaves}
    leaf_x = {
        (leaf, c): draw(
            st.one_of(st.integers(0, min(k, leaf_n[leaf])), st.integers(0, leaf_n[leaf]))
        )
        for leaf in leaves
        for c in categories
    }
    n, x = roll_up(parent, leaf_n, leaf_x)
    return parent, n, x, categories, k, min_respondents


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_value_can_be_recomputed_on_random_trees(
    table: tuple[
        dict[str, str | None], dict[str, int], dict[tuple[str, str], int], list[str], int, int
    ],
) -> None:
    parent, n, x, categories, k, min_respondents = table
    result = protect(parent, n, x, categories, k=k, min_respondents=min_respondents)
    # Primary suppression is exactly the rule.
    for node in parent:
        assert (node in result.withheld) >= (n[node] < min_respondents)
        if node in result.withheld:
            continue
        for c in categories:
            small = is_small(x.get((node, c), 0), k) or is_small(n[node] - x.get((node, c), 0), k)
            assert (result.cell(node, c) == "primary") == small
    findings = attack(
        publication(parent, list(categories), n, x, result, k, min_respondents)  # type: ignore[arg-type]
    )
    assert findings.disclosures() == {}
