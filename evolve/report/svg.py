"""Plotting primitives that write inline SVG: line charts, stacked areas and heatmaps.

Written here rather than vendored so the report is one small offline file with no script: every
chart is static markup, hover text is the SVG `<title>` element, and every drawn data element has
class `mark` (the browser test counts them).  Inputs are already aggregated (a few hundred points
at most); nothing here scales with the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22")
_SCALE = ((0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)),
          (0.75, (94, 201, 98)), (1.0, (253, 231, 37)))  # viridis stops
MARGIN = (46, 14, 40, 62)  # top, right, bottom, left (pixels)


@dataclass(frozen=True)
class Series:
    """One line: y may hold None (a gap); `step` draws a staircase (best-so-far curves)."""

    name: str
    x: Sequence[float]
    y: Sequence[float | None]
    color: str
    dashed: bool = False
    step: bool = False


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def scale_color(v: float, lo: float = 0.0, hi: float = 1.0) -> str:
    """Viridis-like colour of v in [lo, hi] (clamped)."""
    t = 0.0 if hi <= lo else min(1.0, max(0.0, (v - lo) / (hi - lo)))
    for (t0, c0), (t1, c1) in zip(_SCALE, _SCALE[1:]):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            return "#%02x%02x%02x" % tuple(round(a + f * (b - a)) for a, b in zip(c0, c1))
    return "#%02x%02x%02x" % _SCALE[-1][1]


def fmt(v: float) -> str:
    """Short tick/tooltip number: 3 significant digits, k/M suffixes for large values."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, n: int = 5, integer: bool = False) -> list[float]:
    """About n round tick values covering [lo, hi] (whole numbers only if `integer`)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    step = max(1, round(step)) if integer else step
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _extent(values: Sequence[float], pad_zero: bool = False) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if pad_zero:
        lo = min(lo, 0.0)
    if hi <= lo:
        lo, hi = (lo - 0.5, hi + 0.5) if lo else (0.0, 1.0)
    return lo, hi


class _Frame:
    """Plot area and data-to-pixel mapping of one chart."""

    def __init__(self, width: int, height: int, xr: tuple[float, float], yr: tuple[float, float],
                 legend_rows: int = 1, x_integer: bool = False):
        self.w, self.h, self.x_integer = width, height, x_integer
        top, right, bottom, left = MARGIN
        top += 16 * max(0, legend_rows - 1)
        self.x0, self.x1, self.y0, self.y1 = left, width - right, height - bottom, top
        self.xr, self.yr = xr, yr

    def px(self, x: float) -> float:
        lo, hi = self.xr
        return self.x0 + (x - lo) / (hi - lo) * (self.x1 - self.x0)

    def py(self, y: float) -> float:
        lo, hi = self.yr
        return self.y0 - (y - lo) / (hi - lo) * (self.y0 - self.y1)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        out = [f'<rect x="{self.x0}" y="{self.y1}" width="{self.x1 - self.x0}" '
               f'height="{self.y0 - self.y1}" class="frame"/>']
        for t in nice_ticks(*self.xr, integer=self.x_integer):
            x = self.px(t)
            out.append(f'<line x1="{x:.1f}" y1="{self.y0}" x2="{x:.1f}" y2="{self.y0 + 4}" class="tick"/>'
                       f'<text x="{x:.1f}" y="{self.y0 + 15}" class="tl" text-anchor="middle">{fmt(t)}</text>')
        for t in nice_ticks(*self.yr):
            y = self.py(t)
            out.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x1}" y2="{y:.1f}" class="grid"/>'
                       f'<text x="{self.x0 - 6}" y="{y + 3.5:.1f}" class="tl" text-anchor="end">{fmt(t)}</text>')
        out.append(f'<text x="{(self.x0 + self.x1) / 2:.1f}" y="{self.h - 6}" class="al" '
                   f'text-anchor="middle">{escape(x_label)}</text>')
        cy = (self.y0 + self.y1) / 2
        out.append(f'<text x="13" y="{cy:.1f}" class="al" text-anchor="middle" '
                   f'transform="rotate(-90 13 {cy:.1f})">{escape(y_label)}</text>')
        return out


def _svg(plot_id: str, width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg id="{escape(plot_id)}" class="plot" xmlns="http://www.w3.org/2000/svg" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<title>{escape(title)}</title><text x="8" y="16" class="ct">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str, bool]], width: int) -> tuple[list[str], int]:
    """Legend entries (name, colour, dashed) under the title, wrapped; (elements, rows)."""
    out, x, y = [], MARGIN[3], 30
    for name, col, dashed in items:
        span = 30 + 7 * len(name)
        if x + span > width and x > MARGIN[3]:
            x, y = MARGIN[3], y + 16
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{col}" stroke-width="2.5"{dash}/>'
                   f'<text x="{x + 22}" y="{y + 4}" class="tl">{escape(name)}</text>')
        x += span
    return out, (y - 30) // 16 + 1


def _points(f: _Frame, s: Series) -> list[list[tuple[float, float]]]:
    """Pixel polylines of a series, split at gaps."""
    runs: list[list[tuple[float, float]]] = [[]]
    prev = None
    for x, y in zip(s.x, s.y):
        if y is None or not math.isfinite(y):
            runs.append([])
            prev = None
            continue
        if s.step and prev is not None:
            runs[-1].append((f.px(x), f.py(prev)))
        runs[-1].append((f.px(x), f.py(y)))
        prev = y
    return [r for r in runs if r]


def line_chart(plot_id: str, series: Sequence[Series], *, title: str, x_label: str, y_label: str,
               width: int = 620, height: int = 260, y_range: tuple[float, float] | None = None,
               x_integer: bool = False) -> str:
    """Lines (with a marker where a run of points is a single point) and a legend."""
    xs = [float(x) for s in series for x in s.x]
    ys = [float(y) for s in series for y in s.y if y is not None and math.isfinite(y)]
    legend, rows = _legend([(s.name, s.color, s.dashed) for s in series], width)
    height += 16 * (rows - 1)
    f = _Frame(width, height, _extent(xs), y_range or _extent(ys, pad_zero=True), rows, x_integer)
    body = f.axes(x_label, y_label) + legend
    for s in series:
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        for run in _points(f, s):
            if len(run) == 1:
                (x, y), = run
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}" class="mark">'
                            f'<title>{escape(s.name)}</title></circle>')
                continue
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run)
            body.append(f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="1.8"{dash} '
                        f'class="mark"><title>{escape(s.name)}</title></path>')
    return _svg(plot_id, width, height, title, body)


def stacked_area(plot_id: str, x: Sequence[float], layers: Sequence[tuple[str, Sequence[float], str]], *,
                 title: str, x_label: str, y_label: str, width: int = 620, height: int = 260) -> str:
    """Layers stacked bottom-up (name, values per x, colour), e.g. shares that sum to 1."""
    tops = [0.0] * len(x)
    stacks = []
    for name, vals, col in layers:
        low = list(tops)
        tops = [a + float(b) for a, b in zip(tops, vals)]
        if any(float(b) > 0 for b in vals):  # empty layers get neither area nor legend entry
            stacks.append((name, low, list(tops), col))
    legend, rows = _legend([(n, c, False) for n, _, _, c in stacks], width)
    height += 16 * (rows - 1)
    f = _Frame(width, height, _extent([float(v) for v in x]), _extent(tops, pad_zero=True), rows)
    body = f.axes(x_label, y_label) + legend
    for name, low, high, col in stacks:
        upper = " L".join(f"{f.px(a):.1f},{f.py(b):.1f}" for a, b in zip(x, high))
        lower = " L".join(f"{f.px(a):.1f},{f.py(b):.1f}" for a, b in reversed(list(zip(x, low))))
        body.append(f'<path d="M{upper} L{lower} Z" fill="{col}" fill-opacity="0.85" stroke="none" '
                    f'class="mark"><title>{escape(name)}</title></path>')
    return _svg(plot_id, width, height, title, body)


def heatmap(plot_id: str, values: Sequence[Sequence[float | None]], *, title: str,
            row_labels: Sequence[str], col_labels: Sequence[str], x_label: str, y_label: str,
            tips: Sequence[Sequence[str]] | None = None, vmin: float = 0.0, vmax: float = 1.0,
            cell: int = 16, label_every: int = 1) -> str:
    """A matrix of coloured cells (None = empty cell), row labels left, column labels below."""
    rows, cols = len(values), max((len(r) for r in values), default=0)
    left = 12 + 7 * max((len(s) for s in row_labels), default=1) + 18
    top, bottom = 30, 26 + 6 * min(14, max((len(s) for s in col_labels), default=1))
    width, height = max(left + cols * cell + 60, 220), top + rows * cell + bottom
    body = [f'<text x="12" y="{top + rows * cell / 2:.1f}" class="al" text-anchor="middle" '
            f'transform="rotate(-90 12 {top + rows * cell / 2:.1f})">{escape(y_label)}</text>']
    for i, row in enumerate(values):
        y = top + i * cell
        if i % label_every == 0:
            body.append(f'<text x="{left - 4}" y="{y + cell * 0.7:.1f}" class="tl" text-anchor="end">'
                        f'{escape(row_labels[i])}</text>')
        for j, v in enumerate(row):
            x = left + j * cell
            if v is None:
                body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" class="empty"/>')
                continue
            tip = f"<title>{escape(tips[i][j])}</title>" if tips else ""
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                        f'fill="{scale_color(v, vmin, vmax)}" class="mark">{tip}</rect>')
    base = top + rows * cell + 4
    for j, lab in enumerate(col_labels):
        if j % label_every == 0:
            x = left + j * cell + cell / 2
            body.append(f'<text x="{x:.1f}" y="{base + 6}" class="tl" text-anchor="end" '
                        f'transform="rotate(-60 {x:.1f} {base + 6})">{escape(lab[:14])}</text>')
    body.append(f'<text x="{left + cols * cell / 2:.1f}" y="{height - 4}" class="al" '
                f'text-anchor="middle">{escape(x_label)}</text>')
    body += _colorbar(left + cols * cell + 12, top, max(rows * cell, 40), vmin, vmax)
    return _svg(plot_id, width, height, title, body)


def _colorbar(x: float, y: float, h: float, vmin: float, vmax: float) -> list[str]:
    steps = 20
    out = [f'<rect x="{x}" y="{y + h * (steps - 1 - k) / steps:.1f}" width="10" height="{h / steps + 0.5:.1f}" '
           f'fill="{scale_color(vmin + (vmax - vmin) * k / (steps - 1), vmin, vmax)}"/>' for k in range(steps)]
    out.append(f'<text x="{x + 13}" y="{y + 8}" class="tl">{fmt(vmax)}</text>')
    out.append(f'<text x="{x + 13}" y="{y + h}" class="tl">{fmt(vmin)}</text>')
    return out
