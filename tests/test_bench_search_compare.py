"""benchmarks/search_compare.py: paired arm comparisons across per-seed result files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import search_compare


def _results(path: Path, seed: int, arms: dict[str, dict[str, tuple[float, int | None]]]) -> Path:
    data = {"arms": {arm: {"per_problem": {p: {str(seed): list(v)} for p, v in probs.items()}}
                     for arm, probs in arms.items()}}
    path.write_text(json.dumps(data))
    return path


def test_pairs_cells_across_seed_files(tmp_path):
    files = [
        _results(tmp_path / "s0.json", 0, {"a": {"p": (1.0, 3), "q": (0.5, None)},
                                           "b": {"p": (0.5, None), "q": (0.5, None)}}),
        _results(tmp_path / "s1.json", 1, {"a": {"p": (0.75, None), "q": (1.0, 9)},
                                           "b": {"p": (0.75, None), "q": (0.25, None)}}),
    ]
    r = search_compare.compare(search_compare.cells(files), "a", "b")
    assert r["solved"] == {"a": 2, "b": 0} and r["seeds"] == ["0", "1"] and r["problems"] == 2
    assert r["mean_best"]["a"] == pytest.approx(0.8125) and r["mean_best"]["b"] == pytest.approx(0.5)
    d = r["best_difference"]
    assert d["mean"] == pytest.approx(0.3125) and d["lo"] <= d["mean"] <= d["hi"]


def test_bad_inputs_name_what_is_wrong(tmp_path):
    f0 = _results(tmp_path / "s0.json", 0, {"a": {"p": (1.0, 1)}, "b": {"p": (0.5, None)}})
    with pytest.raises(SystemExit, match="is in two files"):
        search_compare.cells([f0, f0])
    with pytest.raises(SystemExit, match="no arm 'c'"):
        search_compare.compare(search_compare.cells([f0]), "a", "c")
    f1 = _results(tmp_path / "s1.json", 1, {"a": {"p": (1.0, 1)}})
    with pytest.raises(SystemExit, match="different"):
        search_compare.compare(search_compare.cells([f0, f1]), "a", "b")


def test_an_incomplete_grid_is_refused_naming_the_missing_cells(tmp_path):
    """Regression: a problem run in one seed only (mode in seeds 0 and 1, rle in seed 0) crashed
    the comparison with a KeyError; the crossed bootstrap needs every (problem, seed) pair."""
    f0 = _results(tmp_path / "s0.json", 0, {"a": {"p": (1.0, 1), "q": (0.5, None)},
                                            "b": {"p": (0.5, None), "q": (0.75, None)}})
    f1 = _results(tmp_path / "s1.json", 1, {"a": {"p": (0.5, None)}, "b": {"p": (1.0, 2)}})
    with pytest.raises(SystemExit, match="not a full problems x seeds grid; missing q seed 1"):
        search_compare.compare(search_compare.cells([f0, f1]), "a", "b")
    r = search_compare.compare(search_compare.cells([f0, f1], problems={"p"}), "a", "b")
    assert r["problems"] == 1 and r["seeds"] == ["0", "1"] and r["solved"] == {"a": 1, "b": 1}
