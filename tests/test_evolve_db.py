"""The run database: migrations match the models, SQLite settings, constraints, DAO functions."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from evolve.answers import stored_record
from evolve.db import repo
from evolve.db.engine import open_database, sqlite_url
from evolve.db.models import Base, Cell, Program, PromptRow, Rollout, Run


def _engine(tmp_path):
    return open_database(sqlite_url(tmp_path / "t.db"), busy_timeout_s=7)


def _no_drift(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(ctx, Base.metadata)
                if not (isinstance(d, tuple) and "evolve_alembic_version" in str(d))]


def test_sqlite_migrations_match_models_and_settings(tmp_path):
    e = _engine(tmp_path)
    assert _no_drift(e) == []
    with e.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    open_database(sqlite_url(tmp_path / "t.db"))  # reopening migrates nothing and works
    assert {"runs", "programs", "cells", "rollouts", "events", "prompts", "batches"} <= set(
        inspect(e).get_table_names())


@pytest.mark.postgres
def test_postgres_migrations_match_models(postgres_url):
    e = open_database(postgres_url)
    assert _no_drift(e) == []
    open_database(postgres_url)
    with e.connect() as c:
        assert c.execute(text("SELECT version_num FROM evolve_alembic_version")).scalar() == _head()


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from evolve.db.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_a_database_of_the_first_schema_upgrades_in_place(tmp_path):
    """A run written before 0002 (no per-token sampled mask, no batch stats) opens and migrates."""
    from alembic import command
    from alembic.config import Config

    from evolve.db.engine import MIGRATIONS, make_engine

    url = sqlite_url(tmp_path / "old.db")
    old = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with old.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with old.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO runs VALUES ('r', 'p', '{}', '{}', 0, 'seeded', '', '{}', '{}', '[]', '{}',"
            " 0, '2026-01-01', '2026-01-01')")
    e = open_database(url)
    assert _no_drift(e) == []
    with e.connect() as c:
        assert c.exec_driver_sql("SELECT id FROM runs").scalar() == "r"


def _run(s, rid="r1"):
    s.add(Run(id=rid, problem_id="p", problem={}, config={}, seed=0, status="seeded",
              rng_state="{}", counters={}, binning=[], budget={}))
    s.flush()


def _prog(rid, seq, h, island=0, parent=None, fitness=0.5):
    return Program(run_id=rid, seq=seq, code=f"code{seq}", code_hash=h, parent_seq=parent,
                   origin="child", island=island, generation=0, scores=[fitness], fitness=fitness,
                   descriptor=[1.0], failures=[])


def test_retried_writes_cannot_duplicate(tmp_path):
    f = repo.session_factory(_engine(tmp_path))
    with repo.transaction(f) as s:
        _run(s)
        s.add(_prog("r1", 0, "h0"))
    with pytest.raises(IntegrityError):  # same code on the same island
        with repo.transaction(f) as s:
            s.add(_prog("r1", 1, "h0"))
    with pytest.raises(IntegrityError):  # same seq
        with repo.transaction(f) as s:
            s.add(_prog("r1", 0, "hX", island=1))
    with repo.transaction(f) as s:  # same code on another island is a different program
        s.add(_prog("r1", 1, "h0", island=1))
        assert repo.count_programs(s, "r1") == 2


def test_transaction_is_all_or_nothing(tmp_path):
    f = repo.session_factory(_engine(tmp_path))
    with repo.transaction(f) as s:
        _run(s)
    with pytest.raises(RuntimeError):
        with repo.transaction(f) as s:
            s.add(_prog("r1", 0, "h0"))
            repo.upsert_cell(s, "r1", 0, (1, 2), 0, 0.5, 0)
            s.flush()
            raise RuntimeError("crash mid-transaction")
    with repo.transaction(f) as s:
        assert repo.count_programs(s, "r1") == 0 and repo.load_cells(s, "r1") == []


def test_cells_lineage_and_replay_buffer(tmp_path):
    f = repo.session_factory(_engine(tmp_path))
    with repo.transaction(f) as s:
        _run(s)
        s.add_all([_prog("r1", 0, "a"), _prog("r1", 1, "b", parent=0), _prog("r1", 2, "c", parent=1)])
        repo.upsert_cell(s, "r1", 0, (1, 2), 1, 0.5, 0)
        repo.upsert_cell(s, "r1", 0, (1, 2), 2, 0.7, 1)  # replaces the elite of the same cell
        repo.upsert_cell(s, "r1", 1, (1, 2), 0, 0.1, 2)
    with repo.transaction(f) as s:
        cells = repo.load_cells(s, "r1")
        assert [(c.island, c.cell_key, p.seq) for c, p in cells] == [(0, "1,2", 2), (1, "1,2", 0)]
        assert [p.seq for p in repo.lineage(s, "r1", 2)] == [2, 1, 0]
        repo.replace_cells(s, "r1", [(0, (3,), 1, 0.5, 5)], islands=[0])
    with repo.transaction(f) as s:
        assert sorted((c.island, c.cell_key) for c, _ in repo.load_cells(s, "r1")) == [(0, "3"), (1, "1,2")]
        s.add(PromptRow(run_id="r1", batch_index=0, iteration=0, island=0, parent_seq=0,
                        inspirations=[], system="s", user="u"))
        s.flush()
        pid = s.scalar(select(PromptRow.id))
        for j in range(2):
            s.add(Rollout(run_id="r1", prompt_id=pid, iteration=0, island=0, group_id="g",
                          completion_index=j, text="t", prompt_token_ids=[7], token_ids=[1, 2],
                          logprobs=[-0.1, -0.2],
                          finish_reason="stop", rewards=[[1.0], [0.0]], valid=[True, False],
                          answer_keys=["h", ""], answers={"summary": "x"}))
    with repo.transaction(f) as s:
        buf = repo.unconsumed_rollouts(s, "r1")
        rec = stored_record(buf[0])
        assert rec.group_id == "g" and rec.completion_ids == [1, 2] and rec.answer_flags() == ["ok", "invalid"]
        assert repo.committed_completions(s, [pid]) == {(pid, 0), (pid, 1)}
        repo.mark_consumed(s, [buf[0].id])
    with repo.transaction(f) as s:
        assert [r.completion_index for r in repo.unconsumed_rollouts(s, "r1")] == [1]
