"""The live display of `evolve run` / `evolve resume`: one panel, redrawn every second, with the
time bound, what the run is doing now, best and mean fitness, answers asked and usable,
children per minute, tokens per second, the adapter version and the learner.

Figures come from the run's database (evolve.progress, re-read at most every POLL_S seconds
through a read-only connection of its own), so the panel shows what is stored, also while a
batch is being evaluated.  What the run is doing comes from the loop's callbacks: a batch is
generated while the previous one is evaluated; between a batch's completion (stored) and its
callback the online learner steps.  Without a terminal (a pipe, a log file) there is no panel:
one line per batch instead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from evolve.progress import BatchStatsCache, Progress, read_progress

POLL_S = 2.0
SPARK = "▁▂▃▄▅▆▇█"
HISTORY = 48  # batches in the best-fitness sparkline


def clock(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo
    return "".join(SPARK[int((v - lo) / span * (len(SPARK) - 1)) if span > 0 else 0] for v in values)


def _f(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


@dataclass
class Phase:
    what: str
    since: float  # time.monotonic() when it began


def fitness_line(p: Progress) -> Text:
    t = Text()
    t.append(f"best {_f(p.best_fitness)}", style="bold green")
    if p.best_seq is not None:
        t.append(f" (#{p.best_seq}, {p.best_passed}/{p.tests} tests)")
    if p.initial_fitness is not None and p.best_fitness is not None:
        gain = p.best_fitness - p.initial_fitness
        t.append(f"  initial {p.initial_fitness:.4f}")
        t.append(f" {gain:+.4f}" if gain else " (not beaten yet)", style="green" if gain > 0 else "dim")
    t.append(f"\nmean {_f(p.elites_mean)} over {p.elites} elites")
    t.append(f" · {_f(p.recent_children_mean)} over the newest children" if p.recent_children_mean is not None
             else " · no children yet")
    return t


def answers_line(p: Progress) -> str:
    a = p.totals
    if not a:
        return "none yet (the first batch is being generated)"
    return (f"{a['answers']:,.0f} asked · {a['usable']:,.0f} usable ({a['usable_fraction']:.0%}) · "
            f"{a['new_programs']:,.0f} new programs · {a['known']:,.0f} re-found")


def speed_line(p: Progress) -> str:
    parts = [f"{_f(p.children_per_min, '.1f')} children/min"]
    if p.tokens_per_s:
        parts.append(f"{p.tokens_per_s:,.0f} tokens/s generating")
    b = p.last_batch
    if b is not None:
        split = " · ".join(f"{name} {getattr(b, k):.0f} s" for k, name in
                           (("generate_s", "gen"), ("evaluate_s", "eval"), ("learn_s", "learn"))
                           if getattr(b, k))
        parts.append(f"last batch: {split}" if split else "")
    return " · ".join(x for x in parts if x)


def learner_line(p: Progress, learning: bool) -> str:
    if not p.learner_configured:
        return f"adapter v{p.model_version} · frozen (no trainer section in the config)"
    out = f"adapter v{p.model_version} · {p.train_steps} learner steps"
    s = p.last_step
    if learning:
        out += " · stepping now"
    elif s is not None:
        keys = [k for k in ("loss", "entropy", "kl") if k in s.metrics]
        figures = ", ".join(f"{k} {s.metrics[k]:.3g}" for k in keys)
        ago = f" {clock(s.seconds_ago)} ago" if s.seconds_ago is not None else ""
        out += (f" · last{ago}: v{s.version} {'updated' if s.updated else 'no update (zero advantages)'}"
                f" on {s.groups} groups" + (f" ({figures})" if figures else ""))
    else:
        out += " · waiting for complete groups"
    return out


def render(p: Progress | None, phase: Phase, elapsed_s: float, history: list[float], title: str,
           hint: str, learning: bool = False) -> Panel:
    """The panel (a pure function of its inputs: the tests render it from a stored run)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    now = time.monotonic()
    minutes = p.minutes_budget if p else None
    if minutes:
        bar = ProgressBar(total=minutes * 60, completed=min(elapsed_s, minutes * 60), width=30)
        grid.add_row("time", Group(bar, Text(f"{clock(elapsed_s)} of {clock(minutes * 60)} (stops by itself)")))
    else:
        grid.add_row("time", f"{clock(elapsed_s)}")
    if p and p.iterations_budget:
        grid.add_row("iterations", f"{p.iterations_done:,} of {p.iterations_budget:,} prompts · "
                                   f"{p.batches_done:,} batches done")
    what = "learner step (fine-tuning the mutator on the newest groups)" if learning else phase.what
    grid.add_row("now", f"{what} [dim]({clock(now - phase.since)})[/dim]")
    if p is not None:
        grid.add_row("fitness", fitness_line(p))
        if len(history) > 1:
            grid.add_row("best so far", Text(sparkline(history[-HISTORY:]), style="green"))
        grid.add_row("answers", answers_line(p))
        grid.add_row("speed", speed_line(p))
        grid.add_row("mutator", learner_line(p, learning))
    return Panel(grid, title=title, subtitle=hint, title_align="left", subtitle_align="left")


class LiveDisplay:
    """Drives the panel from the loop's callbacks (`on_start`, `on_batch`) and a poll of the
    database; `with LiveDisplay(...)` shows it while the run goes."""

    def __init__(self, console: Console, run_dir: Path, title: str, hint: str):
        self.console, self.run_dir, self.title, self.hint = console, Path(run_dir), title, hint
        self.phase = Phase("starting: loading the mutator and the sandbox", time.monotonic())
        self.progress: Progress | None = None
        self.history: list[float] = []
        self.batches_seen = 0
        self._t0 = time.monotonic()
        self._base_s = 0.0
        self._polled = 0.0
        self._reader = None  # the refresh thread's read-only view of the run
        self._stats = BatchStatsCache()
        self._search = None  # the search while the run goes (set by on_start)
        self.started = False
        self._lock = threading.Lock()
        self._live = Live(console=console, get_renderable=self._renderable, refresh_per_second=1,
                          transient=False) if console.is_terminal else None

    # --- the loop's callbacks (main thread) -----------------------------------------------------

    def on_start(self, search, budget) -> None:
        c, cfg = search.counters, search.config
        self._base_s, self._t0 = c.elapsed_s, time.monotonic()
        self._search = search
        self.started = True
        self.batches_seen = c.batches_done
        self.history = [c.best_fitness] if c.best_seq is not None else []
        self._set_phase(f"generating batch {c.batches_done} ({cfg.loop.batch_size} prompts x "
                        f"{cfg.mutation.completions} completions x {cfg.mutation.answers} answers)")
        self._read(search.factory, search.run_id)

    def on_batch(self, search, plan, happened: list[str]) -> None:
        c = search.counters
        self.batches_seen = c.batches_done
        self.history.append(c.best_fitness)
        more = c.iterations_planned > c.iterations_done  # the next batch is in flight
        self._set_phase(f"generating batch {plan.index + 1}, then evaluating it" if more
                        else "no batch left to run: finishing")
        p = self._read(search.factory, search.run_id)
        if not more:
            self._search = None  # the run is ending: the panel stops reading the database
        if self._live is None and p is not None:
            extra = f" ({', '.join(happened)})" if happened else ""
            self.console.print(f"batch {plan.index}: iterations {c.iterations_done} | {batch_line(p)}{extra}",
                               soft_wrap=True)

    def _set_phase(self, what: str) -> None:
        self.phase = Phase(what, time.monotonic())

    # --- reading -----------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._base_s + time.monotonic() - self._t0

    def _read(self, factory, run_id: str) -> Progress | None:
        """Re-read the figures through `factory` (the callbacks use the run's own sessions on
        the main thread: no second connection)."""
        from sqlalchemy.exc import SQLAlchemyError

        from evolve.accounting import AccountingError
        from evolve.db import repo

        with self._lock:
            try:
                with repo.transaction(factory) as s:
                    self.progress = read_progress(s, run_id, self._stats)
            except (SQLAlchemyError, repo.RunNotFound, AccountingError):
                pass  # keep the last figures; the run itself reports database trouble
            self._polled = time.monotonic()
            return self.progress

    def _poll(self) -> None:
        """From the panel's refresh thread, at most every POLL_S seconds while the run goes: a
        read-only connection opened and closed per read, so none outlives the run's own (the
        run's last connection checkpoints the SQLite WAL away)."""
        from evolve.rundir import RunError, open_run

        if self._search is None or time.monotonic() - self._polled < POLL_S:
            return
        try:
            if self._reader is None:
                self._reader = open_run(self.run_dir)
            self._read(self._reader.factory, self._reader.run_id)
        except RunError:
            self._polled = time.monotonic()
        finally:
            if self._reader is not None:
                self._reader.engine.dispose()

    def learning(self) -> bool:
        """A batch is stored as done but its callback has not come: the learner is stepping."""
        p = self.progress
        return bool(p and p.learner_configured and p.batches_done > self.batches_seen)

    def _renderable(self) -> Panel:
        self._poll()
        return render(self.progress, self.phase, self.elapsed(), self.history, self.title, self.hint,
                      self.learning())

    # --- lifetime ----------------------------------------------------------------------------

    def __enter__(self) -> "LiveDisplay":
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._search = None
        if self._live is not None:
            self._set_phase("stopped (the summary follows)" if exc[0] is None else
                            "interrupted: stopping cleanly" if issubclass(exc[0], KeyboardInterrupt) else "failed")
            self.batches_seen = 1 << 62  # no learner step is running any more
            self._live.__exit__(*exc)
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def batch_line(p: Progress) -> str:
    """One line per batch when there is no terminal to draw the panel on."""
    a = p.totals
    parts = [f"best {_f(p.best_fitness)}", f"elites mean {_f(p.elites_mean)}",
             f"children {p.children}", f"dup {p.duplicates}", f"rejected {p.rejected}"]
    if a:
        parts.append(f"answers {a['answers']:,.0f} ({a['usable']:,.0f} usable)")
    if p.children_per_min is not None:
        parts.append(f"{p.children_per_min:.1f} children/min")
    if p.tokens_per_s:
        parts.append(f"{p.tokens_per_s:,.0f} tokens/s")
    parts.append(f"adapter v{p.model_version}")
    return " | ".join(parts)
