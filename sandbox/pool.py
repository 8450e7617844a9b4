"""A warm pool of slots: concurrent candidates up to the slot count, with slot replacement.

A slot is replaced after it served `max_candidates_per_slot` candidates, or after a candidate
timed out or crashed in it (escaped processes die with it), or when it stops answering.  The
host keeps its own deadline (wall limit + grace) so that no evaluation can hang the search.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from sandbox.slots import Slot, SlotDied

REPLACE_AFTER = {"timeout", "crashed", "memory"}


class SlotPool:
    def __init__(self, factory: Callable[[int], Slot], size: int, max_uses: int, start_timeout: float):
        self.factory, self.size, self.max_uses = factory, size, max_uses
        self.start_timeout = start_timeout
        self._free: queue.Queue[tuple[int, Slot | None]] = queue.Queue()
        for index in range(size):
            self._free.put((index, None))
        self._lock = threading.Lock()
        self._live: dict[int, Slot] = {}
        self.closed = False

    def run(self, job: dict, deadline_s: float) -> tuple[dict[str, dict], dict | None, str]:
        """Run one job: (outcomes by test id, the done frame or None, failure reason)."""
        index, slot = self._free.get()
        outcomes: dict[str, dict] = {}
        done, failure, replace = None, "", False
        try:
            if slot is None or not slot.alive:
                slot = self._start(index)
            slot.send(job)
            deadline = time.monotonic() + deadline_s
            while True:
                frame = slot.recv(deadline - time.monotonic())
                if frame is None:
                    failure = f"sandbox gave no answer within {deadline_s:.0f}s; its slot was killed"
                    replace = True
                    break
                if frame.get("job_id") != job["job_id"]:
                    continue
                if frame.get("type") == "outcome":
                    outcome = frame["outcome"]
                    outcomes[outcome["test_id"]] = outcome
                    replace |= outcome["status"] in REPLACE_AFTER
                elif frame.get("type") == "done":
                    done = frame
                    break
        except SlotDied as exc:
            failure, replace = f"sandbox runner died: {exc}", True
        finally:
            if slot is not None:
                slot.served += 1
                if replace or slot.served >= self.max_uses or self.closed:
                    slot.kill()
                    slot = None
            with self._lock:
                if slot is None:
                    self._live.pop(index, None)
            self._free.put((index, slot))
        return outcomes, done, failure

    def _start(self, index: int) -> Slot:
        slot = self.factory(index)
        with self._lock:
            self._live[index] = slot
        slot.start(self.start_timeout)
        return slot

    def warm(self) -> None:
        """Start every slot now instead of on first use."""
        taken = [self._free.get() for _ in range(self.size)]
        try:
            taken = [(i, s if s is not None and s.alive else self._start(i)) for i, s in taken]
        finally:
            for item in taken:
                self._free.put(item)

    def close(self) -> None:
        self.closed = True
        with self._lock:
            live = list(self._live.values())
            self._live.clear()
        for slot in live:
            slot.kill()
