"""Isolation never disappears silently: on a host where neither bubblewrap nor unshare can be
found (simulated by a PATH without them, the input the jail detection reads), the process
backend refuses with one line naming what to install, unless the config opts into rlimits only
with the flag that says it is unsafe; the jail in use is reported by `sandbox run`, recorded in
the run's events and shown by `evolve status`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from evolve.cli import main
from evolve.db import repo
from evolve.runs import open_run
from sandbox.api import Sandbox
from sandbox.config import ProcessOptions, SandboxConfig
from sandbox.isolation import IsolationUnavailable, SandboxUnavailable, resolve_jail
from tests.evolve_support import PLUGIN, one_line_error, problem_dir, tree_state, write_config

GOOD = "def solve(n):\n    return 'fizz' if n % 3 == 0 else str(n)\n"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def hide_jail_tools(tmp_path: Path, monkeypatch) -> None:
    """A PATH holding only what evolve itself needs, without bwrap, unshare or setpriv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("python3", "sh"):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("bwrap") is None and shutil.which("unshare") is None


@pytest.fixture
def no_jail_tools(tmp_path, monkeypatch):
    hide_jail_tools(tmp_path, monkeypatch)


def test_auto_prefers_an_isolating_jail_when_one_is_installed():
    assert shutil.which("bwrap"), "scripts/test.sh installs bubblewrap"
    assert resolve_jail(ProcessOptions()) == "bwrap"


def test_auto_without_bwrap_or_unshare_refuses_in_one_line(no_jail_tools):
    with pytest.raises(IsolationUnavailable) as err:
        resolve_jail(ProcessOptions())
    msg = str(err.value)
    assert "\n" not in msg and "apt-get install bubblewrap" in msg
    assert "sandbox.process.unsafe_rlimits_only: true" in msg and "UNSAFE" in msg
    with pytest.raises(SandboxUnavailable, match="sandbox backend 'process' is not usable: no jail"):
        Sandbox(SandboxConfig(backend="process"))
    assert resolve_jail(ProcessOptions(unsafe_rlimits_only=True)) == "none"


def test_explicit_none_needs_the_unsafe_flag():
    with pytest.raises(IsolationUnavailable, match="jail: none runs candidates with rlimits only"):
        resolve_jail(ProcessOptions(jail="none"))
    assert resolve_jail(ProcessOptions(jail="none", unsafe_rlimits_only=True)) == "none"


def test_sandbox_run_reports_the_jail_and_refuses_without_one(tmp_path, no_jail_tools):
    program = tmp_path / "good.py"
    program.write_text(GOOD)
    problem = problem_dir(tmp_path)
    msg = one_line_error(invoke("sandbox", "run", program, "--problem", problem, "--backend", "process"))
    assert "no jail isolates candidates" in msg and "apt-get install bubblewrap" in msg
    res = invoke("sandbox", "run", program, "--problem", problem, "--backend", "process",
                 "--unsafe-rlimits-only", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["sandbox"] == {"backend": "process", "jail": "none"} and out["fitness"] > 0


def test_sandbox_run_names_the_jail_it_used(tmp_path):
    program = tmp_path / "good.py"
    program.write_text(GOOD)
    res = invoke("sandbox", "run", program, "--problem", problem_dir(tmp_path), "--backend", "process", "--json")
    assert json.loads(res.output)["sandbox"] == {"backend": "process", "jail": "bwrap"}


def test_seed_refuses_before_writing_and_the_unsafe_flag_is_recorded(tmp_path, no_jail_tools):
    problem = problem_dir(tmp_path)
    run_dir = tmp_path / "run"
    msg = one_line_error(invoke("seed", problem, "--run", run_dir, "--config",
                                write_config(tmp_path / "c.yaml")))
    assert "no jail isolates candidates" in msg
    assert not run_dir.exists() and not list(tmp_path.glob(".run.*"))  # nothing half-made
    unsafe = write_config(tmp_path / "unsafe.yaml")
    cfg = yaml.safe_load(unsafe.read_text())
    cfg["sandbox"]["process"] = {"unsafe_rlimits_only": True}
    unsafe.write_text(yaml.safe_dump(cfg))
    res = invoke("seed", problem, "--run", run_dir, "--config", unsafe)
    assert res.exit_code == 0 and "sandbox process, jail none" in " ".join(res.output.split())
    assert invoke("run", run_dir, "--iterations", 2, "--mutator-plugin", PLUGIN).exit_code == 0
    info = json.loads(invoke("status", run_dir, "--json").output)
    assert (info["sandbox"], info["jail"]) == ("process", "none")
    r = open_run(run_dir)
    with repo.transaction(r.factory) as s:
        used = [e.detail for e in repo.events(s, r.run_id, "sandbox")]
        runs = [e.detail["sandbox"] for e in repo.events(s, r.run_id, "run")]
    r.close()
    assert len(used) == 2 and used[1:] == runs  # seed's, then the run's
    assert all(u == {"backend": "process", "jail": "none"} for u in used)


def test_run_refuses_a_lost_jail_before_writing(tmp_path, monkeypatch):
    """Seeded with bubblewrap present; later it is gone: `run` refuses and nothing changes."""
    run_dir = tmp_path / "run"
    assert invoke("seed", problem_dir(tmp_path), "--run", run_dir, "--config",
                  write_config(tmp_path / "c.yaml")).exit_code == 0
    before = tree_state(run_dir)
    hide_jail_tools(tmp_path, monkeypatch)
    msg = one_line_error(invoke("run", run_dir, "--mutator-plugin", PLUGIN))
    assert "no jail isolates candidates" in msg
    after = tree_state(run_dir)
    after.pop(".lock")  # the one file run creates first: its lock
    assert after == before
    monkeypatch.undo()
    assert json.loads(invoke("status", run_dir, "--json").output)["status"] == "seeded"


def test_program_files_must_be_regular_utf8_and_capped(tmp_path):
    from problems.model import MAX_PROGRAM_CHARS

    problem = problem_dir(tmp_path)
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    assert one_line_error(invoke("sandbox", "run", fifo, "--problem", problem)).endswith("fifo.py: not a regular file")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# caf\xe9\ndef solve(n):\n    return ''\n")
    assert "latin.py: not UTF-8 text (byte 5" in one_line_error(invoke("sandbox", "run", latin, "--problem", problem))
    big = tmp_path / "big.py"
    big.write_text("#" * (MAX_PROGRAM_CHARS + 1))
    assert f"over the cap of {MAX_PROGRAM_CHARS}" in one_line_error(invoke("sandbox", "run", big, "--problem", problem))


def test_docker_backend_reports_the_container_as_its_jail(tmp_path):
    from tests.sandbox_support import open_sandbox

    box = open_sandbox("docker")
    try:
        assert box.describe() == {"backend": "docker", "jail": "container"}
    finally:
        box.close()


def test_problems_check_reports_the_jail(tmp_path):
    res = invoke("problems", "check", problem_dir(tmp_path), "--json")
    assert json.loads(res.output.splitlines()[0])["jail"] == "bwrap"


def test_a_missing_sandbox_image_is_one_line_before_anything_is_written(tmp_path):
    cfg = write_config(tmp_path / "c.yaml", {"sandbox": {"backend": "docker", "slots": 1,
                                                         "docker": {"image": "vpo-evolve-sandbox:no-such-tag"}}})
    run_dir = tmp_path / "run"
    msg = one_line_error(invoke("seed", problem_dir(tmp_path), "--run", run_dir, "--config", cfg))
    assert msg.startswith("Error: sandbox backend 'docker' is not usable: ")
    if os.environ.get("VPO_REQUIRE_DOCKER") == "1":  # an engine answers: the image is what is missing
        assert "image vpo-evolve-sandbox:no-such-tag does not exist: run `evolve sandbox build-image`" in msg
    assert not run_dir.exists() and not list(tmp_path.glob(".run.*"))
