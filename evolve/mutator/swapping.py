"""Hot swap: a wrapper that applies a new adapter at the start of the next `generate`.

Generation runs in the search loop's worker thread; a swap in the middle of a batch would mix two
policies under one version number, so `load_adapter` only records the adapter and the next
`generate` call loads it before sampling.
"""

from __future__ import annotations

import threading
from pathlib import Path

from evolve.mutator.base import Mutator, check_adapter


class SwappingMutator(Mutator):
    """Wraps a mutator; `load_adapter` takes effect at the start of the next `generate`."""

    def __init__(self, inner: Mutator) -> None:
        super().__init__()
        self.inner, self.name = inner, inner.name
        self._pending: tuple[int, Path] | None = None
        self._lock = threading.Lock()

    @property
    def policy_version(self) -> int:
        return self.inner.policy_version

    def load_adapter(self, version: int, path: Path) -> None:
        check_adapter(path)
        with self._lock:
            self._pending = (version, Path(path))

    def generate(self, prompts, n=1, params=None, parents=None):
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self.inner.load_adapter(*pending)
        return self.inner.generate(prompts, n, params, parents)

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self.inner.close()
