"""What `evolve run` / `evolve resume` print when the run ends (finished, solved, out of time or
interrupted): the best program and its fitness, its per-test outcome, the accounting, where the
run lives, how to continue it, how to open its report, and where the logs are."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from evolve.accounting import run_totals
from evolve.cli.common import outcome_table
from evolve.cli.display import clock
from evolve.db import repo
from evolve.db.engine import display
from evolve.progress import read_progress
from evolve.rundir import database_errors, open_run, resume_hint
from problems.model import Problem

CODE_LINES = 40  # the best program's code is shown up to this many lines
LOG_ENV = "VPO_SETUP_LOG"  # scripts/discover.sh: where the set-up's output (pip, apt...) went


def _block(code: str) -> str:
    """The EVOLVE-BLOCK of a program (what the search changes), else the whole program."""
    lines = code.splitlines()
    start = next((i for i, x in enumerate(lines) if "EVOLVE-BLOCK-START" in x), None)
    end = next((i for i, x in enumerate(lines) if "EVOLVE-BLOCK-END" in x), None)
    if start is not None and end is not None and end > start:
        lines = lines[start:end + 1]
    if len(lines) > CODE_LINES:
        lines = lines[:CODE_LINES] + [f"# ... {len(lines) - CODE_LINES} more lines"]
    return "\n".join(lines)


def continue_hint(run_dir: Path, status: str, reason: str, elapsed_s: float, iterations: int) -> str:
    """The command that continues the run: `evolve resume` after an interruption, else `evolve
    run` with a larger budget (resume keeps the spent one and would stop at once)."""
    q = shlex.quote(str(run_dir))
    if status == "interrupted":
        return resume_hint(run_dir)
    if reason.startswith("time budget"):
        longer = max(int(elapsed_s / 60 + 0.999) * 2, 1)
        return f"evolve run {q} --minutes {longer}   (a longer time bound: the budget counts active time)"
    if reason.startswith("iteration budget"):
        return f"evolve run {q} --iterations {max(2 * iterations, 1)}   (a larger budget: this one is spent)"
    return f"evolve run {q} --iterations N --minutes M   (a larger budget; this one is spent)"


def print_summary(console: Console, run_dir: Path, run_log: Path | None = None, warnings: int = 0,
                  elapsed_s: float | None = None) -> None:
    """The end-of-run summary, read from the run's database (read-only); `run_log` is the run's
    log file (with `warnings` warnings logged this session); `elapsed_s` the active time as the
    driving process measured it (the stored figure counts completed batches only)."""
    run_dir = Path(run_dir)
    r = open_run(run_dir)
    try:
        with database_errors(r), repo.transaction(r.factory) as s:
            p = read_progress(s, r.run_id)
            run = repo.get_run(s, r.run_id)
            best = repo.get_program(s, r.run_id, p.best_seq) if p.best_seq is not None else None
            acct = run_totals(s, r.run_id)
            where = display(r.url)
    finally:
        r.close()
    tests = Problem.model_validate(run.problem).search_view().tests
    elapsed = max(p.elapsed_s, elapsed_s or 0.0)
    console.rule(f"[bold]{p.status}: {run.stop_reason or '-'}[/bold]", align="left")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    if best is not None:
        gain = (f" (initial {p.initial_fitness:.4f}, {best.fitness - p.initial_fitness:+.4f})"
                if p.initial_fitness is not None else "")
        grid.add_row("best program", f"#{best.seq}, fitness {best.fitness:.4f}{gain}, "
                                     f"{p.best_passed}/{len(tests)} tests passed, by adapter v{best.policy_version}"
                     if best.origin == "child" else
                     f"#{best.seq}, fitness {best.fitness:.4f}: the initial program (not beaten yet)")
    grid.add_row("time", f"{clock(elapsed)} of active search, {p.batches_done} batches, "
                         f"{p.iterations_done} prompts")
    if acct:
        grid.add_row("answers", f"{acct['answers']:,.0f} asked, {acct['usable']:,.0f} usable "
                                f"({acct['usable_fraction']:.0%}), {acct['new_programs']:,.0f} new programs")
        grid.add_row("wall time", f"generation {clock(acct['generate_s'])}, evaluation {clock(acct['evaluate_s'])}, "
                                  f"learning {clock(acct['learn_s'])}"
                                  + (f" ({acct['completion_tokens_per_s']:,.0f} tokens/s generating)"
                                     if acct["completion_tokens_per_s"] else ""))
        if "improvements" in acct:
            n = acct["improvements"]
            cost = (f": {acct['answers_per_improvement']:,.0f} answers and "
                    f"{acct['completion_tokens_per_improvement']:,.0f} tokens per improvement" if n else "")
            grid.add_row("improvements", f"{n:,.0f} new bests of the run{cost}")
    grid.add_row("mutator", f"adapter v{p.model_version}, {p.train_steps} learner steps"
                 if p.learner_configured else f"adapter v{p.model_version} (frozen)")
    q = shlex.quote(str(run_dir))
    grid.add_row("the run", f"{run_dir}  (database {where}; "
                            f"`evolve status {q}`, `evolve archive ls {q}`)")
    grid.add_row("continue", continue_hint(run_dir, p.status, run.stop_reason or "", elapsed,
                                                p.iterations_done))
    grid.add_row("report", f"evolve report {q} -o {shlex.quote(str(run_dir / 'report.html'))} --open")
    if best is not None:
        grid.add_row("best code", f"evolve archive best {q} --export best.py")
    logs = [f"run: {run_log}" + (f" ({warnings} warnings this session)" if warnings else "")] \
        if run_log is not None else []
    if os.environ.get(LOG_ENV):
        logs.append(f"set-up (pip, apt, docker, model): {os.environ[LOG_ENV]}")
    if logs:
        grid.add_row("logs", "; ".join(logs))
    if best is not None:
        console.print(Syntax(_block(best.code), "python", line_numbers=False))
        console.print(outcome_table(tests, best.scores, best.failures,
                                    title=f"per-test outcome of #{best.seq}"))
    console.print(grid)
