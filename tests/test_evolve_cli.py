"""The run and archive commands through click (in process)."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from evolve.cli import main
from evolve.config import RunConfig
from evolve.runs import exclusive
from tests.evolve_support import PLUGIN, problem_dir, write_config


def invoke(*args: str, ok: bool = True):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    d = tmp / "run"
    invoke("seed", problem_dir(tmp), "--run", d, "--config",
           write_config(tmp / "c.yaml", {"loop": {"iterations": 6}}))
    out = invoke("run", d, "--mutator-plugin", PLUGIN).output
    assert "finished: iteration budget reached" in out and "batch 2: iterations 6" in out
    return d


def test_config_show_prints_every_default(tmp_path):
    assert yaml.safe_load(invoke("config", "show").output) == RunConfig().snapshot()
    bad = tmp_path / "bad.yaml"
    bad.write_text("loop:\n  iterationz: 3\n")
    res = invoke("config", "show", "--file", bad, ok=False)
    assert res.exit_code != 0 and f"{bad}: loop.iterationz: unknown key" in res.output


def test_status_json(run_dir):
    info = json.loads(invoke("status", run_dir, "--json").output)
    assert info["status"] == "finished" and info["iterations"] == 6 and info["tests"] == 8
    assert info["programs"] >= 3 and len(info["islands"]) == 3 and info["policy_version"] == 0
    assert "best fitness" in invoke("status", run_dir).output


def test_archive_commands(run_dir, tmp_path):
    assert "origin" in invoke("archive", "ls", run_dir, "--sort", "seq").output
    shown = invoke("archive", "show", run_dir, 0).output
    assert "EVOLVE-BLOCK-START" in shown and "n30" in shown and "hidden" in shown
    best = json.loads(invoke("status", run_dir, "--json").output)["best_seq"]
    lineage = invoke("archive", "lineage", run_dir, best).output
    assert "seed" in lineage
    diff = invoke("archive", "diff", run_dir, 0, best).output
    assert diff.startswith("--- #0") or best == 0
    out = tmp_path / "best.py"
    invoke("archive", "best", run_dir, "--export", out)
    assert "def solve" in out.read_text()
    grid = json.loads(invoke("archive", "grid", run_dir, "--json").output)
    assert grid["dimensions"] == ["code_length", "pass_signature"] and grid["cells"]
    assert {c["island"] for c in grid["cells"]} == {0, 1, 2}
    assert "island 0" in invoke("archive", "grid", run_dir).output


def test_errors_are_one_line(tmp_path, run_dir):
    res = invoke("archive", "show", run_dir, 99999, ok=False)
    assert res.exit_code != 0 and "no program #99999" in res.output
    res = invoke("run", tmp_path / "nothing", ok=False)
    assert "nothing: no such directory" in res.output and not (tmp_path / "nothing").exists()
    res = invoke("seed", problem_dir(tmp_path), "--run", run_dir, ok=False)
    assert "already seeded" in res.output
    res = invoke("seed", tmp_path / "missing-problem", "--run", tmp_path / "r", ok=False)
    assert res.exit_code != 0 and "Error" in res.output
    res = invoke("run", run_dir, "--mutator-plugin", "nomodule", ok=False)
    assert "expected module:callable" in res.output


def test_one_driver_per_run(run_dir):
    with exclusive(run_dir):
        res = invoke("resume", run_dir, "--mutator-plugin", PLUGIN, ok=False)
    assert "another process is driving this run" in res.output
