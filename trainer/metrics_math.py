"""Evaluation metrics of a pool of sampled answers: pass@k, best@k, reward-space diversity.

All are exact (no Monte Carlo): pass@k is the unbiased estimator of Chen et al. (2021), best@k
the expected maximum of the first k answers of a uniformly random permutation of the pool.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    # product form avoids huge binomials
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def max_at_k_weights(n: int, k: int) -> np.ndarray:
    """P(the i-th smallest of n values is the max of a random k-subset) = C(i-1, k-1) / C(n, k)."""
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n} k={k}")
    i = np.arange(1, n + 1)
    logw = np.full(n, -np.inf)
    ok = i >= k
    lg = np.vectorize(math.lgamma)
    logw[ok] = (
        lg(i[ok]) - lg(k) - lg(i[ok] - k + 1)  # log C(i-1, k-1)
        - (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1))  # - log C(n, k)
    )
    return np.exp(logw)


def best_at_k(values: Sequence[float], k: int) -> float:
    """Expected running max after k draws without replacement from the pool (exact)."""
    v = np.sort(np.asarray(values, dtype=float))
    return float(max_at_k_weights(len(v), k) @ v)


def best_at_k_curve(values: Sequence[float], ks: Sequence[int] | None = None) -> list[float]:
    """best@k for k = 1..n (or the given ks)."""
    n = len(values)
    return [best_at_k(values, k) for k in (ks if ks is not None else range(1, n + 1))]


def reward_diversity(rows: Sequence[Sequence[float]]) -> float:
    """Mean pairwise L1 distance between reward vectors (0 for fewer than two rows)."""
    a = np.asarray(rows, dtype=float)
    if a.ndim != 2 or len(a) < 2:
        return 0.0
    dist = np.abs(a[:, None, :] - a[None, :, :]).sum(-1)
    n = len(a)
    return float(dist.sum() / (n * (n - 1)))
