"""`evolve problems list/show/check` through click's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from evolve.cli import main

EXAMPLE = Path(__file__).parent / "fixtures" / "problems" / "directory" / "running_sum"


def _run(*args: str):
    return CliRunner().invoke(main, ["problems", *args], catch_exceptions=False)


def test_list_humaneval_json():
    result = _run("list", "--suite", "humaneval", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert len(rows) == 164 and sum(r["tests"] for r in rows) >= 1100
    assert rows[0]["id"] == "HumanEval/0" and rows[0]["has_reference"] is True


def test_list_builtin_table_and_bad_suite():
    result = _run("list", "--suite", "builtin")
    assert result.exit_code == 0 and "builtin/lis_count" in result.output
    result = _run("list", "--suite", "nope")
    assert result.exit_code != 0 and "unknown suite" in result.output


def test_show_never_prints_reference_or_hidden_tests():
    result = _run("show", str(EXAMPLE))
    assert result.exit_code == 0
    assert "Running sum" in result.output and "EVOLVE-BLOCK-START" in result.output
    assert "total, out = 0, []" not in result.output  # a line of reference.py
    assert "- small [stdio" in result.output and "- large" not in result.output  # large is hidden


def test_check_passes_and_fails(tmp_path: Path):
    result = _run("check", str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.splitlines()[0])
    assert report["ok"] and report["reference_vector"] == [1.0] * 5 and report["initial_fitness"] < 1.0
    broken = tmp_path / "running_sum"
    shutil.copytree(EXAMPLE, broken)
    (broken / "reference.py").write_text("print(0)\n")
    result = _run("check", str(broken))
    assert result.exit_code == 1
    assert "FAIL example/running_sum: reference 0/5" in result.output and "0/1 problems ok" in result.output


def test_check_needs_exactly_one_target():
    assert _run("check").exit_code != 0
    assert _run("check", str(EXAMPLE), "--suite", "builtin").exit_code != 0
