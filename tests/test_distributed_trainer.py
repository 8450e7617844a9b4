"""`evolve trainer serve` on a run two workers search (PostgreSQL, the tiny model on both sides):
the trainer publishes adapter versions, the workers sample with them, the rollouts say so."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from evolve.db.models import AdapterVersion, Event, Rollout, Run, Worker
from evolve.mutator import TransformersConfig
from evolve.runs import seed
from tests.distributed_support import factory, registered, rows, run_progress, spawn, stop_all, wait_for
from tests.evolve_support import one_line_error, problem_dir, write_config
from tests.online_support import MenuMutator

pytestmark = pytest.mark.postgres
torch.set_num_threads(1)
MENU = "tests.online_support:menu_factory"


def _mutator(tiny: Path) -> dict:
    return {"backend": "transformers", "model": str(tiny), "dtype": "float32", "threads": 1}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_lm_dir, postgres_server):
    tmp = tmp_path_factory.mktemp("trainer")
    url = postgres_server.new_database()
    cfg = write_config(tmp / "online.yaml", {
        "islands": {"count": 2, "migration_interval": 0, "reset_interval": 0},
        "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0}},
        "loop": {"batch_size": 2, "iterations": 16, "stop_when_solved": False, "seed": 3},
        "sandbox": {"backend": "process", "slots": 1},
        "mutator": _mutator(tiny_lm_dir),
        # grace: no process dies here, and a heartbeat late on a busy machine must not free the trainer slot
        "workers": {"heartbeat_s": 0.3, "grace_s": 30.0, "poll_s": 0.2, "max_pending_steps": 1},
        "trainer": {"lr": 0.02, "lora": {"r": 4, "alpha": 8}, "online": {"every_groups": 2}},
    }, url=url)
    run_id = seed(str(problem_dir(tmp)), tmp / "run", cfg).run_id
    fac, shared = factory(url), tmp / "shared"
    logs = [tmp / "trainer.log", tmp / "w0.log", tmp / "w1.log"]
    procs = [spawn("trainer", "serve", "--db", url, "--run", run_id, "--dir", str(shared), log=logs[0])]
    try:
        wait_for("the trainer registers", registered(fac, run_id, "trainer"), 600, procs, logs)
        busy = CliRunner().invoke(__import__("evolve.cli", fromlist=["main"]).main,
                                  ["trainer", "serve", "--db", url, "--run", run_id, "--dir", str(tmp / "x")])
        procs += [spawn("worker", "--db", url, "--run", run_id, "--mutator-plugin", MENU, log=logs[i])
                  for i in (1, 2)]
        wait_for("the run finishes", lambda: all(p.poll() is not None for p in procs), 300, procs, logs,
                 run_progress(fac, run_id))
        assert [p.returncode for p in procs] == [0, 0, 0], [lg.read_text()[-2000:] for lg in logs]
    finally:
        stop_all(procs)
    return fac, run_id, shared, busy


def test_trainer_publishes_versions_the_workers_use(trained_run, tiny_lm_dir):
    fac, run_id, shared, _ = trained_run
    published = rows(fac, AdapterVersion, AdapterVersion.run_id == run_id, order=AdapterVersion.version)
    versions = [a.version for a in published]
    assert len(versions) >= 2 and versions == list(range(1, len(versions) + 1))
    for a in published:  # in the shared directory, named in the row
        assert Path(a.path) == (shared / a.detail["relative"]).resolve()
        assert (Path(a.path) / "adapter_config.json").is_file()
    rolls = rows(fac, Rollout, Rollout.run_id == run_id)
    used = Counter(r.policy_version for r in rolls)
    assert len(used) >= 2 and set(used) - {0} <= set(versions) and max(used) >= 1
    assert {r.island for r in rolls if r.policy_version >= 1} == {0, 1}  # both workers' islands
    workers = rows(fac, Worker, Worker.run_id == run_id, Worker.kind == "worker")
    assert len(workers) == 2 and all(w.policy_version >= 1 for w in workers)
    # a rollout's log-probs are those of the adapter version it records: the workers really
    # sampled under the trainer's adapter
    r = max(rolls, key=lambda x: (x.policy_version, x.id))
    mut = MenuMutator(TransformersConfig(**_mutator(tiny_lm_dir)), 2)
    base = sum(mut.score(r.prompt_token_ids, r.token_ids))
    mut.load_adapter(r.policy_version, published[r.policy_version - 1].path)
    ours = sum(mut.score(r.prompt_token_ids, r.token_ids))
    assert abs(ours - sum(r.logprobs)) < 1e-3 and abs(ours - base) > 1e-3


def test_staleness_is_bounded_and_recorded(trained_run):
    fac, run_id, _, _ = trained_run
    rolls = rows(fac, Rollout, Rollout.run_id == run_id)
    trains = [e.detail for e in rows(fac, Event, Event.run_id == run_id, Event.kind == "train")]
    assert all("policy_lag_max" in t["metrics"] for t in trains)
    consumed = [r for r in rolls if r.consumed]
    assert sum(t["rollouts"] for t in trains) == len(consumed)
    # the bound of evolve.distributed.worker: workers plan nothing while max_pending_steps x
    # every_groups complete groups wait, so a rollout waits behind at most those groups and the
    # batches in flight (2 per worker x batch_size groups): (1 x 2 + 2 x 2 x 2) / 2 steps, plus
    # the step that consumes it and one version published while its batch was generating
    lags = [r.consumed_version - r.policy_version for r in consumed]
    assert min(lags) >= 0 and max(lags) <= 5 + 1 + 1, Counter(lags)
    print("policy lag (consumed version - sampling version):", sorted(Counter(lags).items()))
    run = rows(fac, Run, Run.id == run_id)[0]
    assert run.status == "finished" and run.policy_version == max(a.version for a in rows(
        fac, AdapterVersion, AdapterVersion.run_id == run_id))


def test_a_second_trainer_is_refused(trained_run):
    _, run_id, _, busy = trained_run
    assert "one trainer per run" in one_line_error(busy) and run_id in busy.output
