"""The presets of scripts/discover.sh (configs/*.yaml) validate and ask for what the main job
needs; the script's arguments are checked before any set-up step runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from evolve.config import load_config
from evolve.mutator.models import MODEL_SPECS

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "configs"
SCRIPT = ROOT / "scripts" / "discover.sh"


def test_cpu_small_preset():
    cfg = load_config(PRESETS / "cpu-small.yaml")
    assert cfg.mutator.backend == "transformers" and cfg.mutator.model in MODEL_SPECS
    assert cfg.mutator.model == "qwen2.5-coder-0.5b"
    assert (cfg.mutation.answers, cfg.mutation.completions) == (3, 4)
    assert cfg.sandbox.backend == "auto"
    assert cfg.loop.minutes == 20 and cfg.loop.iterations >= 10_000  # the time bound is the limit
    t = cfg.trainer
    assert t is not None and t.advantage.estimator == "vpo" and t.lora is not None
    assert 1e-4 <= t.lr <= 5e-4 and t.online.share_weights
    assert t.online.reward == "new_programs"  # raw scores reward re-writing known programs


def test_gpu_preset():
    cfg = load_config(PRESETS / "gpu.yaml")
    assert cfg.mutator.backend == "vllm" and cfg.mutator.base_url.startswith("http://127.0.0.1:")
    assert cfg.loop.minutes == 20 and cfg.loop.batch_size > load_config(PRESETS / "cpu-small.yaml").loop.batch_size
    assert cfg.trainer is None  # the learner has no device setting: a 7B model would train on the CPU


def test_config_show_accepts_the_presets():
    from evolve.cli import main

    for name in ("cpu-small", "gpu"):
        res = CliRunner().invoke(main, ["config", "show", "--file", str(PRESETS / f"{name}.yaml")])
        assert res.exit_code == 0, res.output
        assert yaml.safe_load(res.output)["loop"]["minutes"] == 20


def test_model_ready_names_a_missing_server(tmp_path):
    import socket

    from evolve.cli import main

    cfg = yaml.safe_load((PRESETS / "gpu.yaml").read_text())
    with socket.socket() as held:  # bound, never listening: connections to it are refused
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        cfg["mutator"]["base_url"] = url
        path = tmp_path / "gpu.yaml"
        path.write_text(yaml.safe_dump(cfg))
        res = CliRunner().invoke(main, ["model", "ready", "--config", str(path)])
    assert res.exit_code == 1 and f"mutator.base_url {url}: no vLLM server answers" in res.output
    assert "\n" not in res.output.strip()


def _script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_discover_script_defaults_and_bad_arguments():
    text = SCRIPT.read_text()
    assert "PRESET=cpu-small" in text and 'configs/$PRESET.yaml' in text and "builtin/count_primes" in text
    usage = _script("--help")
    assert usage.returncode == 0 and "--preset cpu-small|gpu" in usage.stdout and "--minutes" in usage.stdout
    bad = _script("--preset", "nope")
    assert bad.returncode == 2 and "no preset 'nope'" in bad.stderr and "cpu-small" in bad.stderr
    many = _script("a", "b", "c")
    assert many.returncode == 2 and "expected at most PROBLEM and RUN_DIR" in many.stderr


def test_model_ready_accepts_a_local_model_and_names_a_wrong_one(tmp_path, tiny_lm_dir):
    from evolve.cli import main

    cfg = yaml.safe_load((PRESETS / "cpu-small.yaml").read_text())
    cfg["mutator"]["model"] = str(tiny_lm_dir)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(main, ["model", "ready", "--config", str(good)])
    assert res.exit_code == 0 and res.output.strip() == str(tiny_lm_dir)
    cfg["mutator"]["model"] = str(tmp_path / "no-such-model")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(main, ["model", "ready", "--config", str(bad)])
    assert res.exit_code == 1 and f"{bad}: mutator.model: " in res.output and "nor a local model directory" in res.output
