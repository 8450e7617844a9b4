"""`evolve train` and `evolve eval passk` on the tiny LM, the fizz problem and the process sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from evolve.cli import main
from tests.evolve_support import problem_dir
from trainer.metrics_math import best_at_k, pass_at_k

torch.set_num_threads(1)
PLUGIN = "tests.online_support:menu_factory"


def _config(tmp: Path, tiny: Path) -> Path:
    cfg = {"mutator": {"backend": "transformers", "model": str(tiny), "dtype": "float32",
                       "threads": 1},
           "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0,
                                                                     "max_tokens": 8}},
           "sandbox": {"backend": "process", "slots": 2},
           "trainer": {"lr": 0.02, "lora": {"r": 4, "alpha": 8}}}
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _invoke(*args: str) -> str:
    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res.stdout  # stderr carries the model-loading progress


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_lm_dir):
    tmp = tmp_path_factory.mktemp("train")
    out = _invoke("train", "--suite", str(problem_dir(tmp)), "--estimator", "vpo",
                  "--out", str(tmp / "out"), "--steps", "2", "--prompts-per-step", "1",
                  "--config", str(_config(tmp, tiny_lm_dir)), "--mutator-plugin", PLUGIN)
    return tmp, [json.loads(line) for line in out.splitlines()]


def test_train_steps_save_and_swap_adapters(trained):
    tmp, rows = trained
    assert [r["step"] for r in rows] == [0, 1]
    assert all(r["answers"] == 8 and r["valid_answers"] == 8 for r in rows)
    assert [r["policy_version"] for r in rows] == [1, 2] and all(r["updated"] for r in rows)
    for r in rows:
        assert (Path(r["adapter"]) / "adapter_config.json").is_file()
    logged = [json.loads(x) for x in (tmp / "out" / "trainer.jsonl").read_text().splitlines()]
    assert len(logged) == 2


def test_eval_passk_on_an_adapter(trained, tiny_lm_dir):
    tmp, rows = trained
    out = _invoke("eval", "passk", "--suite", str(problem_dir(tmp)), "--adapter", rows[-1]["adapter"],
                  "--samples", "4", "--k", "1,2,8", "--json",
                  "--config", str(_config(tmp, tiny_lm_dir)), "--mutator-plugin", PLUGIN)
    report = json.loads(out)
    (r,) = report["per_problem"]
    fit = r["fitness"]
    assert r["answers"] == len(fit) == 8 and r["valid"] == 8
    assert r["best_at_k"]["8"] == pytest.approx(max(fit))
    assert r["best_at_k"]["1"] == pytest.approx(sum(fit) / 8)
    assert r["pass_at_k"]["1"] == pytest.approx(r["solved"] / 8)
    assert r["pass_at_k"]["2"] == pytest.approx(pass_at_k(8, r["solved"], 2))
    assert r["best_at_k"]["2"] == pytest.approx(best_at_k(fit, 2))
    assert r["diversity"] > 0 and report["mean"]["diversity"] == r["diversity"]


def test_eval_passk_real_backend_and_bad_k(tmp_path, tiny_lm_dir):
    """No plugin: the tiny LM's own samples (garbage; some parse once the scaffold writes the
    fence) score zero everywhere."""
    cfg = _config(tmp_path, tiny_lm_dir)
    out = _invoke("eval", "passk", "--suite", str(problem_dir(tmp_path)), "--samples", "2",
                  "--k", "1,2", "--json", "--config", str(cfg))
    (r,) = json.loads(out)["per_problem"]
    assert r["answers"] == 4 and r["valid"] <= 4 and r["solved"] == 0
    assert r["pass_at_k"] == {"1": 0.0, "2": 0.0} and max(r["fitness"]) == 0.0
    res = CliRunner().invoke(main, ["eval", "passk", "--suite", str(problem_dir(tmp_path)),
                                    "--k", "x", "--config", str(cfg)])
    assert res.exit_code != 0 and "--k" in res.output


def test_train_continues_from_a_checkpoint(trained, tiny_lm_dir):
    tmp, rows = trained
    out = _invoke("train", "--suite", str(problem_dir(tmp)), "--out", str(tmp / "more"),
                  "--steps", "1", "--prompts-per-step", "1", "--init", str(Path(rows[-1]["adapter"]).parent),
                  "--estimator", "grpo", "--answers", "1",
                  "--config", str(_config(tmp, tiny_lm_dir)), "--mutator-plugin", PLUGIN)
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["policy_version"] == 3 and row["answers"] == 4


def test_search_run_starts_from_an_offline_checkpoint(trained, tiny_lm_dir, tmp_path):
    from sqlalchemy import select

    from evolve.db import repo
    from evolve.db.models import Event, Rollout
    from evolve.runs import execute, open_run, seed, status
    from tests.evolve_support import write_config
    from tests.online_support import menu_factory

    tmp, rows = trained
    ckpt = Path(rows[-1]["adapter"]).parent
    cfg = {"islands": {"count": 1, "migration_interval": 0, "reset_interval": 0},
           "mutator": {"backend": "transformers", "model": str(tiny_lm_dir), "dtype": "float32",
                       "threads": 1},
           "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0}},
           "loop": {"batch_size": 2, "iterations": 6, "stop_when_solved": False},
           "trainer": {"lr": 0.02, "lora": {"r": 4, "alpha": 8},
                       "online": {"every_groups": 2, "init_checkpoint": str(ckpt)}}}
    run_dir = tmp_path / "run"
    seed(str(problem_dir(tmp)), run_dir, write_config(tmp_path / "c.yaml", cfg))
    execute(run_dir, resume=False, mutator_factory=menu_factory)
    r = open_run(run_dir)
    with repo.transaction(r.factory) as s:
        rolls = s.scalars(select(Rollout).where(Rollout.run_id == r.run_id)).all()
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.run_id == r.run_id))]
    r.engine.dispose()
    assert "train_init" in kinds and (run_dir / "adapters" / "v2" / "adapter").is_dir()
    assert min(x.policy_version for x in rolls) == 2 and max(x.policy_version for x in rolls) == 3
    assert status(run_dir)["model_version"] >= 4
