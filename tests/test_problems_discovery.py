"""The `discovery` suite: the field's problems with their published records, references that
score as documented, weak baselines below them, and evaluators that recompute validity from the
candidate's output instead of believing it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from evolve.cli import main
from problems.loaders import load_problem, load_suite
from tests.sandbox_support import open_sandbox

# fitness of each reference and initial program (README, "Discovery problems"); both are
# deterministic up to floating-point summation order on another CPU (hence 2e-4)
DOCUMENTED = {
    "discovery/circle_packing_26": (0.997967, 0.371688),
    "discovery/circle_packing_32": (0.995323, 0.353782),
    "discovery/autocorrelation_first": (0.992832, 0.7515),
    "discovery/autocorrelation_third": (0.988835, 0.72785),
    "discovery/online_bin_packing": (0.957603, 0.949196),
    "discovery/tsp_construction": (0.928808, 0.824652),
}


def test_suite_holds_the_field_problems_with_records_and_requirements():
    problems = {p.id: p for p in load_suite("discovery")}
    assert set(problems) == set(DOCUMENTED)
    for p in problems.values():
        assert p.record is not None and p.record.source and p.record.metric, p.id
        assert p.reference_solution and "numpy" in p.requirements, p.id
        assert p.scoring == "continuous" and all(t.kind == "scorer" for t in p.tests), p.id
        for t in p.tests:  # the scorer's record is the problem's record
            if "record" in t.instance:
                assert t.instance["record"] == p.record.value, p.id
    assert problems["discovery/circle_packing_26"].record.value == 2.635983


def test_show_prints_the_record_and_its_source():
    out = CliRunner().invoke(main, ["problems", "show", "discovery/autocorrelation_third"], catch_exceptions=False)
    assert out.exit_code == 0
    assert "## record\nminimize C3" in out.output and "1.4557" in out.output and "AlphaEvolve" in out.output
    assert "requires: numpy, scipy" in out.output
    listed = CliRunner().invoke(main, ["problems", "list", "--suite", "discovery", "--json"])
    assert len(json.loads(listed.output)) == len(DOCUMENTED)


def test_references_score_as_documented_and_baselines_below():
    problems = load_suite("discovery")
    with open_sandbox("process", slots=2) as box:
        runs = [(p, box.submit(p, p.reference_solution), box.submit(p, p.initial_program)) for p in problems]
        for p, ref, init in runs:
            ref, init = ref.result(), init.result()
            want_ref, want_init = DOCUMENTED[p.id]
            assert not ref.error and not init.error, (p.id, ref.error, init.error)
            assert ref.fitness == pytest.approx(want_ref, abs=2e-4), (p.id, ref.fitness, ref.outcomes)
            assert init.fitness == pytest.approx(want_init, abs=2e-4), (p.id, init.fitness)
            assert init.fitness < ref.fitness < 1.0


def test_the_docker_backend_scores_a_reference_the_same():
    p = load_problem("discovery/circle_packing_26")
    with open_sandbox("docker") as box:
        result = box.evaluate(p, p.reference_solution)
    assert result.fitness == pytest.approx(DOCUMENTED[p.id][0], abs=2e-4), result.outcomes


FORGED = {
    # the candidate claims validity or a score; the evaluator only looks at the geometry
    "discovery/circle_packing_26": [
        ("import numpy as np\n# EVOLVE-BLOCK-START\ndef construct_packing(n):\n"
         "    return np.full((n, 2), 0.5), np.full(n, 0.5)\n# EVOLVE-BLOCK-END\n"
         "def pack_circles(instance):\n    c, r = construct_packing(instance['n'])\n    return c, r\n",
         "circles 0 and 1 overlap"),
        ("def pack_circles(instance):\n    return {'sum_radii': 4.01, 'validity': 1.0}\n", "return (centers, radii)"),
        ("def pack_circles(instance):\n    return [[[0.1, 0.1]] * 26, [0.1000001] * 26]\n", "leaves the unit square"),
        ("def pack_circles(instance):\n    return [[[0.5, 0.5]] * 25, [0.01] * 25]\n", "need exactly 26 circles"),
    ],
    "discovery/autocorrelation_first": [
        ("def heights(instance):\n    return [1.0, -0.5, 1.0]\n", "needs f >= 0"),
        ("def heights(instance):\n    return [1.0] * 1001\n", "between 1 and 1000"),
        ("def heights(instance):\n    return [float('nan'), 1.0]\n", "finite"),
    ],
    "discovery/online_bin_packing": [
        ("def pack(instance):\n    return [0] * len(instance['items'])\n", "overfills bin 0"),
        ("def pack(instance):\n    return list(range(len(instance['items']) - 1))\n", "one bin index per item"),
    ],
    "discovery/tsp_construction": [
        ("def tour(instance):\n    return [0] * len(instance['points'])\n", "exactly once"),
    ],
}


@pytest.mark.parametrize("problem_id", sorted(FORGED))
def test_forged_results_score_zero_with_the_reason(problem_id: str):
    p = load_problem(problem_id)
    with open_sandbox("process") as box:
        for program, reason in FORGED[problem_id]:
            result = box.evaluate(p, program)
            assert result.fitness == 0.0, (program, result.outcomes)
            assert any(reason in o.message for o in result.outcomes), (reason, result.outcomes[0].message)


def test_check_accepts_references_that_beat_the_baseline_short_of_the_record():
    out = CliRunner().invoke(main, ["problems", "check", "discovery/tsp_construction", "--json"])
    report = json.loads(out.output)
    assert out.exit_code == 0 and report["ok"] and report["reference_fitness"] < 1.0
