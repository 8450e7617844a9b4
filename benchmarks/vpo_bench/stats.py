"""Bootstrap confidence intervals over (problem, seed) units, pure numpy.

A measurement is an array x[p, s, ...]: one value (or one curve) per test problem p and seed s.
Problems and seeds are resampled independently, with replacement (a two-way crossed bootstrap),
and each draw's statistic is the mean over the Cartesian product of the drawn problems and
seeds.  Why not resample the P*S cells as if independent: a problem's cells share its difficulty
across seeds and a seed's cells share one trained adapter across problems, so cell resampling
would understate the spread.  Comparisons between arms are paired: the difference a - b is formed
per (problem, seed) before resampling, so what the two arms share (the problem, the seed's
sampling) cancels.  Intervals are percentile intervals of the draws.
"""

from __future__ import annotations

import numpy as np

N_BOOT = 4000
LEVEL = 0.95


def crossed_draws(n_problems: int, n_seeds: int, n_boot: int = N_BOOT,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of `n_boot` resamples: (n_boot, n_problems) problems and (n_boot, n_seeds) seeds."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, n_problems, (n_boot, n_problems)),
            rng.integers(0, n_seeds, (n_boot, n_seeds)))


def resampled_means(x: np.ndarray, problems: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Mean of x[p, s, ...] over every drawn (problem, seed) pair, per draw: shape (B, ...)."""
    x = np.asarray(x, dtype=float)
    n_p, n_s = x.shape[:2]
    wp = np.stack([np.bincount(row, minlength=n_p) for row in problems]) / problems.shape[1]
    ws = np.stack([np.bincount(row, minlength=n_s) for row in seeds]) / seeds.shape[1]
    return np.einsum("bp,bs,ps...->b...", wp, ws, x)


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` interval of the draws (axis 0), numpy's linear quantiles."""
    lo, hi = np.quantile(np.asarray(samples, dtype=float), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def _summary(point: np.ndarray, draws: np.ndarray, level: float) -> dict:
    lo, hi = percentile_interval(draws, level)
    return {"mean": np.asarray(point).tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


def mean_ci(x: np.ndarray, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> dict:
    """Mean over units of x[p, s, ...] with its bootstrap interval: {mean, lo, hi} (lists for
    curves)."""
    x = np.asarray(x, dtype=float)
    draws = resampled_means(x, *crossed_draws(x.shape[0], x.shape[1], n_boot, seed))
    return _summary(x.mean(axis=(0, 1)), draws, level)


def paired_difference_ci(a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT, seed: int = 0,
                         level: float = LEVEL) -> dict:
    """Mean of a - b with its paired bootstrap interval (a and b indexed by the same units)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    return mean_ci(a - b, n_boot, seed, level)


def ratio_ci(a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT, seed: int = 0,
             level: float = LEVEL) -> dict | None:
    """mean(a) / mean(b) with its bootstrap interval (the same draws for both: paired); None when
    mean(b) is 0, draws with a zero denominator are dropped."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    if b.mean() == 0:
        return None
    draws = crossed_draws(a.shape[0], a.shape[1], n_boot, seed)
    num, den = resampled_means(a, *draws), resampled_means(b, *draws)
    ok = den != 0
    return _summary(a.mean() / b.mean(), num[ok] / den[ok], level)
