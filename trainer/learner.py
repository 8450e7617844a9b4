"""The Learner: one optimiser update per `step(groups)` call, driven by its caller.

The caller (the search loop, or an offline trainer) hands over complete rollout groups; the
learner computes advantages with the configured estimator, drops stale rollouts, runs
forward/backward in token-bounded micro-batches (exact gradient accumulation: every loss term is
normalised by the whole step's counts), clips the gradient, steps AdamW and bumps
`policy_version`.  Checkpoints hold the weights (a peft adapter directory that vLLM and peft can
load, or a full transformers model), the optimiser state, the RNG states and the version.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainer.advantages import compute_advantages
from trainer.checkpoints import (ADAPTER_DIR, ADAPTER_WEIGHTS_FILE, MODEL_DIR, OPTIM_FILE, TORCH_RNG_FILE,
                                 read_state, write_state)
from trainer.config import LearnerConfig
from trainer.logprobs import chunked_token_logprobs
from trainer.loss import LossBatch, Normalizer, policy_loss, token_entropy, token_logprobs
from trainer.metrics_log import MetricsLogger
from trainer.peft_quiet import peft_quiet
from trainer.records import RolloutGroup

TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "vocab.json", "merges.txt", "generation_config.json",
)


@dataclass
class _Sample:
    prompt: list[int]
    completion: list[int]
    behavior: list[float | None] | None
    advantage: float
    sampled: list[bool] | None = None  # None: every completion token is the policy's
    temps: list[float] | None = None  # per-token sampling temperature; None: the loss's
    old_logp: torch.Tensor | None = None  # step-start log-probs when several minibatches

    @property
    def counted(self) -> int:
        """Tokens that enter the loss: the policy's own (harness-inserted ones are masked)."""
        return len(self.completion) if self.sampled is None else sum(self.sampled)


def _checkpoint_layers(model: torch.nn.Module) -> None:
    """Recompute each decoder layer's activations in the backward (non-reentrant checkpoints),
    without transformers' and peft's hook that makes the embeddings' output require grad: the
    reentrant checkpoint needed it, the non-reentrant one does not, and with it the backward ran
    through every frozen layer below the lowest adapted one (top-4 LoRA measured 1.02x of
    all-layer LoRA per step with checkpointing, 1.52x without)."""
    core = model.get_base_model() if hasattr(model, "get_base_model") else model
    enable = getattr(core, "activation_checkpointing_enable", None) or core.gradient_checkpointing_enable
    enable({"use_reentrant": False})
    core.disable_input_require_grads()


def _pack_length(pack: list[_Sample]) -> int:
    """Tokens of one packed row: the shared prompt once plus every completion."""
    return len(pack[0].prompt) + sum(len(s.completion) for s in pack)


class Learner:
    """Policy-gradient learner on plain rollout records (LoRA via peft, or full fine-tuning)."""

    def __init__(self, model: str | Path | torch.nn.Module, config: LearnerConfig | None = None):
        self.config = cfg = config or LearnerConfig()
        torch.manual_seed(cfg.seed)
        dtype = getattr(torch, cfg.dtype)
        self.model_dir: Path | None = None
        if isinstance(model, str | Path):
            from transformers import AutoModelForCausalLM

            self.model_dir = Path(model)
            model = AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=dtype)
        self.ref_model: torch.nn.Module | None = None
        if cfg.lora is not None:
            from peft import LoraConfig, get_peft_model

            top = None
            if cfg.lora.layers is not None:
                n = model.config.num_hidden_layers
                top = list(range(max(0, n - cfg.lora.layers), n))
            lora = LoraConfig(
                r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM",
                layers_to_transform=top,
            )
            with peft_quiet():
                model = get_peft_model(model, lora)
        elif cfg.loss.kl_coef > 0:  # full fine-tuning: a frozen copy of the start is the reference
            self.ref_model = copy.deepcopy(model).eval().requires_grad_(False)
        self.model = model
        if cfg.gradient_checkpointing:
            _checkpoint_layers(model)
            self.model.train()  # checkpointing only runs in train mode; our configs use no dropout
        else:
            self.model.eval()  # no dropout: pi_old of the first minibatch is exactly logp.detach()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            self.params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay
        )
        self.rng = np.random.default_rng(cfg.seed)
        self.version = 0
        self.logger = MetricsLogger(cfg.metrics_jsonl, cfg.tensorboard_dir)

    # ------------------------------------------------------------------ training

    def step(self, groups: list[RolloutGroup]) -> dict[str, Any]:
        """Advantages for `groups`, one optimiser update per minibatch; returns the metrics."""
        cfg, t0 = self.config, time.perf_counter()
        adv = compute_advantages(groups, self.rng, cfg.advantage)
        samples, lags, counts = self._select(groups, adv.advantages)
        need_kl = cfg.loss.kl_coef > 0
        order = self.rng.permutation(len(samples))
        minibatches = [
            [samples[i] for i in part] for part in np.array_split(order, cfg.num_minibatches)
        ]
        if cfg.num_minibatches > 1:
            self._fill_old_logp([s for s in samples if s.advantage != 0 or need_kl])
        totals: dict[str, float] = {}
        grad_norms, loss_total, updated = [], 0.0, 0
        for mb in minibatches:
            norm = Normalizer(
                tokens=float(sum(s.counted for s in mb)),
                seqs=float(len(mb)),
                max_tokens=float(cfg.loss.max_completion_tokens),
            )
            # zero-advantage rollouts add nothing but their counts (exact) unless KL is on
            active = [s for s in mb if s.advantage != 0 or need_kl]
            if not active:
                continue
            for micro in self._micro_batches(active):
                loss, stats = self._micro_step(micro, norm)
                loss.backward()
                loss_total += float(loss.detach())
                for k, v in stats.items():
                    totals[k] = totals.get(k, 0.0) + v
            grad_norms.append(float(torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)))
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            updated += 1
        if updated:
            self.version += 1
        elapsed = time.perf_counter() - t0
        tok = totals.get("tokens", 0.0)
        metrics: dict[str, Any] = {
            "policy_version": self.version,
            "updated": updated > 0,
            "optimizer_steps": updated,
            "loss": loss_total / max(updated, 1),
            "pg_loss": totals.get("pg_loss_sum", 0.0) / max(tok, 1),
            "kl": totals.get("kl_sum", 0.0) / max(tok, 1),
            "entropy": totals.get("entropy_sum", 0.0) / max(tok, 1),
            "clip_frac_low": totals.get("clip_low", 0.0) / max(tok, 1),
            "clip_frac_high": totals.get("clip_high", 0.0) / max(tok, 1),
            "clip_frac_dual": totals.get("clip_dual", 0.0) / max(tok, 1),
            "ratio_mean": totals.get("ratio_sum", 0.0) / max(tok, 1),
            "is_weight_mean": totals.get("is_weight_sum", 0.0) / max(tok, 1),
            "is_capped_frac": totals.get("is_capped", 0.0) / max(tok, 1),
            "behavior_kl": totals.get("behavior_kl_sum", 0.0) / max(tok, 1),
            "grad_norm": float(np.mean(grad_norms)) if grad_norms else 0.0,
            "lr": self.optimizer.param_groups[0]["lr"],
            "trained_tokens": tok,
            "step_time_s": elapsed,
            "tokens_per_s": tok / elapsed if elapsed > 0 else 0.0,
            "policy_lag_mean": float(np.mean(lags)) if lags else 0.0,
            "policy_lag_max": float(max(lags)) if lags else 0.0,
            **counts,
            **adv.diagnostics,
        }
        self.logger.log(self.version, metrics)
        return metrics

    def _select(
        self, groups: list[RolloutGroup], advantages: list[list[float]]
    ) -> tuple[list[_Sample], list[int], dict[str, float]]:
        """Rollouts that enter the loss: drop stale ones, empty ones and (optionally) truncated."""
        cfg = self.config
        samples, lags = [], []
        stale = masked = empty = 0
        for g, advs in zip(groups, advantages, strict=True):
            for r, a in zip(g.rollouts, advs, strict=True):
                lag = self.version - r.policy_version
                if cfg.max_staleness is not None and lag > cfg.max_staleness:
                    stale += 1
                    continue
                if cfg.loss.mask_truncated and r.truncated:
                    masked += 1
                    continue
                if not r.completion_ids or not r.sampled_length:
                    empty += 1
                    continue
                if not r.prompt_ids:
                    raise ValueError(f"rollout of group {g.group_id}: no prompt_ids to condition on")
                lags.append(lag)
                samples.append(_Sample(r.prompt_ids, r.completion_ids, r.behavior_logprobs, a,
                                       r.sampled, r.temperatures))
        counts = {
            "samples": float(len(samples)),
            "stale_dropped": float(stale),
            "truncated_masked": float(masked),
            "empty_dropped": float(empty),
            "zero_adv_samples": float(sum(s.advantage == 0 for s in samples)),
        }
        return samples, lags, counts

    def _micro_batches(self, samples: list[_Sample]) -> list[list[_Sample]]:
        """Packs: completions of ONE prompt, longest first, with prompt + completions <=
        micro_batch_tokens (a completion that alone exceeds it gets a pack of its own)."""
        by_prompt: dict[tuple[int, ...], list[_Sample]] = {}
        for s in samples:
            by_prompt.setdefault(tuple(s.prompt), []).append(s)
        packs: list[list[_Sample]] = []
        for group in by_prompt.values():
            cur: list[_Sample] = []
            for s in sorted(group, key=lambda s: -len(s.completion)):
                if cur and _pack_length(cur) + len(s.completion) > self.config.micro_batch_tokens:
                    packs.append(cur)
                    cur = []
                cur.append(s)
            packs.append(cur)
        return packs

    def _batch_tensors(self, pack: list[_Sample]) -> dict[str, Any]:
        """One row: the prompt once, then every completion; each completion attends to the
        prompt and its own prefix only (4D mask) and its positions restart after the prompt,
        so its log-probs are those of prompt + completion alone.  G completions of a prompt
        cost P + sum(c) tokens instead of G * (P + c).  Loss tensors are (k, C), completions
        right-aligned (C = longest completion)."""
        prompt, lens = pack[0].prompt, [len(s.completion) for s in pack]
        P, C, L = len(prompt), max(lens), _pack_length(pack)
        ids = torch.tensor([prompt + [t for s in pack for t in s.completion]], dtype=torch.long)
        seg = torch.repeat_interleave(torch.arange(len(pack) + 1), torch.tensor([P, *lens]))
        starts = P + np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(int)
        pos = torch.cat([torch.arange(P)] + [torch.arange(P, P + c) for c in lens])[None]
        q, k = torch.arange(L)[:, None], torch.arange(L)[None, :]
        allowed = (k <= q) & ((seg[None, :] == 0) | (seg[None, :] == seg[:, None]))
        dtype = next(self.model.parameters()).dtype
        attn = torch.zeros((1, 1, L, L), dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        # logits at the prompt's last position and each completion position but its last
        keep = torch.cat([torch.cat([torch.tensor([P - 1]), torch.arange(st, st + c - 1)])
                          for st, c in zip(starts, lens)])
        rows = torch.repeat_interleave(torch.arange(len(pack)), torch.tensor(lens))
        cols = torch.cat([torch.arange(C - c, C) for c in lens])
        # the loss, KL, entropy and token counts see only tokens the policy sampled
        flat_mask = torch.tensor([float(f) for s in pack
                                  for f in (s.sampled if s.sampled is not None else [True] * len(s.completion))])
        mask = torch.zeros((len(pack), C))
        mask[rows, cols] = flat_mask
        behav = torch.full((len(pack), C), float("nan"))
        for i, s in enumerate(pack):
            if s.behavior is not None:
                behav[i, C - lens[i]:] = torch.tensor(
                    [float("nan") if x is None else x for x in s.behavior])
        targets = torch.tensor([t for s in pack for t in s.completion], dtype=torch.long)
        base = self.config.loss.temperature
        temps = torch.tensor([t for s in pack for t in (s.temps or [base] * len(s.completion))])
        return {"ids": ids, "attn": attn, "pos": pos, "keep": keep, "targets": targets,
                "rows": rows, "cols": cols, "mask": mask, "flat_mask": flat_mask, "behav": behav,
                "temps": temps, "C": C}

    def _logits(self, model: torch.nn.Module, b: dict[str, Any]) -> torch.Tensor:
        """(sum c, vocab) logits predicting each completion token, packed order."""
        out = model(
            input_ids=b["ids"], attention_mask=b["attn"], position_ids=b["pos"],
            logits_to_keep=b["keep"], use_cache=False,
        )
        # log-probs of the tempered policy the sampler drew from, token by token
        return out.logits[0] / b["temps"][:, None].to(out.logits.dtype)

    @staticmethod
    def _unpack(flat: torch.Tensor, b: dict[str, Any]) -> torch.Tensor:
        """Packed per-token values -> (k, C), completions right-aligned, zeros elsewhere."""
        out = flat.new_zeros(b["mask"].shape)
        return out.index_put((b["rows"], b["cols"]), flat)

    def _hidden(self, model: torch.nn.Module, b: dict[str, Any]) -> torch.Tensor:
        """(sum c, hidden) last hidden states predicting each completion token, packed order."""
        core = model.get_base_model() if hasattr(model, "get_base_model") else model
        decoder = getattr(core, core.base_model_prefix)  # LoRA layers live inside it (peft)
        out = decoder(input_ids=b["ids"], attention_mask=b["attn"], position_ids=b["pos"],
                      use_cache=False)
        return out.last_hidden_state[0, b["keep"]]

    def _token_logp(self, model: torch.nn.Module, b: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """(log-prob, entropy) of every completion token, packed order: from full logits, or
        `logprob_chunk` positions at a time from the hidden states (no (N, vocab) tensor)."""
        chunk = self.config.logprob_chunk
        if chunk is None:
            logits = self._logits(model, b)
            return token_logprobs(logits, b["targets"]), token_entropy(logits.detach())
        core = model.get_base_model() if hasattr(model, "get_base_model") else model
        weight = core.get_output_embeddings().weight
        return chunked_token_logprobs(self._hidden(model, b), weight, b["targets"], b["temps"], chunk)

    def _logp(self, model: torch.nn.Module, b: dict[str, Any]) -> torch.Tensor:
        return self._unpack(self._token_logp(model, b)[0], b)

    def _micro_step(self, micro: list[_Sample], norm: Normalizer) -> tuple[torch.Tensor, dict]:
        b = self._batch_tensors(micro)
        flat_logp, entropy = self._token_logp(self.model, b)
        logp = self._unpack(flat_logp, b)
        ref = self._ref_logp(b) if self.config.loss.kl_coef > 0 else None
        old = None
        if micro[0].old_logp is not None:
            old = self._unpack(torch.cat([s.old_logp for s in micro]), b)
        batch = LossBatch(
            logp=logp, mask=b["mask"], advantages=torch.tensor([s.advantage for s in micro]),
            old_logp=old, behavior_logp=b["behav"], ref_logp=ref,
        )
        loss, stats = policy_loss(batch, self.config.loss, norm)
        stats["entropy_sum"] = float((entropy.detach() * b["flat_mask"]).sum())
        return loss, stats

    @torch.no_grad()
    def _ref_logp(self, b: dict[str, Any]) -> torch.Tensor:
        if self.config.lora is not None:
            with self.model.disable_adapter():
                return self._logp(self.model, b)
        assert self.ref_model is not None
        return self._logp(self.ref_model, b)

    @torch.no_grad()
    def _fill_old_logp(self, samples: list[_Sample]) -> None:
        """pi_old for every minibatch = the policy before this step's first update."""
        for micro in self._micro_batches(samples):
            b = self._batch_tensors(micro)
            logp = self._logp(self.model, b)
            for i, s in enumerate(micro):
                s.old_logp = logp[i, b["C"] - len(s.completion):].clone()

    @torch.no_grad()
    def sequence_logprob(self, prompt_ids: list[int], completion_ids: list[int]) -> float:
        """Sum of log-probs of `completion_ids` after `prompt_ids` under the current policy."""
        s = _Sample(list(prompt_ids), list(completion_ids), None, 0.0, None)
        return float(self._logp(self.model, self._batch_tensors([s])).sum())

    # ------------------------------------------------------------------ checkpoints

    def save_adapter(self, out_dir: str | Path) -> Path:
        """The current weights for the sampler: a peft adapter dir (vLLM `load_lora_adapter`,
        peft `PeftModel.from_pretrained`), or a full transformers model dir with tokenizer."""
        out = Path(out_dir)
        self.model.save_pretrained(out, safe_serialization=True)
        if self.config.lora is None and self.model_dir is not None:
            for name in TOKENIZER_FILES:
                if (self.model_dir / name).exists():
                    shutil.copy2(self.model_dir / name, out / name)
        return out

    def save_checkpoint(self, ckpt_dir: str | Path) -> Path:
        """Weights, optimiser, RNG states and version; written to a temp dir, then renamed."""
        ckpt = Path(ckpt_dir)
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{ckpt.name}-", dir=ckpt.parent))
        self.save_adapter(tmp / (ADAPTER_DIR if self.config.lora is not None else MODEL_DIR))
        torch.save(self.optimizer.state_dict(), tmp / OPTIM_FILE)
        torch.save(torch.get_rng_state(), tmp / TORCH_RNG_FILE)
        write_state(tmp, self.version, numpy_rng=self.rng.bit_generator.state,
                    config=json.loads(self.config.model_dump_json()))
        if ckpt.exists():
            shutil.rmtree(ckpt)
        os.rename(tmp, ckpt)
        return ckpt

    def load_checkpoint(self, ckpt_dir: str | Path) -> None:
        """Restore what `save_checkpoint` wrote into this (identically configured) learner."""
        from safetensors.torch import load_file

        ckpt = Path(ckpt_dir)
        version, state = read_state(ckpt)
        if self.config.lora is not None:
            from peft import set_peft_model_state_dict

            weights = load_file(ckpt / ADAPTER_DIR / ADAPTER_WEIGHTS_FILE)
            res = set_peft_model_state_dict(self.model, weights)
            if getattr(res, "unexpected_keys", None):
                raise ValueError(f"{ckpt}: adapter keys do not match the model: {res.unexpected_keys[:3]}")
        else:
            weights = {}
            for f in sorted((ckpt / MODEL_DIR).glob("*.safetensors")):
                weights.update(load_file(f))
            missing, unexpected = self.model.load_state_dict(weights, strict=False)
            tied = set(getattr(self.model, "_tied_weights_keys", None) or {}) | {"lm_head.weight"}
            if unexpected or set(missing) - tied:
                raise ValueError(f"{ckpt}: weights do not match the model: {unexpected[:3] or missing[:3]}")
        self.optimizer.load_state_dict(torch.load(ckpt / OPTIM_FILE, weights_only=True))
        torch.set_rng_state(torch.load(ckpt / TORCH_RNG_FILE, weights_only=True))
        self.rng.bit_generator.state = state["numpy_rng"]
        self.version = version
