"""The search side of the report: run summary, fitness curves, MAP-Elites grids, elite coverage
and the best program's lineage.

Queries name their columns (never whole rows: programs and rollouts carry code, completions and
token ids) and stream the long tables, so memory and time grow with the number of programs only
through a few numbers per row.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from evolve.accounting import improvement_mask
from evolve.db.models import Cell, Event, Program, PromptRow, Rollout, Run
from evolve.map_elites import PASS_SCORE
from evolve.report.models import (
    CoverageData,
    CoverageRow,
    FitnessData,
    GridAxis,
    GridCell,
    GridData,
    IslandLine,
    LineageData,
    LineageStep,
    Summary,
    TestInfo,
)
from evolve.report.timeline import Timeline

STREAM = 5000  # rows per fetch when streaming a long table
COVERAGE_ROWS = 100
LINEAGE_STEPS = 60
DIFF_CHARS = 20_000
MEAN_WINDOW_MIN, MEAN_WINDOW_PARTS = 5, 40  # moving mean over max(5, children per island / 40)
_COPIES = {"migration": 2, "reset": 2}  # event kind -> index of the new seq in each record


def stream(conn: Connection, query):
    return conn.execution_options(yield_per=STREAM).execute(query)


def run_row(conn: Connection, run_id: str) -> dict[str, Any]:
    cols = (Run.id, Run.problem_id, Run.problem, Run.config, Run.status, Run.stop_reason,
            Run.counters, Run.binning, Run.policy_version, Run.created_at, Run.updated_at)
    row = conn.execute(select(*cols).where(Run.id == run_id)).first()
    if row is None:
        raise LookupError(f"run {run_id} is not in the database")
    return dict(row._mapping)


def timeline(conn: Connection, run_id: str, m: int) -> Timeline:
    q = (select(Rollout.iteration, func.count()).where(Rollout.run_id == run_id)
         .group_by(Rollout.iteration))
    return Timeline(conn.execute(q).all(), m)


def _copy_iterations(conn: Connection, run_id: str) -> dict[int, int]:
    """seq of each program a migration or reset copied -> last iteration of that batch."""
    ends = dict(conn.execute(select(PromptRow.batch_index, func.max(PromptRow.iteration))
                             .where(PromptRow.run_id == run_id).group_by(PromptRow.batch_index)).all())
    out: dict[int, int] = {}
    q = select(Event.kind, Event.batch_index, Event.detail).where(
        Event.run_id == run_id, Event.kind.in_(list(_COPIES)))
    for kind, batch, detail in conn.execute(q):
        records = detail.get("moved") or detail.get("reseeded") or []
        for rec in records:
            if batch in ends:
                out.setdefault(int(rec[_COPIES[kind]]), int(ends[batch]))
    return out


def fitness(conn: Connection, run_id: str, tl: Timeline, islands: int) -> FitnessData:
    """Per island and bin: the best fitness so far (migrants and reseeded copies count on their
    new island from the batch that copied them) and the moving mean fitness of its children."""
    copies = _copy_iterations(conn, run_id)
    q = (select(Program.seq, Program.island, Program.iteration, Program.fitness, Program.origin,
                (Program.error != "").label("err"))
         .where(Program.run_id == run_id).order_by(Program.seq))
    isl, it, fit, child, seed, err = [], [], [], [], [], []
    for seq, island, iteration, f, origin, e in stream(conn, q):
        if origin != "child" and origin != "seed":
            iteration = copies.get(seq)
        if island >= islands or (iteration is None and origin != "seed"):
            continue
        isl.append(island)
        it.append(-1 if iteration is None else iteration)
        fit.append(f)
        child.append(origin == "child")
        seed.append(origin == "seed")
        err.append(bool(e))
    isl_a, fit_a = np.asarray(isl, np.int64), np.asarray(fit, np.float64)
    child_a, seed_a, err_a = np.asarray(child, bool), np.asarray(seed, bool), np.asarray(err, bool)
    nb = tl.bins + 1  # column 0: the seeds, before any answer
    col = np.where(seed_a, 0, tl.bin_of(np.asarray(it, np.int64)) + 1) if len(it) else np.zeros(0, np.int64)
    best = np.full((islands, nb), -np.inf)
    np.maximum.at(best, (isl_a, col), fit_a)
    improvements = int(improvement_mask(fit_a, err_a, child_a, seed_a).sum())
    per_island = np.bincount(isl_a[child_a], minlength=islands).max() if child_a.any() else 0
    window = int(max(MEAN_WINDOW_MIN, per_island // MEAN_WINDOW_PARTS))
    x = [0.0] + tl.x()
    best_lines, mean_lines = [], []
    for i in range(islands):
        cum = np.maximum.accumulate(best[i])
        best_lines.append(IslandLine(island=i, y=[float(v) if np.isfinite(v) else None for v in cum]))
        mine = child_a & (isl_a == i)
        mean_lines.append(IslandLine(island=i, y=_window_means(col[mine], fit_a[mine], nb, window)))
    return FitnessData(x=x, best=best_lines, mean=mean_lines, improvements=improvements, window=window)


def _window_means(cols: np.ndarray, fit: np.ndarray, nb: int, window: int) -> list[float | None]:
    """At the end of each bin: mean fitness of the last `window` children made so far (in seq
    order within a bin); None before the first child."""
    order = np.argsort(cols, kind="stable")
    cols, fit = cols[order], fit[order]
    cs = np.concatenate([[0.0], np.cumsum(fit)])
    upto = np.searchsorted(cols, np.arange(nb), side="right")  # children made by the end of bin b
    lo = np.maximum(upto - window, 0)
    return [float((cs[n] - cs[a]) / (n - a)) if n else None for n, a in zip(upto, lo)]


def _axis_label(dim: dict[str, Any]) -> str:
    kind = dim.get("kind", "?")
    extra = dim.get("name") or (f"stage {dim['stage']}" if dim.get("stage") else "")
    return f"{kind} ({extra})" if extra else kind


def grid(conn: Connection, run_id: str, config: dict[str, Any], binning: list) -> GridData:
    dims = config.get("map_elites", {}).get("dimensions", [])
    axes = []
    for k, dim in enumerate(dims):
        bins, lo, hi, mode = binning[k] if k < len(binning) else (dim.get("bins", 1), 0.0, 1.0, "?")
        axes.append(GridAxis(kind=dim.get("kind", "?"), label=_axis_label(dim), bins=int(bins),
                             lo=float(lo), hi=float(hi), mode=str(mode)))
    islands: dict[int, list[GridCell]] = {}
    q = select(Cell.island, Cell.cell_key, Cell.program_seq, Cell.fitness).where(Cell.run_id == run_id)
    for island, key, seq, fit in conn.execute(q.order_by(Cell.island, Cell.cell_key)):
        islands.setdefault(island, []).append(GridCell(
            key=[int(v) for v in key.split(",") if v], seq=seq, fitness=fit))
    return GridData(axes=axes, islands=islands)


def coverage(conn: Connection, run_id: str, tests: list[TestInfo]) -> CoverageData:
    """Which elite passes which test: the fittest COVERAGE_ROWS elites, and any elite's best."""
    elites = conn.execute(select(Cell.island, Cell.program_seq, Cell.fitness)
                          .where(Cell.run_id == run_id)).all()
    any_elite = np.zeros(len(tests))
    by_seq: dict[int, list[float]] = {}
    seqs = sorted({seq for _, seq, _ in elites})
    for i in range(0, len(seqs), 500):
        q = select(Program.seq, Program.scores).where(Program.run_id == run_id,
                                                      Program.seq.in_(seqs[i:i + 500]))
        for seq, scores in conn.execute(q):
            by_seq[seq] = [float(v) for v in scores]
            if len(scores) == len(tests):
                any_elite = np.maximum(any_elite, scores)
    top = sorted(elites, key=lambda e: (-e[2], e[1]))[:COVERAGE_ROWS]
    rows = [CoverageRow(seq=seq, island=isl, fitness=fit, scores=by_seq.get(seq, []))
            for isl, seq, fit in top]
    return CoverageData(tests=tests, rows=rows, any_elite=[float(v) for v in any_elite],
                        elites=len(elites))


def _diff(parent: str, child: str, a: int, b: int) -> str:
    lines = difflib.unified_diff(parent.splitlines(keepends=True), child.splitlines(keepends=True),
                                 fromfile=f"#{a}", tofile=f"#{b}", n=2)
    text = "".join(x if x.endswith("\n") else x + "\n" for x in lines)
    return text if len(text) <= DIFF_CHARS else text[:DIFF_CHARS] + "\n... (diff cut)\n"


def lineage(conn: Connection, run_id: str, best_seq: int | None) -> LineageData:
    """The best program's ancestors (newest LINEAGE_STEPS), each with its diff from its parent."""
    cols = (Program.seq, Program.parent_seq, Program.island, Program.generation, Program.origin,
            Program.fitness, Program.scores, Program.iteration, Program.policy_version, Program.code)
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    seq = best_seq
    while seq is not None and seq not in seen and len(chain) < LINEAGE_STEPS:
        row = conn.execute(select(*cols).where(Program.run_id == run_id, Program.seq == seq)).first()
        if row is None:
            break
        chain.append(dict(row._mapping))
        seen.add(seq)
        seq = row.parent_seq
    omitted = 0
    while seq is not None and seq not in seen:  # count the rest by parent links only
        seen.add(seq)
        omitted += 1
        seq = conn.execute(select(Program.parent_seq).where(Program.run_id == run_id,
                                                            Program.seq == seq)).scalar()
    chain.reverse()
    steps = []
    for k, p in enumerate(chain):
        prev = chain[k - 1] if k else None
        diff = _diff(prev["code"], p["code"], prev["seq"], p["seq"]) if prev else ""
        steps.append(LineageStep(
            seq=p["seq"], parent_seq=p["parent_seq"], island=p["island"], generation=p["generation"],
            origin=p["origin"], fitness=p["fitness"], passed=sum(x >= PASS_SCORE for x in p["scores"]),
            iteration=p["iteration"], policy_version=p["policy_version"] or 0, diff=diff))
    return LineageData(steps=steps, omitted=omitted)


def summary(conn: Connection, run: dict[str, Any], tl: Timeline, where: str,
            cov: CoverageData) -> Summary:
    c = dict(run["counters"] or {})
    cfg = run["config"] or {}
    mutation = cfg.get("mutation", {})
    n = conn.execute(select(func.count()).select_from(Program).where(Program.run_id == run["id"])).scalar() or 0
    best_seq = c.get("best_seq")
    best = None
    if best_seq is not None:
        best = conn.execute(select(Program.fitness, Program.scores).where(
            Program.run_id == run["id"], Program.seq == best_seq)).first()
    return Summary(
        run_id=run["id"], problem_id=run["problem_id"], status=run["status"],
        stop_reason=run["stop_reason"] or "", created_at=run["created_at"], updated_at=run["updated_at"],
        database=where, counters=c, programs=n, best_seq=best_seq,
        best_fitness=best.fitness if best else None,
        best_passed=sum(x >= PASS_SCORE for x in best.scores) if best else 0,
        tests=len(cov.tests), tests_solved=sum(v >= PASS_SCORE for v in cov.any_elite),
        model_version=run["policy_version"] or 0, answers=tl.total,
        islands=int(cfg.get("islands", {}).get("count", 1)), m=int(mutation.get("answers", 1)),
        g=int(mutation.get("completions", 1)))


def tests_of(problem: dict[str, Any]) -> list[TestInfo]:
    return [TestInfo(id=str(t.get("id", i)), hidden=bool(t.get("hidden", False)),
                     stage=int(t.get("stage", 1)))
            for i, t in enumerate(t for t in problem.get("tests", []) if not t.get("holdout"))]
