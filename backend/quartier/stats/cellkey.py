"""The cell key method: one perturbation per cell, the same wherever the cell appears.

Every stored respondent row (a survey response) carries a **record key**: a random integer in
[0, 2³²) drawn when the row is stored (`new_record_key`), derived from nothing about the person
and never published. A **cell** of any table is a set of respondent rows (those in an area who
chose an option, who express a need, who are in an age stratum, …); its **cell key** is the sum
of its rows' record keys modulo 2³², which SQL computes next to the count (`sum(record_key)`).
The published value of a cell is a function of (count, cell key) only — `PTable.perturb` — so:

* the same set of rows gives the same value in every table, level, format and page (a need
  expressed by exactly those who chose an option is that option's count, to the unit);
* two cells differing by one row have unrelated keys, so differences of published cells
  (parent − children, pooled − one survey, level − level) are sums of independent noise;
* asking again gives the same value: noise cannot be averaged away by repeated requests.

The perturbation table (`PTable`) adds to every count ≥ 1 a noise drawn by the cell key from a
two-sided geometric distribution with parameter `alpha`, truncated to ±`max_noise`; a result
below k is published as 0. So a count from 1 to k − 1 is never published as such (it shows as
0, or — rarely — as a value ≥ k), a published 0 covers every count from 0 to k − 1 + max_noise,
and a published value p ≥ k covers the counts p − max_noise … p + max_noise (≥ 1). Zero cells
stay 0 (they have no rows, hence no key).

Everything else published is computed **from perturbed counts only** (`Release`): shares,
intervals, means and medians of rating scales (from the perturbed distribution), weighted
shares and effective sample sizes (from perturbed counts per age stratum), and whether an area
is shown at all (its perturbed n against `min_respondents`). A function of protected values
cannot reveal more than those values, so summaries need no rule of their own; an area that is
not shown says only that its perturbed n is small, and carries one marker, "protected".
Free numeric answers (not counts) are summarised only where the perturbed n reaches
`Release.summary_minimum`, and rounded (`Release.number_summary`).
"""

from __future__ import annotations

import bisect
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from quartier.stats import weighting

KEY_BITS = 32
KEY_MODULUS = 1 << KEY_BITS


def new_record_key() -> int:
    """A fresh record key: uniformly random, from the operating system's CSPRNG."""
    return secrets.randbits(KEY_BITS)


def cell_key(key_sum: int) -> int:
    """The cell key from the sum of the record keys of a cell's rows (any size of integer)."""
    return int(key_sum) % KEY_MODULUS


@dataclass(frozen=True, slots=True)
class PTable:
    """The perturbation table: noise by cell key, the same for every count ≥ 1."""

    k: int
    alpha: float = 0.5
    max_noise: int = 15
    _bounds: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.k < 3:
            raise ValueError(f"k must be at least 3, not {self.k}")
        if not 0 < self.alpha < 1 or self.max_noise < 1:
            raise ValueError("alpha must lie in (0, 1) and max_noise be positive")
        values = range(-self.max_noise, self.max_noise + 1)
        weights = [self.alpha ** abs(v) for v in values]
        total = sum(weights)
        bounds: list[int] = []
        running = 0.0
        for weight in weights[:-1]:
            running += weight
            bounds.append(min(KEY_MODULUS - 1, round(running / total * KEY_MODULUS)))
        object.__setattr__(self, "_bounds", tuple(bounds))

    def noise(self, key: int) -> int:
        """The noise of a cell with this cell key (0 … 2³² − 1)."""
        return bisect.bisect_right(self._bounds, cell_key(key)) - self.max_noise

    def perturb(self, count: int, key_sum: int) -> int:
        """The published value of a cell with `count` rows whose record keys sum to `key_sum`."""
        if count <= 0:
            return 0
        value = count + self.noise(key_sum)
        return value if value >= self.k else 0

    def preimage(self, published: int) -> tuple[int, int]:
        """Every true count that can be published as `published` lies in this range (what an
        attacker who knows this table learns from one cell)."""
        if published == 0:
            return 0, self.k - 1 + self.max_noise
        return max(1, published - self.max_noise), published + self.max_noise

    @property
    def variance(self) -> float:
        """Variance of the noise (before truncation, which only shrinks it)."""
        return 2 * self.alpha / (1 - self.alpha) ** 2


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell as counted in SQL: its rows and the sum of their record keys."""

    count: int
    key_sum: int

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.count + other.count, self.key_sum + other.key_sum)


EMPTY = Cell(0, 0)


@dataclass(frozen=True, slots=True)
class NumberSummary:
    n: int
    mean: float | None
    median: float | None


class Release:
    """Everything published about the respondents of one release (a survey, or the pooled
    surveys of a process): thresholds and the perturbation table, and the only way to turn
    counted cells into published figures."""

    def __init__(self, k: int, min_respondents: int, *, ptable: PTable | None = None) -> None:
        if min_respondents < k:
            raise ValueError("min_respondents must be at least k")
        self.k = k
        self.min_respondents = min_respondents
        self.ptable = ptable or PTable(k)
        if self.ptable.k != k:
            raise ValueError("the perturbation table is for another k")
        # Free numeric answers: at least this perturbed n, so that one answer moves the mean by
        # little and the median is not a single person's value.
        self.summary_minimum = max(min_respondents, 2 * k + 1)

    def count(self, cell: Cell) -> int:
        """The published count of a cell."""
        return self.ptable.perturb(cell.count, cell.key_sum)

    def respondents(self, cell: Cell) -> int | None:
        """The published n of a group (area, scope), or None when the group is not shown
        because its perturbed n is below `min_respondents` (marker: protected)."""
        value = self.count(cell)
        return value if value >= self.min_respondents else None

    @staticmethod
    def share(count: int, of: int | None) -> float | None:
        """A published count over a published total, at most 1."""
        if not of:
            return None
        return min(1.0, count / of)

    @staticmethod
    def distribution_summary(counts: Mapping[float, int]) -> tuple[float | None, float | None]:
        """Mean and median of a scale from its published (perturbed) counts per value: a
        function of published figures, so it reveals nothing they do not."""
        total = sum(counts.values())
        if total <= 0:
            return None, None
        mean = sum(value * count for value, count in counts.items()) / total
        ordered = sorted(counts.items())
        half = total / 2
        running = 0
        median: float | None = None
        for index, (value, count) in enumerate(ordered):
            running += count
            if running > half:
                median = value
                break
            if running == half:
                following = next((v for v, c in ordered[index + 1 :] if c > 0), value)
                median = (value + following) / 2
                break
        return round(mean, 2), median

    def number_summary(
        self, answered: Cell, mean: float | None, median: float | None
    ) -> NumberSummary | None:
        """n, mean and median of free numeric answers: None below `summary_minimum` (by the
        perturbed n), else rounded to two significant digits."""
        n = self.count(answered)
        if n < self.summary_minimum:
            return None
        return NumberSummary(n=n, mean=_significant(mean), median=_significant(median))


def _significant(value: float | None, digits: int = 2) -> float | None:
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def weights(
    strata: list[weighting.Stratum], unknown: int, *, minimum: int
) -> weighting.Weights | None:
    """Post-stratification weights of a group from **published** (perturbed) counts:
    respondents per stratum (`strata`, with the public population) and without a stratum
    (`unknown`); strata collapse until each group has `minimum` (perturbed) respondents. None
    when there is nothing to weight."""
    return weighting.post_stratify(strata, unknown, minimum=minimum)


def share_of(
    found: weighting.Weights, expressing: Mapping[str, int], unknown_expressing: int
) -> float:
    """The weighted share from **published** counts expressing a need per stratum and without
    a stratum; a count above its group's n (noise) is capped at n."""
    capped: dict[str, int] = {}
    for group in found.groups:
        room = group.respondents
        for key in group.keys:
            value = min(max(0, expressing.get(key, 0)), room)
            capped[key] = value
            room -= value
    return found.share(capped, min(max(0, unknown_expressing), found.unknown))


def weighted_share(
    strata: list[weighting.Stratum],
    unknown: int,
    expressing: Mapping[str, int],
    unknown_expressing: int,
    *,
    minimum: int,
) -> tuple[float, float] | None:
    """`weights` and `share_of` in one: the weighted share and the effective sample size."""
    found = weights(strata, unknown, minimum=minimum)
    if found is None:
        return None
    return share_of(found, expressing, unknown_expressing), found.effective_sample_size
