"""Why a run stopped is never hidden by the bookkeeping done on the way out."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy.exc import OperationalError

from evolve.loop import Budget, Loop


class _Search:
    """Just what Loop.run touches: the counters and add_elapsed, which fails like a database
    that went away mid-run."""

    def __init__(self) -> None:
        self.counters = SimpleNamespace(elapsed_s=0.0)

    def add_elapsed(self, seconds: float) -> None:
        raise OperationalError("UPDATE runs", {}, Exception("disk I/O error"))


def test_the_original_error_surfaces_when_storing_the_time_fails_too(monkeypatch, caplog):
    loop = Loop(_Search(), mutator=None, sandbox=None, budget=Budget(iterations=1))  # type: ignore[arg-type]

    def boom() -> str:
        raise RuntimeError("the sandbox died")

    monkeypatch.setattr(loop, "_run", boom)
    with pytest.raises(RuntimeError, match="the sandbox died"):
        loop.run()
    assert "active time of the last batch not stored" in caplog.text
