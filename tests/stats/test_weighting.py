"""Post-stratification by age band: weights, collapsing, respondents without a stratum, and
Kish's effective sample size."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quartier.stats.weighting import Stratum, collapse, post_stratify


def test_a_sample_shaped_like_the_population_gets_equal_weights() -> None:
    weights = post_stratify(
        [Stratum("young", 20, 2_000), Stratum("middle", 50, 5_000), Stratum("old", 30, 3_000)],
        0,
        minimum=5,
    )
    assert weights is not None
    assert [g.weight for g in weights.groups] == pytest.approx([1.0, 1.0, 1.0])
    assert weights.effective_sample_size == pytest.approx(100.0)


def test_weights_correct_an_overrepresented_stratum() -> None:
    # The old are 30% of the population but 60% of the sample.
    weights = post_stratify([Stratum("young", 40, 7_000), Stratum("old", 60, 3_000)], 0, minimum=5)
    assert weights is not None
    young, old = weights.groups
    assert young.weight == pytest.approx(0.7 / 0.4)
    assert old.weight == pytest.approx(0.3 / 0.6)
    # The young express the need at 50%, the old at 10%: raw share 26%, population 38%.
    share = weights.share({"young": 20, "old": 6})
    assert share == pytest.approx(0.7 * 0.5 + 0.3 * 0.1)
    # Kish: n_eff = (Σw)² / Σw² = 100² / (40·1.75² + 60·0.5²).
    assert weights.effective_sample_size == pytest.approx(100**2 / (40 * 1.75**2 + 60 * 0.25))


def test_respondents_without_a_stratum_keep_their_sample_share() -> None:
    weights = post_stratify([Stratum("young", 40, 7_000), Stratum("old", 40, 3_000)], 20, minimum=5)
    assert weights is not None
    assert weights.respondents == 100
    # Known respondents carry 80% of the weight, split 70/30; the 20 unknown carry 20%.
    young, old = weights.groups
    assert young.weight * 40 == pytest.approx(0.7 * 80)
    assert old.weight * 40 == pytest.approx(0.3 * 80)
    assert weights.share({"young": 40, "old": 0}, unknown_expressing=20) == pytest.approx(
        (0.7 * 80 + 20) / 100
    )
    squares = 40 * young.weight**2 + 40 * old.weight**2 + 20
    assert weights.effective_sample_size == pytest.approx(100**2 / squares)


def test_nobody_with_a_stratum_means_no_weighting() -> None:
    assert post_stratify([Stratum("young", 0, 100)], 12, minimum=5) is None
    assert post_stratify([], 12, minimum=5) is None
    assert post_stratify([Stratum("young", 10, 0)], 0, minimum=5) is None


def test_small_strata_are_merged_with_their_smaller_neighbour() -> None:
    groups = collapse(
        [
            Stratum("a", 10, 100),
            Stratum("b", 2, 100),
            Stratum("c", 30, 100),
            Stratum("d", 0, 50),
            Stratum("e", 0, 0),
        ],
        5,
    )
    # e has nothing and goes; d (0) joins c (its only neighbour); b (2) joins a (10 < 30).
    assert [(g.keys, g.respondents, g.population) for g in groups] == [
        (("a", "b"), 12, 200),
        (("c", "d"), 30, 150),
    ]


def test_strata_with_respondents_but_no_population_are_merged() -> None:
    groups = collapse([Stratum("a", 10, 0), Stratum("b", 10, 100)], 5)
    assert [g.keys for g in groups] == [("a", "b")]


def test_collapsing_stops_at_one_group() -> None:
    groups = collapse([Stratum("a", 1, 10), Stratum("b", 1, 10)], 5)
    assert [(g.keys, g.respondents) for g in groups] == [(("a", "b"), 2)]


def test_counts_out_of_range_are_refused() -> None:
    weights = post_stratify([Stratum("a", 10, 100)], 2, minimum=5)
    assert weights is not None
    with pytest.raises(ValueError, match="out of range"):
        weights.share({"a": 11})
    with pytest.raises(ValueError, match="without a stratum"):
        weights.share({"a": 1}, unknown_expressing=3)
    with pytest.raises(ValueError, match="negative"):
        post_stratify([Stratum("a", -1, 100)], 0, minimum=5)


strata = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 10_000)), min_size=1, max_size=8
).map(lambda items: [Stratum(f"s{i}", n, pop) for i, (n, pop) in enumerate(items)])


# The strategy draws a few small integers; Hypothesis' "too slow" check measures wall time,
# which a loaded CI machine (two test workers beside their PostgreSQL) exceeded once in 1,364
# tests (1 input in 1.6 s). The invariants are unchanged; only that timing check is off.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(strata, st.integers(0, 50), st.integers(3, 10), st.data())
def test_weighting_invariants(
    given_strata: list[Stratum], unknown: int, minimum: int, data: st.DataObject
) -> None:
    weights = post_stratify(given_strata, unknown, minimum=minimum)
    known = sum(s.respondents for s in given_strata)
    if weights is None:
        return
    assert weights.respondents == known + unknown
    # The known respondents' weights sum to their number; every stratum is in one group.
    assert sum(g.weight * g.respondents for g in weights.groups) == pytest.approx(known)
    grouped = [key for g in weights.groups for key in g.keys]
    assert len(grouped) == len(set(grouped))
    assert all(g.respondents >= minimum for g in weights.groups) or len(weights.groups) == 1
    # 1 ≤ n_eff ≤ n, with equality for equal weights.
    assert 1 - 1e-9 <= weights.effective_sample_size <= weights.respondents + 1e-9
    # The weighted share of a need everyone has is 1, of a need nobody has 0, and in between
    # it lies between the smallest and the largest group share.
    everyone = {s.key: s.respondents for s in given_strata}
    assert weights.share(everyone, unknown) == pytest.approx(1.0)
    assert weights.share({}, 0) == 0.0
    some = {s.key: data.draw(st.integers(0, s.respondents)) for s in given_strata}
    some_unknown = data.draw(st.integers(0, unknown))
    share = weights.share(some, some_unknown)
    group_shares = [sum(some[key] for key in g.keys) / g.respondents for g in weights.groups] + (
        [some_unknown / unknown] if unknown else []
    )
    assert min(group_shares) - 1e-9 <= share <= max(group_shares) + 1e-9
