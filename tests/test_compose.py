"""docker-compose.yml, validated by a real compose implementation (Debian's docker-compose 1.29,
installed by scripts/test.sh), and its commands parsed by the real command line."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import click
import pytest
import yaml

from evolve.cli import main
from tests.evolve_support import ROOT

RUN_ID = "0123456789abcdef0123456789abcdef"


def _compose(*args: str, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("VPO_REQUIRE_DOCKER") == "1":
            pytest.fail("docker-compose is not installed (scripts/test.sh installs it)")
        pytest.skip("docker-compose is not installed")
    full = {k: v for k, v in os.environ.items() if not k.startswith("EVOLVE_")}
    return subprocess.run([exe, *args], cwd=cwd, env={**full, **(env or {})}, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def resolved() -> dict:
    res = _compose("-f", "docker-compose.yml", "--profile", "gpu", "--profile", "setup", "config",
                   env={"EVOLVE_RUN": RUN_ID})
    assert res.returncode == 0, res.stderr
    return yaml.safe_load(res.stdout)


def test_compose_file_is_valid_and_has_every_part(resolved):
    services = resolved["services"]
    assert set(services) == {"postgres", "prepare", "seed", "trainer", "worker", "vllm"}
    worker = services["worker"]
    # scalable with --scale worker=N: no fixed name, no published port
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    vllm = services["vllm"]
    assert vllm["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert "--enable-lora" in vllm["command"]
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    # the trainer writes adapters where the workers and the vLLM server read them
    mounts = {name: {v.split(":")[1]: v.split(":")[0] for v in s.get("volumes", [])}  # 1.29: short syntax
              for name, s in services.items()}
    assert mounts["trainer"]["/data/shared"] == mounts["worker"]["/data/shared"] == mounts["vllm"]["/data/shared"]
    assert set(resolved["volumes"]) >= {"pgdata", "shared", "models", "runs"}


@pytest.mark.parametrize("service", ["seed", "trainer", "worker", "prepare"])
def test_compose_commands_parse_with_the_real_command_line(resolved, service):
    command = resolved["services"][service]["command"]
    script = command[0] if isinstance(command, list) else command
    url = "postgresql+psycopg://evolve:evolve@postgres:5432/evolve"
    for part in script.replace('"$EVOLVE_DB"', url).split("&&"):
        words = shlex.split(part)
        assert words[0] == "evolve"
        cmd, rest = main, words[1:]
        while isinstance(cmd, click.Group):  # descend: trainer serve, model prepare
            cmd, rest = cmd.get_command(click.Context(cmd), rest[0]), rest[1:]
            assert cmd is not None, part
        cmd.make_context(cmd.name, list(rest))  # raises on an unknown or missing option


def test_worker_refuses_to_start_without_a_run_id():
    from click.testing import CliRunner

    from tests.evolve_support import one_line_error

    res = CliRunner().invoke(main, ["worker", "--db", "postgresql://x@127.0.0.1:1/x", "--run", ""])
    assert "is not a run id" in one_line_error(res)


def test_compose_rejects_a_broken_file(tmp_path):
    bad = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bad["services"]["worker"]["scale_to"] = 3  # not a compose key
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(bad))
    (tmp_path / "deploy").mkdir()
    res = _compose("-f", "docker-compose.yml", "config", "-q", cwd=tmp_path)
    assert res.returncode != 0 and "scale_to" in res.stderr
