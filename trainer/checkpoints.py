"""The one owner of the checkpoint layout: where a learner checkpoint keeps its parts, how
checkpoints of successive versions are named, and where a run keeps its adapter versions.  The
learner writes through it; online and offline training, the trainer service and the mutators
(which load `adapter_path(...)` and check `is_adapter`) read through it.  No torch import: cheap.

    <checkpoint>/adapter/            peft adapter (vLLM `load_lora_adapter`, peft from_pretrained):
                 adapter/adapter_config.json, adapter/adapter_model.safetensors
    <checkpoint>/model/              full fine-tuning: transformers model directory
    <checkpoint>/optimizer.pt, torch_rng.pt, trainer_state.json (version, numpy RNG, config)
    <dir>/v<N>/                      the checkpoint of version N (`evolve train --out DIR`)
    <run dir>/adapters/v<N>/         the checkpoint of online version N (also the trainer
                                     service's --dir of a multi-worker run)
    <run dir>/trainer.jsonl          the online learner's metrics, one line per step
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ADAPTER_DIR = "adapter"
ADAPTER_CONFIG_FILE = "adapter_config.json"  # peft's: what makes a directory an adapter
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"  # peft's, with safe serialisation
MODEL_DIR = "model"
STATE_FILE = "trainer_state.json"
OPTIM_FILE = "optimizer.pt"
TORCH_RNG_FILE = "torch_rng.pt"
RUN_ADAPTERS_DIR = "adapters"
RUN_METRICS_FILE = "trainer.jsonl"  # <run dir>/trainer.jsonl: the online learner's metrics per step
_VERSION = "policy_version"  # the key of the version in STATE_FILE


def adapter_path(checkpoint: Path) -> Path:
    """The peft adapter inside a learner checkpoint."""
    return Path(checkpoint) / ADAPTER_DIR


def is_adapter(path: Path) -> bool:
    """Whether `path` is a peft adapter directory (what the mutators load)."""
    return (Path(path) / ADAPTER_CONFIG_FILE).is_file()


def is_checkpoint(path: Path) -> bool:
    return (Path(path) / STATE_FILE).is_file()


def write_state(checkpoint: Path, version: int, **extra: Any) -> None:
    """The checkpoint's trainer_state.json: its policy version and whatever else the learner
    restores (`extra`: numpy RNG state, config)."""
    (Path(checkpoint) / STATE_FILE).write_text(json.dumps({_VERSION: version, **extra}, indent=2))


def read_state(checkpoint: Path) -> tuple[int, dict[str, Any]]:
    """(version, extra) as `write_state` wrote them; FileNotFoundError (one line) where
    `checkpoint` is no learner checkpoint."""
    path = Path(checkpoint) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{checkpoint}: not a learner checkpoint (no {STATE_FILE})")
    state = json.loads(path.read_text())
    return int(state.pop(_VERSION)), state


def checkpoint_version(checkpoint: Path) -> int:
    """The policy version a checkpoint holds (its trainer_state.json)."""
    return read_state(checkpoint)[0]


def version_checkpoint(root: Path, version: int) -> Path:
    """Where checkpoints kept side by side under `root` keep version `version`: ROOT/vN."""
    return Path(root) / f"v{version}"


def run_checkpoint(run_dir: Path, version: int) -> Path:
    """Where a run keeps the checkpoint of its online version `version`."""
    return version_checkpoint(Path(run_dir) / RUN_ADAPTERS_DIR, version)


def run_adapter(run_dir: Path, version: int) -> Path:
    return adapter_path(run_checkpoint(run_dir, version))
