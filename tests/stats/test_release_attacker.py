"""The release attacker finds what it should: it is only worth something if it can fail."""

from __future__ import annotations

from quartier.stats.cellkey import PTable
from tests.support.release_attacker import ReleaseAttacker


def test_it_recomputes_a_hidden_cell_from_exact_values() -> None:
    attacker = ReleaseAttacker(PTable(5))
    attacker.known("parent", 30)
    attacker.known("a", 27)
    attacker.hidden_cell("b", 3)
    attacker.equal(["parent"], ["a", "b"])
    [finding] = attacker.attack().findings
    assert (finding.name, finding.exact) == ("b", True)


def test_it_proves_a_small_range_with_bounds() -> None:
    attacker = ReleaseAttacker(PTable(5))
    attacker.known("n", 30)
    attacker.hidden_cell("x", 2)
    attacker.hidden_cell("y", 28)
    attacker.equal(["n"], ["x", "y"])
    attacker.at_most("x", "n")
    # y published exactly between 26 and 29: x lies in [1, 4]
    attacker.low[attacker.index["y"]] = 26
    attacker.high[attacker.index["y"]] = 29
    [finding] = attacker.attack().findings
    assert (finding.name, finding.exact, finding.low, finding.high) == ("x", False, 1, 4)


def test_perturbed_values_leave_it_nothing() -> None:
    table = PTable(5)
    attacker = ReleaseAttacker(table)
    attacker.published_cell("parent", 30, table.perturb(30, 12345))
    attacker.published_cell("a", 27, table.perturb(27, 999))
    attacker.published_cell("b", 3, table.perturb(3, 12345 - 999))
    attacker.equal(["parent"], ["a", "b"])
    assert attacker.attack().findings == []
