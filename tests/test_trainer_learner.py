"""The Learner on the tiny from-scratch LM: it learns, accumulates exactly, checkpoints exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from trainer.config import LearnerConfig
from trainer.learner import Learner
from trainer.records import Rollout, RolloutGroup

PROMPT = [1, 87, 481, 201, 502, 289, 10]
GOOD = [500, 600, 700, 2]
BAD = [800, 900, 1000, 1100, 2]


def config(**kw) -> LearnerConfig:
    base = {"lr": 5e-3, "advantage": {"estimator": "grpo"}}
    base.update(kw)
    return LearnerConfig.model_validate(base)


def good_bad_group(version: int = 0, gid: str = "g", behavior: bool = False) -> RolloutGroup:
    rollouts = []
    for comp, reward in [(GOOD, 1.0), (BAD, 0.0), (GOOD, 1.0), (BAD, 0.0)]:
        rollouts.append(Rollout(
            group_id=gid, prompt_ids=PROMPT, completion_ids=comp, rewards=[[reward, reward]],
            policy_version=version, behavior_logprobs=[-8.0] * len(comp) if behavior else None,
        ))
    return RolloutGroup(group_id=gid, rollouts=rollouts)


def adapter_state(learner: Learner) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.model.named_parameters() if v.requires_grad}


def test_lora_steps_raise_positive_and_lower_negative_logprob(tiny_lm_dir, tmp_path):
    cfg = config(metrics_jsonl=tmp_path / "m.jsonl", tensorboard_dir=tmp_path / "tb")
    learner = Learner(tiny_lm_dir, cfg)
    before = learner.sequence_logprob(PROMPT, GOOD), learner.sequence_logprob(PROMPT, BAD)
    for i in range(4):
        m = learner.step([good_bad_group(version=i)])
        assert m["updated"] and m["policy_version"] == i + 1
    after = learner.sequence_logprob(PROMPT, GOOD), learner.sequence_logprob(PROMPT, BAD)
    assert after[0] > before[0] + 1.0
    assert after[1] < before[1] - 1.0
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4]
    for key in ("loss", "kl", "entropy", "clip_frac_low", "clip_frac_high", "grad_norm",
                "reward_per_component", "set_reward", "adv_mean", "zero_std_frac", "parse_failures",
                "duplicates", "completion_len_mean", "policy_lag_mean", "tokens_per_s"):
        assert key in lines[-1], key
    assert lines[-1]["trained_tokens"] == 2 * len(GOOD) + 2 * len(BAD)
    assert any((tmp_path / "tb").iterdir())


def test_bandit_on_policy_sampling_shifts_probability_mass(tiny_lm_dir):
    """Sample one of 4 actions from the policy (renormalised over them); reward 1 for action 0.
    (The tiny model's final RMSNorm and frozen random embeddings bound how far attention-only
    LoRA can move these logits: about 0.6 is the reachable ceiling, hence the threshold.)"""
    learner = Learner(tiny_lm_dir, config(lr=1e-2, advantage={"estimator": "rloo"}))
    actions = torch.tensor([700, 710, 720, 730])
    ids = torch.tensor([PROMPT])

    def probs() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            logp = torch.log_softmax(learner.model(input_ids=ids).logits[0, -1].float(), -1)
        return torch.softmax(logp[actions], -1), logp[actions]

    rng = np.random.default_rng(0)
    p0, _ = probs()
    for it in range(8):
        p, logp = probs()
        picks = rng.choice(4, size=8, p=p.numpy() / p.numpy().sum())
        group = RolloutGroup(group_id=f"b{it}", rollouts=[
            Rollout(group_id=f"b{it}", prompt_ids=PROMPT, completion_ids=[int(actions[a])],
                    behavior_logprobs=[float(logp[a])], rewards=[[float(a == 0)]],
                    policy_version=learner.version)
            for a in picks
        ])
        learner.step([group])
    p1, _ = probs()
    assert p0[0] < 0.3 and p1[0] > 0.5 and p1[1:].max() < 0.2, (p0, p1)


def test_checkpoint_round_trip_is_exact(tiny_lm_dir, tmp_path):
    a = Learner(tiny_lm_dir, config(advantage={"estimator": "vpo", "num_weights": 8}))
    for i in range(2):
        a.step([good_bad_group(version=i)])
    ckpt = a.save_checkpoint(tmp_path / "ckpt")
    assert (ckpt / "adapter" / "adapter_model.safetensors").exists()
    assert json.loads((ckpt / "adapter" / "adapter_config.json").read_text())["r"] == 16

    b = Learner(tiny_lm_dir, config(advantage={"estimator": "vpo", "num_weights": 8}, seed=99))
    assert b.version == 0
    b.load_checkpoint(ckpt)
    assert b.version == a.version == 2
    sa, sb = adapter_state(a), adapter_state(b)
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    oa, ob = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert oa["state"].keys() == ob["state"].keys()
    for k in oa["state"]:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(oa["state"][k][name], ob["state"][k][name])
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    # the next step is identical too (vpo draws from the restored RNG)
    ma, mb = a.step([good_bad_group(version=2)]), b.step([good_bad_group(version=2)])
    assert ma["adv_max"] == mb["adv_max"] and ma["loss"] == mb["loss"]
    sa, sb = adapter_state(a), adapter_state(b)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_saved_adapter_loads_in_peft(tiny_lm_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    learner = Learner(tiny_lm_dir, config())
    learner.step([good_bad_group()])
    out = learner.save_adapter(tmp_path / "adapter")
    base = AutoModelForCausalLM.from_pretrained(tiny_lm_dir)
    from trainer.peft_quiet import peft_quiet

    with peft_quiet():
        peft_model = PeftModel.from_pretrained(base, out).eval()
    ids = torch.tensor([PROMPT + GOOD])
    with torch.no_grad():
        lp = torch.log_softmax(peft_model(input_ids=ids).logits[0, :-1], -1)
    ours = float(lp[len(PROMPT) - 1:, :].gather(-1, torch.tensor(GOOD)[:, None]).sum())
    assert ours == pytest.approx(learner.sequence_logprob(PROMPT, GOOD), abs=1e-4)


def step_gradients(learner: Learner, groups: list[RolloutGroup]) -> tuple[dict, list[torch.Tensor]]:
    """(metrics, the accumulated gradient the optimiser is handed, per parameter)."""
    seen: list[list[torch.Tensor]] = []
    hook = learner.optimizer.register_step_pre_hook(
        lambda opt, *_: seen.append([p.grad.detach().clone() for p in learner.params]))
    try:
        metrics = learner.step(groups)
    finally:
        hook.remove()
    assert len(seen) == 1
    return metrics, seen[0]


def test_gradient_accumulation_matches_one_big_batch(tiny_lm_dir):
    """Accumulating per-sequence micro-batches gives the one-pack gradient.  Compared: the
    gradient itself, to float32 rounding of its own scale.  Not compared: the weights after
    AdamW, whose first step is lr * g / (|g| + eps), about lr * sign(g): a gradient entry that
    cancels to ~1e-9 flips that sign on a change of summation order (one pack vs eight; 1 vs 2
    threads), so those weights differed by ~1e-6 here and broke an atol of 1e-6 at random."""
    groups = [good_bad_group(gid="g1"), good_bad_group(gid="g2")]
    big = Learner(tiny_lm_dir, config(micro_batch_tokens=10_000))
    small = Learner(tiny_lm_dir, config(micro_batch_tokens=12))  # one sequence per micro-batch
    (mb, gb), (ms, gs) = step_gradients(big, groups), step_gradients(small, groups)
    scale = max(float(g.abs().max()) for g in gb)
    assert scale > 1e-3  # a real gradient, not zeros compared with zeros
    for a, b in zip(gb, gs, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5 * scale)
    assert mb["grad_norm"] == pytest.approx(ms["grad_norm"], rel=1e-5)
    assert mb["loss"] == pytest.approx(ms["loss"], rel=1e-5, abs=1e-7)


def test_staleness_cap_and_zero_advantage_groups(tiny_lm_dir):
    learner = Learner(tiny_lm_dir, config(max_staleness=1))
    learner.version = 5
    m = learner.step([good_bad_group(version=3, gid="old"), good_bad_group(version=4, gid="ok")])
    assert m["stale_dropped"] == 4 and m["samples"] == 4 and m["policy_lag_max"] == 1
    assert m["updated"] and learner.version == 6
    # everything stale, or every advantage zero: no update, version unchanged
    assert not learner.step([good_bad_group(version=0)])["updated"]
    flat = RolloutGroup(group_id="f", rollouts=[
        Rollout(group_id="f", prompt_ids=PROMPT, completion_ids=GOOD, rewards=[[0.5]],
                policy_version=6) for _ in range(3)])
    m = learner.step([flat])
    assert not m["updated"] and m["zero_std_frac"] == 1.0 and learner.version == 6


def test_truncated_masking_and_importance_metrics(tiny_lm_dir):
    g = good_bad_group(behavior=True)
    g.rollouts[1].truncated = True
    learner = Learner(tiny_lm_dir, config(loss={"mask_truncated": True, "importance": "tis"}))
    m = learner.step([g])
    assert m["truncated_masked"] == 1 and m["samples"] == 3
    # behaviour log-probs of -8 vs the model's own per-token values: weights in (0, cap]
    assert 0 < m["is_weight_mean"] <= 2.0 and m["behavior_kl"] >= 0


def test_full_finetune_with_kl_and_minibatches(tiny_lm_dir, tmp_path):
    cfg = config(lora=None, lr=1e-3, num_minibatches=2, loss={"kl_coef": 0.1})
    learner = Learner(tiny_lm_dir, cfg)
    assert learner.ref_model is not None
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    m1 = learner.step([good_bad_group(gid="a"), good_bad_group(gid="b")])
    assert m1["optimizer_steps"] == 2 and m1["policy_version"] == 1
    m2 = learner.step([good_bad_group(gid="a", version=1)])
    assert m2["kl"] > 0  # moved away from the frozen reference
    assert m2["ratio_mean"] != 1.0  # second minibatch sees pi_theta != pi_old
    assert any(not torch.equal(before[k], v) for k, v in learner.model.state_dict().items())
    ckpt = learner.save_checkpoint(tmp_path / "full")
    assert (ckpt / "model" / "model.safetensors").exists() and (ckpt / "model" / "tokenizer.json").exists()
    other = Learner(tiny_lm_dir, cfg)
    other.load_checkpoint(ckpt)
    sd = other.model.state_dict()
    assert all(torch.equal(sd[k], v) for k, v in learner.model.state_dict().items())
    assert other.version == learner.version


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match="extra"):
        LearnerConfig.model_validate({"loss": {"eps": 0.2}})
    assert LearnerConfig().lr == 1e-4 and LearnerConfig(lora=None).lr == 1e-6


def test_gradient_checkpointing_gives_the_same_update(tiny_lm_dir):
    plain = Learner(tiny_lm_dir, config())
    ckpt = Learner(tiny_lm_dir, config(gradient_checkpointing=True))
    mp, mc = plain.step([good_bad_group()]), ckpt.step([good_bad_group()])
    assert mc["grad_norm"] > 0 and mc["grad_norm"] == pytest.approx(mp["grad_norm"], rel=1e-4)


def test_temperature_scales_logits(tiny_lm_dir):
    base = Learner(tiny_lm_dir, config())
    hot = Learner(tiny_lm_dir, config(loss={"temperature": 0.5}))
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        logits = base.model(input_ids=ids).logits[0, -1].float()
    expected = float(torch.log_softmax(logits / 0.5, -1)[GOOD[0]])
    assert hot.sequence_logprob(PROMPT, GOOD[:1]) == pytest.approx(expected, abs=1e-4)


def test_packed_completions_score_as_if_each_were_alone(tiny_lm_dir):
    """Completions sharing a prompt are packed into one row (prompt once, each completion seeing
    only the prompt and its own prefix): every token's log-prob equals a plain forward of
    prompt + that completion."""
    from trainer.learner import _Sample

    learner = Learner(tiny_lm_dir, config())
    comps = [GOOD, BAD, [7, 8], GOOD + BAD]
    pack = [_Sample(PROMPT, c, None, 1.0) for c in comps]
    b = learner._batch_tensors(pack)
    with torch.no_grad():
        packed = learner._logp(learner.model, b)
        C = b["C"]
        for i, c in enumerate(comps):
            ids = torch.tensor([PROMPT + c])
            logits = learner.model(input_ids=ids).logits[0, len(PROMPT) - 1:-1].float()
            alone = torch.log_softmax(logits, -1).gather(-1, torch.tensor(c)[:, None])[:, 0]
            assert torch.allclose(packed[i, C - len(c):], alone, atol=1e-5)
            assert (packed[i, : C - len(c)] == 0).all() and b["mask"][i].sum() == len(c)
    assert learner._micro_batches(pack) == [sorted(pack, key=lambda s: -len(s.completion))]
    small = Learner(tiny_lm_dir, config(micro_batch_tokens=len(PROMPT) + 12))
    assert [len(p) for p in small._micro_batches(pack)] == [1, 3]  # 9 | 5+4+2, each + prompt
