"""The Wilson score interval: reference values and its defining properties."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quartier.stats.intervals import Z95, wilson, wilson_from_share


def _score_test_roots(x: int, n: int) -> tuple[Decimal, Decimal]:
    """The Wilson bounds from their definition: the p with (x/n − p)² = z²·p(1 − p)/n, the
    two roots of a quadratic, computed to 50 digits."""
    getcontext().prec = 50
    z, share = Decimal(repr(Z95)), Decimal(x) / Decimal(n)
    a = 1 + z * z / n
    b = -(2 * share + z * z / n)
    c = share * share
    root = (b * b - 4 * a * c).sqrt()
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (5, 10), (1, 20), (81, 263), (10, 10), (3, 7)])
def test_the_bounds_are_the_roots_of_the_score_test(x: int, n: int) -> None:
    low, high = _score_test_roots(x, n)
    interval = wilson(x, n)
    assert interval.low == pytest.approx(float(low), abs=1e-12)
    assert interval.high == pytest.approx(float(high), abs=1e-12)


def test_published_values() -> None:
    # Brown, Cai & DasGupta (2001) and every textbook table: 0 of 10 → [0, 0.2775],
    # 5 of 10 → [0.2366, 0.7634].
    assert (round(wilson(0, 10).low, 4), round(wilson(0, 10).high, 4)) == (0.0, 0.2775)
    assert (round(wilson(5, 10).low, 4), round(wilson(5, 10).high, 4)) == (0.2366, 0.7634)


def test_z_is_the_normal_quantile_of_a_two_sided_95_percent_interval() -> None:
    assert math.erf(Z95 / math.sqrt(2)) == pytest.approx(0.95, abs=1e-12)


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="n > 0"):
        wilson(0, 0)
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(4, 3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        wilson_from_share(1.5, 10)


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_lies_in_0_1_and_contains_the_share(pair: tuple[int, int]) -> None:
    x, n = pair
    interval = wilson(x, n)
    assert 0.0 <= interval.low <= x / n <= interval.high <= 1.0
    assert interval.low < interval.high


@given(st.integers(1, 2_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_is_symmetric_in_successes_and_failures(pair: tuple[int, int]) -> None:
    x, n = pair
    interval, mirrored = wilson(x, n), wilson(n - x, n)
    assert interval.low == pytest.approx(1.0 - mirrored.high, abs=1e-12)
    assert interval.high == pytest.approx(1.0 - mirrored.low, abs=1e-12)


@given(st.floats(0.0, 1.0), st.floats(1.0, 1e5))
def test_more_observations_give_a_narrower_interval(share: float, n: float) -> None:
    narrow, wide = wilson_from_share(share, 4 * n), wilson_from_share(share, n)
    assert narrow.high - narrow.low < wide.high - wide.low


def test_an_effective_sample_size_may_be_fractional() -> None:
    assert wilson_from_share(0.3, 37.5) == wilson_from_share(0.3, 37.5)
    assert wilson_from_share(0.3, 37.5).high > wilson_from_share(0.3, 38).high
