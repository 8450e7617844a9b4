"""Assemble the report page: one self-contained HTML file.

No script, no external resource: styles are inline, charts are inline SVG, and a
Content-Security-Policy forbids loading anything, so the file looks the same offline and a
stray reference would show up as a console error (the browser test fails on those).
"""

from __future__ import annotations

from html import escape

import yaml

from evolve.report.models import ReportData, Summary
from evolve.report.sections import (
    accounting_section,
    answers_section,
    coverage_section,
    fitness_section,
    grid_section,
    lineage_section,
    training_section,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1320px;
padding:12px 24px;color:#222}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 6px;border-bottom:1px solid #ddd}
nav a{margin-right:12px}table{border-collapse:collapse;margin:6px 0}
td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.note{color:#555;font-size:13px;margin:4px 0 10px}
.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
svg.plot{background:#fff;border:1px solid #e4e4e4;margin:4px 0}
svg .ct{font-size:13px;font-weight:600}svg .tl{font-size:10px;fill:#444}svg .al{font-size:11px;fill:#222}
svg .frame{fill:none;stroke:#bbb}svg .grid{stroke:#eee}svg .tick{stroke:#999}
svg .empty{fill:#f3f3f3;stroke:#fff}svg rect.mark{stroke:#fff;stroke-width:.5}
pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px;max-height:520px}
pre.diff .add{color:#116611;background:#e8f6e8}pre.diff .del{color:#a01010;background:#fbe9e9}
pre.diff .hunk{color:#555}.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
table.lineage td:last-child{min-width:420px}
"""
SECTIONS = (  # (anchor, heading)
    ("fitness", "Fitness"), ("grid", "MAP-Elites grids"), ("coverage", "Coverage"),
    ("lineage-section", "Lineage of the best program"), ("answers", "Answers"),
    ("training", "Mutator training"), ("throughput", "Throughput and accounting"),
    ("config-section", "Config"),
)


def _summary(s: Summary) -> str:
    c = s.counters
    elapsed = float(c.get("elapsed_s") or 0.0)
    rows = [
        ("run", s.run_id), ("problem", s.problem_id),
        ("status", s.status + (f" ({s.stop_reason})" if s.stop_reason else "")),
        ("created / updated", f"{s.created_at:%Y-%m-%d %H:%M} / {s.updated_at:%Y-%m-%d %H:%M}"
         if s.created_at and s.updated_at else "-"),
        ("database", s.database),
        ("best program", "-" if s.best_seq is None else
         f"#{s.best_seq}: fitness {s.best_fitness:.4f}, passes {s.best_passed}/{s.tests} tests"),
        ("tests passed by some elite", f"{s.tests_solved}/{s.tests}"),
        ("iterations (prompts)", f"{c.get('iterations_done', 0)}"),
        ("answers generated", f"{s.answers:,} ({s.g} completions x {s.m} answers per prompt)"),
        ("programs", f"{s.programs:,} ({c.get('children', 0):,} children, {c.get('duplicates', 0):,} "
                     f"known, {c.get('rejected', 0):,} rejected answers)"),
        ("evaluations", f"{c.get('evaluations', 0):,}"),
        ("active time", f"{elapsed / 60:.1f} min" + (f", {60 * c.get('children', 0) / elapsed:.2f} children/min"
                                                      if elapsed else "")),
        ("islands", str(s.islands)), ("adapter version", str(s.model_version)),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table id="summary">{body}</table>'


def render(d: ReportData) -> str:
    """The whole page as one string."""
    parts = {
        "fitness": fitness_section(d.fitness),
        "grid": grid_section(d.grid),
        "coverage": coverage_section(d.coverage),
        "lineage-section": lineage_section(d.lineage),
        "answers": answers_section(d.answers),
        "training": training_section(d.training),
        "throughput": accounting_section(d.accounting, d.summary.counters),
        "config-section": '<pre id="config">' + escape(yaml.safe_dump(d.config, sort_keys=False)) + "</pre>",
    }
    nav = "".join(f'<a href="#{a}">{escape(h)}</a>' for a, h in SECTIONS)
    body = "".join(f'<section id="{a}"><h2>{escape(h)}</h2>{parts[a]}</section>' for a, h in SECTIONS)
    title = f"vpo-evolve report: {d.summary.problem_id} ({d.summary.run_id[:8]})"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>{_summary(d.summary)}<nav>{nav}</nav>{body}</body></html>\n"
    )
