"""`evolve archive ...`: inspect a run's programs from the command line (works while it runs)."""

from __future__ import annotations

import difflib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from rich.syntax import Syntax
from rich.table import Table

from evolve.cli.common import INT64, RUN_DIR, console, outcome_table
from evolve.db import repo
from evolve.map_elites import PASS_SCORE
from problems.model import Problem


@contextmanager
def _reading(run_dir: Path) -> Iterator[tuple]:
    """(the open run, a session): the database read-only; every run or database problem
    becomes one line."""
    from evolve.rundir import RunError, database_errors, open_run

    try:
        r = open_run(run_dir)
        try:
            with database_errors(r), repo.transaction(r.factory) as s:
                yield r, s
        finally:
            r.close()
    except RunError as exc:
        raise click.ClickException(str(exc)) from None


def _program(s, r, seq: int):
    p = repo.get_program(s, r.run_id, seq)
    if p is None:
        raise click.ClickException(f"no program #{seq} in this run")
    return p


def _passed(p) -> int:
    return sum(x >= PASS_SCORE for x in p.scores)


@click.group("archive")
def archive_group() -> None:
    """Inspect a run's archive: programs, lineage, the best program, the MAP-Elites grid."""


@archive_group.command("ls")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--sort", type=click.Choice(["seq", "fitness"]), default="fitness", show_default=True)
@click.option("--limit", type=INT64, default=30, show_default=True)
@click.option("--island", type=INT64, help="only this island")
def ls_command(run_dir: Path, sort: str, limit: int, island: int | None) -> None:
    """List programs (id, island, generation, fitness, tests passed, origin, parent)."""
    with _reading(run_dir) as (r, s):
        rows = repo.list_programs(s, r.run_id, order=sort, limit=limit, island=island)
        elites = {(c.island, c.program_seq) for c, _ in repo.load_cells(s, r.run_id)}
    t = Table("id", "island", "gen", "fitness", "passed", "origin", "parent", "elite")
    for p in rows:
        t.add_row(str(p.seq), str(p.island), str(p.generation), f"{p.fitness:.3f}",
                  f"{_passed(p)}/{len(p.scores)}", p.origin, "" if p.parent_seq is None else str(p.parent_seq),
                  "*" if (p.island, p.seq) in elites else "")
    console.print(t)


@archive_group.command("show")
@click.argument("run_dir", type=RUN_DIR)
@click.argument("seq", type=INT64)
def show_command(run_dir: Path, seq: int) -> None:
    """A program's code, scores and failing tests."""
    with _reading(run_dir) as (r, s):
        p = _program(s, r, seq)
        run = repo.get_run(s, r.run_id)
    tests = Problem.model_validate(run.problem).search_view().tests  # what the search evaluated
    console.print(f"#{p.seq}  island {p.island}  generation {p.generation}  origin {p.origin}  "
                  f"parent {p.parent_seq}  fitness {p.fitness:.4f}  policy v{p.policy_version}")
    console.print(Syntax(p.code, "python", line_numbers=True))
    console.print(outcome_table(tests, p.scores, p.failures))
    if p.error:
        console.print(f"[red]error:[/red] {p.error}")


@archive_group.command("diff")
@click.argument("run_dir", type=RUN_DIR)
@click.argument("a", type=INT64)
@click.argument("b", type=INT64)
def diff_command(run_dir: Path, a: int, b: int) -> None:
    """Unified diff between programs A and B."""
    with _reading(run_dir) as (r, s):
        pa, pb = _program(s, r, a), _program(s, r, b)
    lines = difflib.unified_diff(pa.code.splitlines(keepends=True), pb.code.splitlines(keepends=True),
                                 fromfile=f"#{a}", tofile=f"#{b}")
    click.echo("".join(lines), nl=False)


@archive_group.command("lineage")
@click.argument("run_dir", type=RUN_DIR)
@click.argument("seq", type=INT64)
def lineage_command(run_dir: Path, seq: int) -> None:
    """The chain of ancestors of a program, newest first."""
    with _reading(run_dir) as (r, s):
        _program(s, r, seq)
        chain = repo.lineage(s, r.run_id, seq)
    t = Table("id", "island", "gen", "fitness", "passed", "origin")
    for p in chain:
        t.add_row(str(p.seq), str(p.island), str(p.generation), f"{p.fitness:.3f}",
                  f"{_passed(p)}/{len(p.scores)}", p.origin)
    console.print(t)


@archive_group.command("best")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path),
              help="write the best program's code to this file (outside the run directory)")
@click.option("--force", is_flag=True, help="with --export: replace an existing file")
def best_command(run_dir: Path, export: Path | None, force: bool) -> None:
    """The fittest program (ties: the earliest)."""
    if export:
        _check_export(run_dir, export, force)
    with _reading(run_dir) as (r, s):
        rows = repo.list_programs(s, r.run_id, order="fitness", limit=1)
    if not rows:
        raise click.ClickException("the run has no programs")
    p = rows[0]
    if export:
        _write_export(export, p.code, force)
        console.print(f"#{p.seq} (fitness {p.fitness:.4f}) written to {export}")
    else:
        click.echo(f"# program #{p.seq}, fitness {p.fitness:.4f}, passes {_passed(p)}/{len(p.scores)}")
        click.echo(p.code, nl=not p.code.endswith("\n"))


def _check_export(run_dir: Path, export: Path, force: bool) -> None:
    """An export never lands inside the run directory (its database, run.json, adapters...),
    even through a symlink, and replaces an existing file only with --force."""
    target = export.resolve()
    if target.is_relative_to(run_dir.resolve()):
        raise click.ClickException(f"{export}: inside the run directory {run_dir}: export somewhere else")
    if export.exists() or export.is_symlink():
        if not force:
            raise click.ClickException(f"{export}: exists; add --force to replace it")
        if not target.is_file():
            raise click.ClickException(f"{export}: not a regular file; not replaced")


def _write_export(export: Path, code: str, force: bool) -> None:
    """Write `code` to `export`: a new file (O_EXCL) or, with --force, a temp file renamed over it."""
    try:
        if not force:
            with open(export, "x", encoding="utf-8") as f:
                f.write(code)
            return
        tmp = export.resolve().with_name(f".{export.name}.export-tmp")
        tmp.write_text(code, encoding="utf-8")
        os.replace(tmp, export.resolve())
    except FileExistsError:
        raise click.ClickException(f"{export}: exists; add --force to replace it") from None
    except OSError as exc:
        raise click.ClickException(f"{export}: cannot write: {exc.strerror}") from None


@archive_group.command("grid")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--json", "as_json", is_flag=True, help="cells as JSON")
def grid_command(run_dir: Path, as_json: bool) -> None:
    """The MAP-Elites grid of every island (2-D dimensions as a table, fitness per cell)."""
    with _reading(run_dir) as (r, s):
        run = repo.get_run(s, r.run_id)
        cells = repo.load_cells(s, r.run_id)
    dims = [d["kind"] for d in run.config["map_elites"]["dimensions"]]
    rows = [{"island": c.island, "cell": [int(x) for x in c.cell_key.split(",") if x],
             "seq": p.seq, "fitness": p.fitness, "descriptor": p.descriptor} for c, p in cells]
    if as_json:
        click.echo(json.dumps({"dimensions": dims, "binning": run.binning, "cells": rows}, indent=2))
        return
    for island in sorted({x["island"] for x in rows}):
        mine = [x for x in rows if x["island"] == island]
        if len(dims) == 2:
            at = {tuple(x["cell"]): x for x in mine}
            cols = sorted({j for _, j in at})
            t = Table(f"{dims[0]} \\ {dims[1]}", *[str(j) for j in cols],
                      title=f"island {island}: {len(mine)} elites (occupied bins only)")
            for i in sorted({i for i, _ in at}):
                t.add_row(str(i), *[f"{at[(i, j)]['fitness']:.2f}" if (i, j) in at else ""
                                    for j in cols])
        else:
            t = Table("cell", "id", "fitness", title=f"island {island}: {len(mine)} elites")
            for x in sorted(mine, key=lambda x: x["cell"]):
                t.add_row(",".join(map(str, x["cell"])), str(x["seq"]), f"{x['fitness']:.3f}")
        console.print(t)
