"""Shared pytest fixtures (keep this file small: each fixture here is used by several suites)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `pytest` (not only `python -m pytest`) must see tests.fixtures
    sys.path.insert(0, str(_ROOT))

from tests.fixtures.tiny_lm import build_tiny_lm, default_cache_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_lm_dir() -> Path:
    """A tiny Qwen2 LM + tokenizer directory (transformers/peft/vLLM loadable), cached on disk."""
    return build_tiny_lm(default_cache_dir())


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL 15 server of our own (initdb in a temp dir, free loopback port)."""
    from tests.fixtures.postgres import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("VPO_REQUIRE_POSTGRES") == "1":  # the README's test command sets it
            pytest.fail(f"no PostgreSQL server: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of a fresh, empty database on the test server."""
    return postgres_server.new_database()
