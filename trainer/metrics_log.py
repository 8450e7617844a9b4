"""Per-step metrics sinks: an append-only JSONL file, and TensorBoard when it is installed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


class MetricsLogger:
    """Writes one JSON object per step; list-valued metrics become `name/i` TensorBoard scalars."""

    def __init__(self, jsonl: Path | None = None, tensorboard_dir: Path | None = None):
        self.jsonl = Path(jsonl) if jsonl else None
        if self.jsonl:
            self.jsonl.parent.mkdir(parents=True, exist_ok=True)
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: JSONL only
                SummaryWriter = None
            if SummaryWriter is not None:
                self._tb = SummaryWriter(log_dir=str(tensorboard_dir))

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if self.jsonl:
            with self.jsonl.open("a") as f:
                f.write(json.dumps({"step": step, **metrics}, default=_jsonable) + "\n")
        if self._tb is not None:
            for key, value in metrics.items():
                if isinstance(value, list | tuple):
                    named = [(f"{key}/{i}", v) for i, v in enumerate(value)]
                else:
                    named = [(key, value)]
                for name, v in named:
                    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                        self._tb.add_scalar(name, v, step)
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    return str(x)
