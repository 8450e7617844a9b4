"""`evolve status RUN_DIR [--json]`: where a run stands, what it cost, and how to continue it."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from evolve.accounting import ACCOUNT_ROWS
from evolve.cli.common import RUN_DIR, console, fail, user_errors


@click.command("status")
@click.argument("run_dir", type=RUN_DIR)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status_command(run_dir: Path, as_json: bool) -> None:
    """Iterations, best fitness, tests solved, throughput, accounting and model version of a run."""
    from evolve.runs import status

    try:
        info = status(run_dir)
    except user_errors() as exc:
        raise fail(exc) from None
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        if key not in ("islands", "by_policy_version", "resume", "accounting"):
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if info["resume"]:
        console.print(f"continue it with: {info['resume']}", soft_wrap=True)
    acct = info["accounting"]
    if acct:
        t = Table("accounting (done batches)", "", title_justify="left")
        for key, label, spec in ACCOUNT_ROWS:
            if key in acct:
                t.add_row(label, spec.format(acct[key]))
        console.print(t)
    else:
        console.print("accounting: no batch has recorded its stats yet")
    ver = Table("policy version", "rollouts", "children", "best fitness", "mean fitness")
    for row in info["by_policy_version"]:
        ver.add_row(*(str(row[k]) for k in ("version", "rollouts", "children")),
                    *("-" if row[k] is None else f"{row[k]:.3f}" for k in ("best_fitness", "mean_fitness")))
    console.print(ver)
    isl = Table("island", "elites", "best fitness")
    for row in info["islands"]:
        isl.add_row(str(row["island"]), str(row["elites"]), f"{row['best_fitness']:.3f}")
    console.print(isl)
