"""configs/discover.yaml (used by scripts/discover.sh) validates and asks for what the job needs."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from evolve.config import load_config
from evolve.mutator.models import MODEL_SPECS

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "discover.yaml"


def test_discover_config_validates():
    cfg = load_config(CONFIG)
    assert cfg.mutator.backend == "transformers" and cfg.mutator.model in MODEL_SPECS
    assert cfg.mutator.model == "qwen2.5-coder-0.5b"
    assert (cfg.mutation.answers, cfg.mutation.completions) == (3, 4)
    assert cfg.sandbox.backend == "auto"
    t = cfg.trainer
    assert t is not None and t.advantage.estimator == "vpo" and t.lora is not None
    assert 1e-4 <= t.lr <= 5e-4 and t.online.share_weights
    assert t.online.reward == "new_programs"  # raw scores reward re-writing known programs
    assert "configs/discover.yaml" in (ROOT / "scripts" / "discover.sh").read_text()


def test_config_show_accepts_it():
    from evolve.cli import main

    res = CliRunner().invoke(main, ["config", "show", "--file", str(CONFIG)])
    assert res.exit_code == 0, res.output
    shown = yaml.safe_load(res.output)
    assert shown["trainer"]["online"]["every_groups"] == 4
    assert shown["mutation"]["answers"] == 3
