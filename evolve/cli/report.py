"""`evolve report RUN_DIR [-o FILE] [--open]`."""

from __future__ import annotations

import time
import webbrowser
from pathlib import Path

import click


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="HTML file to write  [default: RUN_DIR/report.html]")
@click.option("--open", "open_", is_flag=True, help="open the report in the default browser")
def report_command(run_dir: Path, output: Path | None, open_: bool) -> None:
    """Write one self-contained offline HTML report of a run (works while it runs; read-only)."""
    from evolve.report.build import write_report
    from evolve.report.source import ReportError

    t0 = time.perf_counter()
    try:
        out = write_report(run_dir, output or run_dir / "report.html")
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"report written to {out} ({out.stat().st_size / 1e3:,.0f} kB, "
               f"{time.perf_counter() - t0:.1f} s)")
    if open_ and not webbrowser.open(out.resolve().as_uri()):
        click.echo(f"no browser found: open {out.resolve().as_uri()} yourself")
