"""One function per report section: ReportData parts in, an HTML fragment out.

Every chart has a stable id (`plot-...`) that the browser test looks up; a section with nothing
to plot says why in words instead (e.g. a run without online training).
"""

from __future__ import annotations

from html import escape

import numpy as np

from evolve.accounting import ACCOUNT_ROWS
from evolve.report.models import (
    AccountingData,
    AnswersData,
    CoverageData,
    FitnessData,
    GridAxis,
    GridData,
    LineageData,
    TrainingData,
)
from evolve.report.svg import Series, color, fmt, heatmap, line_chart, stacked_area

STATUS_COLORS = {
    "child": "#2ca02c", "known": "#98df8a", "rejected": "#d62728", "unchanged": "#c49c94",
    "duplicate": "#9467bd", "inapplicable": "#ff7f0e", "malformed": "#e377c2", "missing": "#7f7f7f",
    "empty": "#bcbd22", "extra": "#17becf", "unrecorded": "#dddddd",
}
TRAIN_PANELS = (  # (plot id suffix, title, metric keys)
    ("set-reward", "set reward and mean reward", ("set_reward", "reward_mean")),
    ("advantages", "advantages", ("adv_mean", "adv_std", "adv_min", "adv_max")),
    ("zero-std", "groups with zero advantage (fraction)", ("zero_std_frac",)),
    ("kl", "KL (to the base; behaviour policy)", ("kl", "behavior_kl")),
    ("entropy", "token entropy", ("entropy",)),
    ("diversity", "reward-space diversity of the answers", ("reward_diversity",)),
    ("loss", "loss", ("loss", "pg_loss")),
    ("grad-norm", "gradient norm", ("grad_norm",)),
    ("parse", "answers the parser rejected (fraction)", ("parse_failure_rate",)),
    ("step-time", "learner step time (s)", ("step_time_s",)),
)
MAX_GRID_BINS = 48
MAX_TEST_COLUMNS = 300


def _note(text: str, id_: str | None = None) -> str:
    attr = f' id="{id_}"' if id_ else ""
    return f'<p class="note"{attr}>{escape(text)}</p>'


def fitness_section(f: FitnessData) -> str:
    if len(f.x) < 2:
        return _note("No answers generated yet: nothing to plot.")
    best = [Series(f"island {line.island}", f.x, line.y, color(line.island), step=True) for line in f.best]
    mean = [Series(f"island {line.island}", f.x, line.y, color(line.island)) for line in f.mean]
    return (
        line_chart("plot-fitness-best", best, title="best fitness so far, per island",
                   x_label="answers generated", y_label="fitness", y_range=(0.0, 1.0))
        + line_chart("plot-fitness-mean", mean, title=f"mean fitness of the last {f.window} children, per island",
                     x_label="answers generated", y_label="fitness", y_range=(0.0, 1.0))
        + _note(f"{len(f.x) - 1} bins; islands count programs born there and copies migrated or "
                f"reseeded onto them. {f.improvements} new programs raised the run's best fitness."))


def _bin_labels(axis: GridAxis, n: int, group: int) -> list[str]:
    if axis.mode == "categorical":
        return [f"#{i * group}" for i in range(n)]
    width = (axis.hi - axis.lo) / max(axis.bins, 1)
    return [fmt(axis.lo + i * group * width) for i in range(n)]


def grid_section(g: GridData) -> str:
    """A heatmap per island: first dimension down, second across (more dimensions: max over them)."""
    if not g.islands:
        return _note("The grid is empty.")
    axes = g.axes or [GridAxis(kind="cell", label="cell", bins=1, lo=0, hi=1, mode="fixed")]
    rows_ax, cols_ax = axes[0], axes[1] if len(axes) > 1 else None
    rg = -(-rows_ax.bins // MAX_GRID_BINS)
    cg = -(-cols_ax.bins // MAX_GRID_BINS) if cols_ax else 1
    nr, nc = -(-rows_ax.bins // rg), (-(-cols_ax.bins // cg) if cols_ax else 1)
    out = []
    for island, cells in sorted(g.islands.items()):
        vals: list[list[float | None]] = [[None] * nc for _ in range(nr)]
        tips = [[""] * nc for _ in range(nr)]
        for c in cells:
            i = min((c.key[0] if c.key else 0) // rg, nr - 1)
            j = min((c.key[1] if len(c.key) > 1 else 0) // cg, nc - 1)
            if vals[i][j] is None or c.fitness > vals[i][j]:
                vals[i][j] = c.fitness
                tips[i][j] = f"bin {','.join(map(str, c.key))}: #{c.seq} fitness {c.fitness:.3f}"
        out.append(heatmap(
            f"plot-grid-{island}", vals, tips=tips, title=f"island {island}: {len(cells)} elites",
            row_labels=_bin_labels(rows_ax, nr, rg),
            col_labels=_bin_labels(cols_ax, nc, cg) if cols_ax else [""],
            y_label=rows_ax.label, x_label=cols_ax.label if cols_ax else "", cell=14 if nc > 20 else 18))
    ranges = "; ".join(f"{a.label}: {a.bins} bins, {a.mode}"
                       + ("" if a.mode == "categorical" else f" [{fmt(a.lo)}, {fmt(a.hi)}]") for a in g.axes)
    extra = " Dimensions past the second are folded (best elite shown)." if len(g.axes) > 2 else ""
    return '<div class="row">' + "".join(out) + "</div>" + _note(f"Colour = elite fitness. {ranges}.{extra}")


def coverage_section(c: CoverageData) -> str:
    if not c.rows or not c.tests:
        return _note("No elites or no tests.")
    d = len(c.tests)
    group = -(-d // MAX_TEST_COLUMNS)

    def cols(scores: list[float]) -> list[float | None]:
        if len(scores) != d:
            return [None] * (-(-d // group))
        return [float(np.mean(scores[k:k + group])) for k in range(0, d, group)]

    names = [t.id + ("*" if t.hidden else "") for t in c.tests][::group]
    values = [cols(r.scores) for r in c.rows] + [cols(c.any_elite)]
    labels = [f"#{r.seq} i{r.island} {r.fitness:.2f}" for r in c.rows] + ["any elite"]
    tips = [[f"{labels[i]} on {names[j]}: {v:.2f}" if v is not None else "" for j, v in enumerate(row)]
            for i, row in enumerate(values)]
    solved = sum(v >= 1 - 1e-9 for v in c.any_elite)
    chart = heatmap("plot-coverage", values, tips=tips, title="elites x tests (score)",
                    row_labels=labels, col_labels=names, y_label="elite (fittest first)",
                    x_label="test (* hidden)" + (f", {group} per column (mean)" if group > 1 else ""),
                    cell=12 if len(values) > 40 or len(names) > 60 else 16,
                    label_every=1 if len(values) <= 60 else 2)
    shown = f"the fittest {len(c.rows)} of {c.elites} elites" if c.elites > len(c.rows) else f"all {c.elites} elites"
    return chart + _note(f"Rows: {shown}; last row: the best score any elite reaches. "
                         f"{solved} of {d} tests are passed by some elite.")


def lineage_section(lin: LineageData) -> str:
    if not lin.steps:
        return _note("No best program recorded yet.")
    x = list(range(len(lin.steps)))
    chart = line_chart("plot-lineage", [Series("fitness", x, [s.fitness for s in lin.steps], color(0))],
                       title="fitness along the best program's lineage", x_label="step (oldest first)",
                       y_label="fitness", y_range=(0.0, 1.0), height=200, x_integer=True)
    rows = []
    for k, s in enumerate(lin.steps):
        what = {"child": "child", "seed": "initial program"}.get(s.origin, f"copy ({s.origin})")
        opened = " open" if k == len(lin.steps) - 1 else ""  # the step that made the best program
        body = (f"<details{opened}><summary>diff from #{s.parent_seq}</summary><pre class=\"diff\">"
                + _diff_html(s.diff) + "</pre></details>") if s.diff else \
            (f"same code as #{s.parent_seq}" if s.parent_seq is not None else "")
        rows.append(f"<tr><td>#{s.seq}</td><td>{s.island}</td><td>{s.generation}</td><td>{escape(what)}</td>"
                    f"<td>{'' if s.iteration is None else s.iteration}</td><td>v{s.policy_version}</td>"
                    f"<td>{s.fitness:.3f}</td><td>{s.passed}</td><td>{body}</td></tr>")
    head = "<tr><th>program</th><th>island</th><th>gen</th><th>origin</th><th>iteration</th>" \
           "<th>policy</th><th>fitness</th><th>passed</th><th>change</th></tr>"
    more = _note(f"{lin.omitted} older ancestors not shown.") if lin.omitted else ""
    return chart + more + f'<table id="lineage" class="lineage">{head}{"".join(rows)}</table>'


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        cls = "add" if line.startswith("+") and not line.startswith("+++") else \
              "del" if line.startswith("-") and not line.startswith("---") else \
              "hunk" if line.startswith("@@") else ""
        out.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return "\n".join(out)


def answers_section(a: AnswersData) -> str:
    if not a.x:
        return _note("No completions yet.")
    per_bin = [sum(a.counts[s][b] for s in a.counts) for b in range(len(a.x))]
    layers = [(s, [v / n if n else 0.0 for v, n in zip(a.counts[s], per_bin)], STATUS_COLORS[s])
              for s in a.counts]
    chart = stacked_area("plot-answers", a.x, layers, title="what became of each answer (share per bin)",
                         x_label="answers generated", y_label="share of answers")
    total = sum(a.totals.values())
    cells = "".join(f"<tr><td><span class=\"sw\" style=\"background:{STATUS_COLORS[s]}\"></span>{s}</td>"
                    f"<td>{n}</td><td>{n / total:.1%}</td></tr>" for s, n in a.totals.items())
    usable = a.totals.get("child", 0) + a.totals.get("known", 0)
    return chart + (f'<table id="answers-totals"><tr><th>status</th><th>answers</th><th>share</th></tr>'
                    f"{cells}</table>") + _note(
        f"{a.completions} completions, {total} answer slots; usable (child or known): {usable} "
        f"({usable / max(total, 1):.1%}). {a.truncated} completions hit the token limit; "
        f"{a.extra} answers beyond the m asked for were ignored.")


def training_section(t: TrainingData) -> str:
    if not t.steps:
        why = "trainer: null in the config" if not t.configured else "no learner step has run yet"
        return _note(f"No online training in this run ({why}).", "training-none")
    out = []
    xs = [p.step for p in t.points]
    for suffix, title, keys in TRAIN_PANELS:
        series = [Series(k, xs, [p.metrics.get(k) for p in t.points], color(i))
                  for i, k in enumerate(keys) if any(k in p.metrics for p in t.points)]
        if series:
            out.append(line_chart(f"plot-train-{suffix}", series, title=title, x_label="learner step",
                                  y_label=keys[0] if len(series) == 1 else "", width=410, height=220))
    if t.versions:
        out.append(line_chart("plot-adapter-versions", [Series("adapter version", t.version_minutes,
                                                               [float(v) for v in t.versions], color(0), step=True)],
                              title="adapter version over time", x_label="minutes since the run began",
                              y_label="version", width=410, height=220))
    if t.sampled_x:
        out.append(line_chart("plot-sampled-version", [Series("policy version sampling", t.sampled_x,
                                                              t.sampled_version, color(1), step=True)],
                              title="policy version that sampled the answers", x_label="answers generated",
                              y_label="version", width=410, height=220))
    return '<div class="row">' + "".join(out) + "</div>" + _note(
        f"{t.steps} learner steps ({t.updates} updated the adapter), reward '{t.reward}', from {t.source}; "
        f"curves are means over at most {len(t.points)} points.")


def accounting_section(a: AccountingData, summary_counters: dict) -> str:
    out = []
    if a.minutes:
        out.append(line_chart("plot-throughput", [
            Series("answers", a.minutes, a.answers_cum, color(0)),
            Series("new programs", a.minutes, a.programs_cum, color(2))],
            title="answers and new programs over time", x_label="wall minutes since the first batch",
            y_label="cumulative count", width=410, height=240))
    if a.recorded:
        out.append(stacked_area("plot-time-split", a.x, [
            ("generation", a.split["generate_s"], color(0)), ("evaluation", a.split["evaluate_s"], color(4)),
            ("learning", a.split["learn_s"], color(3))], title="wall time per batch bin (s)",
            x_label="answers generated", y_label="seconds", width=410, height=240))
        out.append(line_chart("plot-tokens-per-s", [Series("completion tokens / s", a.x, a.tokens_per_s, color(5))],
                              title="generation throughput", x_label="answers generated",
                              y_label="tokens / s", width=410, height=240))
    row = '<div class="row">' + "".join(out) + "</div>"
    if not a.recorded:
        why = "this database predates the batches.stats column" if not a.has_column else \
            "no batch of this run recorded token or time stats"
        return row + _note(f"Token and time accounting: not recorded ({why}).", "accounting")
    cells = "".join(f"<tr><td>{label}</td><td>{f.format(a.totals[k])}</td></tr>"
                    for k, label, f in ACCOUNT_ROWS if k in a.totals)
    part = "" if a.recorded == a.batches else f" (stats cover {a.recorded} of {a.batches} batches)"
    return row + (f'<table id="accounting"><tr><th>accounting{part}</th><th></th></tr>{cells}</table>'
                  + _note("Generation of the next batch overlaps evaluation of this one, so the split "
                          f"can exceed the active time ({summary_counters.get('elapsed_s', 0):.0f} s)."))
