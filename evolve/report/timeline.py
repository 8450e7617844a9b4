"""The report's common x axis: answers generated, in iteration order, cut into at most a few
hundred bins so that every curve has a bounded number of points however long the run."""

from __future__ import annotations

from typing import Iterable

import numpy as np

MAX_BINS = 160


class Timeline:
    """Iterations -> answers generated (m per completion committed), and the iteration bins."""

    def __init__(self, completions: Iterable[tuple[int, int]], m: int, max_bins: int = MAX_BINS):
        pairs = [(int(i), int(c)) for i, c in completions]
        self.n = max((i for i, _ in pairs), default=-1) + 1
        counts = np.zeros(self.n, dtype=np.int64)
        for i, c in pairs:
            counts[i] = c
        self.counts = counts  # completions committed per iteration
        self.cum = m * np.cumsum(counts)  # answers through iteration i (inclusive)
        nb = min(max_bins, self.n)
        self.edges = np.unique(np.linspace(0, self.n, nb + 1).round().astype(np.int64)) if nb else np.zeros(1, np.int64)
        self.bins = len(self.edges) - 1

    @property
    def total(self) -> int:
        return int(self.cum[-1]) if self.n else 0

    def bin_of(self, iterations: np.ndarray) -> np.ndarray:
        """Bin index of each iteration (iterations past the last recorded one go to the last bin)."""
        return np.clip(np.searchsorted(self.edges, iterations, side="right") - 1, 0, max(self.bins - 1, 0))

    def x(self) -> list[float]:
        """Answers generated at the end of each bin."""
        return [float(v) for v in self.cum[self.edges[1:] - 1]] if self.bins else []


def chunk_means(values: list[float], max_points: int) -> tuple[list[float], list[float]]:
    """(positions, means) of consecutive chunks: a long series reduced to max_points points."""
    n = len(values)
    if n == 0:
        return [], []
    parts = np.array_split(np.arange(n), min(n, max_points))
    arr = np.asarray(values, dtype=np.float64)
    return [float(p.mean()) for p in parts], [float(np.nanmean(arr[p])) if np.isfinite(arr[p]).any()
                                               else float("nan") for p in parts]
