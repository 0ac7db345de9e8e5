"""An attacker on a whole release of perturbed tables (stats.cellkey), reusable by any domain.

The attacker sees every published value of a release — all tables, levels, formats, plain and
weighted, of one survey and of the pooled surveys of its process — and knows:

* the perturbation table (`PTable`, public as in official statistics): a published value p
  of a cell says its true count lies in `ptable.preimage(p)`;
* every true relation between cells that the structure of the data implies, as the test
  states them: sums (a parent area = Σ its children, a pooled cell = Σ the surveys' cells,
  the options of a single choice = those who answered it, n = Σ its age strata …) and
  inequalities (x ≤ n, an option ≤ the answers to its question);
* optionally exact values it learned elsewhere (`known`).

Worst case for the summaries: every perturbed count that enters any published figure (the
age strata behind a weighted share and its n_eff, the option counts behind a mean) is given to
the attacker as published, as if the summary revealed it entirely.

The attack, to a fixed point:

1. integer bounds propagated over every sum relation and inequality;
2. exact rational elimination: with the values pinned so far substituted, the reduced row
   echelon form of the sum relations; a row with one unknown determines it;
3. each newly determined value goes back into step 1.

A **finding** is a cell whose true count is 1 … k − 1 and that the attacker either determines
exactly or proves to lie within [1, k − 1]. The truth is used only to report, never to attack.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from quartier.stats.cellkey import PTable

Name = Hashable


@dataclass
class Finding:
    name: Name
    truth: int
    low: float
    high: float
    exact: bool


@dataclass
class Report:
    cells: int = 0
    relations: int = 0
    findings: list[Finding] = field(default_factory=list)


class ReleaseAttacker:
    def __init__(self, ptable: PTable) -> None:
        self.ptable = ptable
        self.k = ptable.k
        self.index: dict[Name, int] = {}
        self.truth: list[int] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.published: dict[Name, int] = {}
        self.sums: list[tuple[list[int], list[int]]] = []  # Σ left = Σ right
        self.orders: list[tuple[int, int]] = []  # a ≤ b

    # -- what the attacker is told ----------------------------------------------------------

    def _var(self, name: Name, truth: int) -> int:
        if name in self.index:
            v = self.index[name]
            assert self.truth[v] == truth, f"{name}: two truths for one cell"
            return v
        self.index[name] = len(self.truth)
        self.truth.append(truth)
        self.low.append(0)
        self.high.append(math.inf)
        return self.index[name]

    def published_cell(
        self, name: Name, truth: int, value: int, ptable: PTable | None = None
    ) -> None:
        """A published (perturbed, by `ptable` or the attacker's) value; the same cell must
        always show the same value."""
        if name in self.published:
            assert self.published[name] == value, f"{name}: {self.published[name]} and {value}"
        self.published[name] = value
        v = self._var(name, truth)
        low, high = (ptable or self.ptable).preimage(value)
        self.low[v] = max(self.low[v], low)
        self.high[v] = min(self.high[v], high)

    def hidden_cell(self, name: Name, truth: int) -> None:
        """A count the relations mention that is not published (e.g. a complement)."""
        self._var(name, truth)

    def known(self, name: Name, truth: int) -> None:
        v = self._var(name, truth)
        self.low[v] = self.high[v] = truth

    def equal(self, left: Iterable[Name], right: Iterable[Name]) -> None:
        lhs = [self.index[n] for n in left]
        rhs = [self.index[n] for n in right]
        assert sum(self.truth[v] for v in lhs) == sum(self.truth[v] for v in rhs), (
            f"false relation {left} = {right}"
        )
        self.sums.append((lhs, rhs))

    def at_most(self, small: Name, large: Name) -> None:
        a, b = self.index[small], self.index[large]
        assert self.truth[a] <= self.truth[b], f"false relation {small} ≤ {large}"
        self.orders.append((a, b))

    # -- the attack -------------------------------------------------------------------------

    def _propagate(self) -> None:
        changed = True
        rounds = 0
        while changed and rounds < 200:
            changed = False
            rounds += 1
            for lhs, rhs in self.sums:
                terms = [(v, 1) for v in lhs] + [(v, -1) for v in rhs]
                for i, (v, s) in enumerate(terms):
                    # s·v = −Σ other s'·v'
                    low = high = 0.0
                    for j, (w, t) in enumerate(terms):
                        if i == j:
                            continue
                        lo, hi = (self.low[w], self.high[w])
                        term_low, term_high = (-t * hi, -t * lo) if t > 0 else (-t * lo, -t * hi)
                        low += term_low
                        high += term_high
                    new_low, new_high = (low, high) if s > 0 else (-high, -low)
                    changed |= self._tighten(v, new_low, new_high)
            for a, b in self.orders:
                changed |= self._tighten(a, -math.inf, self.high[b])
                changed |= self._tighten(b, self.low[a], math.inf)

    def _tighten(self, v: int, low: float, high: float) -> bool:
        changed = False
        if math.isfinite(low) and math.ceil(low) > self.low[v]:
            self.low[v] = math.ceil(low)
            changed = True
        if math.isfinite(high) and math.floor(high) < self.high[v]:
            self.high[v] = math.floor(high)
            changed = True
        assert self.low[v] <= self.truth[v] <= self.high[v], "the attacker contradicted the truth"
        return changed

    def _eliminate(self) -> bool:
        """Exact elimination with the pinned values as constants; True if it pinned more."""
        pinned = {v for v in range(len(self.truth)) if self.low[v] == self.high[v]}
        if not pinned:
            return False  # homogeneous relations alone determine nothing
        rows: list[dict[int, Fraction]] = []
        for lhs, rhs in self.sums:
            row: dict[int, Fraction] = {}
            constant = Fraction(0)
            for v, s in [(v, 1) for v in lhs] + [(v, -1) for v in rhs]:
                if v in pinned:
                    constant -= s * int(self.low[v])
                else:
                    row[v] = row.get(v, Fraction(0)) + s
            row = {v: c for v, c in row.items() if c}
            if row:
                row[-1] = constant
                rows.append(row)
        found = False
        # Gauss–Jordan over sparse rows.
        pivots: list[tuple[int, dict[int, Fraction]]] = []
        for row in rows:
            for pivot, prow in pivots:
                if pivot in row:
                    factor = row[pivot]
                    for v, c in prow.items():
                        row[v] = row.get(v, Fraction(0)) - factor * c
                    row = {v: c for v, c in row.items() if c or v == -1}
            variables = [v for v in row if v != -1]
            if not variables:
                continue
            pivot = variables[0]
            scale = row[pivot]
            row = {v: c / scale for v, c in row.items()}
            for index, (other, orow) in enumerate(pivots):
                if pivot in orow:
                    factor = orow[pivot]
                    merged = dict(orow)
                    for v, c in row.items():
                        merged[v] = merged.get(v, Fraction(0)) - factor * c
                    pivots[index] = (other, {v: c for v, c in merged.items() if c or v == -1})
            pivots.append((pivot, row))
        for pivot, row in pivots:
            if [v for v in row if v != -1] == [pivot]:
                value = row.get(-1, Fraction(0))
                assert value == self.truth[pivot], "elimination contradicted the truth"
                if self.low[pivot] != self.high[pivot]:
                    self.low[pivot] = self.high[pivot] = int(value)
                    found = True
        return found

    def attack(self) -> Report:
        self._propagate()
        while self._eliminate():
            self._propagate()
        report = Report(cells=len(self.truth), relations=len(self.sums) + len(self.orders))
        for name, v in self.index.items():
            truth = self.truth[v]
            if not 1 <= truth < self.k:
                continue
            exact = self.low[v] == self.high[v]
            if exact or (self.low[v] >= 1 and self.high[v] <= self.k - 1):
                report.findings.append(Finding(name, truth, self.low[v], self.high[v], exact))
        return report
