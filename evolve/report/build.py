"""Collect a run's report data from its database (read-only) and write the HTML file."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from evolve.report import data, mutator_data
from evolve.report.html import render
from evolve.report.models import ReportData
from evolve.report.source import ReportError, Source, open_source


def collect(src: Source) -> ReportData:
    """Everything the page shows, in one read transaction (a consistent snapshot of a live run)."""
    with src.engine.connect() as conn, conn.begin():
        run = data.run_row(conn, src.run_id)
        cfg = run["config"] or {}
        m = int(cfg.get("mutation", {}).get("answers", 1))
        islands = int(cfg.get("islands", {}).get("count", 1))
        tl = data.timeline(conn, src.run_id, m)
        fit = data.fitness(conn, src.run_id, tl, islands)
        cov = data.coverage(conn, src.run_id, data.tests_of(run["problem"] or {}))
        summary = data.summary(conn, run, tl, src.where, cov)
        scan = mutator_data.scan_rollouts(conn, src.run_id, tl, m)
        return ReportData(
            summary=summary, fitness=fit, coverage=cov,
            grid=data.grid(conn, src.run_id, cfg, run["binning"] or []),
            lineage=data.lineage(conn, src.run_id, summary.best_seq),
            answers=mutator_data.answers(scan, tl),
            training=mutator_data.training(conn, src.run_id, run, src.run_dir, tl, scan.sampled),
            accounting=mutator_data.accounting(conn, src.run_id, tl, m, src.has_column("batches", "stats"),
                                               fit.improvements),
            config=cfg,
        )


def write_report(run_dir: Path, out: Path) -> Path:
    """Render the report of the run in `run_dir` to `out` (written atomically)."""
    out = Path(out)
    if out.is_dir():
        raise ReportError(f"{out}: cannot write the report: it is a directory")
    src = open_source(run_dir)
    try:
        page = render(collect(src))
    except SQLAlchemyError as exc:
        msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ReportError(f"{src.where}: {msg}") from None
    except (LookupError, ReportError) as exc:  # the run's rows: name the database
        raise ReportError(f"{src.where}: {exc}") from None
    finally:
        src.engine.dispose()
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from None
    return out
