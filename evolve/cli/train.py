"""`evolve train` (offline fine-tuning of the mutator on a suite) and `evolve eval passk`
(pass@k, best@k and reward-space diversity of a model or adapter on a suite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from evolve.cli.common import PLUGIN
from evolve.config import ConfigError, RunConfig, load_config, validate

CONFIG = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                      help="run config YAML: its mutation, prompt, sandbox, mutator and trainer"
                           " sections apply (defaults: `evolve config show`)")
SUITE = click.option("--suite", required=True, help="suite name (builtin, humaneval) or a path")
PROBLEM = click.option("--problem", "problem_ids", multiple=True,
                       help="only these problem ids of the suite (repeatable)")
MODEL = click.option("--model", help="prepared model name or directory (transformers backend);"
                                     " default: the config's mutator")


def _config(path: Path | None, model: str | None, **mutation: Any) -> RunConfig:
    """The config file with the command-line overrides applied (validated like a file)."""
    cfg = load_config(path)
    data = cfg.snapshot()
    if model:
        keep = data["mutator"] if data["mutator"]["backend"] == "transformers" else {}
        data["mutator"] = {**keep, "backend": "transformers", "model": model}
    for key, value in mutation.items():
        if value is None:
            continue
        if key in ("max_tokens", "temperature"):
            data["mutation"]["sampling"][key] = value
        else:
            data["mutation"][key] = value
    return validate(data, str(path) if path else "<command line>")


def _problems(suite: str, ids: tuple[str, ...]):
    from problems.errors import ProblemFormatError
    from problems.loaders import load_suite

    try:
        problems = load_suite(suite)
    except (ProblemFormatError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if ids:
        known = {p.id: p for p in problems}
        missing = [i for i in ids if i not in known]
        if missing:
            raise click.ClickException(f"suite {suite}: no problem {missing[0]!r}")
        problems = [known[i] for i in ids]
    if not problems:
        raise click.ClickException(f"suite {suite}: no problems")
    return problems


def _mutator(cfg: RunConfig, plugin: str | None):
    from evolve.mutator import build_mutator
    from evolve.runs import load_factory

    return load_factory(plugin)(cfg) if plugin else build_mutator(cfg.mutator)


@click.command("train")
@SUITE
@PROBLEM
@click.option("--estimator", help="advantage estimator (vpo, grpo, multi_rlvr, ...);"
                                  " default: the config's trainer.advantage.estimator")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="checkpoints OUT/vN (peft adapter in OUT/vN/adapter) and OUT/trainer.jsonl")
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--prompts-per-step", type=click.IntRange(min=1), default=4, show_default=True,
              help="problems (groups) per learner step, round robin over the suite")
@click.option("--answers", type=click.IntRange(min=1), help="m (grpo-style arms: 1)")
@click.option("--completions", type=click.IntRange(min=1), help="G: completions per group")
@click.option("--max-tokens", type=click.IntRange(min=1))
@click.option("--lr", type=click.FloatRange(min=0, min_open=True))
@click.option("--init", "init_ckpt", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="continue from a learner checkpoint (OUT/vN of an earlier `evolve train`)")
@MODEL
@CONFIG
@PLUGIN
def train_command(suite, problem_ids, estimator, out_dir, steps, prompts_per_step, answers,
                  completions, max_tokens, lr, init_ckpt, model, config_path, plugin) -> None:
    """Fine-tune the mutator (LoRA) on SUITE before a search; one JSON line per step."""
    from evolve.offline import make_tasks, train
    from evolve.learner_setup import OnlineError, learner_base, learner_config, restore
    from trainer.checkpoints import adapter_path
    from evolve.online_config import TrainerConfig
    from sandbox.api import Sandbox
    from trainer.advantages import ADVANTAGE_ESTIMATORS
    from trainer.learner import Learner

    if estimator and estimator not in ADVANTAGE_ESTIMATORS:
        raise click.BadParameter(f"unknown estimator; known: {', '.join(ADVANTAGE_ESTIMATORS)}",
                                 param_hint="--estimator")
    try:
        cfg = _config(config_path, model, answers=answers, completions=completions,
                      max_tokens=max_tokens)
        data = cfg.snapshot()
        trainer = data["trainer"] or TrainerConfig().model_dump(mode="json")
        if estimator:
            trainer["advantage"]["estimator"] = estimator
        if lr:
            trainer["lr"] = lr
        data["trainer"] = trainer
        cfg = validate(data, str(config_path) if config_path else "<command line>")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    problems = _problems(suite, problem_ids)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _mutator(cfg, plugin) as mutator, Sandbox(cfg.sandbox) as box:
            base, _ = learner_base(cfg, mutator)
            learner = Learner(base, learner_config(cfg.trainer, cfg, out_dir))
            if init_ckpt:
                restore(learner, init_ckpt)
                mutator.load_adapter(learner.version, adapter_path(init_ckpt))
            tasks = make_tasks(problems, cfg, box)
            for row in train(learner, mutator, tasks, steps=steps, prompts_per_step=prompts_per_step,
                             config=cfg, sandbox=box, out_dir=out_dir):
                click.echo(json.dumps(row))
    except (OnlineError, RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None


@click.group("eval")
def eval_group() -> None:
    """Evaluate a mutator model or adapter on a problem suite."""


@eval_group.command("passk")
@SUITE
@PROBLEM
@click.option("--adapter", type=click.Path(file_okay=False, path_type=Path),
              help="peft adapter directory evaluated on top of the model")
@click.option("--samples", type=click.IntRange(min=1), default=10, show_default=True,
              help="completions per problem (each holds m answers)")
@click.option("--answers", type=click.IntRange(min=1), help="m answers per completion")
@click.option("--k", "ks", default="1,5,10", show_default=True, help="comma-separated k values")
@click.option("--max-tokens", type=click.IntRange(min=1))
@click.option("--temperature", type=click.FloatRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="full report as JSON")
@MODEL
@CONFIG
@PLUGIN
def passk_command(suite, problem_ids, adapter, samples, answers, ks, max_tokens, temperature,
                  as_json, model, config_path, plugin) -> None:
    """pass@k (unbiased), best@k (expected running max of fitness) and reward-space diversity
    (mean pairwise L1 of valid answers' score vectors) over every answer sampled per problem."""
    from evolve.map_elites import PASS_SCORE
    from evolve.offline import make_tasks, mean_report, passk_report, sample
    from sandbox.api import Sandbox

    try:
        k_values = sorted({int(x) for x in ks.split(",") if x.strip()})
    except ValueError:
        raise click.BadParameter(f"{ks!r}: expected integers like 1,5,10", param_hint="--k") from None
    if not k_values or min(k_values) < 1:
        raise click.BadParameter("k values must be >= 1", param_hint="--k")
    try:
        cfg = _config(config_path, model, answers=answers, max_tokens=max_tokens,
                      temperature=temperature)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    problems = _problems(suite, problem_ids)
    m = cfg.mutation.answers
    try:
        with _mutator(cfg, plugin) as mutator, Sandbox(cfg.sandbox) as box:
            if adapter:
                mutator.load_adapter(mutator.policy_version + 1, adapter)
            tasks = make_tasks(problems, cfg, box)
            pools = sample(mutator, tasks, samples, m, cfg.mutation, cfg.loop.seed, box)
    except (RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    reports = [{"id": t.problem.id, **passk_report(pool, k_values, PASS_SCORE)}
               for t, pool in zip(tasks, pools, strict=True)]
    report = {"model": getattr(cfg.mutator, "model", None), "adapter": str(adapter) if adapter else None,
              "samples": samples, "answers_per_sample": m, "per_problem": reports,
              "mean": mean_report(reports)}
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    for r in reports:
        passk = " ".join(f"pass@{k}={v:.3f}" for k, v in r["pass_at_k"].items())
        best = " ".join(f"best@{k}={v:.3f}" for k, v in r["best_at_k"].items())
        click.echo(f"{r['id']}: {r['valid']}/{r['answers']} valid, {r['solved']} solved | {passk} | "
                   f"{best} | diversity {r['diversity']:.3f}")
    mean = report["mean"]
    click.echo("mean: " + " ".join(f"pass@{k}={v:.3f}" for k, v in mean["pass_at_k"].items()) + " "
               + " ".join(f"best@{k}={v:.3f}" for k, v in mean["best_at_k"].items())
               + f" diversity {mean['diversity']:.3f}")


COMMANDS = [train_command, eval_group]
