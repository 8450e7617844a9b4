"""Setting up the learner over the mutator's model: shared by online training (evolve.online)
and offline training (`evolve train`), so both train the same way on the same weights."""

from __future__ import annotations

import copy
from pathlib import Path

from evolve.config import RunConfig
from evolve.mutator import Mutator
from evolve.online_config import TrainerConfig
from trainer.checkpoints import RUN_METRICS_FILE
from trainer.config import LearnerConfig



class OnlineError(ValueError):
    """Online fine-tuning cannot run with this configuration (one line)."""


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
        data["metrics_jsonl"] = run_dir / RUN_METRICS_FILE
    return LearnerConfig.model_validate(data)


def learner_base(run: RunConfig, mutator: Mutator):
    """(model or directory, shared?) for the learner: the mutator's own module when possible."""
    import torch

    opts = run.trainer.online
    model = getattr(mutator, "model", None)
    if getattr(run.mutator, "adapter", None) or (isinstance(model, torch.nn.Module) and hasattr(model, "peft_config")):
        # the learner's v1 would replace the served adapter with one trained from the base model
        raise OnlineError("mutator.adapter: online training starts from the base model; unset it"
                          " (or evaluate the adapter as a frozen mutator, without trainer.online)")
    if opts.share_weights and isinstance(model, torch.nn.Module):
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
