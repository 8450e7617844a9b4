"""OpenEvolve example directories -> program-mode problems with one evaluator test per metric."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from problems.errors import ProblemFormatError
from problems.loaders import load_path
from problems.loaders.openevolve import discover_metrics
from problems.model import EvaluatorTest

EXAMPLE = Path(__file__).parent / "fixtures" / "problems" / "openevolve" / "sum_of_squares"


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    dst = tmp_path / "sos"
    shutil.copytree(EXAMPLE, dst)
    return dst


def test_cascade_stages_metrics_and_fitness_weights():
    (p,) = load_path(EXAMPLE)
    assert p.id == "openevolve/sum_of_squares" and p.mode == "program" and p.scoring == "continuous"
    got = [(t.id, t.stage, t.weight) for t in p.tests]
    assert got == [
        ("evaluate_stage1:loads", 1, 1.0),
        ("evaluate_stage2:combined_score", 2, 1.0),  # combined_score carries the fitness
        ("evaluate_stage2:valid", 2, 0.0),  # other metrics: vector components only
        ("evaluate_stage2:closeness", 2, 0.0),
    ]
    assert p.stage_thresholds == [0.5]  # config lists two; only one boundary between two stages
    assert p.support_files == {"helpers.py": (EXAMPLE / "helpers.py").read_text()}
    assert p.evaluator_code == (EXAMPLE / "evaluator.py").read_text()
    assert p.time_limit_s == 20 and all(t.time_limit_s == 20 for t in p.tests)
    assert p.statement.startswith("Pick five integers")


def test_without_cascade_only_evaluate_runs(example: Path):
    cfg = example / "config.yaml"
    cfg.write_text(cfg.read_text().replace("cascade_evaluation: true", "cascade_evaluation: false"))
    (p,) = load_path(example)
    assert [t.id for t in p.tests] == ["evaluate:combined_score", "evaluate:valid", "evaluate:closeness"]
    assert p.stage_thresholds == []
    cfg.unlink()  # no config: cascade by default, statement from the program's docstring
    (p,) = load_path(example)
    assert p.stage_thresholds == [0.5] and p.statement.startswith("Choose 5 integers")


def test_discovery_ignores_strings_flags_and_error():
    tree = ast.parse((EXAMPLE / "evaluator.py").read_text())
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert discover_metrics(fns, "evaluate") == ["combined_score", "valid", "closeness"]
    assert discover_metrics(fns, "evaluate_stage2") == ["combined_score", "valid", "closeness"]


def test_metrics_file_sets_ranges_and_replaces_discovery(example: Path):
    (example / "metrics.yaml").write_text(
        "metrics:\n  loads: {function: evaluate_stage1}\n"
        "  sum_sq: {lower: 0, upper: 400, maximize: false, weight: 2}\n"
    )
    (p,) = load_path(example)
    assert [t.id for t in p.tests] == ["evaluate_stage1:loads", "evaluate_stage2:sum_sq"]
    t = p.tests[1]
    assert isinstance(t, EvaluatorTest) and t.weight == 2
    assert t.normalise(100) == pytest.approx(0.75) and t.normalise(1000) == 0.0
    assert t.normalise(float("nan")) == 0.0 and t.normalise(True) == 0.0 and t.normalise("1") == 0.0


def test_no_markers_wraps_whole_program(example: Path):
    prog = example / "initial_program.py"
    prog.write_text("def run():\n    return [0] * 5\n")
    (p,) = load_path(example)
    assert p.initial_program.startswith("# EVOLVE-BLOCK-START\ndef run():")


def test_errors_name_file_and_field(example: Path):
    (example / "metrics.yaml").write_text("metrics:\n  x: {lower: 1, upper: 0}\n")
    with pytest.raises(ProblemFormatError, match=r"metrics\.yaml: field metrics\.x: Value error, upper"):
        load_path(example)
    (example / "metrics.yaml").write_text("metrics:\n  x: {function: evaluate_stage9}\n")
    with pytest.raises(ProblemFormatError, match=r"metrics\.yaml: field metrics\.x\.function: not one of"):
        load_path(example)
    (example / "metrics.yaml").unlink()
    (example / "config.yaml").write_text("evaluator:\n  timeout: -1\n")
    with pytest.raises(ProblemFormatError, match=r"config\.yaml: field evaluator\.timeout: must be a positive"):
        load_path(example)
    (example / "config.yaml").unlink()
    (example / "evaluator.py").write_text("def evaluate(path):\n    return compute(path)\n")
    with pytest.raises(ProblemFormatError, match=r"evaluator\.py: no metric names found .* metrics\.yaml"):
        load_path(example)
    (example / "evaluator.py").write_text("def evaluate(path:\n")
    with pytest.raises(ProblemFormatError, match=r"evaluator\.py:1: does not parse"):
        load_path(example)


def test_evaluator_runs_in_the_sandbox():
    from sandbox.api import evaluate

    (p,) = load_path(EXAMPLE)
    weak = evaluate(p, p.initial_program, backend="process")
    assert weak.scores[0] == 1.0 and 0 < weak.scores[1] < 0.01 and weak.fitness < 0.6
    exact = p.initial_program.replace("return [1, 2, 3, 4, 5]", "return [10, 10, 0, 0, 0]")
    best = evaluate(p, exact, backend="process")
    assert best.scores == [1.0, 1.0, 1.0, 1.0] and best.fitness == 1.0


CIRCLES = Path(__file__).parent / "fixtures" / "problems" / "openevolve_circle_packing"


def test_config_yaml_maps_onto_the_run_config_and_lists_what_it_ignores():
    (p,) = load_path(CIRCLES)
    assert p.run_defaults == {
        "loop.iterations": 30, "loop.seed": 42, "mutation.format": "rewrite",
        "mutation.sampling.temperature": 0.7, "mutation.sampling.top_p": 0.95,
        "mutation.sampling.max_tokens": 2048, "islands.count": 3, "islands.migration_interval": 20,
        "islands.migration_fraction": 0.1,
    }
    assert p.source["ignored_config"] == [
        "checkpoint_interval", "database.population_size", "evaluator.parallel_evaluations",
        "llm.api_base", "llm.models", "log_level", "prompt.num_top_programs",
    ]
    assert p.stage_thresholds == [0.5] and p.time_limit_s == 30
    # what the sandbox must provide comes from the imports (requirements.txt lists host tools)
    assert p.requirements == ["numpy"]
    assert "openevolve/evaluation_result.py" in p.support_files and "requirements.txt" not in p.support_files


def test_config_yaml_type_errors_name_the_key(example: Path):
    (example / "config.yaml").write_text("llm:\n  temperature: hot\n")
    with pytest.raises(ProblemFormatError, match=r"config\.yaml: field llm\.temperature: must be a number"):
        load_path(example)


@pytest.mark.parametrize("backend", ["process", "docker"])
def test_openevolve_numpy_example_with_cascade_runs_unchanged(backend: str):
    from tests.sandbox_support import open_sandbox

    (p,) = load_path(CIRCLES)
    broken = p.initial_program.replace("centers[25] = [0.2, 0.2]", "centers = centers[:20]")
    with open_sandbox(backend) as box:
        weak = box.evaluate(p, p.initial_program)
        failed = box.evaluate(p, broken)
    scores = dict(zip(p.test_ids(), weak.scores))
    assert weak.error == "" and weak.stages_run == [1, 2]
    assert scores["evaluate_stage1:runs_successfully"] == 1.0 and scores["evaluate_stage2:validity"] == 1.0
    assert scores["evaluate_stage2:combined_score"] == pytest.approx(1.91695611 / 2.635, abs=1e-6)
    # sum_radii (~1.92) has no declared scale: clipped to 1, and the message says so
    clipped = next(o for o in weak.outcomes if o.test_id == "evaluate_stage2:sum_radii")
    assert clipped.score == 1.0 and "outside its scale [0, 1]" in clipped.message
    # stage 1 fails (20 circles): stage 2 never runs
    assert failed.stages_run == [1] and failed.scores[0] == 0.0
    assert all(o.status == "skipped" for o in failed.outcomes if o.stage == 2)


def test_declared_scale_normalises_sum_radii(tmp_path: Path):
    dst = tmp_path / "circles"
    shutil.copytree(CIRCLES, dst)
    (dst / "metrics.yaml").write_text(
        "metrics:\n  combined_score: {}\n  sum_radii: {lower: 0, upper: 2.635983, weight: 0}\n")
    (p,) = load_path(dst)
    test = next(t for t in p.tests if t.metric == "sum_radii")
    assert test.normalise(2.635983 / 2) == pytest.approx(0.5)


def test_seed_applies_config_yaml_where_the_run_config_is_silent(tmp_path: Path):
    from evolve.runs import seed

    config = tmp_path / "c.yaml"
    config.write_text("loop: {iterations: 5}\nsandbox: {backend: process, slots: 1}\n")
    from evolve.config import load_config
    from evolve.runs import CONFIG_FILE

    seed(str(CIRCLES), tmp_path / "run", config)
    cfg = load_config(tmp_path / "run" / CONFIG_FILE)  # the expanded config the run stored
    assert cfg.loop.iterations == 5  # the run's own config wins
    assert cfg.islands.count == 3 and cfg.mutation.sampling.temperature == 0.7 and cfg.loop.seed == 42


def test_show_lists_the_mapped_and_the_ignored_settings():
    from click.testing import CliRunner

    from evolve.cli import main

    out = CliRunner().invoke(main, ["problems", "show", str(CIRCLES)], catch_exceptions=False).output
    assert "requires: numpy\n" in out
    assert "run defaults: loop.iterations=30, loop.seed=42, mutation.format=rewrite" in out
    assert "ignored config: checkpoint_interval, database.population_size" in out
