"""Run databases created from several threads of one process at once (the search-efficiency
benchmark seeds its cells in a thread pool)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from evolve.db.engine import head_revision, open_database, schema_revision


def test_concurrent_migrations_in_threads(tmp_path):
    """Regression: Alembic's module-level proxies made concurrent upgrades fail with
    KeyError: 'config' (a 3-worker benchmark run died on it)."""
    def create(i: int) -> str | None:
        engine = open_database(f"sqlite:///{tmp_path / f'run{i}.db'}", mode="create")
        try:
            return schema_revision(engine)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=8) as pool:
        revisions = list(pool.map(create, range(24)))
    assert revisions == [head_revision()] * 24
