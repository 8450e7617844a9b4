"""peft 0.21 reads transformers' deprecated `is_gradient_checkpointing` whenever it wraps a model,
which prints a FutureWarning on every adapter load; nothing of ours reads it.  Every place that
wraps a model with peft does it inside `peft_quiet()`, which hides exactly that warning."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def peft_quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield
