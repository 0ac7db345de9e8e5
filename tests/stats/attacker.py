"""An attacker on published hierarchical frequency tables, for the disclosure tests.

Given what an export publishes — per area n (or withheld), per area and category x (or
suppressed), with the reasons — and the public hierarchy, the attacker writes down every linear
relation that holds: n = x + (n − x) per area and category, and parent = Σ children (+ what was
counted at the parent itself, which we generously give the attacker) for n, x and n − x. Every
suppressed value is an unknown. Then:

1. exact linear algebra: the reduced row echelon form of the relations restricted to the
   unknowns, in rational arithmetic; an unknown is recomputable iff its unit vector lies in
   the row space, i.e. iff a row of the RREF is that unit vector;
2. bounds: counts are ≥ 0, x ≤ n, and the markers tell more (a primary-withheld area has
   n ≤ min_respondents − 1, a secondary-withheld one n ≥ min_respondents, a primary cell
   1 ≤ x ≤ n − 1); integer interval propagation over every original and every derived (RREF)
   relation pins values that a sum leaves only one feasible integer for;
3. each pinned value becomes a new equation, and steps 1–2 repeat until nothing changes.

Nothing here knows how the suppression was chosen. The result lists every suppressed value
the attacker determines, with its value.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Var = tuple[Any, ...]  # ("n", node) | ("x", node, category) | ("y", node, category)


@dataclass
class Publication:
    """What the attacker sees, plus the truth to check against (never used to attack)."""

    parent: Mapping[Hashable, Hashable | None]
    categories: list[Hashable]
    k: int
    min_respondents: int
    n: dict[Hashable, int | None]  # None: withheld
    area_reason: dict[Hashable, str | None]
    x: dict[tuple[Hashable, Hashable], int | None]  # None: suppressed (or area withheld)
    cell_reason: dict[tuple[Hashable, Hashable], str | None]
    true_n: dict[Hashable, int]
    true_x: dict[tuple[Hashable, Hashable], int]


@dataclass
class Findings:
    linear: dict[Var, Fraction] = field(default_factory=dict)  # recomputed by equations alone
    bounded: dict[Var, Fraction] = field(default_factory=dict)  # pinned once bounds are used
    unknowns: int = 0
    relations: int = 0

    def disclosures(self) -> dict[Var, Fraction]:
        """What counts as a disclosure: anything recomputed by the equations alone, and any
        non-zero value pinned with the help of bounds (zero is not a sensitive count)."""
        pinned = {v: value for v, value in self.bounded.items() if value != 0}
        return {v: c for v, c in {**self.linear, **pinned}.items() if v[0] in ("n", "x", "y")}


Row = dict[Var, Fraction]


class _Echelon:
    """Incremental reduced row echelon form; each row is (coefficients, constant)."""

    def __init__(self) -> None:
        self.rows: dict[Var, tuple[Row, Fraction]] = {}  # pivot → row with row[pivot] == 1
        self.containing: dict[Var, set[Var]] = defaultdict(set)  # column → pivots using it

    def add(self, row: Row, constant: Fraction) -> None:
        row = dict(row)
        for column in [c for c in row if c in self.rows]:
            coefficient = row.pop(column, Fraction(0))
            if coefficient == 0:
                continue
            pivot_row, pivot_constant = self.rows[column]
            for c, value in pivot_row.items():
                if c == column:
                    continue
                updated = row.get(c, Fraction(0)) - coefficient * value
                if updated:
                    row[c] = updated
                else:
                    row.pop(c, None)
            constant -= coefficient * pivot_constant
        row = {c: v for c, v in row.items() if v}
        if not row:
            assert constant == 0, "the published relations contradict each other"
            return
        pivot = min(row, key=repr)
        scale = row[pivot]
        row = {c: v / scale for c, v in row.items()}
        constant /= scale
        # Eliminate the new pivot from the rows that use it.
        for other in list(self.containing.get(pivot, ())):
            other_row, other_constant = self.rows[other]
            coefficient = other_row.pop(pivot)
            for c, value in row.items():
                if c == pivot:
                    continue
                updated = other_row.get(c, Fraction(0)) - coefficient * value
                if updated:
                    if c not in other_row:
                        self.containing[c].add(other)
                    other_row[c] = updated
                else:
                    other_row.pop(c, None)
                    self.containing[c].discard(other)
            self.rows[other] = (other_row, other_constant - coefficient * constant)
        self.containing.pop(pivot, None)
        self.rows[pivot] = (row, constant)
        for c in row:
            if c != pivot:
                self.containing[c].add(pivot)

    def determined(self) -> dict[Var, Fraction]:
        return {pivot: constant for pivot, (row, constant) in self.rows.items() if len(row) == 1}


def _integral(value: Fraction) -> Fraction | int:
    return int(value) if value.denominator == 1 else value


def _propagate(
    relations: list[tuple[Row, Fraction]],
    low: dict[Var, Any],
    high: dict[Var, Any],
) -> None:
    """Integer interval propagation to a fixed point: each relation Σ a·v = c bounds every v by
    the bounds of the others; a relation is looked at again when a bound of its variables
    changes (with a generous budget, as unbounded variables can creep)."""
    prepared = [
        ([(v, _integral(a)) for v, a in row.items()], _integral(constant))
        for row, constant in relations
    ]
    of_variable: dict[Var, list[int]] = defaultdict(list)
    for index, (terms, _) in enumerate(prepared):
        for v, _ in terms:
            of_variable[v].append(index)
    pending = deque(range(len(prepared)))
    queued = set(pending)
    budget = 200 * max(1, len(prepared))
    while pending and budget > 0:
        budget -= 1
        index = pending.popleft()
        queued.discard(index)
        terms, constant = prepared[index]
        bounds = [
            (a * low[v], a * high[v]) if a > 0 else (a * high[v], a * low[v]) for v, a in terms
        ]
        low_finite = sum(lo for lo, _ in bounds if lo != -math.inf)
        low_infinite = sum(1 for lo, _ in bounds if lo == -math.inf)
        high_finite = sum(hi for _, hi in bounds if hi != math.inf)
        high_infinite = sum(1 for _, hi in bounds if hi == math.inf)
        for (v, a), (own_low, own_high) in zip(terms, bounds, strict=True):
            if own_low == -math.inf:
                rest_low = -math.inf if low_infinite > 1 else low_finite
            else:
                rest_low = -math.inf if low_infinite else low_finite - own_low
            if own_high == math.inf:
                rest_high = math.inf if high_infinite > 1 else high_finite
            else:
                rest_high = math.inf if high_infinite else high_finite - own_high
            # a·v = constant − rest
            term_low, term_high = constant - rest_high, constant - rest_low
            lo, hi = (term_low / a, term_high / a) if a > 0 else (term_high / a, term_low / a)
            lo = math.ceil(lo) if lo != -math.inf else lo
            hi = math.floor(hi) if hi != math.inf else hi
            changed = False
            if lo > low[v]:
                low[v] = lo
                changed = True
            if hi < high[v]:
                high[v] = hi
                changed = True
            assert low[v] <= high[v], f"infeasible bounds for {v}: the attacker model is wrong"
            if changed:
                for other in of_variable[v]:
                    if other != index and other not in queued:
                        queued.add(other)
                        pending.append(other)


def attack(
    publication: Publication,
    direct: Mapping[Var, int] | None = None,
    hidden_direct: Mapping[Var, int] | None = None,
) -> Findings:
    """Everything the attacker can determine. Counts made at a parent area itself (responses
    given for the parent, e.g. by a survey asking at a coarser level) enter the parent's sum
    relations: `direct[("n", p)]`, `direct[("x", p, c)]`, `direct[("y", p, c)]` are known to
    the attacker; `hidden_direct` (same keys) are not published, so the attacker knows only
    that such counts may exist there (non-negative unknowns, n = x + (n − x) among them too);
    their true values serve only the final self-check."""
    p = publication
    direct = direct or {}
    hidden_direct = hidden_direct or {}
    children: dict[Hashable, list[Hashable]] = defaultdict(list)
    for node, up in p.parent.items():
        if up is not None:
            children[up].append(node)

    value: dict[Var, Fraction] = {}
    unknown: set[Var] = set()
    low: dict[Var, Any] = {}
    high: dict[Var, Any] = {}
    truth: dict[Var, int] = {}

    for node in p.parent:
        n_var: Var = ("n", node)
        truth[n_var] = p.true_n[node]
        published_n = p.n[node]
        if published_n is None:
            unknown.add(n_var)
            if p.area_reason[node] == "min_respondents":
                low[n_var], high[n_var] = 0, p.min_respondents - 1
            else:
                low[n_var], high[n_var] = p.min_respondents, math.inf
        else:
            value[n_var] = Fraction(published_n)
        for c in p.categories:
            x_var: Var = ("x", node, c)
            y_var: Var = ("y", node, c)
            truth[x_var] = p.true_x[(node, c)]
            truth[y_var] = p.true_n[node] - p.true_x[(node, c)]
            published_x = p.x[(node, c)]
            if published_x is not None:
                assert published_n is not None, "a cell of a withheld area is published"
                value[x_var] = Fraction(published_x)
                value[y_var] = Fraction(published_n - published_x)
                continue
            unknown.update((x_var, y_var))
            if published_n is None:
                bounds: tuple[Any, Any] = (0, math.inf)
            elif p.cell_reason[(node, c)] == "primary":
                bounds = (1, published_n - 1)
            else:
                bounds = (0, published_n)
            low[x_var], high[x_var] = bounds
            low[y_var], high[y_var] = bounds

    hidden_nodes = {var[1] for var in hidden_direct}
    for node in hidden_nodes:
        d_vars: list[Var] = [("dn", node)]
        for c in p.categories:
            d_vars += [("dx", node, c), ("dy", node, c)]
        for var in d_vars:
            unknown.add(var)
            low[var], high[var] = 0, math.inf
            truth[var] = hidden_direct.get((var[0][1:], *var[1:]), 0)

    relations: list[tuple[Row, Fraction]] = []

    def relate(terms: list[tuple[Var, int]], constant: int = 0) -> None:
        row: Row = {}
        rhs = Fraction(constant)
        for var, sign in terms:
            if var in unknown:
                row[var] = row.get(var, Fraction(0)) + sign
            else:
                rhs -= sign * value[var]
        row = {v: a for v, a in row.items() if a}
        if row:
            relations.append((row, rhs))
        else:
            assert rhs == 0, f"published values contradict a relation: {terms}"

    for node in p.parent:
        for c in p.categories:
            relate([(("n", node), 1), (("x", node, c), -1), (("y", node, c), -1)])
            if node in hidden_nodes:
                relate([(("dn", node), 1), (("dx", node, c), -1), (("dy", node, c), -1)])
        if children[node]:
            kids = children[node]
            hidden: list[tuple[Var, int]] = [(("dn", node), -1)] if node in hidden_nodes else []
            relate(
                [(("n", node), 1)] + [(("n", kid), -1) for kid in kids] + hidden,
                direct.get(("n", node), 0),
            )
            for c in p.categories:
                for kind in ("x", "y"):
                    hidden = [((f"d{kind}", node, c), -1)] if node in hidden_nodes else []
                    relate(
                        [((kind, node, c), 1)] + [((kind, kid, c), -1) for kid in kids] + hidden,
                        direct.get((kind, node, c), 0),
                    )

    findings = Findings(unknowns=len(unknown), relations=len(relations))
    echelon = _Echelon()
    for row, constant in relations:
        echelon.add(row, constant)
    findings.linear = {v: c for v, c in echelon.determined().items()}
    known = dict(findings.linear)
    while True:
        derived = [(row, constant) for row, constant in echelon.rows.values()]
        for v, c in known.items():
            low[v] = high[v] = c
        _propagate(relations + derived, low, high)
        pinned = {v: low[v] for v in unknown if low[v] == high[v] and v not in known}
        if not pinned:
            break
        for v, bound in pinned.items():
            value = Fraction(bound)
            known[v] = value
            findings.bounded[v] = value
            echelon.add({v: Fraction(1)}, value)
        for v, c in echelon.determined().items():
            if v not in known:
                known[v] = c
                findings.bounded[v] = c
    for v, c in known.items():
        assert c == truth[v], f"the attacker derived a wrong value for {v}: model error"
    return findings
