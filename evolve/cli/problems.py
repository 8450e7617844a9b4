"""`evolve problems ...`: list, show and check problem suites.

Lives in evolve/ (not problems/) because `check` runs programs in the sandbox, and problems/
is the bottom of the import graph.  `check` is the suite's acceptance test: every reference
solution must pass every test (score 1.0 on continuous ones) and every initial program must
score strictly below 1.0; on a problem scored against a published record (the discovery suite)
the reference must score above the initial program.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import Future

import click

from problems.errors import ProblemFormatError
from problems.loaders import SUITES, load_problem, load_suite
from problems.model import Problem


@click.group("problems")
def problems_group() -> None:
    """Inspect and verify problem suites (builtin, humaneval, or any path)."""


def _load(suite: str | None, problem_id: str | None = None) -> list[Problem]:
    try:
        if problem_id:
            return [load_problem(problem_id)]
        names = [suite] if suite else list(SUITES)
        return [p for name in names for p in load_suite(name)]
    except (ProblemFormatError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def summary(p: Problem) -> dict:
    """What `list --json` reports per problem (nothing hidden, no reference solution)."""
    return {
        "id": p.id,
        "title": p.title,
        "mode": p.mode,
        "scoring": p.scoring,
        "tests": len(p.tests),
        "hidden_tests": sum(t.hidden for t in p.tests),
        "stages": p.stages,
        "has_reference": p.reference_solution is not None,
        "source": p.source,
    }


@problems_group.command("list")
@click.option("--suite", help=f"suite name ({', '.join(SUITES)}) or a path; default: every named suite")
@click.option("--json", "as_json", is_flag=True, help="one JSON array of problem summaries")
def list_command(suite: str | None, as_json: bool) -> None:
    """List problems with their test counts."""
    problems = _load(suite)
    rows = [summary(p) for p in problems]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} problems, {sum(r['tests'] for r in rows)} tests")
    table.add_column("id", no_wrap=True)
    table.add_column("title", overflow="ellipsis", no_wrap=True, max_width=32)
    for col in ("mode", "scoring", "tests", "hidden"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(r["id"], r["title"][:40], r["mode"], r["scoring"], str(r["tests"]), str(r["hidden_tests"]))
    Console(file=sys.stdout).print(table)


@problems_group.command("show")
@click.argument("problem_id")
def show_command(problem_id: str) -> None:
    """Statement, initial program and visible tests of one problem (never the reference)."""
    (p,) = _load(None, problem_id)
    click.echo(f"# {p.id}: {p.title}\nmode {p.mode}, scoring {p.scoring}, "
               f"{len(p.tests)} tests ({sum(t.hidden for t in p.tests)} hidden), limit {p.time_limit_s}s/test\n")
    click.echo(p.statement.rstrip() + "\n")
    if p.record is not None:
        r = p.record
        click.echo(f"## record\n{r.objective} {r.metric}: {r.value:g}\nsource: {r.source}"
                   + (f"\nnote: {r.note}" if r.note else "") + "\n")
    if p.requirements:
        click.echo(f"requires: {', '.join(p.requirements)}\n")
    if p.run_defaults or p.source.get("ignored_config"):
        settings = ", ".join(f"{k}={v}" for k, v in p.run_defaults.items()) or "none"
        click.echo(f"run defaults: {settings}\nignored config: {', '.join(p.source.get('ignored_config', [])) or 'none'}\n")
    click.echo("## initial program\n" + p.initial_program.rstrip() + "\n")
    click.echo("## visible tests")
    for t in p.visible_tests:
        fields = t.model_dump(exclude={"id", "kind", "stage", "weight", "hidden", "time_limit_s"})
        text = json.dumps(fields, default=str)
        click.echo(f"- {t.id} [{t.kind}, stage {t.stage}] {text[:160]}{'...' if len(text) > 160 else ''}")


@problems_group.command("check")
@click.argument("problem_id", required=False)
@click.option("--suite", help="check every problem of a suite (name or path)")
@click.option("--backend", type=click.Choice(["auto", "process", "docker"]), default="process", show_default=True)
@click.option("--slots", type=click.IntRange(1, 64), default=2, show_default=True, help="evaluations at once")
@click.option("--unsafe-rlimits-only", "unsafe", is_flag=True,
              help="UNSAFE: with no bubblewrap/unshare, run programs with rlimits only (no isolation)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per problem, one per line")
def check_command(problem_id: str | None, suite: str | None, backend: str, slots: int, unsafe: bool,
                  as_json: bool) -> None:
    """Run each reference solution (must pass everything) and initial program (must compile and
    score < 1.0)."""
    from sandbox.api import Sandbox
    from sandbox.config import ProcessOptions, SandboxConfig
    from sandbox.isolation import SandboxUnavailable

    if bool(problem_id) == bool(suite):
        raise click.UsageError("give a PROBLEM_ID or --suite, not both")
    problems = _load(suite, problem_id)
    bad = 0
    config = SandboxConfig(backend=backend, slots=slots, process=ProcessOptions(unsafe_rlimits_only=unsafe))
    try:
        with Sandbox(config) as box:
            jail = box.describe()["jail"]
            pending = [(p, _submit(box, p, p.reference_solution), box.submit(p, p.initial_program)) for p in problems]
            for p, ref, init in pending:
                report = check_report(p, ref.result() if ref else None, init.result())
                report["jail"] = jail
                bad += not report["ok"]
                click.echo(json.dumps(report) if as_json else _line(report))
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if not as_json:
        click.echo(f"{len(problems) - bad}/{len(problems)} problems ok ({box.backend} backend, jail {jail})")
    if bad:
        sys.exit(1)


def _submit(box, problem: Problem, program: str | None) -> Future | None:
    return box.submit(problem, program) if program is not None else None


def check_report(p: Problem, ref, init) -> dict:
    """ok: the reference passes every test and the initial program's fitness is below 1.0 (for a
    problem with a published record: the reference scores above the initial program)."""
    report: dict = {"id": p.id, "tests": len(p.tests), "initial_fitness": round(init.fitness, 4)}
    if init.error:
        report["initial_error"] = init.error
    compiles = _compile_error(p.initial_program)
    if compiles:
        report["initial_error"] = f"does not compile: {compiles}"
    if ref is None:
        report.update(reference=None, ok=init.fitness < 1.0 and not compiles)
        return report
    failing = [f"{o.test_id}: {o.status} {o.score:.3f} {o.message}".strip() for o in ref.outcomes if o.status != "passed"]
    # scored against a published record, a reference need not reach it, only beat the baseline
    good = init.fitness < ref.fitness if p.record is not None else ref.all_passed and init.fitness < 1.0
    report.update(
        reference_fitness=round(ref.fitness, 4),
        reference_passed=ref.passed,
        reference_vector=[round(s, 4) for s in ref.scores],
        failing=[] if p.record is not None else failing[:10],
        ok=good and not ref.error and not compiles,
    )
    if ref.error:
        report["reference_error"] = ref.error
    return report


def _compile_error(program: str) -> str:
    """Why an initial program is not valid Python ("" when it compiles); runs nothing."""
    try:
        compile(program, "initial_program.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{type(exc).__name__}{f' at line {line}' if line else ''}: {getattr(exc, 'msg', exc)}"
    return ""


def _line(r: dict) -> str:
    mark = "ok  " if r["ok"] else "FAIL"
    if r.get("reference") is None and "reference_fitness" not in r:
        ref = "no reference"
    else:
        ref = f"reference {r['reference_passed']}/{r['tests']} fitness {r['reference_fitness']:.3f}"
    text = f"{mark} {r['id']}: {ref}; initial fitness {r['initial_fitness']:.3f}"
    for key in ("reference_error", "initial_error"):
        if key in r:
            text += f"\n     {key}: {r[key]}"
    for f in r.get("failing", []):
        text += f"\n     {f}"
    return text
