"""The arms of the search-efficiency benchmark: run configs at an equal budget of answers.

Every arm uses the same model, temperature and token budget per answer, the same sandbox and
the same problems (with their held-out tests split off); only how answers are asked for and
what is done with them differ.  The budget is counted in generated answers per problem:
iterations = answers / (completions x answers per completion).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

BARE_TASK = (
    "# Problem\n$statement\n\n# Starting point\n```python\n$code```\n\n"
    "# Your task\nWrite a correct and efficient solution.\n$format"
)
"""Best-of-N from the bare statement: no fitness, failing tests, inspirations or attempts."""

TRAINER = {
    "lora": {"r": 16, "alpha": 32, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    # dtype: the CPU's (evolve.mutator.cpu), set per machine by the engine (engine.Engine.config)
    "lr": 2.0e-4, "gradient_checkpointing": True,
    "micro_batch_tokens": 2048, "max_staleness": 4, "loss": {"kl_coef": 0.0},
    "online": {"every_groups": 2, "reward": "new_programs"},
}


@dataclass(frozen=True)
class Arm:
    name: str
    answers: int = 1  # m: answers per completion
    config: dict[str, Any] = field(default_factory=dict)  # run-config overrides
    online: bool = False  # trains the mutator during the run (runs problems one at a time)
    external: str | None = None  # "openevolve_diff" | "openevolve_full": not our loop
    completions: int | None = None  # per prompt; None = the benchmark's --completions
    islands: int | None = None  # None = the benchmark's --islands
    adapter: str | None = None  # a trained adapter the (frozen) mutator starts from


def _trainer(estimator: str) -> dict:
    return {**TRAINER, "advantage": {"estimator": estimator, "num_weights": 100}}


ARMS: dict[str, Arm] = {a.name: a for a in (
    Arm("best_of_n", config={"loop": {"mode": "best_of_n"}}),
    Arm("best_of_n_bare", config={"loop": {"mode": "best_of_n"},
                                  "prompt": {"templates": {"task": BARE_TASK}}}),
    Arm("evolve_m1"),
    # change 1 (issue 11): refinement and crossover must prove themselves against fresh draws;
    # a prior of Beta(1, 4) (mean 0.2) instead of Beta(1, 1) for both, fresh keeps Beta(1, 1)
    Arm("evolve_m1_fresh_first", config={"loop": {"operators": {"priors": {
        "refine": [1.0, 4.0], "crossover": [1.0, 4.0]}}}}),
    # change 2 (issue 11): depth.  At 24 answers, 4 completions per prompt, 2 islands and the
    # one-batch lag leave each lineage ~3 steps (children of generation <= 2); one answer per
    # prompt, one island and no overlap give 24 sequential steps, each seeing every earlier one
    Arm("evolve_m1_deep", completions=1, islands=1, config={"loop": {"overlap": False}}),
    # change 3 (issue 11): retire exhausted parents.  One answer refining one of the search's
    # fittest elites beat it 1 time in 320 (benchmarks/results/refine_gain_conv_shown.json);
    # a parent that one prompt's completions (4) could not improve is no longer refined
    Arm("evolve_m1_patient", config={"loop": {"operators": {"patience": 4}}}),
    # change 4 (issue 11): crossover became opt-in (evolve/operators.py: 0.7% of its completions
    # improved, against 10% for fresh and refine); this arm is evolution as it was before
    Arm("evolve_m1_crossover", config={"loop": {"operators": {"use": ["fresh", "refine", "crossover"]}}}),
    Arm("evolve_m3", answers=3),
    Arm("evolve_vpo", answers=3, config={"trainer": _trainer("vpo")}, online=True),
    Arm("evolve_grpo", answers=1, config={"trainer": _trainer("grpo")}, online=True),
    Arm("openevolve_diff", external="diff"),
    Arm("openevolve_full", external="full"),
)}


def resolve_arm(label: str, adapters: dict[str, str]) -> Arm:
    """The arm `label` names: an arm of ARMS, or `<arm>@<tag>`, that arm with the mutator frozen
    at the adapter `adapters[tag]` (issue 12's search experiment: trained mutators inside the
    search); cells and results carry the label."""
    name, _, tag = label.partition("@")
    if name not in ARMS:
        raise ValueError(f"--arms: unknown arm {name!r}; known: {', '.join(ARMS)}")
    arm = ARMS[name]
    if not tag:
        return arm
    if tag not in adapters:
        raise ValueError(f"--arms: {label!r} names adapter {tag!r}, not given by --adapter {tag}=DIR")
    if arm.online or arm.external:
        raise ValueError(f"--arms: {label!r}: only our frozen-mutator arms start from an adapter")
    return replace(arm, name=label, adapter=adapters[tag])


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def run_config(arm: Arm, *, budget: int, completions: int, batch_size: int, seed: int,
               temperature: float, answer_tokens: int, mutator: dict, islands: int) -> dict:
    """The evolve run config of `arm` at `budget` answers per problem."""
    completions = arm.completions or completions
    islands = arm.islands or islands
    per_prompt = completions * arm.answers
    if budget % per_prompt:
        raise ValueError(f"budget {budget} is not a multiple of {per_prompt} answers per prompt ({arm.name})")
    base = {
        "mutator": mutator,
        "mutation": {"answers": arm.answers, "completions": completions,
                     "sampling": {"temperature": temperature,
                                  "max_tokens": answer_tokens * arm.answers}},
        "loop": {"iterations": budget // per_prompt, "batch_size": batch_size, "seed": seed,
                 "stop_when_solved": True},
        "islands": {"count": islands, "migration_interval": 4 * batch_size},
        "sandbox": {"backend": "auto", "slots": 2},
    }
    return deep_merge(base, arm.config)
