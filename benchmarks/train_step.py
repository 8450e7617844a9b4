"""Train-step time: our `trainer.Learner` against TRL 1.16 `GRPOTrainer`, same model/LoRA/batch.

TRL runs in its own virtualenv (created here on first use: `pip install trl==1.16.0
torch==2.13.0 ...`), never in the project's.  A TRL step generates its completions and then
trains on them; our Learner only trains (the search samples).  So we time, for TRL, the whole
step and the step minus `_generate_and_score_completions`, force every completion to exactly
`--completion-tokens` tokens (min_new_tokens), and feed our Learner rollouts with the very
prompt/completion lengths TRL trained on.  Both load the weights in `--dtype` (no autocast), no
KL, token-mean loss, one optimiser step per step, the whole batch in one forward, the same
torch thread count.

    python benchmarks/train_step.py [--model DIR] [--group-size 4] [--completion-tokens 32]
    python benchmarks/train_step.py --variants base,top4,chunk,top4+chunk [--dtype bfloat16] ...
        our learner's speed options side by side (one subprocess each, interleaved repeats):
        step time, peak RSS, and the log-probs' largest difference from `base` in fp32
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRL_PINS = ["trl==1.16.0", "torch==2.13.0", "transformers==5.23.0", "peft==0.21.2"]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=None, help="model dir (default: the tiny test LM)")
    p.add_argument("--group-size", type=int, default=4, help="completions per step (one prompt)")
    p.add_argument("--prompt-tokens", type=int, default=64)
    p.add_argument("--completion-tokens", type=int, default=32)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                   help="weights dtype on both sides (LoRA weights stay float32; no autocast)")
    p.add_argument("--steps", type=int, default=5, help="timed steps (after --warmup)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads for both sides (default: torch's); on a loaded machine use 1:"
                        " oversubscribed OpenMP threads slow small models down 10-30x")
    p.add_argument("--trl-venv", type=Path, default=Path("/tmp/trl-venv"))
    p.add_argument("--skip-trl", action="store_true")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--trl-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--variants", default=None,
                   help="compare our learner's options instead of TRL: comma list of base, top<N>"
                        " (LoRA on the top N layers), chunk (chunked log-probs), bf16/fp32 (weights),"
                        " ckpt (gradient checkpointing), joined by +")
    p.add_argument("--repeats", type=int, default=2, help="--variants: interleaved rounds")
    p.add_argument("--ours-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--gradient-checkpointing", action="store_true")
    return p.parse_args()


# ---------------------------------------------------------------------------- TRL side (child)


def trl_child(a: argparse.Namespace) -> dict:
    """Runs inside the TRL venv: only TRL/transformers/peft imports here."""
    import random
    import tempfile

    import torch

    if a.threads:
        torch.set_num_threads(a.threads)

    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    tok = AutoTokenizer.from_pretrained(a.model)
    text = Path(json.__file__).read_text()
    prompt = tok.decode(tok(text, add_special_tokens=False)["input_ids"][: a.prompt_tokens])
    total = a.warmup + a.steps
    ds = Dataset.from_dict({"prompt": [prompt] * (total + 2)})
    rnd = random.Random(0)

    def reward(completions, **_):
        return [rnd.random() for _ in completions]

    cfg = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-bench-"), per_device_train_batch_size=a.group_size,
        num_generations=a.group_size, max_completion_length=a.completion_tokens,
        generation_kwargs={"min_new_tokens": a.completion_tokens}, learning_rate=1e-5,
        beta=0.0, loss_type="dapo", max_steps=total, logging_steps=1, save_strategy="no",
        report_to=[], bf16=False, use_cpu=True, gradient_accumulation_steps=1,
        dataloader_num_workers=0, seed=0, disable_dropout=True,
        model_init_kwargs={"dtype": a.dtype},
    )
    lora = LoraConfig(r=a.lora_r, lora_alpha=2 * a.lora_r, lora_dropout=0.0,
                      target_modules=TARGETS, task_type="CAUSAL_LM")
    trainer = GRPOTrainer(model=str(a.model), reward_funcs=reward, args=cfg, train_dataset=ds,
                          processing_class=tok, peft_config=lora)
    gen_times: list[float] = []
    shapes: list[tuple[int, int]] = []
    original_gen = trainer._generate_and_score_completions
    original_loss = trainer._compute_loss

    def timed_gen(batch):
        t = time.perf_counter()
        out = original_gen(batch)
        gen_times.append(time.perf_counter() - t)
        return out

    def seen_loss(model, inputs):
        shapes.append((int(inputs["prompt_mask"].sum()), int(inputs["completion_mask"].sum())))
        return original_loss(model, inputs)

    trainer._generate_and_score_completions = timed_gen
    trainer._compute_loss = seen_loss
    step_times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *args, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, *args, **kw):
            step_times.append(time.perf_counter() - self.t)

    trainer.add_callback(Clock())
    trainer.train()
    train_only = [s - g for s, g in zip(step_times, gen_times, strict=True)]
    return {
        "step_s": step_times[a.warmup:], "train_only_s": train_only[a.warmup:],
        "gen_s": gen_times[a.warmup:], "prompt_tokens": shapes[-1][0] // a.group_size,
        "completion_tokens": shapes[-1][1] // a.group_size, "threads": _threads(),
    }


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def ensure_trl_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    probe = "import trl, sys; sys.exit(trl.__version__ != '1.16.0')"
    if py.exists() and subprocess.run([py, "-c", probe]).returncode == 0:
        return py
    print(f"creating {venv} with {' '.join(TRL_PINS)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", *TRL_PINS], check=True)
    return py


def run_trl(a: argparse.Namespace, model: Path) -> dict:
    py = ensure_trl_venv(a.trl_venv)
    cmd = [str(py), __file__, "--trl-child", "--model", str(model), "--group-size", str(a.group_size),
           "--prompt-tokens", str(a.prompt_tokens), "--completion-tokens", str(a.completion_tokens),
           "--lora-r", str(a.lora_r), "--steps", str(a.steps), "--warmup", str(a.warmup),
           "--dtype", a.dtype]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": ""}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"TRL run failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- our side


def variant_options(name: str) -> dict:
    """Learner options of a variant name: base, top<N>, chunk, bf16/fp32, ckpt, joined by '+'."""
    opts: dict = {"layers": None, "logprob_chunk": None, "dtype": None, "ckpt": None}
    for part in name.split("+"):
        if part == "ckpt":
            opts["ckpt"] = True
        elif part in ("bf16", "fp32"):
            opts["dtype"] = {"bf16": "bfloat16", "fp32": "float32"}[part]
        elif part.startswith("top"):
            opts["layers"] = int(part[3:])
        elif part == "chunk":
            opts["logprob_chunk"] = 256
        elif part != "base":
            raise SystemExit(f"--variants: unknown part {part!r} (base, top<N>, chunk, bf16, fp32, ckpt)")
    return opts


def run_ours(a: argparse.Namespace, model: Path, prompt_tokens: int, completion_tokens: int,
             variant: str = "base") -> dict:
    import resource

    import numpy as np
    import torch

    from trainer.config import LearnerConfig, LoraSettings
    from trainer.learner import Learner, _Sample
    from trainer.records import Rollout, RolloutGroup

    opts = variant_options(variant)
    cfg = LearnerConfig(
        lora=LoraSettings(r=a.lora_r, alpha=2 * a.lora_r, target_modules=TARGETS, layers=opts["layers"]),
        lr=1e-5, advantage={"estimator": "grpo"}, micro_batch_tokens=10**9, max_staleness=None,
        dtype=opts["dtype"] or a.dtype, logprob_chunk=opts["logprob_chunk"],
        gradient_checkpointing=bool(opts["ckpt"] or a.gradient_checkpointing),
    )
    if a.threads:
        torch.set_num_threads(a.threads)
    learner = Learner(model, cfg)
    rng = np.random.default_rng(0)
    vocab = learner.model.config.vocab_size
    times = []
    for i in range(a.warmup + a.steps):
        gid = f"p{i}"
        prompt = rng.integers(10, vocab - 10, prompt_tokens).tolist()
        group = RolloutGroup(group_id=gid, rollouts=[
            Rollout(group_id=gid, prompt_ids=prompt,
                    completion_ids=rng.integers(10, vocab - 10, completion_tokens).tolist(),
                    rewards=[[float(rng.random())]])
            for _ in range(a.group_size)
        ])
        t = time.perf_counter()
        learner.step([group])
        times.append(time.perf_counter() - t)
    # log-probs of a fixed batch, for the accuracy check against base (fresh LoRA: B = 0, so every
    # variant starts from the base model's policy)
    probe = np.random.default_rng(123)
    fixed = [_Sample(probe.integers(10, vocab - 10, prompt_tokens).tolist(),
                     probe.integers(10, vocab - 10, completion_tokens).tolist(), None, 0.0)]
    fresh = Learner(model, cfg)
    with torch.no_grad():
        logp = fresh._logp(fresh.model, fresh._batch_tensors(fixed))[0].float().tolist()
    return {"step_s": times[a.warmup:], "threads": _threads(), "logp": logp,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_variants(a: argparse.Namespace, model: Path) -> None:
    """Our learner's options side by side: a subprocess per variant (peak RSS is per process),
    rounds interleaved so that machine load hits every variant alike."""
    names = a.variants.split(",")
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for _ in range(a.repeats):
        for n in names:
            cmd = [sys.executable, __file__, "--ours-child", n, "--model", str(model),
                   "--group-size", str(a.group_size), "--prompt-tokens", str(a.prompt_tokens),
                   "--completion-tokens", str(a.completion_tokens), "--lora-r", str(a.lora_r),
                   "--steps", str(a.steps), "--warmup", str(a.warmup), "--dtype", a.dtype]
            cmd += ["--threads", str(a.threads)] if a.threads else []
            cmd += ["--gradient-checkpointing"] if a.gradient_checkpointing else []
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"variant {n} failed:\n{out.stderr[-3000:]}")
            runs[n].append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = statistics.median
    base = runs[names[0]][0]["logp"]
    result = {"model": str(model), "dtype": a.dtype, "group_size": a.group_size,
              "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
              "lora_r": a.lora_r, "gradient_checkpointing": a.gradient_checkpointing,
              "command": " ".join(["python", "benchmarks/train_step.py", *sys.argv[1:]]), "variants": {}}
    print(f"{a.group_size} completions x {a.completion_tokens} tokens, prompt {a.prompt_tokens}, "
          f"LoRA r={a.lora_r}, {a.dtype}, {a.steps} steps x {a.repeats} rounds")
    for n in names:
        steps = [s for r in runs[n] for s in r["step_s"]]
        diff = max(abs(x - y) for x, y in zip(runs[n][0]["logp"], base))
        row = {"step_s_median": med(steps), "step_s": steps,
               "peak_rss_mb": max(r["peak_rss_mb"] for r in runs[n]), "logp_max_abs_diff_vs_first": diff}
        row["speedup_vs_first"] = med([s for r in runs[names[0]] for s in r["step_s"]]) / row["step_s_median"]
        result["variants"][n] = row
        print(f"{n:14s} step {row['step_s_median']:7.2f} s  ({row['speedup_vs_first']:.2f}x)  "
              f"peak RSS {row['peak_rss_mb']:7.0f} MB  |logp - {names[0]}| <= {diff:.2e}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))


def main() -> None:
    a = parse()
    if a.trl_child:
        print(json.dumps(trl_child(a)))
        return
    sys.path.insert(0, str(ROOT))
    if a.model is None:
        from tests.fixtures.tiny_lm import build_tiny_lm, default_cache_dir

        a.model = build_tiny_lm(default_cache_dir())
    model = a.model.resolve()
    if a.ours_child:
        print(json.dumps(run_ours(a, model, a.prompt_tokens, a.completion_tokens, a.ours_child)))
        return
    if a.variants:
        run_variants(a, model)
        return
    result: dict = {"model": str(model), "group_size": a.group_size, "lora_r": a.lora_r}
    prompt_tokens, completion_tokens = a.prompt_tokens, a.completion_tokens
    if not a.skip_trl:
        trl = run_trl(a, model)
        result["trl"] = trl
        prompt_tokens, completion_tokens = trl["prompt_tokens"], trl["completion_tokens"]
    result["ours"] = run_ours(a, model, prompt_tokens, completion_tokens)
    result.update(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    med = statistics.median
    print(f"model {model}")
    print(f"batch: {a.group_size} completions x {completion_tokens} tokens, prompt {prompt_tokens} "
          f"tokens, LoRA r={a.lora_r} on {','.join(TARGETS)}, {a.dtype}, {a.steps} timed steps, "
          f"{result['ours']['threads']} torch threads")
    ours = med(result["ours"]["step_s"])
    print(f"ours   Learner.step            median {ours:8.3f} s")
    if "trl" in result:
        t_all, t_train = med(result["trl"]["step_s"]), med(result["trl"]["train_only_s"])
        print(f"TRL    GRPOTrainer step        median {t_all:8.3f} s  (generation "
              f"{med(result['trl']['gen_s']):.3f} s)")
        print(f"TRL    step minus generation   median {t_train:8.3f} s")
        print(f"ratio  ours / TRL train-only   {ours / t_train:8.2f}x   (target <= 0.8x)")
        print(f"ratio  ours / TRL whole step   {ours / t_all:8.2f}x")
        result.update(ratio_train_only=ours / t_train, ratio_whole_step=ours / t_all)
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
