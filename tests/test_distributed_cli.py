"""The shutdown frame `evolve worker` and `evolve trainer serve` share (evolve.cli.distributed):
a stop (Ctrl-C or SIGTERM) is one line and exit 143, a run error is the command's one-line
error, and the database engine is disposed however the body ends.  No PostgreSQL: `_open` is
replaced by a fake engine."""

from __future__ import annotations

import os
import signal
import time

import click
import pytest

from evolve.cli import distributed
from evolve.runs import RunError


class _Engine:
    disposed = False

    def dispose(self) -> None:
        self.disposed = True


@pytest.fixture
def engine(monkeypatch):
    eng = _Engine()
    monkeypatch.setattr(distributed, "_open", lambda url: (eng, "factory"))
    return eng


def test_the_body_gets_the_session_factory_and_the_engine_is_disposed(engine):
    with distributed._process("postgresql://x", "worker") as factory:
        assert factory == "factory" and not engine.disposed
    assert engine.disposed


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_stop_is_one_line_and_exit_143(engine, capsys, stop):
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exc:
        with distributed._process("postgresql://x", "trainer"):
            if stop == "ctrl-c":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # the handler interrupts it
            raise AssertionError("SIGTERM did not stop the body")
    assert exc.value.code == 143
    assert capsys.readouterr().err.strip() == (
        "trainer: stopped; its batches go to the other workers (or to the next one started)")
    assert engine.disposed and signal.getsignal(signal.SIGTERM) == before


def test_a_run_error_is_the_commands_one_line_error(engine):
    with pytest.raises(click.ClickException) as exc:
        with distributed._process("postgresql://x", "worker"):
            raise RunError("run abc: gone\nsecond line")
    assert exc.value.message == "run abc: gone" and engine.disposed


def test_other_exceptions_pass_through(engine):
    with pytest.raises(ZeroDivisionError):
        with distributed._process("postgresql://x", "worker"):
            1 / 0
    assert engine.disposed
