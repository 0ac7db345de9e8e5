"""Confidence intervals of shares: the Wilson score interval.

Why Wilson: the textbook Wald interval p ± z·√(p(1−p)/n) collapses to a single point at
p = 0 or 1 and undercovers badly for the small counts of a social area; the Wilson interval
(Wilson 1927; recommended by Brown, Cai & DasGupta 2001 and Agresti & Coull 1998) inverts the
score test, stays inside [0, 1], is never empty, and keeps close to its nominal coverage from
n ≈ 10 on. For a population-weighted share the same formula is used with the Kish effective
sample size in place of n (`wilson_from_share`), the adjustment Korn & Graubard (1998) and
Dean & Pagano (2015) found to keep coverage for weighted survey proportions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The 97.5% quantile of the standard normal distribution: a two-sided 95% interval.
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


def wilson_from_share(share: float, n: float, z: float = Z95) -> Interval:
    """The Wilson score interval of a share observed on `n` (possibly fractional, as an
    effective sample size) observations."""
    if not n > 0:
        raise ValueError("an interval needs n > 0")
    if not 0.0 <= share <= 1.0:
        raise ValueError("a share lies between 0 and 1")
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (share + z2 / (2.0 * n)) / denominator
    half = (z / denominator) * math.sqrt(share * (1.0 - share) / n + z2 / (4.0 * n * n))
    # At share 0 (or 1) the bound is 0 (or 1) exactly; rounding must not leave it outside.
    low = 0.0 if share == 0.0 else max(0.0, centre - half)
    high = 1.0 if share == 1.0 else min(1.0, centre + half)
    return Interval(low, high)


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval of `successes` out of `n`."""
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    return wilson_from_share(successes / n if n else 0.0, n, z)
