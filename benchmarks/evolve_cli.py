"""Run one `evolve` command in a subprocess, the way a user would: the benchmarks' one way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def evolve(*args: str, log: Path | None = None, timeout: float | None = None) -> str:
    """stdout of `evolve ARGS...` (offline, from this checkout).  stderr goes to `log` when
    given; a failure raises RuntimeError with the command and its last line of output (or the
    log to read)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "evolve.cli", *args]
    if log is None:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    else:
        with log.open("a") as err:
            done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err,
                                  text=True, timeout=timeout)
    if done.returncode != 0:
        where = f"see {log}" if log is not None else \
            ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1][-500:]
        raise RuntimeError(f"evolve {' '.join(args[:2])} failed (exit {done.returncode}): {where}")
    return done.stdout
