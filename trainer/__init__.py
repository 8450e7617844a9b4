"""Trainer: a pure library (advantage estimators, policy loss, learner) on plain rollout records.

It never imports the search (`evolve`)."""
