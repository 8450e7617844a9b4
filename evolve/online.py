"""Online fine-tuning of the mutator inside a search run.

The search writes one rollout record per completion (evolve.search.commit_completion).  After
every batch, `OnlineTrainer.train_ready` takes the oldest `trainer.online.every_groups` complete
groups (all G completions of a prompt committed) that no step has consumed yet, turns them into
`trainer.records.RolloutGroup`s (one reward row per answer, see `evolve.rewards`), steps the
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

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evolve.answers import stored_record
from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import Rollout as RolloutRow
from evolve.loop import Budget
from evolve.mutator import Mutator
from evolve.mutator.swapping import SwappingMutator
from evolve.learner_setup import OnlineError, learner_base, learner_config, restore
from evolve.rewards import REWARD_MODES, StoredRollout, reward_context
from problems.model import Problem
from trainer.checkpoints import checkpoint_version, is_checkpoint, run_adapter, run_checkpoint
from trainer.records import RolloutGroup

log = logging.getLogger("evolve.online")


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


class OnlineTrainer:
    """Steps the learner on the run's replay buffer and hands new adapters to the mutator."""

    def __init__(self, run_dir: Path, factory, run_id: str, config: RunConfig,
                 mutator: Mutator | None):
        """`mutator` None: no mutator in this process (the trainer service of a multi-worker
        run, evolve.distributed.trainer_service): the learner loads its own base weights."""
        from trainer.learner import Learner

        if config.trainer is None:
            raise OnlineError("trainer: null (online fine-tuning is off)")
        if config.mutator.backend == "openai":
            raise OnlineError("trainer: the openai mutator backend returns no token ids; use"
                              " transformers or vllm for online fine-tuning")
        self.run_dir, self.factory, self.run_id = Path(run_dir), factory, run_id
        self.config, self.opts = config, config.trainer.online
        self.mutator = SwappingMutator(mutator) if mutator is not None else None
        base, self.shared = learner_base(config, mutator)
        self.learner = Learner(base, learner_config(config.trainer, config, self.run_dir))
        log.info("online learner %s the mutator's base weights",
                 "shares" if self.shared else "does not share (own copy of)")
        with repo.transaction(factory) as s:
            version = repo.get_run(s, run_id).policy_version or 0
        if not version and self.opts.init_checkpoint:
            version = self._import(Path(self.opts.init_checkpoint))
        if version:
            restore(self.learner, run_checkpoint(self.run_dir, version))
            if self.mutator is not None:
                self.mutator.load_adapter(version, run_adapter(self.run_dir, version))
        self.mode = REWARD_MODES[self.opts.reward]

    def _import(self, ckpt: Path) -> int:
        """Copy a learner checkpoint (`evolve train`, another run) in as this run's first
        version: its own version number, so policy lags stay meaningful."""
        if not is_checkpoint(ckpt):
            raise OnlineError(f"trainer.online.init_checkpoint: {ckpt} is not a learner checkpoint")
        version = checkpoint_version(ckpt)
        if version < 1:
            raise OnlineError(f"trainer.online.init_checkpoint: {ckpt} holds version 0 (untrained)")
        dest = run_checkpoint(self.run_dir, version)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(ckpt, dest)
        with repo.transaction(self.factory) as s:
            repo.update_run(s, self.run_id, policy_version=version)
            repo.add_event(s, self.run_id, "train_init", {"version": version, "from": str(ckpt)})
        return version

    def chain(self, on_batch: Callable | None, budget: Budget) -> Callable:
        """The per-batch callback: train what is ready (the learner's seconds go to the batch's
        `learn_s`), then `on_batch`.  Once this batch is the
        run's last under `budget` (its iterations done, solved, target reached, out of time) no
        step starts: its adapter could serve no answer of this run, and a step costs minutes on a
        CPU (the main job's last step overshot its 20-minute bound by 4; every benchmark cell
        trained once more after its last answer); the groups stay unconsumed in the database and
        train when the run is resumed."""
        def after_batch(search, plan, happened) -> None:
            c = search.counters
            ending = budget.stop_reason(c, c.elapsed_s, iterations=c.iterations_done)
            if ending:
                if self.ready_steps():
                    happened.append(f"learner step deferred ({ending}; trains on resume)")
            else:
                t0 = time.monotonic()
                steps = self.train_ready()
                if steps:
                    search.add_stats(plan.index, learn_s=round(time.monotonic() - t0, 3))
                for info in steps:
                    happened.append(f"trained v{info['version']}" if info["updated"] else "train: no update")
            if on_batch:
                on_batch(search, plan, happened)
        return after_batch

    def _ready_groups(self, s) -> list[list[RolloutRow]]:
        return complete_groups(list(repo.unconsumed_rollouts(s, self.run_id)), self.config.mutation.completions)

    def ready_steps(self) -> int:
        """Learner steps the complete unconsumed groups would make now."""
        with repo.transaction(self.factory) as s:
            return len(self._ready_groups(s)) // self.opts.every_groups

    def train_ready(self) -> list[dict[str, Any]]:
        """One learner step per `every_groups` complete unconsumed groups; returns the events."""
        m = self.config.mutation.answers
        N = self.opts.every_groups
        done = []
        while True:
            with repo.transaction(self.factory) as s:
                run = repo.get_run(s, self.run_id)
                d = len(Problem.model_validate(run.problem).search_view().tests)
                groups = self._ready_groups(s)
                if len(groups) < N:
                    return done
                take = groups[:N]
                typed = {r.id: StoredRollout.of(r) for g in take for r in g}
                ctx = reward_context(s, self.run_id, list(typed.values()), self.mode.needs)
            records = to_groups(take, lambda r: self.mode.fn(typed[r.id], ctx), m, d)
            metrics = self.learner.step(records)
            done.append(self._commit(take, metrics))

    def _commit(self, take: list[list[RolloutRow]], metrics: dict[str, Any]) -> dict[str, Any]:
        version, path = self.learner.version, None
        if metrics["updated"]:
            self.learner.save_checkpoint(run_checkpoint(self.run_dir, version))
            path = run_adapter(self.run_dir, version)
        scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float | bool)}
        detail = {"version": version, "updated": bool(metrics["updated"]), "groups": len(take),
                  "rollouts": sum(len(g) for g in take), "reward": self.opts.reward,
                  "adapter": str(path) if path else None, "metrics": scalars}
        with repo.transaction(self.factory) as s:
            repo.mark_consumed(s, [r.id for g in take for r in g], version)
            repo.update_run(s, self.run_id, policy_version=version)
            repo.add_event(s, self.run_id, "train", detail)
            self._publish(s, version, path, detail)
        if path is not None and self.mutator is not None:
            self.mutator.load_adapter(version, path)
        log.info("online step: version %d (updated=%s) on %d groups", version, metrics["updated"], len(take))
        return detail

    def _publish(self, s, version: int, path: Path | None, detail: dict[str, Any]) -> None:
        """In the step's transaction: make a new adapter known beyond this process (the trainer
        service records it for the workers); in a single-process run the mutator swaps it in."""


def attach(run_dir: Path, factory, run_id: str, config: RunConfig, mutator: Mutator,
           on_batch: Callable | None, budget: Budget) -> tuple[Mutator, Callable, OnlineTrainer]:
    """The hook `evolve.runs.execute` calls when `trainer` is set: the swapping mutator and the
    per-batch callback that trains (groups left over from before a restart train after the
    first batch) until the run's last batch under `budget`."""
    online = OnlineTrainer(run_dir, factory, run_id, config, mutator)
    return online.mutator, online.chain(on_batch, budget), online
