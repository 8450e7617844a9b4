"""The sandbox's package site: numpy and scipy on both backends, declared requirements honoured
or refused in one line, the site's pins and the jail's read-only mount."""

from __future__ import annotations

import pytest

from problems.model import Problem
from sandbox import jails
from sandbox.config import SandboxConfig
from sandbox.requirements import (
    JAIL_SITE_DIR,
    SCIENTIFIC_STACK,
    RequirementError,
    find_site,
    missing,
    parse_pins,
)
from tests.sandbox_support import BACKENDS, open_sandbox

NUMPY_PROGRAM = '''
import os
import numpy as np
from scipy.optimize import linprog

# EVOLVE-BLOCK-START
def solve(values):
    """Sum with numpy, minimise x >= lower bound with scipy; returns numpy objects."""
    x = linprog([1.0], bounds=[(values[0], None)]).x
    return np.array([np.sum(values), x[0], float(os.environ.get("OPENBLAS_NUM_THREADS", "0"))]), np.float64(2.5)
# EVOLVE-BLOCK-END
'''


def numpy_problem(requirements: list[str] | None = None) -> Problem:
    return Problem(
        id="test/numpy",
        entry_point="solve",
        initial_program="# EVOLVE-BLOCK-START\ndef solve(values):\n    return None\n# EVOLVE-BLOCK-END\n",
        tests=[{"kind": "call", "id": "t1", "args": [[1.0, 2.0, 4.0]], "expected": [[7.0, 1.0, 1.0], 2.5]},
               {"kind": "call", "id": "t2", "args": [[3.0]], "expected": [[3.0, 3.0, 1.0], 2.5]}],
        requirements=["numpy", "scipy"] if requirements is None else requirements,
        time_limit_s=20,
        wall_limit_s=60,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_numpy_and_scipy_programs_evaluate(backend: str):
    with open_sandbox(backend) as box:
        assert box.provides == parse_pins(SCIENTIFIC_STACK)
        result = box.evaluate(numpy_problem(), NUMPY_PROGRAM)
    # numpy arrays and scalars come back as plain values; numerical libraries run one thread
    assert result.error == "" and [o.status for o in result.outcomes] == ["passed", "passed"], result.outcomes


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_requirement_the_sandbox_lacks_is_refused_in_one_line(backend: str):
    with open_sandbox(backend) as box:
        with pytest.raises(RequirementError) as err:
            box.evaluate(numpy_problem(["numpy", "sympy"]), NUMPY_PROGRAM)
        with pytest.raises(RequirementError, match=r"requires numpy==1\.0"):
            box.evaluate(numpy_problem(["numpy==1.0"]), NUMPY_PROGRAM)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("problem test/numpy requires sympy, which the")
    assert "numpy==2.4.6, scipy==1.17.1" in message and "sandbox.requirements" in message
    assert ("build-image" if backend == "docker" else "build-site") in message


def test_requirement_matching_and_pins():
    provided = {"numpy": "2.4.6", "scipy": "1.17.1"}
    assert missing(["NumPy", "scipy==1.17.1"], provided) == []
    assert missing(["numpy==2.0", "sympy", "bad spec!"], provided) == ["numpy==2.0", "sympy", "bad spec!"]
    with pytest.raises(ValueError, match="must be pinned as name==version"):
        SandboxConfig(requirements=["numpy"])
    with pytest.raises(ValueError, match="pattern"):
        numpy_problem(["numpy>=2"])


def test_unbuilt_site_provides_nothing():
    site, provided = find_site(["numpy==0.0.0"], jails.default_python())
    assert site is None and provided == {}


def test_bwrap_mounts_the_site_read_only_and_points_the_worker_at_it(tmp_path):
    cmd = jails.BwrapJail("/usr/bin/python3", 61000, str(tmp_path)).wrap(["--memory-mb", "64"])
    i = cmd.index(str(tmp_path))
    assert cmd[i - 1] == "--ro-bind" and cmd[i + 1] == JAIL_SITE_DIR == jails.JAIL_SITE_DIR
    assert cmd[cmd.index("--path") + 1] == JAIL_SITE_DIR
    plain = jails.NoJail("/usr/bin/python3", None, str(tmp_path)).wrap([])
    assert plain[plain.index("--path") + 1] == str(tmp_path)
    assert "--path" not in jails.NoJail("/usr/bin/python3", None).wrap([])


@pytest.mark.parametrize("backend", BACKENDS)
def test_candidates_cannot_write_to_the_site(backend: str):
    program = '''
import os, numpy
# EVOLVE-BLOCK-START
def solve(values):
    target = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "planted.py")
    try:
        with open(target, "w") as f:
            f.write("x = 1")
        return "written"
    except OSError:
        return "refused"
# EVOLVE-BLOCK-END
'''
    problem = numpy_problem().model_copy(update={"tests": [
        numpy_problem().tests[0].model_copy(update={"expected": "refused"})]})
    with open_sandbox(backend) as box:
        result = box.evaluate(problem, program)
    assert result.outcomes[0].status == "passed", result.outcomes


def test_build_site_reads_a_run_configs_pins(tmp_path):
    from click.testing import CliRunner

    from sandbox.cli import sandbox_group

    bad = tmp_path / "run.yaml"
    bad.write_text("sandbox:\n  requirements: [numpy]\n")
    out = CliRunner().invoke(sandbox_group, ["build-site", "--config", str(bad)])
    assert out.exit_code == 1 and "sandbox.requirements" in out.output and "must be pinned" in out.output
    assert len(out.output.strip().splitlines()) == 1
    good = tmp_path / "good.yaml"
    good.write_text("sandbox:\n  requirements: [numpy==2.4.6, scipy==1.17.1]\n")
    out = CliRunner().invoke(sandbox_group, ["build-site", "--config", str(good)])  # already built: no pip
    assert out.exit_code == 0 and "package site ready" in out.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_time_is_not_charged_to_the_tests_time_limit(backend: str):
    """numpy + scipy.optimize take far longer to import than this test's 0.25 s: the import runs
    while the candidate loads, under the load timeout, not under any test's limit."""
    program = "import numpy\nimport scipy.optimize\n# EVOLVE-BLOCK-START\ndef solve(values):\n    return 'ok'\n# EVOLVE-BLOCK-END\n"
    tests = [t.model_copy(update={"expected": "ok", "time_limit_s": 0.25}) for t in numpy_problem().tests]
    problem = numpy_problem().model_copy(update={"tests": tests, "time_limit_s": 0.25})
    with open_sandbox(backend) as box:
        result = box.evaluate(problem, program)
    assert [o.status for o in result.outcomes] == ["passed", "passed"], result.outcomes
