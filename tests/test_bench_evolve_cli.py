"""benchmarks/evolve_cli.py: the benchmarks' one way to run an `evolve` command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.evolve_cli import evolve  # noqa: E402


def test_stdout_on_success_and_one_line_with_the_cause_on_failure(tmp_path):
    assert "Usage: evolve problems" in evolve("problems", "--help")
    missing = tmp_path / "nope"
    with pytest.raises(RuntimeError, match=rf"evolve status {missing} failed \(exit 1\): Error: {missing}: no such directory"):
        evolve("status", str(missing))
    log = tmp_path / "err.log"
    with pytest.raises(RuntimeError, match=f"see {log}"):
        evolve("status", str(missing), log=log)
    assert "no such directory" in log.read_text()
