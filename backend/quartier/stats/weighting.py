"""Post-stratification by age band, with Kish's effective sample size.

A survey's respondents are rarely distributed over the age bands as the area's population is
(older residents answer paper questionnaires, younger ones web forms). Post-stratification
reweights each respondent so that the sample's age distribution matches the population's:

    weight of a respondent in stratum h = (N_h / N) / (n_h / n_known)

with N_h the area's population in the stratum (the sum of the population age bands the
survey's age option covers), N the population of all strata, n_h the respondents in the
stratum and n_known the respondents with a stratum. The weights of the known respondents sum
to n_known; the weighted share of a need is Σ w·[expresses] / Σ w.

Decisions, each a guard against a known failure of the method:

* **Collapsing.** A stratum with fewer than `minimum` respondents (the survey's k) or with no
  population is merged into its neighbour in the survey's option order (the neighbour with
  fewer respondents; the older one on a tie), and so on until every group is large enough or
  one group is left. Tiny strata give huge, unstable weights (Kalton & Flores-Cervantes 2003);
  they would also be cells of fewer than k respondents.
* **Respondents without an age stratum** (they skipped the question or chose "prefer not to
  say") are kept, with weight 1: they form their own group whose share of the total is their
  share of the sample, and the known strata share the rest in proportion to the population.
  So the weighted estimate covers every respondent, equals the raw share when nobody gave an
  age, and assumes nothing about the age of those who did not say.
* **Effective sample size** (Kish 1965): n_eff = (Σ w)² / Σ w² over all respondents. It is n
  for equal weights and shrinks as the weights grow unequal; the weighted share's interval is
  the Wilson interval with n_eff (see stats.intervals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stratum:
    """One age stratum of one area: respondents in the sample, inhabitants in the area."""

    key: str
    respondents: int
    population: int


@dataclass(frozen=True, slots=True)
class Group:
    """Strata merged for weighting, with the weight of each respondent in them."""

    keys: tuple[str, ...]
    respondents: int
    population: int
    weight: float


@dataclass(frozen=True, slots=True)
class Weights:
    groups: tuple[Group, ...]
    unknown: int  # respondents without a stratum (weight 1)
    effective_sample_size: float

    @property
    def respondents(self) -> int:
        return sum(group.respondents for group in self.groups) + self.unknown

    def share(self, expressing: Mapping[str, int], unknown_expressing: int = 0) -> float:
        """The weighted share of a need: `expressing` counts by stratum key, and among the
        respondents without a stratum."""
        if not 0 <= unknown_expressing <= self.unknown:
            raise ValueError("more respondents without a stratum express it than exist")
        total = float(unknown_expressing)
        for group in self.groups:
            count = sum(expressing.get(key, 0) for key in group.keys)
            if not 0 <= count <= group.respondents:
                raise ValueError(f"expressing count out of range in stratum {group.keys}")
            total += group.weight * count
        return min(1.0, max(0.0, total / self.respondents))


@dataclass(frozen=True, slots=True)
class Merged:
    """Neighbouring strata taken together."""

    keys: tuple[str, ...]
    respondents: int
    population: int


def collapse(strata: Sequence[Stratum], minimum: int) -> list[Merged]:
    """Merge neighbouring strata (in the given order) until each group has at least `minimum`
    respondents and some population, or one group is left. Strata with neither respondents
    nor population are dropped first."""
    groups = [
        Merged((s.key,), s.respondents, s.population)
        for s in strata
        if s.respondents > 0 or s.population > 0
    ]

    def small(group: Merged) -> bool:
        return group.respondents < minimum or group.population == 0

    while len(groups) > 1 and any(small(g) for g in groups):
        index = min(
            (i for i, g in enumerate(groups) if small(g)), key=lambda i: groups[i].respondents
        )
        neighbours = [j for j in (index - 1, index + 1) if 0 <= j < len(groups)]
        other = min(neighbours, key=lambda j: (groups[j].respondents, -j))
        first, second = sorted((index, other))
        a, b = groups[first], groups[second]
        groups[first : second + 1] = [
            Merged(a.keys + b.keys, a.respondents + b.respondents, a.population + b.population)
        ]
    return groups


def post_stratify(strata: Sequence[Stratum], unknown: int, *, minimum: int) -> Weights | None:
    """Weights for one area, or None when there is nothing to weight: no respondent with a
    stratum, or no population in the strata."""
    if unknown < 0 or any(s.respondents < 0 or s.population < 0 for s in strata):
        raise ValueError("counts cannot be negative")
    collapsed = collapse(strata, minimum)
    known = sum(g.respondents for g in collapsed)
    population = sum(g.population for g in collapsed if g.respondents > 0)
    if known == 0 or population == 0:
        return None
    # After collapsing, a group without respondents remains only if it is the last one, and
    # then there is no respondent with a stratum at all (handled above).
    groups = tuple(
        Group(
            keys=g.keys,
            respondents=g.respondents,
            population=g.population,
            weight=(g.population / population) * known / g.respondents,
        )
        for g in collapsed
        if g.respondents > 0
    )
    total = known + unknown  # Σ w: the known weights sum to `known`, the unknown ones are 1
    squares = sum(g.respondents * g.weight * g.weight for g in groups) + unknown
    return Weights(groups=groups, unknown=unknown, effective_sample_size=total * total / squares)
