"""Trainer: a pure library (advantage estimators, policy loss, learner) on plain rollout records.

It never imports the search (`evolve`).  Public API (import from the submodules; `learner`
pulls in torch, the others only numpy/pydantic):

- `trainer.records`: `Rollout`, `RolloutGroup` - what the caller fills.
- `trainer.config`: `LearnerConfig` (with `AdvantageConfig`, `LossConfig`, `LoraSettings`) - every
  default, unknown keys rejected.
- `trainer.advantages`: `ADVANTAGE_ESTIMATORS`, `register`, `compute_advantages(groups, rng, cfg)`.
- `trainer.loss`: `policy_loss`, `AGGREGATIONS`.
- `trainer.learner`: `Learner(model_dir_or_model, config)` with `step(groups) -> metrics`,
  `version`, `save_adapter(dir)`, `save_checkpoint(dir)`, `load_checkpoint(dir)`.
- `trainer.metrics_math`: `pass_at_k`, `best_at_k`, `best_at_k_curve`, `reward_diversity`.
"""
