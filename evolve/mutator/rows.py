"""The state of one scaffolded sequence being sampled, shared by the backends.

A row holds the completion's tokens, who wrote each (model or harness), the log-probs, where
each answer's sampled code lies, and the budget.  Backends feed it tokens; it decides nothing
about text: `end_answer` is told whether the answer closed, and whether it was a copy.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Row:
    toks: list[int] = field(default_factory=list)
    lps: list[float | None] = field(default_factory=list)
    sampled: list[bool] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)  # KV-cache column of each token (in process)
    temps: list[float] = field(default_factory=list)  # temperature each token was sampled at
    base_temp: float = 1.0
    retry_step: float = 0.0  # added to the temperature at each resample of an unusable answer
    forced: deque = field(default_factory=deque)  # harness tokens still to feed
    segments: list[tuple[int, int]] = field(default_factory=list)  # answers' sampled spans
    seg: int = 0  # where the current answer's sampled code starts
    n_sampled: int = 0  # sampled tokens in the sequence (the budget); discarded ones excluded
    discarded: int = 0  # sampled tokens of answers discarded as copies (bounded by the retries)
    retries: int = 0  # resamples of the current answer so far
    finish: str = "length"
    done: bool = False

    @classmethod
    def start(cls, opening: list[int], first_col: int = 0, temperature: float = 1.0,
              retry_step: float = 0.0) -> "Row":
        """The first opening is prefilled with the prompt: it is already in the sequence."""
        row = cls(toks=list(opening), lps=[None] * len(opening), sampled=[False] * len(opening),
                  cols=list(range(first_col, first_col + len(opening))),
                  temps=[temperature] * len(opening), base_temp=temperature, retry_step=retry_step)
        row.seg = len(opening)
        row.segments.append((row.seg, row.seg))
        return row

    @property
    def temperature(self) -> float:
        """The temperature the current answer samples at (hotter on each retry)."""
        return self.base_temp + self.retry_step * self.retries

    def push(self, tok: int, lp: float, col: int = -1) -> None:
        self.toks.append(tok)
        self.lps.append(lp)
        self.sampled.append(True)
        self.cols.append(col)
        self.temps.append(self.temperature)
        self.n_sampled += 1
        self.segments[-1] = (self.seg, len(self.toks))

    def insert(self, col: int = -1) -> int:
        tok = self.forced.popleft()
        self.toks.append(tok)
        self.lps.append(None)
        self.sampled.append(False)
        self.cols.append(col)
        self.temps.append(self.base_temp)
        return tok

    @property
    def answer_tokens(self) -> int:
        return len(self.toks) - self.seg

    def next_answer(self, opening: list[int]) -> None:
        self.forced.extend(opening)
        self.seg = len(self.toks) + len(opening)
        self.segments.append((self.seg, self.seg))
        self.retries = 0

    def rewind(self, refeed: bool) -> int:
        """Discard the current answer's sampled tokens; returns the index of the first dropped
        token.  With `refeed` (in process) the last opening token is dropped too and queued
        again, because its logits start the new attempt; a server simply continues from the
        shortened sequence."""
        cut = self.seg - 1 if refeed else self.seg
        dropped = sum(self.sampled[self.seg:])
        self.discarded += dropped
        self.n_sampled -= dropped
        if refeed:
            self.forced.appendleft(self.toks[cut])
        del self.toks[cut:], self.lps[cut:], self.sampled[cut:], self.cols[cut:], self.temps[cut:]
        self.segments[-1] = (self.seg, self.seg)
        self.retries += 1
        return cut

    def finish_as(self, reason: str) -> None:
        self.finish, self.done = reason, True

    def out_of_budget(self) -> None:
        """The token budget is spent: the harness still writes what it had queued (an opening
        then stands without code), so every backend ends on the same sequence."""
        while self.forced:
            self.insert()
        self.finish_as("length")
