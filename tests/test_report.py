"""`evolve report`: the HTML report of real runs, checked in headless Chromium.

* A scripted-mutator run (process sandbox, 3 islands, migrations and resets) and an online run
  (tiny LM, real learner, adapter hot swaps) are rendered; Chromium loads each report offline
  and must see no console error, no request but the file itself, and every plot drawn (rendered
  box, data marks); a full-page screenshot is saved next to the report.
* The figures agree with the database (`evolve status`, direct counts), the database is never
  written or migrated, SQLite and PostgreSQL give the same report, errors are one line.
* Accounting from `batches.stats` is rendered from a schema-valid run built by
  benchmarks/report_scale.py (runs whose loop records no stats say "not recorded").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from evolve.cli import main
from evolve.db.engine import MIGRATIONS
from evolve.db.models import Batch, Event, Rollout
from evolve.report.browser import Chromium, PageReport, find_chromium
from evolve.report.build import collect
from evolve.report.html import CSP
from evolve.report.source import open_source, readonly_engine
from evolve.report.svg import Series, heatmap, line_chart, stacked_area
from evolve.runs import execute, seed
from tests.evolve_support import PLUGIN, ROOT, cli, problem_dir, write_config
from tests.scripted_mutator import factory

SEARCH_PLOTS = ["plot-fitness-best", "plot-fitness-mean", "plot-coverage", "plot-lineage",
                "plot-answers", "plot-throughput"]
TRAIN_PLOTS = ["plot-train-set-reward", "plot-train-advantages", "plot-train-zero-std", "plot-train-kl",
               "plot-train-entropy", "plot-train-diversity", "plot-adapter-versions", "plot-sampled-version"]
STATS_PLOTS = ["plot-time-split", "plot-tokens-per-s"]
VERSION_TABLE = "evolve_alembic_version"  # evolve/db/migrations/env.py (not importable outside alembic)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _render(run_dir: Path, out: Path) -> str:
    res = cli("report", str(run_dir), "-o", str(out))
    assert f"report written to {out}" in res.stdout
    return out.read_text()


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    with Chromium() as b:
        yield b


def _check_page(browser: Chromium, html: Path, plots: list[str]) -> PageReport:
    """Load the report; no errors, no request but itself, every plot drawn; save a screenshot."""
    page = browser.load(html)
    assert page.errors == []
    assert page.requests == [html.resolve().as_uri()]
    for pid in plots:
        el = page.elements.get(pid)
        assert el is not None, f"{pid} missing"
        assert el["tag"] == "svg" and el["w"] > 100 and el["h"] > 100 and el["marks"] > 0, el
    shot = html.with_suffix(".png")
    shot.write_bytes(page.screenshot)
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(page.screenshot) > 50_000
    return page


def _stats_recorded(run_dir: Path) -> bool:
    src = open_source(run_dir)
    try:
        if not src.has_column("batches", "stats"):
            return False
        with src.engine.connect() as c:
            return any(s is not None for s in c.execute(select(Batch.stats)).scalars())
    finally:
        src.engine.dispose()


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    run_dir = tmp / "run"
    cli("seed", str(problem_dir(tmp)), "--run", str(run_dir), "--config",
        str(write_config(tmp / "c.yaml", {"loop": {"iterations": 24}})))
    cli("run", str(run_dir), "--mutator-plugin", PLUGIN)
    return run_dir


def test_report_of_a_scripted_run_in_chromium(scripted_run, browser, tmp_path):
    db = scripted_run / "evolve.db"
    before = _sha(db)
    html = tmp_path / "report.html"
    page_text = _render(scripted_run, html)
    assert _sha(db) == before  # read-only
    assert "<script" not in page_text and "http://" not in page_text.replace("http://www.w3.org/2000/svg", "")
    recorded = _stats_recorded(scripted_run)
    plots = SEARCH_PLOTS + [f"plot-grid-{i}" for i in range(3)] + (STATS_PLOTS if recorded else [])
    page = _check_page(browser, html, plots)
    for eid in ("summary", "lineage", "answers-totals", "config", "training-none", "accounting"):
        assert page.elements[eid]["h"] > 0, eid
    assert ("not recorded" in page_text) != recorded
    assert html.with_suffix(".png").stat().st_size > 50_000


def test_a_just_seeded_run_renders(tmp_path, browser):
    run_dir = tmp_path / "run"
    cli("seed", str(problem_dir(tmp_path)), "--run", str(run_dir), "--config", str(write_config(tmp_path / "c.yaml")))
    html = tmp_path / "seeded.html"
    text_ = _render(run_dir, html)
    _check_page(browser, html, ["plot-grid-0", "plot-coverage", "plot-lineage"])
    assert "No answers generated yet" in text_ and "No completions yet" in text_


def test_report_figures_agree_with_the_database(scripted_run):
    status = json.loads(cli("status", str(scripted_run), "--json").stdout)
    src = open_source(scripted_run)
    try:
        d = collect(src)
        with src.engine.connect() as c:
            rollouts = c.execute(select(Rollout.id).where(Rollout.run_id == src.run_id)).all()
    finally:
        src.engine.dispose()
    m = d.summary.m
    assert d.summary.answers == m * len(rollouts) == sum(d.answers.totals.values())
    assert sum(sum(v) for v in d.answers.counts.values()) == m * len(rollouts)
    assert d.answers.totals.get("child", 0) == status["children"]
    assert d.summary.best_seq == status["best_seq"] and d.summary.best_fitness == status["best_fitness"]
    assert d.summary.tests_solved == status["tests_solved_by_some_elite"]
    assert {i: len(c) for i, c in d.grid.islands.items()} == {x["island"]: x["elites"] for x in status["islands"]}
    assert [max(y for y in line.y if y is not None) for line in d.fitness.best] == \
        [x["best_fitness"] for x in status["islands"]]
    assert d.lineage.steps[-1].seq == status["best_seq"] and d.lineage.steps[0].origin == "seed"
    assert d.coverage.rows[0].fitness == max(r.fitness for r in d.coverage.rows)
    assert not d.training.configured and d.training.steps == 0


@pytest.fixture(scope="module")
def online_run(tmp_path_factory, tiny_lm_dir) -> Path:
    import torch

    from tests.online_support import MenuMutator

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("report-online")
    cfg = {"islands": {"count": 2, "migration_interval": 4},
           "mutation": {"answers": 2, "completions": 4, "sampling": {"temperature": 1.0}},
           "loop": {"batch_size": 2, "iterations": 8, "stop_when_solved": False, "seed": 3},
           "mutator": {"backend": "transformers", "model": str(tiny_lm_dir), "dtype": "float32", "threads": 1},
           "trainer": {"lr": 0.02, "lora": {"r": 4, "alpha": 8}, "online": {"every_groups": 2}}}
    run_dir = tmp / "run"
    seed(str(problem_dir(tmp)), run_dir, write_config(tmp / "online.yaml", cfg))
    try:
        execute(run_dir, resume=False, mutator_factory=lambda c: MenuMutator(c.mutator, c.mutation.answers))
    finally:
        torch.set_num_threads(threads)  # global state: leave it as found
    return run_dir


def test_training_curves_of_an_online_run_in_chromium(online_run, browser, tmp_path):
    html = tmp_path / "online.html"
    text_ = _render(online_run, html)
    _check_page(browser, html, SEARCH_PLOTS + ["plot-grid-0", "plot-grid-1"] + TRAIN_PLOTS)
    src = open_source(online_run)
    try:
        d = collect(src)
        with src.engine.connect() as c:
            trains = [e for e in c.execute(select(Event.detail).where(Event.kind == "train")).scalars()]
    finally:
        src.engine.dispose()
    assert d.training.steps == len(trains) >= 2 and d.training.source == "train events"
    assert d.training.versions == [t["version"] for t in trains]
    assert d.training.updates == sum(t["updated"] for t in trains)
    assert max(v for v in d.training.sampled_version if v is not None) >= 1  # adapters sampled
    assert "no online training" not in text_


def test_accounting_from_batch_stats_in_chromium(tmp_path, browser):
    from benchmarks.report_scale import build  # a namespace package: the repo root is on sys.path

    run_dir = build(tmp_path / "synthetic", programs=600)
    html = tmp_path / "synthetic.html"
    text_ = _render(run_dir, html)
    _check_page(browser, html, SEARCH_PLOTS + STATS_PLOTS + TRAIN_PLOTS)
    src = open_source(run_dir)
    try:
        d = collect(src)
        with src.engine.connect() as c:
            stats = list(c.execute(select(Batch.stats)).scalars())
    finally:
        src.engine.dispose()
    a = d.accounting
    assert a.recorded == a.batches == len(stats) and "not recorded" not in text_
    for key in ("completion_tokens", "generate_s", "answers", "new_programs"):
        assert a.totals[key] == pytest.approx(sum(s[key] for s in stats))
    assert a.totals["completion_tokens_per_s"] == pytest.approx(a.totals["completion_tokens"] / a.totals["generate_s"])
    assert a.totals["answers_per_improvement"] == pytest.approx(a.totals["answers"] / d.fitness.improvements)
    assert sum(sum(v) for v in a.split.values()) == pytest.approx(
        sum(s["generate_s"] + s["evaluate_s"] + s["learn_s"] for s in stats))


def test_old_schema_is_read_not_migrated(scripted_run, tmp_path):
    """A database at migration 0001 (no batches.stats) renders and stays at 0001."""
    run_dir = tmp_path / "old"
    shutil.copytree(scripted_run, run_dir, ignore=shutil.ignore_patterns(".lock"))
    url = f"sqlite:///{run_dir / 'evolve.db'}"
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": json.loads((scripted_run / "run.json").read_text())["run_id"], "database_url": url}))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    before = _sha(run_dir / "evolve.db")
    text_ = _render(run_dir, tmp_path / "old.html")
    assert "not recorded (this database predates the batches.stats column)" in text_
    assert _sha(run_dir / "evolve.db") == before
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "0001"
    engine.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgres_give_the_same_report(tmp_path, postgres_url):
    problem = str(problem_dir(tmp_path))
    data = {}
    for name, url in (("sqlite", None), ("postgres", postgres_url)):
        run_dir = tmp_path / name
        seed(problem, run_dir, write_config(tmp_path / f"{name}.yaml", {"loop": {"iterations": 8}}, url=url))
        execute(run_dir, resume=False, mutator_factory=factory)
        src = open_source(run_dir)
        try:
            data[name] = collect(src).model_dump(exclude={"summary", "accounting", "training", "config"})
        finally:
            src.engine.dispose()
        assert "plot-grid-2" in _render(run_dir, tmp_path / f"{name}.html")
    assert data["postgres"] == data["sqlite"]
    engine, _ = readonly_engine(postgres_url)
    with pytest.raises(Exception, match="read-only transaction"), engine.begin() as conn:
        conn.execute(text("DELETE FROM events"))
    engine.dispose()


def test_errors_are_one_line(tmp_path, scripted_run):
    def report(*args) -> str:
        res = CliRunner().invoke(main, ["report", *map(str, args)])
        assert res.exit_code != 0
        lines = res.output.strip().splitlines()
        assert len(lines) == 1, res.output
        return lines[0]

    assert f"{tmp_path}: not a run directory (no run.json)" in report(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    assert f"{bad / 'run.json'}: unreadable run file" in report(bad)
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "run.json").write_text(json.dumps({"run_id": "x", "database_url": f"sqlite:///{gone}/evolve.db"}))
    assert f"{gone}/evolve.db: database file not found" in report(gone)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "evolve.db").write_bytes(b"this is not a database" * 100)
    (junk / "run.json").write_text(json.dumps({"run_id": "x", "database_url": f"sqlite:///{junk}/evolve.db"}))
    assert f"{junk}/evolve.db: file is not a database" in report(junk)
    assert "cannot write" in report(scripted_run, "-o", tmp_path)  # a directory
    wrong = tmp_path / "wrong"
    shutil.copytree(scripted_run, wrong, ignore=shutil.ignore_patterns(".lock"))
    (wrong / "run.json").write_text(json.dumps({"run_id": "nope", "database_url": f"sqlite:///{wrong}/evolve.db"}))
    assert f"{wrong}/evolve.db: run nope is not in the database" in report(wrong)
    bad_stats = tmp_path / "bad_stats"
    shutil.copytree(scripted_run, bad_stats, ignore=shutil.ignore_patterns(".lock"))
    (bad_stats / "run.json").write_text((scripted_run / "run.json").read_text().replace(
        str(scripted_run), str(bad_stats)))
    with sqlite3.connect(bad_stats / "evolve.db") as db:
        db.execute("""UPDATE batches SET stats = '{"generate_s": "fast"}' WHERE batch_index = 1""")
    assert f"{bad_stats}/evolve.db: batches.stats of batch 1: generate_s: Input should be a valid number" \
        in report(bad_stats)


def test_charts_with_gaps_and_degenerate_data_draw_no_nan():
    charts = [
        line_chart("a", [Series("s", [0, 1, 2], [None, None, None], "#000")], title="t", x_label="x", y_label="y"),
        line_chart("b", [Series("s", [5], [0.5], "#000", step=True)], title="t", x_label="x", y_label="y"),
        line_chart("c", [Series("s", [0, 1, 2, 3], [1.0, None, 1.0, 1.0], "#000")], title="t", x_label="x",
                   y_label="y"),
        stacked_area("d", [0, 1], [("z", [0, 0], "#000"), ("o", [1, 1], "#111")], title="t", x_label="x",
                     y_label="y"),
        heatmap("e", [[None, 0.5], [1.0, None]], title="t", row_labels=["a", "b"], col_labels=["c", "d"],
                x_label="x", y_label="y"),
    ]
    for svg in charts:
        assert "nan" not in svg.lower() and "inf" not in svg.lower()
    assert 'class="mark"' not in charts[0] and charts[1].count('class="mark"') == 1
    assert charts[2].count('class="mark"') == 2  # a lone point, then a segment
    assert charts[3].count('class="mark"') == 1  # the all-zero layer is not drawn


def test_the_page_check_sees_errors_and_outside_requests(browser, tmp_path):
    """The browser check is not vacuous: a NaN path and remote resources are all reported."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv='
                   f'"Content-Security-Policy" content="{CSP}"></head><body><svg id="p" width="90" '
                   'height="90"><path class="mark" d="M NaN,1 L 2,3"/></svg>'
                   '<img src="http://example.invalid/x.png"></body></html>')
    page = browser.load(bad, screenshot=False)
    assert any("Expected number" in e for e in page.errors)
    assert any("Content Security Policy" in e for e in page.errors)
    assert "http://example.invalid/x.png" in page.requests


def test_open_hands_the_file_to_the_browser(scripted_run, tmp_path):
    marker = tmp_path / "opened"
    opener = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' {marker} %s"
    out = tmp_path / "r.html"
    cli("report", str(scripted_run), "-o", str(out), "--open", env={"BROWSER": opener})
    assert marker.read_text() == out.resolve().as_uri()


def test_report_of_a_live_run(tmp_path):
    """Rendered while `evolve run` is writing: a consistent snapshot, and the run is not held up."""
    run_dir = tmp_path / "run"
    cli("seed", str(problem_dir(tmp_path)), "--run", str(run_dir), "--config",
        str(write_config(tmp_path / "c.yaml", {"loop": {"iterations": 40}})))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCRIPTED_DELAY_S": "0.3"}
    proc = subprocess.Popen([sys.executable, "-c", "from evolve.cli import main; main()", "run", str(run_dir),
                             "--mutator-plugin", PLUGIN], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = json.loads(cli("status", str(run_dir), "--json").stdout)
            if status["iterations"] >= 6:
                break
            time.sleep(0.5)
        page = _render(run_dir, tmp_path / "live.html")
        assert "<th>status</th><td>running</td>" in page and "plot-answers" in page
        assert proc.wait(timeout=300) == 0, proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert json.loads(cli("status", str(run_dir), "--json").stdout)["iterations"] == 40
