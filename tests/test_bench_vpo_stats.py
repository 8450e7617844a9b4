"""benchmarks/vpo_bench/stats.py on small examples computed by hand: the crossed resample's
means, the exact bootstrap distribution of a 2 x 2 table, percentile intervals, pairing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.vpo_bench.stats import (  # noqa: E402
    crossed_draws,
    mean_ci,
    paired_difference_ci,
    percentile_interval,
    ratio_ci,
    resampled_means,
)

X = np.array([[1.0, 2.0], [3.0, 4.0]])  # x[problem, seed]


@pytest.mark.parametrize("problems, seeds, want", [
    ([0, 0], [1, 1], 2.0),    # problem 0 twice, seed 1 twice: x[0, 1]
    ([0, 1], [0, 0], 2.0),    # both problems, seed 0 twice: (1 + 3) / 2
    ([1, 1], [0, 1], 3.5),    # problem 1 twice, both seeds: (3 + 4) / 2
    ([0, 1], [0, 1], 2.5),    # the original sample
    ([1, 0], [1, 1], 3.0),    # order is irrelevant: (2 + 4) / 2
])
def test_each_draw_averages_the_product_of_the_drawn_problems_and_seeds(problems, seeds, want):
    got = resampled_means(X, np.array([problems]), np.array([seeds]))
    assert got.shape == (1,) and got[0] == pytest.approx(want)


def test_curves_are_resampled_per_k():
    curves = np.stack([X, 10 * X], axis=-1)  # (2, 2, 2): k = 1 and k = 2
    got = resampled_means(curves, np.array([[1, 1], [0, 1]]), np.array([[0, 1], [0, 0]]))
    assert got.tolist() == [[3.5, 35.0], [2.0, 20.0]]


def test_the_bootstrap_distribution_of_a_2x2_table_matches_the_hand_computed_one():
    # x = [[1, 0], [0, 0]]: a draw's mean is (#problem 0 drawn)(#seed 0 drawn) / 4 with both counts
    # ~ Binomial(2, 1/2): P(0) = 1 - (3/4)^2 = 7/16, P(1/4) = 1/4, P(1/2) = 2 (1/2)(1/4) = 1/4,
    # P(1) = 1/16.  Resampling only problems would give P(0) = 1/4, P(1/4) = 1/2, P(1/2) = 1/4.
    x = np.array([[1.0, 0.0], [0.0, 0.0]])
    means = resampled_means(x, *crossed_draws(2, 2, n_boot=40000, seed=3))
    freq = {v: np.mean(np.isclose(means, v)) for v in (0.0, 0.25, 0.5, 1.0)}
    assert sum(freq.values()) == pytest.approx(1.0)
    for v, p in {0.0: 7 / 16, 0.25: 1 / 4, 0.5: 1 / 4, 1.0: 1 / 16}.items():
        assert freq[v] == pytest.approx(p, abs=0.01), v
    ci = mean_ci(x, n_boot=40000, seed=3)
    assert ci["mean"] == 0.25 and ci["lo"] == 0.0 and ci["hi"] == 1.0  # P(1) = 6.25% > 2.5%


def test_percentile_interval_uses_linear_quantiles():
    lo, hi = percentile_interval(np.arange(1, 101))
    assert (lo, hi) == (pytest.approx(3.475), pytest.approx(97.525))  # 1 + 99 * 0.025 = 3.475


def test_one_seed_resamples_problems_only():
    x = np.array([[0.0], [1.0]])  # two problems, one seed: means 0, 1/2, 1 w.p. 1/4, 1/2, 1/4
    means = resampled_means(x, *crossed_draws(2, 1, n_boot=20000, seed=1))
    assert np.mean(means == 0.5) == pytest.approx(0.5, abs=0.015)
    ci = mean_ci(x, n_boot=20000, seed=1)
    assert (ci["mean"], ci["lo"], ci["hi"]) == (0.5, 0.0, 1.0)


def test_pairing_cancels_what_the_arms_share():
    # b varies a lot between problems, a = b + 0.1 on every unit: the paired difference is 0.1
    # with no spread, while each arm's own interval is wide.
    b = np.array([[0.0, 0.1], [0.9, 1.0], [0.5, 0.4]])
    a = b + 0.1
    diff = paired_difference_ci(a, b, n_boot=2000)
    assert diff["mean"] == pytest.approx(0.1)
    assert diff["lo"] == pytest.approx(0.1) and diff["hi"] == pytest.approx(0.1)
    own = mean_ci(b, n_boot=2000)
    assert own["hi"] - own["lo"] > 0.5
    with pytest.raises(ValueError, match="shape"):
        paired_difference_ci(a, b[:2])


def test_difference_curve_and_its_interval_per_k():
    a = np.array([[[0.2, 0.5]], [[0.4, 0.9]]])  # (problem, seed, k)
    b = np.array([[[0.3, 0.5]], [[0.3, 0.5]]])
    d = paired_difference_ci(a, b, n_boot=4000, seed=2)
    # per-problem differences: k=1: -0.1, +0.1 (mean 0; draws -0.1, 0, 0.1); k=2: 0, 0.4
    assert d["mean"] == pytest.approx([0.0, 0.2])
    assert d["lo"] == pytest.approx([-0.1, 0.0]) and d["hi"] == pytest.approx([0.1, 0.4])


def test_ratio_of_means_with_paired_draws():
    b = np.array([[1.0, 3.0], [2.0, 2.0]])
    r = ratio_ci(2 * b, b, n_boot=1000)
    assert (r["mean"], r["lo"], r["hi"]) == (pytest.approx(2.0),) * 3
    r = ratio_ci(np.array([[1.0], [3.0]]), np.array([[1.0], [1.0]]), n_boot=4000)
    assert r["mean"] == pytest.approx(2.0) and r["lo"] == pytest.approx(1.0) and r["hi"] == pytest.approx(3.0)
    assert ratio_ci(b, np.zeros_like(b)) is None
