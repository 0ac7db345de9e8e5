"""Disclosure control of hierarchical frequency tables (DESIGN.md §5).

The table: a tree of areas under one root (the whole scope; every level of the area hierarchy
at once), for each area the number of respondents n, and for each need category the number x
expressing it — so also the number n − x not expressing it. Published are, per area, n and
each x (and the share x/n, which with n is the same information). The relations anyone can use
are: n = x + (n − x) in each area and category, and parent = Σ children for n, for every x and
for every n − x (up to responses counted at the parent itself, which we treat as known).

**Primary suppression.** An area with n < `min_respondents` is withheld (n and every cell
unknown). In a published area a cell is suppressed when x or n − x is between 1 and k − 1: a
small group of people who do, or do not, have the need.

**Secondary suppression**, so that no suppressed value can be recomputed:

1. *Linear recomputation.* Publishing n makes n − x known exactly when x is, so per category
   only the x are unknowns, and the n form one more table. Each of these tables is a tree of
   sum relations. Write it as a graph: one vertex per relation ("this area = Σ its children"),
   one ground vertex, and one edge per area joining its parent's relation to its own relation
   (leaves and the root end at ground). The relations are then exactly the vertex incidence
   equations of that graph, and an unknown edge value is determined by the known ones if and
   only if the edge is a *bridge* of the subgraph of unknown edges (the row space of an
   incidence matrix is its cut space; a single edge is a cut exactly when it is a bridge).
   The tables are independent given the published n (x, n − x and n are in different
   blocks; n − x is recomputable only if both n and x are), so the export is linearly safe iff
   no table has a bridge among its unknowns. We find bridges (Tarjan, linear time) and, for
   each, suppress the published edges of the cheapest path between the bridge's two ends —
   closing a cycle through it. Cost of a cell = its value + 1 (prefer small cells; the path
   may run through a parent or the scope total when that is cheaper), with a large penalty
   for cells at a bound (x = 0 or x = n), which as partners would give the attacker an exact
   limit of the protected cell. Withholding an area
   (secondary, n table) makes all its cells unknown; the n table is handled first.
2. *Bounds.* An attacker also knows that counts are ≥ 0, that x ≤ n, and what our markers
   say: a primary-withheld area has n ≤ min_respondents − 1, a secondary-withheld one has
   n ≥ min_respondents, a primary cell has 1 ≤ x ≤ n − 1. These can pin an unknown that no
   linear combination determines (two primary cells summing to 2 are both 1). We propagate
   integer bounds over every relation to a fixed point and, for each unknown pinned to a
   non-zero value, suppress one more cell in a relation with it (the cheapest published
   cell nearest in the hierarchy) and go back to step 1.

A value pinned to **zero** is allowed: zero is not a sensitive count (§5 protects 1 … k − 1),
and such pins come from published zeros (a parent with x = 0 makes every child's x = 0).

Every export built from one result of `protect` — any level, with the scope totals — is safe
together, since the pattern is computed over all levels at once: publishing a subset of a safe
table cannot make a suppressed value recomputable. The property test
(tests/surveys/test_disclosure_property.py) attacks real exports with exact rational
elimination and bound propagation.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

N = TypeVar("N", bound=Hashable)
C = TypeVar("C", bound=Hashable)

MIN_K = 3
CellReason = Literal["primary", "secondary"]
AreaReason = Literal["min_respondents", "secondary"]
_AUDIT_ROUNDS = 200


def check_thresholds(k: int, min_respondents: int) -> None:
    """k is never below 3 (§5), and an area published at all has at least k respondents."""
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, not {k}")
    if min_respondents < k:
        raise ValueError("min_respondents must be at least k")


def is_small(count: int, k: int) -> bool:
    """The primary rule: a count from 1 to k − 1."""
    return 1 <= count < k


@dataclass(slots=True)
class Suppression(Generic[N, C]):
    """The protection pattern: withheld areas and suppressed cells of published areas."""

    withheld: dict[N, AreaReason] = field(default_factory=dict)
    cells: dict[tuple[N, C], CellReason] = field(default_factory=dict)

    def cell(self, node: N, category: C) -> CellReason | None:
        return self.cells.get((node, category))


# -- the graph of one table ----------------------------------------------------------------------


class _TreeGraph(Generic[N]):
    """The sum relations of a tree as a graph: vertex 0 is ground, vertex i > 0 the relation
    of an area with children; edge `e` belongs to the area `nodes[e]`."""

    def __init__(self, parent: Mapping[N, N | None]) -> None:
        self.nodes: list[N] = list(parent)
        self.index: dict[N, int] = {node: i for i, node in enumerate(self.nodes)}
        has_children = {p for p in parent.values() if p is not None}
        relation = {
            node: i + 1 for i, node in enumerate(n for n in self.nodes if n in has_children)
        }
        self.vertices = len(relation) + 1
        self.ends: list[tuple[int, int]] = []
        self.members: dict[int, list[int]] = defaultdict(list)  # relation → its edges
        for e, node in enumerate(self.nodes):
            up = parent[node]
            above = 0 if up is None else relation[up]
            below = relation.get(node, 0)
            self.ends.append((above, below))
            self.members[above].append(e)
            self.members[below].append(e)
        self.adjacent: list[list[tuple[int, int]]] = [[] for _ in range(self.vertices)]
        for e, (a, b) in enumerate(self.ends):
            if a != b:
                self.adjacent[a].append((b, e))
                self.adjacent[b].append((a, e))

    def bridges(self, unknown: set[int]) -> list[int]:
        """Bridges of the subgraph of `unknown` edges (iterative Tarjan, parallel edges and
        self-loops handled by edge identity)."""
        discovered: dict[int, int] = {}
        low: dict[int, int] = {}
        found: list[int] = []
        clock = 0
        for start in range(self.vertices):
            if start in discovered:
                continue
            discovered[start] = low[start] = clock
            clock += 1
            stack = [(start, -1, iter(self.adjacent[start]))]
            while stack:
                vertex, via, edges = stack[-1]
                for other, e in edges:
                    if e == via or e not in unknown:
                        continue
                    if other in discovered:
                        low[vertex] = min(low[vertex], discovered[other])
                    else:
                        discovered[other] = low[other] = clock
                        clock += 1
                        stack.append((other, e, iter(self.adjacent[other])))
                        break
                else:
                    stack.pop()
                    if stack:
                        above = stack[-1][0]
                        low[above] = min(low[above], low[vertex])
                        if low[vertex] > discovered[above]:
                            found.append(via)
        return sorted(found)

    def cheapest_cycle(self, bridge: int, cost: Sequence[float]) -> list[int]:
        """The edges of the cheapest path joining the bridge's ends without using it
        (Dijkstra; `cost` is 0 for unknown edges)."""
        source, target = self.ends[bridge]
        distance = {source: 0.0}
        came: dict[int, tuple[int, int]] = {}
        queue = [(0.0, source)]
        while queue:
            d, vertex = heapq.heappop(queue)
            if vertex == target:
                break
            if d > distance.get(vertex, math.inf):
                continue
            for other, e in self.adjacent[vertex]:
                if e == bridge:
                    continue
                candidate = d + cost[e]
                if candidate < distance.get(other, math.inf):
                    distance[other] = candidate
                    came[other] = (vertex, e)
                    heapq.heappush(queue, (candidate, other))
        path: list[int] = []
        vertex = target
        while vertex != source:
            vertex, e = came[vertex]
            path.append(e)
        return path

    def close_bridges(self, unknown: set[int], cost: Sequence[float]) -> list[int]:
        """Make every unknown edge part of a cycle of unknowns; returns the edges added."""
        added: list[int] = []
        while bridges := self.bridges(unknown):
            for e in self.cheapest_cycle(
                bridges[0], [0.0 if i in unknown else c for i, c in enumerate(cost)]
            ):
                if e not in unknown:
                    unknown.add(e)
                    added.append(e)
        return added


# -- bounds ----------------------------------------------------------------------------------------


class _Bounds:
    """Integer interval propagation over relations Σ sign·v = constant, the constant being
    what the true values make it: the relations hold on the truth, and knowns are folded in."""

    def __init__(self) -> None:
        self.truth: list[int] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.relations: list[tuple[list[int], list[int]]] = []
        self.of_variable: list[list[int]] = []

    def variable(self, truth: int, low: float, high: float) -> int:
        self.truth.append(truth)
        self.low.append(low)
        self.high.append(high)
        self.of_variable.append([])
        return len(self.truth) - 1

    def relation(self, terms: Iterable[tuple[int | None, int]]) -> None:
        """A relation over (variable, sign) terms; None stands for a known value."""
        kept = [(v, s) for v, s in terms if v is not None]
        if not kept:
            return
        index = len(self.relations)
        self.relations.append(([v for v, _ in kept], [s for _, s in kept]))
        for v, _ in kept:
            self.of_variable[v].append(index)

    def propagate(self) -> None:
        pending = list(range(len(self.relations)))
        queued = set(pending)
        budget = _AUDIT_ROUNDS * max(1, len(self.relations))
        while pending and budget > 0:
            budget -= 1
            index = pending.pop()
            queued.discard(index)
            variables, signs = self.relations[index]
            constant = sum(s * self.truth[v] for v, s in zip(variables, signs, strict=True))
            lows = [
                self.low[v] if s > 0 else -self.high[v]
                for v, s in zip(variables, signs, strict=True)
            ]
            highs = [
                self.high[v] if s > 0 else -self.low[v]
                for v, s in zip(variables, signs, strict=True)
            ]
            low_finite = sum(t for t in lows if t != -math.inf)
            low_infinite = sum(1 for t in lows if t == -math.inf)
            high_finite = sum(t for t in highs if t != math.inf)
            high_infinite = sum(1 for t in highs if t == math.inf)
            for i, (v, s) in enumerate(zip(variables, signs, strict=True)):
                own_low_infinite = lows[i] == -math.inf
                own_high_infinite = highs[i] == math.inf
                rest_low = (
                    -math.inf
                    if low_infinite - own_low_infinite > 0
                    else low_finite - (0 if own_low_infinite else lows[i])
                )
                rest_high = (
                    math.inf
                    if high_infinite - own_high_infinite > 0
                    else high_finite - (0 if own_high_infinite else highs[i])
                )
                # s·v = constant − rest
                term_low, term_high = constant - rest_high, constant - rest_low
                low, high = (term_low, term_high) if s > 0 else (-term_high, -term_low)
                if low > self.low[v] or high < self.high[v]:
                    self.low[v] = max(self.low[v], math.ceil(low) if math.isfinite(low) else low)
                    self.high[v] = min(
                        self.high[v], math.floor(high) if math.isfinite(high) else high
                    )
                    for other in self.of_variable[v]:
                        if other not in queued:
                            queued.add(other)
                            pending.append(other)

    def pinned(self, v: int) -> bool:
        """Pinned to one non-zero value (zero is not sensitive, see the module docstring)."""
        return self.low[v] == self.high[v] and self.low[v] != 0


# -- the pattern ---------------------------------------------------------------------------------


def protect(
    parent: Mapping[N, N | None],
    respondents: Mapping[N, int],
    expressing: Mapping[tuple[N, C], int],
    categories: Sequence[C],
    *,
    k: int,
    min_respondents: int,
) -> Suppression[N, C]:
    """The suppression pattern of a tree of areas (`parent`: each area's parent, None for the
    root), with `respondents` n per area and `expressing` x per area and category (missing
    means 0). Counts must add up: a parent has at least the sum of its children."""
    check_thresholds(k, min_respondents)
    graph = _TreeGraph(parent)
    count = len(graph.nodes)
    n = [respondents.get(node, 0) for node in graph.nodes]
    x = {c: [expressing.get((node, c), 0) for node in graph.nodes] for c in categories}
    withheld: dict[int, AreaReason] = {
        e: "min_respondents" for e in range(count) if n[e] < min_respondents
    }
    cells: dict[C, dict[int, CellReason]] = {
        c: {
            e: "primary"
            for e in range(count)
            if e not in withheld and (is_small(x[c][e], k) or is_small(n[e] - x[c][e], k))
        }
        for c in categories
    }
    while True:
        unknown = set(withheld)
        for e in graph.close_bridges(unknown, [v + 1.0 for v in n]):
            withheld[e] = "secondary"
        for c in categories:
            unknown = set(withheld) | set(cells[c])
            for e in graph.close_bridges(unknown, _cell_costs(x[c], n)):
                cells[c][e] = "secondary"
        fixes = _audit(graph, n, x, withheld, cells, min_respondents)
        if not fixes:
            break
        for table, e in fixes:
            if table is None:
                withheld[e] = "secondary"
            else:
                cells[table][e] = "secondary"
    result: Suppression[N, C] = Suppression()
    result.withheld = {graph.nodes[e]: reason for e, reason in withheld.items()}
    result.cells = {
        (graph.nodes[e], c): reason
        for c in categories
        for e, reason in cells[c].items()
        if e not in withheld
    }
    return result


def _cell_costs(x: Sequence[int], n: Sequence[int]) -> list[float]:
    """What suppressing each cell costs: its value + 1, and far more for a cell whose x or
    n − x is 0. Such a cell sits on a bound, so as a partner it tells the attacker the exact
    upper (or lower) limit of the cell it is meant to protect; it is used only when every
    other way is dearer than the largest count."""
    penalty = float(max(n, default=0) + 1)
    return [
        value + 1.0 + (penalty if value == 0 or value == total else 0.0)
        for value, total in zip(x, n, strict=True)
    ]


def _audit(
    graph: _TreeGraph[N],
    n: list[int],
    x: Mapping[C, list[int]],
    withheld: Mapping[int, AreaReason],
    cells: Mapping[C, Mapping[int, CellReason]],
    min_respondents: int,
) -> list[tuple[C | None, int]]:
    """Cells to suppress next because bounds pin an unknown; `None` as table means the n
    table (withhold the area)."""
    bounds = _Bounds()
    n_var: dict[int, int] = {}
    for e, reason in withheld.items():
        if reason == "min_respondents":
            n_var[e] = bounds.variable(n[e], 0, min_respondents - 1)
        else:
            n_var[e] = bounds.variable(n[e], min_respondents, math.inf)
    x_var: dict[C, dict[int, tuple[int, int]]] = {}
    for c, values in x.items():
        table: dict[int, tuple[int, int]] = {}
        for e in set(withheld) | set(cells[c]):
            if e in withheld:
                low_x, high_x, low_y, high_y = 0.0, math.inf, 0.0, math.inf
            elif cells[c][e] == "primary":
                low_x, high_x, low_y, high_y = 1, n[e] - 1, 1, n[e] - 1
            else:
                low_x, high_x, low_y, high_y = 0, n[e], 0, n[e]
            table[e] = (
                bounds.variable(values[e], low_x, high_x),
                bounds.variable(n[e] - values[e], low_y, high_y),
            )
            bounds.relation([(n_var.get(e), 1), (table[e][0], -1), (table[e][1], -1)])
        x_var[c] = table
    for vertex, edges in graph.members.items():
        if vertex == 0:
            continue
        # The relation of an area: its own edge (+1) and its children's edges (−1).
        own = next(e for e in edges if graph.ends[e][1] == vertex)
        terms = [(own, 1)] + [(e, -1) for e in edges if e != own]
        bounds.relation([(n_var.get(e), s) for e, s in terms])
        for c in x:
            table = x_var[c]
            bounds.relation([(table[e][0] if e in table else None, s) for e, s in terms])
            bounds.relation([(table[e][1] if e in table else None, s) for e, s in terms])
    bounds.propagate()

    fixes: list[tuple[C | None, int]] = []
    touched: set[tuple[C | None, int]] = set()
    for e, v in n_var.items():
        if bounds.pinned(v):
            fix = _nearest_published(graph, e, withheld.keys(), n, touched, None)
            if fix is not None and fix >= 0:
                fixes.append((None, fix))
    for c, table in x_var.items():
        for e, (vx, vy) in table.items():
            if not (bounds.pinned(vx) or bounds.pinned(vy)):
                continue
            unknown = withheld.keys() | cells[c].keys()
            fix = _nearest_published(graph, e, unknown, x[c], touched, c)
            if fix is None:  # every cell of this table is unknown: withhold an area instead
                fix = _nearest_published(graph, e, withheld.keys(), n, touched, None)
                if fix is not None and fix >= 0:
                    fixes.append((None, fix))
            elif fix >= 0:
                fixes.append((c, fix))
    return fixes


def _nearest_published(
    graph: _TreeGraph[N],
    start: int,
    unknown: Collection[int],
    values: Sequence[int],
    touched: set[tuple[C | None, int]],
    table: C | None,
) -> int | None:
    """The cheapest published edge among those sharing a relation with `start`, else one
    relation further, and so on; None if the table has no published edge; -1 if the nearest
    relation already had a fix in this round (`touched`): the next round will tell whether
    that fix was enough."""
    seen_vertices: set[int] = set()
    frontier = [v for v in graph.ends[start] if v != 0] or [0]
    while frontier:
        candidates: list[int] = []
        next_frontier: list[int] = []
        for vertex in frontier:
            if vertex in seen_vertices:
                continue
            seen_vertices.add(vertex)
            if (table, vertex) in touched:
                return -1
            for e in graph.members[vertex]:
                if e not in unknown:
                    candidates.append(e)
                else:
                    next_frontier.extend(v for v in graph.ends[e] if v not in seen_vertices)
        if candidates:
            best = min(candidates, key=lambda e: (values[e], e))
            touched.update((table, v) for v in graph.ends[best])
            return best
        frontier = next_frontier
    return None
