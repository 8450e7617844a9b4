"""MAP-Elites core: dimensions, stable binning (declared and adaptive), replacement rule."""

from __future__ import annotations

import numpy as np
import pytest

from evolve.islands import Archive
from evolve.map_elites import (
    Binner, Candidate, CodeLength, Descriptor, Grid, Metric, PassSignature, TestLayout, TestsPassed,
)

LAYOUT = TestLayout(("a", "b", "c", "d"), (1, 1, 2, 2))


def cand(seq, fitness, desc=(0.0,), scores=(0.0, 0.0, 0.0, 0.0), h=None) -> Candidate:
    return Candidate(seq, fitness, tuple(scores), tuple(desc), h or f"h{seq}")


def test_dimension_values():
    scores = np.array([1.0, 0.0, 1.0, 0.5])
    assert CodeLength().value("abcd", scores, 0.6, LAYOUT) == 4
    assert TestsPassed().value("", scores, 0.6, LAYOUT) == 2.5
    assert TestsPassed(stage=1).value("", scores, 0.6, LAYOUT) == 1.0
    assert TestsPassed(stage=2).natural_range(LAYOUT, "") == (0.0, 2.0)
    assert Metric(name="passed").value("", scores, 0.6, LAYOUT) == 2
    assert Metric(name="fitness").value("", scores, 0.6, LAYOUT) == 0.6
    assert Metric(name="d").value("", scores, 0.6, LAYOUT) == 0.5
    sig = PassSignature()
    same = sig.value("", np.array([1.0, 0.0, 1.0, 0.501]), 0, LAYOUT)
    assert sig.value("x", scores, 0, LAYOUT) == same  # rounding to 2 decimals
    assert sig.value("", np.array([0.0, 1.0, 1.0, 0.5]), 0, LAYOUT) != same
    assert float(int(same)) == same < 2**48


def test_unknown_metric_or_stage_rejected():
    with pytest.raises(ValueError, match="metric dimension 'zz'"):
        Descriptor([Metric(name="zz")], LAYOUT, "")
    with pytest.raises(ValueError, match="no stage 3"):
        Descriptor([TestsPassed(stage=3)], LAYOUT, "")


def test_declared_range_clamps_and_never_moves():
    b = Binner(4, 0.0, 100.0, "fixed")
    assert [b.key(v) for v in (-5, 0, 24.9, 25, 99.9, 100, 1e9)] == [0, 0, 0, 1, 3, 3, 3]
    assert not b.grow(1e9) and (b.lo, b.hi) == (0.0, 100.0)


def test_adaptive_growth_doubles_and_nests():
    b = Binner(4, 0.0, 8.0, "adaptive")
    assert b.grow(20.0) and (b.lo, b.hi) == (0.0, 32.0)
    assert b.grow(-1.0) and (b.lo, b.hi) == (-32.0, 32.0)
    assert not b.grow(5.0)
    # every old bin [lo + i w, lo + (i+1) w) lies inside exactly one new bin
    old = Binner(4, 0.0, 8.0, "adaptive")
    for v in np.linspace(0, 7.99, 200):
        assert b.key(v) == b.key(old.lo + (old.key(v) + 0.5) * 2.0)


def test_categorical_is_hash_mod_bins():
    b = Binner(16, 0.0, 1.0, "categorical")
    assert b.key(35.0) == 3 and not b.grow(1e12)


def test_strictly_fitter_replaces_ties_keep_incumbent():
    g = Grid(4)
    assert g.offer((0,), cand(1, 0.5), 0) == (True, None)
    assert g.offer((0,), cand(2, 0.5), 1) == (False, None)  # tie: incumbent stays
    assert g.offer((0,), cand(3, 0.4), 2) == (False, None)
    placed, displaced = g.offer((0,), cand(4, 0.6), 3)
    assert placed and displaced.seq == 1 and g.cells[(0,)][0].seq == 4


def _grid_of(archive: Archive) -> dict:
    return {k: (c.seq, a) for k, c, a in archive.grids[0]}


def test_adaptive_rebinning_equals_final_binning_from_scratch():
    """Values arriving in random order with a growing range give the same grid as inserting
    them all with the final range from the start: no drift, no order dependence."""
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 5000, 300)
    fitness = rng.integers(0, 5, 300) / 4  # many ties
    dims = [CodeLength(bins=10), TestsPassed(bins=5)]
    grown = Archive(Descriptor(dims, LAYOUT, "x" * 10), 1, 4)
    cands = []
    for i, (v, f) in enumerate(zip(values, fitness)):
        c = cand(i, float(f), (float(v), float(i % 5) / 2))
        cands.append(c)
        grown.offer(0, c)
    assert grown.descriptor.binners[0].hi >= values.max()
    fixed = Archive(Descriptor(dims, LAYOUT, "x"), 1, 4)
    fixed.descriptor.restore(grown.descriptor.state())
    for c in cands:
        fixed.offer(0, c)
    assert _grid_of(grown) == _grid_of(fixed)
    # the elites spread over the grown range rather than piling into the last bin
    keys = [k[0] for k in _grid_of(grown)]
    assert len(set(keys)) >= 7 and keys.count(9) <= len(keys) / 4


def test_rebin_rekeys_every_island():
    dims = [CodeLength(bins=4)]
    a = Archive(Descriptor(dims, LAYOUT, "x" * 40), 2, 4)  # natural range [0, 80]
    a.offer(0, cand(0, 0.1, (70.0,)))
    a.offer(1, cand(1, 0.1, (30.0,)))
    assert set(a.grids[0].cells) == {(3,)} and set(a.grids[1].cells) == {(1,)}
    pl = a.offer(1, cand(2, 0.2, (150.0,)))  # grows to [0, 160]
    assert pl.rebinned and set(a.grids[0].cells) == {(1,)} and set(a.grids[1].cells) == {(0,), (3,)}


def test_view_is_in_seq_order_whatever_the_insertion_order():
    g1, g2 = Grid(2), Grid(2)
    items = [((i,), cand(s, s / 10, scores=(s, 0))) for i, s in enumerate([5, 2, 9, 1])]
    for k, c in items:
        g1.offer(k, c, c.seq)
    for k, c in reversed(items):
        g2.offer(k, c, c.seq)
    v1, v2 = g1.view(), g2.view()
    assert list(v1.seq) == [1, 2, 5, 9] == list(v2.seq)
    assert np.array_equal(v1.scores, v2.scores) and v1.keys == v2.keys
