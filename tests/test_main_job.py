"""The main job's command line: the time bound, the live display, the end-of-run summary and the
accounting `evolve status` shows (scripted mutator, real sandbox and database; no model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from evolve.cli import main
from evolve.cli.display import Phase, batch_line, render, sparkline
from evolve.cli.summary import print_summary
from evolve.db import repo
from evolve.progress import LearnerStep, read_progress
from evolve.rundir import open_run
from evolve.runs import status
from tests.evolve_support import PLUGIN, cli, problem_dir, write_config

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def invoke(*args, ok: bool = True):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


def seeded(tmp: Path, name: str, overrides: dict) -> Path:
    run_dir = tmp / name
    invoke("seed", problem_dir(tmp), "--run", run_dir, "--config", write_config(tmp / f"{name}.yaml", overrides))
    return run_dir


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("mainjob")
    run_dir = seeded(tmp, "run", {"loop": {"iterations": 8}})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCRIPTED_DELAY_S", "0.05")  # generation takes time, so tokens/s is defined
        return run_dir, invoke("run", run_dir, "--mutator-plugin", PLUGIN).output


def progress_of(run_dir: Path):
    r = open_run(run_dir)
    try:
        with repo.transaction(r.factory) as s:
            return read_progress(s, r.run_id)
    finally:
        r.close()


def text_of(renderable, width: int = 120) -> str:
    con = Console(record=True, width=width, file=open("/dev/null", "w"))
    con.print(renderable)
    return con.export_text()


def test_seed_shows_the_initial_program_per_test(tmp_path):
    out = invoke("seed", problem_dir(tmp_path), "--run", tmp_path / "r", "--config",
                 write_config(tmp_path / "c.yaml")).output
    assert "initial fitness 0.0000" in out and "the initial program (#0)" in out
    assert "got '', expected 'fizz'" in out and "n30 (hidden)" in out


def test_the_display_renders_a_scripted_run(finished):
    run_dir, _ = finished
    p = progress_of(run_dir)
    assert p.iterations_done == 8 and p.batches_done == 4 and p.totals["answers"] == 8 * 2 * 2
    assert p.best_fitness is not None and p.best_fitness > p.initial_fitness == 0.0
    assert p.children > 0 and p.elites_mean is not None and not p.learner_configured
    text = text_of(render(p, Phase("generating batch 4, then evaluating it", 0.0), 75.0,
                          [0.0, 0.25, 0.5], "vpo-evolve · run", "Ctrl-C stops cleanly"))
    for part in (f"best {p.best_fitness:.4f}", "initial 0.0000", f"over {p.elites} elites",
                 "8 of 8 prompts", f"{p.totals['answers']:.0f} asked", f"{p.totals['usable']:.0f} usable",
                 "children/min", "tokens/s generating", "adapter v0 · frozen", "generating batch 4", "1:15"):
        assert part in text, (part, text)
    assert batch_line(p).startswith(f"best {p.best_fitness:.4f}") and "tokens/s" in batch_line(p)


def test_the_display_shows_the_learner_and_the_time_bound(finished):
    p = progress_of(finished[0]).model_copy(update={
        "learner_configured": True, "model_version": 3, "train_steps": 4, "minutes_budget": 20.0,
        "last_step": LearnerStep(version=3, updated=True, groups=4, seconds_ago=70.0,
                                 metrics={"loss": 0.0125, "entropy": 0.61})})
    text = text_of(render(p, Phase("x", 0.0), 300.0, [], "t", "h"))
    assert "5:00 of 20:00 (stops by itself)" in text
    assert "adapter v3 · 4 learner steps · last 1:10 ago: v3 updated on 4 groups (loss 0.0125, entropy 0.61)" in text
    busy = text_of(render(p, Phase("x", 0.0), 300.0, [], "t", "h", learning=True))
    assert "learner step (fine-tuning the mutator" in busy and "stepping now" in busy
    assert sparkline([0.1, 0.1, 0.5, 0.9]) == "▁▁▄█" and sparkline([0.3, 0.3]) == "▁▁"


def test_the_summary_says_what_was_found_and_what_to_do_next(finished):
    run_dir, out = finished
    info = status(run_dir)
    best = info["best_seq"]
    for part in ("finished: iteration budget reached", f"per-test outcome of #{best}",
                 f"#{best}, fitness {info['best_fitness']:.4f} (initial 0.0000, +{info['best_fitness']:.4f})",
                 f"evolve report {run_dir} -o {run_dir / 'report.html'} --open",
                 f"evolve run {run_dir} --iterations 16", f"database {run_dir / 'evolve.db'}",
                 "n30 (hidden)", "EVOLVE-BLOCK-START", "improvements"):
        assert part in " ".join(out.split()), (part, out)
    assert "batch 3: iterations 8 | best" in out  # no terminal: one line per batch instead of the panel


def test_summary_names_the_logs(finished, monkeypatch):
    monkeypatch.setenv("VPO_SETUP_LOG", "/some/where/setup.log")
    con = Console(record=True, width=200, file=open("/dev/null", "w"))
    print_summary(con, finished[0], finished[0] / "run.log", warnings=2)
    text = con.export_text()
    assert f"run: {finished[0] / 'run.log'} (2 warnings this session)" in text
    assert "set-up (pip, apt, docker, model): /some/where/setup.log" in text


def test_status_accounts_tokens_time_and_improvements(finished):
    from evolve.report.build import collect
    from evolve.report.source import open_source

    run_dir, _ = finished
    acct = json.loads(invoke("status", run_dir, "--json").output)["accounting"]
    assert acct["answers"] == 32 and acct["usable"] <= acct["answers"] and acct["completion_tokens"] > 0
    assert {"generate_s", "evaluate_s", "learn_s", "prompt_tokens", "sampled_tokens"} <= set(acct)
    src = open_source(run_dir)
    try:
        report = collect(src)
    finally:
        src.engine.dispose()
    # one rule for an improvement: the report and status count the same programs
    assert acct["improvements"] == report.fitness.improvements == report.accounting.totals["improvements"] > 0
    assert acct["answers_per_improvement"] == pytest.approx(32 / acct["improvements"], abs=1e-3)
    text = " ".join(invoke("status", run_dir).output.split())
    assert "answers per improvement" in text and "completion tokens per improvement" in text
    assert "generation (s)" in text and "learning (s)" in text


def test_the_time_bound_stops_a_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRIPTED_DELAY_S", "0.5")
    run_dir = seeded(tmp_path, "timed", {"loop": {"iterations": 100_000, "minutes": 0.05}})  # 3 s
    out = invoke("run", run_dir, "--mutator-plugin", PLUGIN).output
    info = status(run_dir)
    assert (info["status"], info["stop_reason"]) == ("finished", "time budget reached"), out
    assert 0 < info["iterations"] < 100 and "time budget reached" in out
    assert "--minutes" in " ".join(out.split())  # the summary says how to run it longer


def test_the_time_bound_does_not_wait_for_a_slow_generation(tmp_path, monkeypatch):
    """A batch that outlasts the bound is cancelled at the deadline and stays planned (a resume
    with a larger budget generates it again); nothing of it is committed."""
    monkeypatch.setenv("SCRIPTED_DELAY_S", "600")
    run_dir = seeded(tmp_path, "slow", {"loop": {"iterations": 100, "minutes": 0.02}})
    invoke("run", run_dir, "--mutator-plugin", PLUGIN)
    info = status(run_dir)
    assert info["stop_reason"] == "time budget reached"
    assert info["iterations"] == 0 and info["iterations_planned"] == 2 and info["programs"] == 3
    # regression: the cancelled generation's time is active time (it was lost, so a resume got
    # the whole bound again and a bounded run reported 0 s of search)
    assert info["elapsed_s"] >= 0.02 * 60
    again = invoke("resume", run_dir, "--mutator-plugin", PLUGIN).output
    assert status(run_dir)["iterations_planned"] == 2, again  # nothing left of the bound


def test_the_live_panel_on_a_terminal(tmp_path):
    """With a terminal the panel is drawn (and the summary follows); TTY_COMPATIBLE=1 makes rich
    treat the captured output as one."""
    run_dir = seeded(tmp_path, "tty", {"loop": {"iterations": 4}})
    res = cli("run", str(run_dir), "--mutator-plugin", PLUGIN,
              env={"TTY_COMPATIBLE": "1", "COLUMNS": "120", "SCRIPTED_DELAY_S": "1.2"})
    out = ANSI.sub("", res.stdout)
    assert "vpo-evolve · " in out and "Ctrl-C stops cleanly" in out and "stopped (the summary follows)" in out
    assert "best so far" in out and "children/min" in out and "adapter v0 · frozen" in out
    assert "finished: iteration budget reached" in out and "per-test outcome of #" in out
    assert "batch 0: iterations" not in out  # the panel replaces the per-batch lines
    assert not res.stderr.strip(), res.stderr


def test_damaged_batch_stats_are_one_line_for_status(finished, tmp_path):
    import shutil
    import sqlite3

    from tests.evolve_support import one_line_error

    bad = tmp_path / "bad"
    shutil.copytree(finished[0], bad, ignore=shutil.ignore_patterns(".lock"))
    with sqlite3.connect(bad / "evolve.db") as db:
        db.execute("""UPDATE batches SET stats = '{"answers": "many"}' WHERE batch_index = 2""")
    msg = one_line_error(invoke("status", bad, ok=False))
    assert msg.startswith(f"Error: {bad / 'evolve.db'}: batches.stats of batch 2: answers: ") and "backup" in msg


def test_the_display_rereads_only_the_newest_batches_stats(finished, tmp_path):
    """The live display's cache sees the learner's seconds added to the newest batch after it was
    first read, and matches a fresh read."""
    import shutil
    import sqlite3

    from evolve.progress import BatchStatsCache

    run_dir = tmp_path / "copy"
    shutil.copytree(finished[0], run_dir, ignore=shutil.ignore_patterns(".lock"))
    r = open_run(run_dir, mode="write")  # as while a run writes: a live database, not a frozen file
    try:
        cache = BatchStatsCache()
        with repo.transaction(r.factory) as s:
            first = cache.read(s, r.run_id)
        assert len(first) == 4 and first[-1].learn_s in (None, 0.0)
        with sqlite3.connect(run_dir / "evolve.db") as db:
            db.execute("UPDATE batches SET stats = json_set(stats, '$.learn_s', 7.5) WHERE batch_index = 3")
        with repo.transaction(r.factory) as s:
            again, fresh = cache.read(s, r.run_id), BatchStatsCache().read(s, r.run_id)
        assert again == fresh and again[-1].learn_s == 7.5 and again[:3] == first[:3]
    finally:
        r.close()
