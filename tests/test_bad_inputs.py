"""Every bad input is one line naming the file, line or field, through the command line, and
nothing is created or changed: configs (encoding, size, integers beyond 64 bits, templates),
problems (statement, program size, an initial program that does not compile), option values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from evolve.cli import main
from evolve.config import INT_MAX, MAX_CONFIG_BYTES, MAX_TEMPLATE_CHARS
from problems.model import MAX_PROGRAM_CHARS
from tests.evolve_support import PLUGIN, one_line_error, problem_dir, tree_state, write_config

EXAMPLE = Path(__file__).parent / "fixtures" / "problems" / "directory" / "running_sum"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def seed_fails(tmp_path: Path, problem, config: Path | None = None) -> str:
    """Seeding with a bad input: one line, and neither the run dir nor a staging dir appears."""
    run_dir = tmp_path / "run"
    args = ["seed", problem, "--run", run_dir] + (["--config", config] if config else [])
    msg = one_line_error(invoke(*args))
    assert not run_dir.exists() and not list(tmp_path.glob(".run.*"))
    return msg


def test_a_config_that_is_not_utf8_names_the_file_and_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"loop:\n  iterations: 3\n# caf\xe9\n")
    msg = seed_fails(tmp_path, problem_dir(tmp_path), cfg)
    assert msg == f"Error: {cfg}: line 3: not UTF-8 text (invalid continuation byte at byte 27)"
    assert one_line_error(invoke("config", "show", "--file", cfg)) == msg


@pytest.mark.parametrize("section, key, value", [
    ("loop", "seed", 2**64), ("loop", "seed", INT_MAX + 1), ("loop", "iterations", 10**30),
    ("islands", "migration_interval", 2**70), ("sandbox", "slots", 2**63),
])
def test_integers_beyond_64_bits_are_refused(tmp_path, section, key, value):
    cfg = write_config(tmp_path / "c.yaml", {section: {key: value}})
    msg = seed_fails(tmp_path, problem_dir(tmp_path), cfg)
    assert msg == (f"Error: {cfg}: {section}.{key}: {value} is out of range (integers must lie within "
                   f"+-{INT_MAX})")


def test_the_largest_seed_is_accepted_and_stored(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", {"loop": {"seed": INT_MAX, "iterations": 2}})
    run_dir = tmp_path / "run"
    assert invoke("seed", problem_dir(tmp_path), "--run", run_dir, "--config", cfg).exit_code == 0
    assert invoke("run", run_dir, "--mutator-plugin", PLUGIN).exit_code == 0


def test_size_caps_on_configs_and_templates(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    assert seed_fails(tmp_path, problem_dir(tmp_path), big) == (
        f"Error: {big}: {big.stat().st_size} bytes, over the cap of {MAX_CONFIG_BYTES} for a config file")
    tpl = write_config(tmp_path / "t.yaml", {"prompt": {"templates": {"system": "x" * (MAX_TEMPLATE_CHARS + 1)}}})
    assert seed_fails(tmp_path, problem_dir(tmp_path), tpl) == (
        f"Error: {tpl}: prompt.templates: template 'system' is {MAX_TEMPLATE_CHARS + 1} characters, "
        f"over the cap of {MAX_TEMPLATE_CHARS}")


def test_a_config_that_is_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)
    assert seed_fails(tmp_path, problem_dir(tmp_path), fifo) == f"Error: {fifo}: not a regular file"


def test_the_database_file_name_stays_inside_the_run(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", {"database": {"filename": "../shared.db"}})
    assert seed_fails(tmp_path, problem_dir(tmp_path), cfg).endswith(
        "database.filename: must be a plain file name (the database lives inside the run dir)")


def _problem_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "running_sum"
    shutil.copytree(EXAMPLE, dest)
    return dest


def test_a_problem_without_a_statement_is_refused(tmp_path):
    p = _problem_copy(tmp_path)
    spec = yaml.safe_load((p / "problem.yaml").read_text())
    del spec["statement"]
    (p / "problem.yaml").write_text(yaml.safe_dump(spec))
    expected = (f"Error: {p / 'problem.yaml'}: field statement: required: the problem statement "
                "(statement: in problem.yaml, or a statement.md file)")
    assert one_line_error(invoke("problems", "show", p)) == expected
    assert seed_fails(tmp_path, p) == expected
    (p / "statement.md").write_text("Print prefix sums.\n")
    assert invoke("problems", "show", p).exit_code == 0


def test_a_problem_program_over_the_size_cap_is_refused(tmp_path):
    p = _problem_copy(tmp_path)
    body = (p / "initial_program.py").read_text()
    (p / "initial_program.py").write_text(body + "#" * MAX_PROGRAM_CHARS + "\n")
    msg = one_line_error(invoke("problems", "show", p))
    assert msg.startswith(f"Error: {p / 'problem.yaml'}: field initial_program: ")
    assert f"over the cap of {MAX_PROGRAM_CHARS} for a program" in msg


def test_problems_check_fails_an_initial_program_that_does_not_compile(tmp_path):
    p = _problem_copy(tmp_path)
    (p / "initial_program.py").write_text(
        "# EVOLVE-BLOCK-START\nimport sys\nprint(sum(map(int, sys.stdin.read().split()[1:]))\n# EVOLVE-BLOCK-END\n")
    res = invoke("problems", "check", p, "--json")
    assert res.exit_code == 1
    report = json.loads(res.output.splitlines()[0])
    assert report["ok"] is False and report["initial_error"].startswith("does not compile: SyntaxError at line 3")
    res = invoke("problems", "check", p)
    assert "FAIL example/running_sum" in res.output and "initial_error: does not compile" in res.output


@pytest.mark.parametrize("args, expected", [
    (("problems", "check", EXAMPLE, "--slots", "0"), "problems check: Invalid value for '--slots': 0 is not in the range 1<=x<=64."),
    (("archive", "show", "RUN", str(2**64)), "archive show: Invalid value for 'SEQ': 18446744073709551616 is not in the range"),
    (("run", "RUN", "--iterations", "-1"), "run: Invalid value for '--iterations': -1 is not in the range 0<=x"),
    (("status",), "status: Missing argument 'RUN_DIR'."),
])
def test_bad_option_values_are_one_line(tmp_path, args, expected):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    stored = tree_state(run_dir)
    res = invoke(*[run_dir if a == "RUN" else a for a in args])
    msg = one_line_error(res)
    assert expected in msg and msg.endswith("(see --help)") and res.exit_code == 2
    assert tree_state(run_dir) == stored


def test_a_stored_run_is_untouched_by_bad_run_flags(tmp_path):
    run_dir = tmp_path / "run"
    assert invoke("seed", problem_dir(tmp_path), "--run", run_dir, "--config",
                  write_config(tmp_path / "c.yaml")).exit_code == 0
    stored = tree_state(run_dir)
    for bad in (("--iterations", str(2**63)), ("--minutes", "0"), ("--minutes", "nan"), ("--minutes", "inf")):
        one_line_error(invoke("run", run_dir, *bad, "--mutator-plugin", PLUGIN))
    assert "expected module:callable" in one_line_error(invoke("run", run_dir, "--mutator-plugin", "nomodule"))
    assert tree_state(run_dir) == stored
