"""Online fine-tuning of the mutator inside a search run (issue 6, item 4).

The search writes one rollout record per completion (evolve.search.commit_completion).  After
every batch, `OnlineTrainer.train_ready` takes the oldest `trainer.online.every_groups` complete
groups (all G completions of a prompt committed) that no step has consumed yet, turns them into
`trainer.records.RolloutGroup`s (one reward row per answer, see `REWARD_TRANSFORMS`), steps the
learner, writes checkpoint `RUN_DIR/adapters/vN` (peft adapter in `adapter/`, optimiser, RNG,
version), and in ONE transaction marks the rollouts consumed, sets `runs.policy_version` and
adds a `train` event.  The database is the source of truth: on resume the learner loads the
checkpoint of the recorded version, and a checkpoint written by a step whose transaction never
committed is simply overwritten by the replayed step.

The new adapter reaches the mutator through `SwappingMutator`, which applies `load_adapter` at
the start of the next `generate` call: generation runs in the loop's worker thread, and a swap
in the middle of a batch would mix two policies under one version number.

Memory: with LoRA and the in-process transformers mutator the learner is a second module tree
over the SAME base weight tensors (`shared_module`); only the LoRA weights, optimiser state and
activations are extra.  With the vLLM backend the base weights live in the server process, so
the learner needs its own copy (`trainer.online.model`, default the served model's directory).
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import threading
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from evolve.answers import stored_record
from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import Program, PromptRow
from evolve.db.models import Rollout as RolloutRow
from evolve.map_elites import PASS_SCORE
from evolve.mutator import Mutator, MutatorError
from evolve.online_config import TrainerConfig
from problems.model import Problem
from trainer.config import LearnerConfig
from trainer.records import RolloutGroup

log = logging.getLogger("evolve.online")
ADAPTERS_DIR = "adapters"
METRICS_FILE = "trainer.jsonl"
ADAPTER_SUBDIR = "adapter"  # trainer.learner.ADAPTER_DIR (not imported: it pulls in torch)


class OnlineError(ValueError):
    """Online fine-tuning cannot run with this configuration (one line)."""


# --- reward rows --------------------------------------------------------------------------------

@dataclass
class RewardContext:
    """What the reward variants need beyond the rollout itself."""

    parent_scores: dict[int, list[float]]  # prompt id -> the parent's score vector
    batch_start: dict[int, int]  # prompt id -> first iteration of its batch
    passed_by_iteration: list[tuple[int, frozenset[int]]]  # (iteration, tests passed), sorted
    seed_passed: frozenset[int]  # tests the seeds pass

    def solved_before(self, iteration: int) -> set[int]:
        """Tests a seed or a program created by a prompt before `iteration` passes."""
        out = set(self.seed_passed)
        for _, tests in self.passed_by_iteration[: bisect_left(self.passed_by_iteration, (iteration,))]:
            out |= tests
        return out


def _scores(r: RolloutRow, ctx: RewardContext) -> list[list[float]]:
    return [list(row) for row in r.rewards]


def _improvement(r: RolloutRow, ctx: RewardContext) -> list[list[float]]:
    parent = ctx.parent_scores[r.prompt_id]
    return [[max(0.0, x - p) for x, p in zip(row, parent, strict=True)] for row in r.rewards]


def _novel_tests(r: RolloutRow, ctx: RewardContext) -> list[list[float]]:
    solved = ctx.solved_before(ctx.batch_start[r.prompt_id])  # known when the prompt was planned
    return [[0.0 if i in solved else x for i, x in enumerate(row)] for row in r.rewards]


def _new_programs(r: RolloutRow, ctx: RewardContext) -> list[list[float]]:
    """Scores only for answers that became new programs: re-writing a program the island already
    holds earns nothing (with raw scores a real run collapsed onto exactly that)."""
    slots = (r.answers or {}).get("slots", {})
    return [list(row) if slots.get(str(k), {}).get("status") == "child" else [0.0] * len(row)
            for k, row in enumerate(r.rewards, start=1)]


REWARD_TRANSFORMS: dict[str, Callable[[RolloutRow, RewardContext], list[list[float]]]] = {
    "scores": _scores,
    "improvement": _improvement,
    "novel_tests": _novel_tests,
    "new_programs": _new_programs,
}


def reward_context(s, run_id: str, rows: list[RolloutRow]) -> RewardContext:
    prompt_ids = sorted({r.prompt_id for r in rows})
    prompts = s.scalars(select(PromptRow).where(PromptRow.id.in_(prompt_ids))).all()
    parents = repo.programs_by_seq(s, run_id, sorted({p.parent_seq for p in prompts}))
    q = (select(PromptRow.batch_index, func.min(PromptRow.iteration))
         .where(PromptRow.run_id == run_id, PromptRow.batch_index.in_({p.batch_index for p in prompts}))
         .group_by(PromptRow.batch_index))
    starts = dict(s.execute(q).all())
    by_iter: dict[int, set[int]] = {}
    seed: set[int] = set()
    q = select(Program.iteration, Program.scores, Program.origin).where(Program.run_id == run_id)
    for it, scores, origin in s.execute(q):
        passed = {i for i, x in enumerate(scores) if x >= PASS_SCORE}
        if origin == "seed" or it is None:
            seed |= passed
        else:
            by_iter.setdefault(it, set()).update(passed)
    return RewardContext(
        parent_scores={p.id: list(parents[p.parent_seq].scores) for p in prompts},
        batch_start={p.id: starts[p.batch_index] for p in prompts},
        passed_by_iteration=sorted((i, frozenset(t)) for i, t in by_iter.items()),
        seed_passed=frozenset(seed),
    )


def complete_groups(rows: list[RolloutRow], size: int) -> list[list[RolloutRow]]:
    """Groups holding all `size` completions, in the order of their first row (oldest first)."""
    by: dict[str, list[RolloutRow]] = {}
    for r in rows:
        by.setdefault(r.group_id, []).append(r)
    return [sorted(g, key=lambda r: r.completion_index) for g in by.values() if len(g) >= size]


def to_groups(groups: list[list[RolloutRow]], rewards: Callable[[RolloutRow], list[list[float]]],
              m: int, d: int) -> list[RolloutGroup]:
    """Trainer records of stored rollouts (evolve.answers.stored_record)."""
    return [RolloutGroup(group_id=g[0].group_id, num_answers=m, num_tests=d,
                         rollouts=[stored_record(r, rewards(r)) for r in g]) for g in groups]


# --- the learner over the mutator's weights ---------------------------------------------------

def shared_module(model):
    """A second module tree over the same parameter and buffer tensors (no weight copy): peft
    can inject LoRA layers into it without touching the original tree."""
    memo = {id(t): t for t in (*model.parameters(), *model.buffers())}
    return copy.deepcopy(model, memo)


def learner_config(cfg: TrainerConfig, run: RunConfig, run_dir: Path) -> LearnerConfig:
    """The learner's part of the trainer section; log-probs at the sampling temperature unless
    the config sets one, metrics next to the run."""
    data = cfg.model_dump(exclude={"online"})
    temp = run.mutation.sampling.temperature
    if "temperature" not in cfg.loss.model_fields_set and temp > 0:
        data["loss"]["temperature"] = temp
    if data["metrics_jsonl"] is None:
        data["metrics_jsonl"] = run_dir / METRICS_FILE
    return LearnerConfig.model_validate(data)


def learner_base(run: RunConfig, mutator: Mutator):
    """(model or directory, shared?) for the learner: the mutator's own module when possible."""
    import torch

    opts = run.trainer.online
    model = getattr(mutator, "model", None)
    if opts.share_weights and isinstance(model, torch.nn.Module):
        if hasattr(model, "peft_config"):
            raise OnlineError("trainer: the mutator already holds an adapter (mutator.adapter);"
                              " online training starts from the base model: unset it")
        return shared_module(model), True
    name = opts.model or getattr(run.mutator, "model", None)
    if not name:
        raise OnlineError("trainer.online.model: needed when the learner cannot share the mutator's weights")
    from evolve.mutator.transformers_backend import resolve_model

    return resolve_model(name), False


def restore(learner, ckpt: Path) -> None:
    """Load a learner checkpoint; the configured lr wins over the one saved with the optimiser
    (a checkpoint from offline training may have used another)."""
    learner.load_checkpoint(ckpt)
    for group in learner.optimizer.param_groups:
        group["lr"] = learner.config.lr


# --- hot swap -------------------------------------------------------------------------------

class SwappingMutator(Mutator):
    """Wraps a mutator; `load_adapter` takes effect at the start of the next `generate`."""

    def __init__(self, inner: Mutator) -> None:
        super().__init__()
        self.inner, self.name = inner, inner.name
        self._pending: tuple[int, Path] | None = None
        self._lock = threading.Lock()

    @property
    def policy_version(self) -> int:
        return self.inner.policy_version

    def load_adapter(self, version: int, path: Path) -> None:
        if not (Path(path) / "adapter_config.json").is_file():
            raise MutatorError(f"{path}: not a peft adapter directory (no adapter_config.json)")
        with self._lock:
            self._pending = (version, Path(path))

    def generate(self, prompts, n=1, params=None, parents=None):
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self.inner.load_adapter(*pending)
        return self.inner.generate(prompts, n, params, parents)

    def close(self) -> None:
        self.inner.close()


# --- the online trainer ---------------------------------------------------------------------

def checkpoint_dir(run_dir: Path, version: int) -> Path:
    return Path(run_dir) / ADAPTERS_DIR / f"v{version}"


def adapter_dir(run_dir: Path, version: int) -> Path:
    return checkpoint_dir(run_dir, version) / ADAPTER_SUBDIR


class OnlineTrainer:
    """Steps the learner on the run's replay buffer and hands new adapters to the mutator."""

    def __init__(self, run_dir: Path, factory, run_id: str, config: RunConfig, mutator: Mutator):
        from trainer.learner import Learner

        if config.trainer is None:
            raise OnlineError("trainer: null (online fine-tuning is off)")
        if config.mutator.backend == "openai":
            raise OnlineError("trainer: the openai mutator backend returns no token ids; use"
                              " transformers or vllm for online fine-tuning")
        self.run_dir, self.factory, self.run_id = Path(run_dir), factory, run_id
        self.config, self.opts = config, config.trainer.online
        self.mutator = SwappingMutator(mutator)
        base, self.shared = learner_base(config, mutator)
        self.learner = Learner(base, learner_config(config.trainer, config, self.run_dir))
        log.info("online learner %s the mutator's base weights",
                 "shares" if self.shared else "does not share (own copy of)")
        with repo.transaction(factory) as s:
            version = repo.get_run(s, run_id).policy_version or 0
        if not version and self.opts.init_checkpoint:
            version = self._import(Path(self.opts.init_checkpoint))
        if version:
            restore(self.learner, checkpoint_dir(self.run_dir, version))
            self.mutator.load_adapter(version, adapter_dir(self.run_dir, version))
        self.transform = REWARD_TRANSFORMS[self.opts.reward]

    def _import(self, ckpt: Path) -> int:
        """Copy a learner checkpoint (`evolve train`, another run) in as this run's first
        version: its own version number, so policy lags stay meaningful."""
        from trainer.learner import STATE_FILE

        if not (ckpt / STATE_FILE).is_file():
            raise OnlineError(f"trainer.online.init_checkpoint: {ckpt} is not a learner checkpoint")
        version = int(json.loads((ckpt / STATE_FILE).read_text())["policy_version"])
        if version < 1:
            raise OnlineError(f"trainer.online.init_checkpoint: {ckpt} holds version 0 (untrained)")
        dest = checkpoint_dir(self.run_dir, version)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(ckpt, dest)
        with repo.transaction(self.factory) as s:
            repo.update_run(s, self.run_id, policy_version=version)
            repo.add_event(s, self.run_id, "train_init", {"version": version, "from": str(ckpt)})
        return version

    def chain(self, on_batch: Callable | None) -> Callable:
        def after_batch(search, plan, happened) -> None:
            for info in self.train_ready():
                happened.append(f"trained v{info['version']}" if info["updated"] else "train: no update")
            if on_batch:
                on_batch(search, plan, happened)
        return after_batch

    def train_ready(self) -> list[dict[str, Any]]:
        """One learner step per `every_groups` complete unconsumed groups; returns the events."""
        m = self.config.mutation.answers
        G, N = self.config.mutation.completions, self.opts.every_groups
        done = []
        while True:
            with repo.transaction(self.factory) as s:
                run = repo.get_run(s, self.run_id)
                d = len(Problem.model_validate(run.problem).search_view().tests)
                groups = complete_groups(list(repo.unconsumed_rollouts(s, self.run_id)), G)
                if len(groups) < N:
                    return done
                take = groups[:N]
                ctx = reward_context(s, self.run_id, [r for g in take for r in g])
            records = to_groups(take, lambda r: self.transform(r, ctx), m, d)
            metrics = self.learner.step(records)
            done.append(self._commit(take, metrics))

    def _commit(self, take: list[list[RolloutRow]], metrics: dict[str, Any]) -> dict[str, Any]:
        version, path = self.learner.version, None
        if metrics["updated"]:
            self.learner.save_checkpoint(checkpoint_dir(self.run_dir, version))
            path = adapter_dir(self.run_dir, version)
        scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float | bool)}
        detail = {"version": version, "updated": bool(metrics["updated"]), "groups": len(take),
                  "rollouts": sum(len(g) for g in take), "reward": self.opts.reward,
                  "adapter": str(path) if path else None, "metrics": scalars}
        with repo.transaction(self.factory) as s:
            repo.mark_consumed(s, [r.id for g in take for r in g])
            repo.update_run(s, self.run_id, policy_version=version)
            repo.add_event(s, self.run_id, "train", detail)
        if path is not None:
            self.mutator.load_adapter(version, path)
        log.info("online step: version %d (updated=%s) on %d groups", version, metrics["updated"], len(take))
        return detail


def attach(run_dir: Path, factory, run_id: str, config: RunConfig, mutator: Mutator,
           on_batch: Callable | None) -> tuple[Mutator, Callable, OnlineTrainer]:
    """The hook `evolve.runs.execute` calls when `trainer` is set: the swapping mutator and the
    per-batch callback that trains (groups left over from before a restart train after the
    first batch)."""
    online = OnlineTrainer(run_dir, factory, run_id, config, mutator)
    return online.mutator, online.chain(on_batch), online
