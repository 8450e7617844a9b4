"""What the online learner did in one benchmark cell, read back from the run database.

Issue 11 asks, where online training loses to the frozen mutator, for the figures that say why:
learner steps taken and how many changed the adapter, the share of trained samples whose
advantage was zero (a group whose answers all earned the same reward carries no signal), the
groups whose answers' reward rows were all equal, the mean reward the learner saw per step, and
the share of the cell's time spent learning.  The reward rows are recomputed with the run's own
reward mode (evolve.rewards, the same function the learner's step used) from the rollouts each
step consumed.

    python benchmarks/search_bench/learning.py WORK/ARM   # every cell under it, one line each
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from evolve.config import RunConfig
from evolve.db import repo
from evolve.db.models import Rollout, Run
from evolve.rewards import REWARD_MODES, StoredRollout, reward_context


def _mean(rows: list[list[float]]) -> float:
    cells = [x for row in rows for x in row]
    return statistics.fmean(cells) if cells else 0.0


def learner_figures(s, run_id: str) -> dict[str, Any] | None:
    """The learner's figures of run `run_id` (None when the run trains nothing)."""
    config = RunConfig.model_validate(s.execute(select(Run.config).where(Run.id == run_id)).scalar_one())
    if config.trainer is None:
        return None
    mode = REWARD_MODES[config.trainer.online.reward]
    rows = s.scalars(select(Rollout).where(Rollout.run_id == run_id, Rollout.consumed.is_(True))
                     .order_by(Rollout.id)).all()
    typed = {r.id: StoredRollout.of(r) for r in rows}
    ctx = reward_context(s, run_id, list(typed.values()), mode.needs)
    groups: dict[int, dict[str, list[list[list[float]]]]] = {}  # version -> group id -> rewards
    for r in rows:
        groups.setdefault(r.consumed_version or 0, {}).setdefault(r.group_id, []).append(mode.fn(typed[r.id], ctx))
    steps = []
    for ev in repo.events(s, run_id, "train"):
        d, met = ev.detail, ev.detail.get("metrics", {})
        by_group = groups.get(d["version"], {})
        rewards = [m for g in by_group.values() for m in g]
        steps.append({
            "version": d["version"], "updated": bool(d["updated"]), "groups": d["groups"],
            "reward_mean": round(_mean([row for m in rewards for row in m]), 4),
            "flat_groups": sum(1 for g in by_group.values() if all(m == g[0] for m in g)),
            "samples": met.get("samples", 0.0), "zero_adv_samples": met.get("zero_adv_samples", 0.0),
            "loss": met.get("loss"), "step_time_s": met.get("step_time_s"),
        })
    samples = sum(st["samples"] for st in steps)
    return {
        "reward_mode": config.trainer.online.reward, "estimator": config.trainer.advantage.estimator,
        "steps": len(steps), "updated_steps": sum(st["updated"] for st in steps),
        "groups": sum(st["groups"] for st in steps),
        "flat_groups": sum(st["flat_groups"] for st in steps),
        "zero_adv_share": round(sum(st["zero_adv_samples"] for st in steps) / samples, 4) if samples else None,
        "reward_per_step": [st["reward_mean"] for st in steps],
        "steps_detail": steps,
    }


def main(root: Path) -> None:
    from evolve.runs import open_run

    for cell in sorted(p.parent for p in root.rglob("cell.json")):
        r = open_run(cell)
        try:
            with repo.transaction(r.factory) as s:
                f = learner_figures(s, r.run_id)
        finally:
            r.engine.dispose()
        if f is None:
            print(f"{cell.relative_to(root)}: no learner")
            continue
        print(f"{cell.relative_to(root)}: steps {f['steps']} (updated {f['updated_steps']}),"
              f" groups {f['groups']} (flat {f['flat_groups']}), zero-advantage share"
              f" {f['zero_adv_share']}, reward per step {f['reward_per_step']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
