"""The attacker of the disclosure tests must itself be able to fail: it recomputes what weak
patterns leave open — by one relation, by a combination of relations, and by bounds."""

from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from quartier.stats.disclosure import Suppression, is_small

from .attacker import attack
from .test_disclosure import LEAVES, PARENT, publication, roll_up, tables

K, MIN = 5, 10


def pattern(
    withheld: dict[Hashable, str] | None = None,
    cells: dict[tuple[Hashable, Hashable], str] | None = None,
) -> Suppression[Hashable, Hashable]:
    return Suppression(withheld=dict(withheld or {}), cells=dict(cells or {}))  # type: ignore[arg-type]


def test_one_suppressed_child_is_the_parent_minus_its_siblings() -> None:
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 40), {("n1", "a"): 3, ("n2", "a"): 20})
    findings = attack(
        publication(PARENT, ["a"], n, x, pattern(cells={("n1", "a"): "primary"}), K, MIN)
    )
    assert findings.disclosures() == {("x", "n1", "a"): 3, ("y", "n1", "a"): 37}
    assert set(findings.linear) == {("x", "n1", "a"), ("y", "n1", "a")}


def test_a_combination_of_relations_is_found() -> None:
    # n1 and north are suppressed: north = n1 + n2 alone gives nothing, but north is also
    # scope − south, so north is known, and then n1 too.
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 40), {("n1", "a"): 3, ("n2", "a"): 20})
    cells = {("n1", "a"): "primary", ("north", "a"): "secondary"}
    findings = attack(publication(PARENT, ["a"], n, x, pattern(cells=cells), K, MIN))
    assert findings.linear[("x", "n1", "a")] == 3
    assert findings.linear[("x", "north", "a")] == 23


def test_a_withheld_area_is_recomputed_from_its_parent() -> None:
    n, x = roll_up(PARENT, {"n1": 4, "n2": 30, "s1": 30, "s2": 30, "s3": 30}, {("n1", "a"): 2})
    withheld = {"n1": "min_respondents"}
    findings = attack(publication(PARENT, ["a"], n, x, pattern(withheld=withheld), K, MIN))
    assert findings.linear[("n", "n1")] == 4
    assert findings.linear[("x", "n1", "a")] == 2


def test_bounds_pin_two_primaries_that_sum_to_two() -> None:
    # x(n1) + x(n2) = x(north) − 0 = 2 is all the equations say; "primary" means ≥ 1.
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 20), {("n1", "a"): 1, ("n2", "a"): 1})
    cells = {("n1", "a"): "primary", ("n2", "a"): "primary"}
    findings = attack(publication(PARENT, ["a"], n, x, pattern(cells=cells), K, MIN))
    assert findings.linear == {}
    assert findings.bounded[("x", "n1", "a")] == Fraction(1)
    assert findings.bounded[("x", "n2", "a")] == Fraction(1)


def test_bounds_pin_withheld_areas_at_their_upper_limit() -> None:
    parent = {**PARENT, "n3": "north"}
    n, x = roll_up(parent, {"n1": 9, "n2": 9, "n3": 10, "s1": 30, "s2": 30, "s3": 30}, {})
    withheld = {"n1": "min_respondents", "n2": "min_respondents"}
    findings = attack(publication(parent, [], n, x, pattern(withheld=withheld), K, MIN))
    assert findings.disclosures() == {("n", "n1"): 9, ("n", "n2"): 9}


def test_a_cycle_of_unknowns_protects() -> None:
    n, x = roll_up(PARENT, dict.fromkeys(LEAVES, 40), {("n1", "a"): 3, ("n2", "a"): 20})
    cells = {("n1", "a"): "primary", ("n2", "a"): "secondary"}
    findings = attack(publication(PARENT, ["a"], n, x, pattern(cells=cells), K, MIN))
    assert findings.disclosures() == {}
    assert findings.unknowns == 4


@settings(max_examples=150, deadline=None)
@given(tables(), st.data())
def test_primary_suppression_alone_usually_leaks(table: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    """Whenever a parent is published with exactly one primary child, the attacker finds it."""
    parent, n, x, categories, k, min_respondents = table
    withheld = {node: "min_respondents" for node in parent if n[node] < min_respondents}
    cells = {
        (node, c): "primary"
        for node in parent
        if node not in withheld
        for c in categories
        if is_small(x.get((node, c), 0), k) or is_small(n[node] - x.get((node, c), 0), k)
    }
    findings = attack(
        publication(parent, categories, n, x, pattern(withheld, cells), k, min_respondents)
    )
    children: dict[Hashable, list[Hashable]] = {}
    for node, up in parent.items():
        if up is not None:
            children.setdefault(up, []).append(node)
    for up, kids in children.items():
        if up in withheld:
            continue
        lonely = [kid for kid in kids if kid in withheld]
        if len(lonely) == 1 and all(kid not in withheld for kid in kids if kid != lonely[0]):
            assert ("n", lonely[0]) in findings.disclosures()


def test_counts_made_at_a_parent_help_only_when_published() -> None:
    # 9 responses were given for "north" itself (a survey asking at district level); its
    # quarters have none. North (9 < 10), n1 and n2 are withheld, south and s1 too, so that
    # scope − south does not give north away.
    n = dict.fromkeys(PARENT, 0) | {"north": 9, "south": 90, "scope": 99}
    n |= {"s1": 30, "s2": 30, "s3": 30}
    withheld = dict.fromkeys(["north", "n1", "n2"], "min_respondents")
    withheld |= dict.fromkeys(["south", "s1"], "secondary")
    published = publication(PARENT, [], n, {}, pattern(withheld=withheld), K, MIN)
    # Told that 9 were counted at north itself, the attacker pins north: 9 ≤ n ≤ 9 (marker).
    told = attack(published, direct={("n", "north"): 9}).disclosures()
    assert told[("n", "north")] == 9
    assert told[("n", "south")] == 90  # and then the rest follows
    # Not told, it cannot: north = n1 + n2 + (unknown counts at north itself).
    assert attack(published, hidden_direct={("n", "north"): 9}).disclosures() == {}
