"""MAP-Elites core: descriptor dimensions (a registry), stable binning, and one island's grid.

Pure data structures, no I/O (the database only persists what these decide), FunSearch style.

Binning is stable by construction.  A declared `range` is fixed (values outside are clamped).
Without one, a dimension starts from its natural range for the problem and grows by doubling
its width towards the new value; doubling keeps every new bin an exact union of old bins, so
re-binning the stored elites from their raw values gives the same grid as if the final range had
been used from the start (ties resolved by arrival order, the incumbent wins).  Bins never drift
and values never pile up in an edge bin.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Iterator, Literal, Sequence, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.results import PASS_SCORE  # noqa: E402  (re-exported for the search)
"""A test counts as passed when its score is (numerically) 1."""


@dataclass(frozen=True)
class TestLayout:
    """What dimensions need to know about the problem's tests (order = score vector order)."""

    __test__ = False  # not a pytest class

    ids: tuple[str, ...]
    stages: tuple[int, ...]

    def stage_mask(self, stage: int | None) -> np.ndarray:
        st = np.asarray(self.stages)
        return np.ones(len(st), bool) if stage is None else st == stage


class _Dim(BaseModel):
    """A descriptor dimension: a raw value per program plus how to bin it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    categorical: ClassVar[bool] = False

    bins: int = Field(default=10, ge=1, le=10_000)
    range: tuple[float, float] | None = Field(
        default=None,
        description="declared [lo, hi]: fixed, values clamped; null: adaptive, grows by doubling",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "_Dim":
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must satisfy lo < hi, got {list(self.range)}")
        return self

    def value(self, code: str, scores: np.ndarray, fitness: float, layout: TestLayout) -> float:
        raise NotImplementedError

    def natural_range(self, layout: TestLayout, seed_code: str) -> tuple[float, float]:
        return (0.0, 1.0)


class CodeLength(_Dim):
    """Characters of code (OpenEvolve's default first axis)."""

    kind: Literal["code_length"] = "code_length"

    def value(self, code, scores, fitness, layout):
        return float(len(code))

    def natural_range(self, layout, seed_code):
        return (0.0, float(max(64, 2 * len(seed_code))))


class TestsPassed(_Dim):
    """Sum of test scores in one stage (all stages if `stage` is null): tests passed for
    pass/fail problems, partial credit for continuous ones."""

    __test__ = False  # not a pytest class
    kind: Literal["tests_passed"] = "tests_passed"
    stage: int | None = Field(default=None, ge=1)

    def value(self, code, scores, fitness, layout):
        return float(np.sum(scores[layout.stage_mask(self.stage)]))

    def natural_range(self, layout, seed_code):
        return (0.0, float(max(1, int(layout.stage_mask(self.stage).sum()))))


class PassSignature(_Dim):
    """FunSearch-style behaviour cluster: a hash of the (rounded) score vector, binned mod `bins`."""

    kind: Literal["pass_signature"] = "pass_signature"
    categorical: ClassVar[bool] = True
    decimals: int = Field(default=2, ge=0, le=6, description="rounding before hashing")

    def value(self, code, scores, fitness, layout):
        sig = ",".join(f"{s:.{self.decimals}f}" for s in scores)
        # 48 bits: exact in a float64 and in JSON
        return float(int.from_bytes(hashlib.blake2b(sig.encode(), digest_size=6).digest(), "big"))


class Metric(_Dim):
    """Any evaluator metric: `fitness`, `passed` (count), or a test id (that test's score)."""

    kind: Literal["metric"] = "metric"
    name: str = Field(min_length=1)

    def value(self, code, scores, fitness, layout):
        if self.name == "fitness":
            return float(fitness)
        if self.name == "passed":
            return float(np.sum(scores >= PASS_SCORE))
        return float(scores[layout.ids.index(self.name)])

    def natural_range(self, layout, seed_code):
        return (0.0, float(len(layout.ids))) if self.name == "passed" else (0.0, 1.0)


DIMENSIONS: dict[str, type[_Dim]] = {
    c.model_fields["kind"].default: c for c in (CodeLength, TestsPassed, PassSignature, Metric)
}
DimensionSpec = Annotated[
    Union[CodeLength, TestsPassed, PassSignature, Metric], Field(discriminator="kind")
]


@dataclass
class Binner:
    """Maps a raw value to a bin index; adaptive binners grow by exact width doubling."""

    bins: int
    lo: float
    hi: float
    mode: Literal["fixed", "adaptive", "categorical"]

    def key(self, v: float) -> int:
        if self.mode == "categorical":
            return int(v) % self.bins
        if v >= self.hi:
            return self.bins - 1
        return max(0, min(self.bins - 1, math.floor((v - self.lo) * self.bins / (self.hi - self.lo))))

    def grow(self, v: float) -> bool:
        """Widen (adaptive only) until `v` is covered; True if the bins changed."""
        if self.mode != "adaptive" or not math.isfinite(v):
            return False
        grew = False
        while v > self.hi:
            self.hi = self.lo + 2 * (self.hi - self.lo)
            grew = True
        while v < self.lo:
            self.lo = self.hi - 2 * (self.hi - self.lo)
            grew = True
        return grew

    def state(self) -> list:
        return [self.bins, self.lo, self.hi, self.mode]


class Descriptor:
    """The configured dimensions for one problem: raw values and their (shared) binners."""

    def __init__(self, dims: Sequence[_Dim], layout: TestLayout, seed_code: str):
        self.dims = list(dims)
        self.layout = layout
        known = {"fitness", "passed", *layout.ids}
        for d in self.dims:
            if isinstance(d, Metric) and d.name not in known:
                raise ValueError(f"metric dimension {d.name!r}: not fitness, passed or a test id")
            if isinstance(d, TestsPassed) and d.stage is not None and d.stage not in layout.stages:
                raise ValueError(f"tests_passed dimension: the problem has no stage {d.stage}")
        self.binners = []
        for d in self.dims:
            if d.categorical:
                self.binners.append(Binner(d.bins, 0.0, 1.0, "categorical"))
            elif d.range is not None:
                self.binners.append(Binner(d.bins, *d.range, "fixed"))
            else:
                self.binners.append(Binner(d.bins, *d.natural_range(layout, seed_code), "adaptive"))

    def values(self, code: str, scores: Sequence[float], fitness: float) -> tuple[float, ...]:
        arr = np.asarray(scores, dtype=np.float64)
        return tuple(d.value(code, arr, fitness, self.layout) for d in self.dims)

    def key(self, raw: Sequence[float]) -> tuple[int, ...]:
        return tuple(b.key(v) for b, v in zip(self.binners, raw))

    def grow(self, raw: Sequence[float]) -> bool:
        grew = False
        for b, v in zip(self.binners, raw):
            grew |= b.grow(v)
        return grew

    def state(self) -> list[list]:
        return [b.state() for b in self.binners]

    def restore(self, state: list[list]) -> None:
        if len(state) != len(self.binners):
            raise ValueError("stored binning does not match the configured dimensions")
        for b, (bins, lo, hi, mode) in zip(self.binners, state):
            b.bins, b.lo, b.hi, b.mode = int(bins), float(lo), float(hi), mode


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the grid and selection know about an evaluated program."""

    seq: int
    fitness: float
    scores: tuple[float, ...]
    descriptor: tuple[float, ...]
    code_hash: str


def wins(new: Candidate, new_arrival: int, old: Candidate, old_arrival: int) -> bool:
    """Strictly fitter wins; on a tie the earlier arrival (the incumbent) stays."""
    return new.fitness > old.fitness or (new.fitness == old.fitness and new_arrival < old_arrival)


@dataclass
class PoolView:
    """An island's elites in canonical (seq) order: what selection strategies read."""

    seq: np.ndarray
    fitness: np.ndarray
    scores: np.ndarray
    keys: list[tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.seq)

    def without(self, seqs: set[int]) -> "PoolView":
        """The elites other than `seqs`, in the same order."""
        if not seqs:
            return self
        keep = ~np.isin(self.seq, np.fromiter(seqs, dtype=np.int64, count=len(seqs)))
        return PoolView(self.seq[keep], self.fitness[keep], self.scores[keep],
                        [k for k, on in zip(self.keys, keep) if on])


@dataclass
class Grid:
    """One island's elites: cell key -> (candidate, arrival stamp)."""

    n_tests: int
    cells: dict[tuple[int, ...], tuple[Candidate, int]] = field(default_factory=dict)
    _view: PoolView | None = None

    def offer(self, key: tuple[int, ...], cand: Candidate, arrival: int) -> tuple[bool, Candidate | None]:
        """Place `cand` if its cell is empty or it is strictly fitter; returns (placed, displaced)."""
        cur = self.cells.get(key)
        if cur is not None and not wins(cand, arrival, *cur):
            return False, None
        self.cells[key] = (cand, arrival)
        self._view = None
        return True, cur[0] if cur else None

    def rekey(self, descriptor: Descriptor) -> None:
        """Re-bin every elite from its raw descriptor after the ranges changed."""
        old = sorted(self.cells.values(), key=lambda ca: ca[1])
        self.cells = {}
        for cand, arrival in old:
            self.offer(descriptor.key(cand.descriptor), cand, arrival)
        self._view = None

    def clear(self) -> None:
        self.cells = {}
        self._view = None

    def __len__(self) -> int:
        return len(self.cells)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], Candidate, int]]:
        for k, (c, a) in self.cells.items():
            yield k, c, a

    def best(self) -> Candidate | None:
        """Fittest elite; ties go to the lowest seq (deterministic)."""
        best = None
        for c, _ in self.cells.values():
            if best is None or (c.fitness, -c.seq) > (best.fitness, -best.seq):
                best = c
        return best

    def view(self) -> PoolView:
        """Elites in seq order (cached until the grid changes), independent of insertion history
        so a resumed run selects exactly like an uninterrupted one."""
        if self._view is None:
            items = sorted(((c, k) for k, (c, _) in self.cells.items()), key=lambda ck: ck[0].seq)
            n = len(items)
            scores = np.zeros((n, self.n_tests), dtype=np.float64)
            for i, (c, _) in enumerate(items):
                scores[i] = c.scores
            self._view = PoolView(
                seq=np.fromiter((c.seq for c, _ in items), dtype=np.int64, count=n),
                fitness=np.fromiter((c.fitness for c, _ in items), dtype=np.float64, count=n),
                scores=scores,
                keys=[k for _, k in items],
            )
        return self._view
