"""trainer.checkpoints: the one owner of the checkpoint layout (learner, online and offline
training, the trainer service and the mutators read through it).  The paths are spelled out here
on purpose: a change of layout breaks existing run directories and `evolve train` outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolve.mutator.base import MutatorError, check_adapter
from trainer.checkpoints import (
    adapter_path,
    checkpoint_version,
    is_adapter,
    is_checkpoint,
    read_state,
    run_adapter,
    run_checkpoint,
    version_checkpoint,
    write_state,
)


def test_the_layout():
    assert version_checkpoint(Path("out"), 3) == Path("out/v3")
    assert run_checkpoint(Path("run"), 3) == Path("run/adapters/v3")
    assert run_adapter(Path("run"), 3) == Path("run/adapters/v3/adapter")
    assert adapter_path(Path("out/v3")) == Path("out/v3/adapter")


def test_state_round_trip(tmp_path):
    ckpt = version_checkpoint(tmp_path, 2)
    ckpt.mkdir()
    assert not is_checkpoint(ckpt)
    write_state(ckpt, 2, numpy_rng={"state": 1}, config={"lr": 0.1})
    assert is_checkpoint(ckpt) and (ckpt / "trainer_state.json").is_file()
    assert checkpoint_version(ckpt) == 2
    assert read_state(ckpt) == (2, {"numpy_rng": {"state": 1}, "config": {"lr": 0.1}})


def test_reading_no_checkpoint_is_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not a learner checkpoint \(no trainer_state.json\)$"):
        read_state(tmp_path)


def test_an_adapter_is_a_directory_with_peft_config(tmp_path):
    adapter = adapter_path(tmp_path)
    adapter.mkdir()
    assert not is_adapter(adapter)
    with pytest.raises(MutatorError, match="no adapter_config.json"):
        check_adapter(adapter)
    (adapter / "adapter_config.json").write_text("{}")
    assert is_adapter(adapter)
    check_adapter(adapter)
