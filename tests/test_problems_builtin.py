"""The bundled suite: its shape, its scorers, and its references/baselines in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from problems.loaders import BUILTIN_DIR, load_problem, load_suite
from problems.model import EVOLVE_END, EVOLVE_START, ScorerTest

MAX_FILE_BYTES = 300 * 1024


@pytest.fixture(scope="module")
def suite():
    return load_suite("builtin")


def test_suite_shape(suite):
    kinds = [p.source["kind"] for p in suite]
    assert len(suite) >= 24 and kinds.count("algorithmic") >= 12 and kinds.count("discovery") >= 8
    for p in suite:
        assert p.id.startswith("builtin/") and (BUILTIN_DIR / p.id.split("/", 1)[1] / "problem.yaml").is_file()
        assert len(p.tests) >= 8, p.id
        assert any(t.hidden for t in p.tests) and any(not t.hidden for t in p.tests), p.id
        assert p.initial_program.count(EVOLVE_START) == 1 and p.initial_program.count(EVOLVE_END) == 1
        assert p.reference_solution and p.reference_solution not in (p.statement, p.initial_program)
        compile(p.initial_program, p.id, "exec")
        compile(p.reference_solution, p.id, "exec")
        if p.source["kind"] == "discovery":
            assert p.scoring == "continuous" and all(isinstance(t, ScorerTest) for t in p.tests)
            assert all("best_known" in t.instance for t in p.tests)
        else:
            assert p.scoring == "pass_fail" and p.mode in ("stdio", "function")


def test_checked_in_files_stay_small():
    sizes = {f: f.stat().st_size for f in BUILTIN_DIR.rglob("*") if f.is_file() and "__pycache__" not in f.parts}
    too_big = {str(f.relative_to(BUILTIN_DIR)): s for f, s in sizes.items() if s > MAX_FILE_BYTES}
    assert not too_big


def test_exact_answers_have_no_float_tolerance(suite):
    for p in suite:
        for t in p.tests:
            if t.kind == "call" and isinstance(t.expected, int):
                assert t.rel_tol == 0 and t.abs_tol == 0, (p.id, t.id)


def _scorer(p):
    ns: dict = {}
    exec(p.scorer_code, ns)  # trusted: our own scorer
    return ns["score"]


@pytest.mark.parametrize("garbage", [None, "x", [], [True], {"a": 1}, [[-1, -1]], [0.5]])
def test_scorers_reject_malformed_outputs_saying_why(suite, garbage):
    """A malformed output raises ValueError with the reason (the judge scores it 0 and the prompt
    shows "invalid output: ValueError: ..."); a bare 0.0 gave the mutator only "score 0.0000".
    The one valid garbage: an empty knapsack selection, worth 0."""
    for p in suite:
        if p.scoring != "continuous":
            continue
        try:
            value = _scorer(p)(p.tests[0].instance, garbage)
        except ValueError as e:
            assert len(str(e)) > 20, (p.id, str(e))
        else:
            assert (p.id, garbage, value) == ("builtin/knapsack_2d", [], 0.0), p.id


def test_an_invalid_tour_tells_the_search_why_it_scored_zero():
    """Seen with the 1.5B on builtin/tsp: children returning the shuffled points instead of their
    indices got "score 0.0000" on every test, nothing a refinement could act on."""
    from sandbox.api import evaluate

    p = load_problem("builtin/tsp")
    program = p.initial_program.replace('return list(range(len(instance["points"])))', 'return instance["points"]')
    assert program != p.initial_program
    res = evaluate(p, program, backend="process")
    shown = [o for o in res.outcomes if not next(t for t in p.tests if t.id == o.test_id).hidden]
    assert shown and all(o.status == "failed" and o.score == 0.0 for o in res.outcomes)
    assert all(o.message.startswith("invalid output: ValueError: the tour must hold each index") for o in shown), shown[0]


def test_initial_baselines_score_below_best_known_in_process(suite):
    """Our own trusted baselines: valid (score > 0 somewhere) and below 1.0 on average."""
    for p in suite:
        if p.scoring != "continuous":
            continue
        ns: dict = {}
        exec(p.initial_program, ns)
        score = _scorer(p)
        scores = [score(t.instance, ns[p.entry_point](json.loads(json.dumps(t.instance)))) for t in p.tests]
        assert all(0.0 <= s <= 1.0 for s in scores) and max(scores) > 0, p.id
        assert sum(scores) / len(scores) < 0.95, p.id


@pytest.mark.parametrize("problem_id", ["builtin/lis_count", "builtin/makespan"])
def test_reference_passes_and_baseline_does_not_in_sandbox(problem_id):
    from evolve.cli.problems import check_report
    from sandbox.api import evaluate

    p = load_problem(problem_id)
    ref = evaluate(p, p.reference_solution, backend="process")
    init = evaluate(p, p.initial_program, backend="process")
    report = check_report(p, ref, init)
    assert report["ok"], report
    assert report["reference_vector"] == [1.0] * len(p.tests) and report["initial_fitness"] < 1.0


@pytest.mark.slow
def test_whole_suite_check_in_sandbox(suite):
    from evolve.cli.problems import check_report
    from sandbox.api import Sandbox
    from sandbox.config import SandboxConfig

    with Sandbox(SandboxConfig(backend="process", slots=2)) as box:
        futures = [(p, box.submit(p, p.reference_solution), box.submit(p, p.initial_program)) for p in suite]
        reports = [check_report(p, r.result(), i.result()) for p, r, i in futures]
    assert [r["id"] for r in reports if not r["ok"]] == []
