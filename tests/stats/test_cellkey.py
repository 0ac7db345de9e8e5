"""The cell key engine: the perturbation table's promises, one by one."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from quartier.stats import cellkey, weighting
from quartier.stats.cellkey import Cell, PTable, Release


def test_small_counts_are_never_published_as_such() -> None:
    table = PTable(5)
    rng = random.Random(1)
    for count in range(0, 60):
        for _ in range(300):
            value = table.perturb(count, rng.randrange(cellkey.KEY_MODULUS))
            assert value == 0 or value >= 5
            low, high = table.preimage(value)
            assert low <= count <= high


def test_zero_stays_zero_and_large_counts_are_unbiased() -> None:
    table = PTable(5)
    assert table.perturb(0, 12345) == 0
    rng = random.Random(2)
    values = [table.perturb(100, rng.randrange(cellkey.KEY_MODULUS)) for _ in range(20_000)]
    assert abs(sum(values) / len(values) - 100) < 0.1
    assert max(abs(v - 100) for v in values) <= table.max_noise
    assert len(set(values)) > 5  # it does perturb


def test_noise_follows_the_two_sided_geometric_distribution() -> None:
    table = PTable(5, alpha=0.5)
    rng = random.Random(3)
    noise = Counter(table.noise(rng.randrange(cellkey.KEY_MODULUS)) for _ in range(60_000))
    # P(0) = (1 − α)/(1 + α) = 1/3, P(±1) = 1/6 each
    assert noise[0] / 60_000 == pytest.approx(1 / 3, abs=0.01)
    assert noise[1] / 60_000 == pytest.approx(1 / 6, abs=0.01)
    assert noise[-1] / 60_000 == pytest.approx(1 / 6, abs=0.01)


def test_same_cell_same_value_and_sums_of_keys_wrap() -> None:
    release = Release(5, 10)
    keys = [cellkey.new_record_key() for _ in range(40)]
    cell = Cell(40, sum(keys))
    assert release.count(cell) == release.count(Cell(40, sum(keys) % cellkey.KEY_MODULUS))
    assert release.count(cell) == release.count(Cell(40, sum(reversed(keys))))


def test_respondents_below_min_are_not_shown() -> None:
    release = Release(5, 10)
    assert release.respondents(cellkey.EMPTY) is None
    shown = [release.respondents(Cell(n, n * 7919)) for n in range(0, 40)]
    assert all(v is None or v >= 10 for v in shown)


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        PTable(2)
    with pytest.raises(ValueError, match="min_respondents"):
        Release(5, 4)


def test_distribution_summary_uses_published_counts() -> None:
    assert Release.distribution_summary({1: 0, 2: 10, 3: 10}) == (2.5, 2.5)
    assert Release.distribution_summary({1: 5, 2: 0, 3: 6}) == (2.09, 3)
    assert Release.distribution_summary({1: 0}) == (None, None)


def test_number_summary_needs_enough_respondents_and_is_rounded() -> None:
    release = Release(5, 10)
    assert release.number_summary(Cell(3, 99), 4.0, 4.0) is None
    found = release.number_summary(Cell(200, 12345), 3.14159, 2.71828)
    assert found is not None
    assert (found.mean, found.median) == (3.1, 2.7)


def test_weighted_share_from_published_counts_caps_noise() -> None:
    strata = [
        weighting.Stratum("a", respondents=20, population=100),
        weighting.Stratum("b", respondents=10, population=300),
    ]
    found = cellkey.weighted_share(strata, 0, {"a": 25, "b": 5}, 0, minimum=5)
    assert found is not None
    share, n_eff = found
    assert share == pytest.approx(0.25 * 1 + 0.75 * 0.5)
    assert 0 < n_eff <= 30
