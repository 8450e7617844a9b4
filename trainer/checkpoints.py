"""The one owner of the checkpoint layout: where a learner checkpoint keeps its parts, and where
a run keeps its adapter versions.  The learner writes through it, online and offline training
and the mutators (which load `adapter_path(...)`) read through it.  No torch import: cheap.

    <checkpoint>/adapter/            peft adapter (vLLM `load_lora_adapter`, peft from_pretrained)
    <checkpoint>/model/              full fine-tuning: transformers model directory
    <checkpoint>/optimizer.pt, torch_rng.pt, trainer_state.json (version, numpy RNG, config)
    <run dir>/adapters/v<N>/         the checkpoint of online version N
    <run dir>/trainer.jsonl          the online learner's metrics, one line per step
"""

from __future__ import annotations

import json
from pathlib import Path

ADAPTER_DIR = "adapter"
MODEL_DIR = "model"
STATE_FILE = "trainer_state.json"
OPTIM_FILE = "optimizer.pt"
TORCH_RNG_FILE = "torch_rng.pt"
RUN_ADAPTERS_DIR = "adapters"
RUN_METRICS_FILE = "trainer.jsonl"  # <run dir>/trainer.jsonl: the online learner's metrics per step


def adapter_path(checkpoint: Path) -> Path:
    """The peft adapter inside a learner checkpoint."""
    return Path(checkpoint) / ADAPTER_DIR


def is_checkpoint(path: Path) -> bool:
    return (Path(path) / STATE_FILE).is_file()


def checkpoint_version(checkpoint: Path) -> int:
    """The policy version a checkpoint holds (its trainer_state.json)."""
    return int(json.loads((Path(checkpoint) / STATE_FILE).read_text())["policy_version"])


def run_checkpoint(run_dir: Path, version: int) -> Path:
    """Where a run keeps the checkpoint of its online version `version`."""
    return Path(run_dir) / RUN_ADAPTERS_DIR / f"v{version}"


def run_adapter(run_dir: Path, version: int) -> Path:
    return adapter_path(run_checkpoint(run_dir, version))
