"""Shared pytest fixtures (keep this file small: each fixture here is used by several suites)."""

from __future__ import annotations

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
