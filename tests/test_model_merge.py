"""`evolve model merge`: a trained adapter folded into the base weights is the same policy as
base + adapter (the frozen fine-tuned mutator a vLLM server serves at base speed)."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from evolve.cli import main as cli
from evolve.mutator.merge import merge_adapter
from tests.fixtures.lora import make_adapter
from trainer.peft_quiet import peft_quiet


def _logits(model, ids):
    with torch.no_grad():
        return model(ids).logits


def test_merged_model_is_base_plus_adapter(tiny_lm_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = make_adapter(tiny_lm_dir, tmp_path / "a", seed=3)
    out = merge_adapter(str(tiny_lm_dir), adapter, tmp_path / "merged")
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert not (tmp_path / "merged.tmp").exists()
    ids = torch.arange(1, 40).unsqueeze(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_lm_dir, dtype=torch.float32)
    plain = _logits(base, ids)
    with peft_quiet():  # as every wrap in the code: peft reads a deprecated transformers flag
        with_adapter = _logits(PeftModel.from_pretrained(base, str(adapter)), ids)
    merged = _logits(AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32), ids)
    assert torch.allclose(merged, with_adapter, atol=1e-4)
    assert not torch.allclose(merged, plain, atol=1e-2)  # the adapter really changed the policy


def test_merge_refuses_a_directory_that_is_not_an_adapter(tiny_lm_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(cli, ["model", "merge", str(tmp_path / "empty"), str(tmp_path / "out"),
                                   "--model", str(tiny_lm_dir)])
    assert res.exit_code == 1
    assert "adapter_config.json" in res.output and str(tmp_path / "empty") in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="not a peft adapter"):
        merge_adapter(str(tiny_lm_dir), tmp_path / "empty", tmp_path / "out")
