"""The figures of the report: one panel grid per study, with one fixed style per method across all studies.

Each method's colour, line and marker come from the registry (:mod:`contrastive_gmm.methods`);
study variants that are not registered methods take :data:`VARIANT_STYLES`. :func:`plot_panels`
draws a study's settings as line panels (a numeric sweep) or bar panels (named settings), with
means and standard deviations over seeds from the long-format rows.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from contrastive_gmm.experiments.claims import _FORMATS, format_number, setting_stats
from contrastive_gmm.experiments.engine import StudySetting
from contrastive_gmm.methods import PALETTE, find_method

# Okabe-Ito, the colour-blind-safe palette; one colour per method in every study, by the method's role.
_P = PALETTE


#: Styles of the study variants that are not registered methods (a registered method's label
#: takes its style from :mod:`contrastive_gmm.methods`, the same in every study).
VARIANT_STYLES: dict[str, tuple[str, str, str]] = {
    "InfoNCE cosine": (_P["vermillion"], "-", "o"),
    "InfoNCE dot (default)": (_P["orange"], "-", "v"),
    "InfoNCE cosine, unconstrained": (_P["sky"], "-.", "P"),
    "InfoNCE dot, unconstrained": (_P["black"], "-.", "X"),
    "PCA per modality": (_P["grey"], "-", "x"),
    "SimSiam, cosine, no predictor": (_P["black"], "-", "X"),
    "raw features": (_P["black"], "-", "X"),
    "CLIP (same class)": (_P["vermillion"], "-", "o"),
    "CLIP (same object)": (_P["orange"], "-", "v"),
    "PCA (per view)": (_P["grey"], "-", "x"),
    "LDA (per view, labels)": (_P["green"], ":", "^"),
}


_SPARE = tuple(PALETTE.values())


_UNIT_METRICS = ("nmi", "ari", "accuracy", "probe_accuracy")


def method_styles(methods: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """(colour, line style, marker) per method: a registered method's own, a variant's, a spare colour for the rest."""
    def known(m: str) -> tuple[str, str, str] | None:
        found = find_method(m)
        return found.style if found is not None else VARIANT_STYLES.get(m)

    taken = {known(m)[0] for m in methods if known(m) is not None}
    free = [c for c in _SPARE if c not in taken] or list(_SPARE)
    out, i = {}, 0
    for m in methods:
        style = known(m)
        if style is None:
            style, i = (free[i % len(free)], "-", "o"), i + 1
        out[m] = style
    return out


def method_colours(methods: Sequence[str]) -> dict[str, str]:
    """A stable colour per method (see :func:`method_styles`)."""
    return {m: st[0] for m, st in method_styles(methods).items()}


def _is_angle(metric: str) -> bool:
    return "angle" in metric


def _bar_axes(fig: Any, cell: Any, tops: list[float], angle: bool) -> Any:
    """The axis of a bar panel; ``tops`` are the bars' heights plus their error bars.

    An angle panel is log scale, as in the line plots: 6 against 7 degrees stays readable next
    to PCA's 89.9, with no broken axis whose two halves would need two y labels. The top leaves
    room for the value written above each error bar.
    """
    ax = fig.add_subplot(cell)
    finite = [v for v in tops if np.isfinite(v)]
    if angle and finite and min(finite) > 0:
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
        ax.set_yscale("log")
        lo, hi = min(finite) / 2, max(finite) * 2.2
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(FixedLocator([t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 45, 90) if lo <= t <= hi]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
    elif angle:
        ax.set_ylim(0, 92.0)
    else:
        # Room above the tallest error bar for its value; fractions stay on a 0-based axis.
        ax.set_ylim(0, max(finite, default=1.0) * 1.25 or 1.0)
    return ax


def _dodge(x: np.ndarray, index: int, count: int, span: tuple[float, float], log: bool) -> np.ndarray:
    """``x`` shifted sideways by a small step per method, so lines that coincide (NMI 1.0) stay visible."""
    step = 0.014 * (index - (count - 1) / 2)
    if log:
        return x * (span[1] / span[0]) ** step
    return x + step * (span[1] - span[0])


def plot_panels(
    settings: Sequence[StudySetting],
    rows: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    title: str,
    metrics: Sequence[str],
    metric_labels: dict[str, str] | None = None,
    panel_titles: dict[str, str] | None = None,
    log_panels: Sequence[str] = (),
    x_labels: dict[str, str] | None = None,
    panel_metric_labels: dict[tuple[str, str], str] | None = None,
    decorate: Callable[[Any, str, str, dict], None] | None = None,
) -> None:
    """Write one PNG: a row per metric, a column per panel; mean over seeds with ±1 sd error bars.

    ``panel_titles`` name the panels (their column titles and, unless ``x_labels`` says
    otherwise, their x axes); ``panel_metric_labels`` override a y label for one (panel, metric);
    ``decorate(ax, panel, metric, stats)`` adds a study's own marks (a reference slope, a default).

    A panel of numeric x values is a line plot per method (log-scale x for ``log_panels``, ticks
    at the values that ran); a panel of named settings (string x) is a grouped bar chart with
    every bar's value written above its error bar (one setting: a bar per method, named on the x
    axis). Line markers are dodged sideways a little per method so coinciding lines stay visible.
    Angle metrics are degrees, on a log scale. Scores in [0, 1]
    are zoomed to the range the data use. Colours and markers are fixed per method
    (:mod:`contrastive_gmm.methods`), the same in every study.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    metric_labels, panel_titles = metric_labels or {}, panel_titles or {}
    panel_metric_labels = panel_metric_labels or {}
    panels = list(dict.fromkeys(s.panel for s in settings))
    present = {r["metric"] for r in rows}
    metrics = [m for m in metrics if m in present]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    styles = method_styles(methods)
    n_seeds = len({r["seed"] for r in rows})
    stats = setting_stats(rows)
    width = max(7.0, 4.6 * len(panels))
    fig = Figure(figsize=(width, 2.9 * len(metrics) + 1.2), layout="constrained")
    grid = fig.add_gridspec(max(len(metrics), 1), len(panels))
    # Line and bar panels side by side have different y ranges: each then needs its own y label.
    mixed = len({all(isinstance(s.x, str) for s in settings if s.panel == p) for p in panels}) > 1
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for i, metric in enumerate(metrics):
        angle = _is_angle(metric)
        for j, panel in enumerate(panels):
            points = [s for s in settings if s.panel == panel]
            # Only the methods this panel has (a study may run different methods in different panels).
            shown = [m for m in methods if any((p.label, m, metric) in stats for p in points)]
            values = [stats[(p.label, m, metric)][0] for p in points for m in shown if (p.label, m, metric) in stats]
            if all(isinstance(p.x, str) for p in points):
                fmt = _FORMATS.get(metric, "{:.1f}" if angle else "{:.2f}")[2:-1]
                tops = [sum(stats[(p.label, m, metric)][:2]) for p in points for m in shown if (p.label, m, metric) in stats]
                ax = _bar_axes(fig, grid[i, j], tops, angle)
                axes = [ax]
                # One setting: the methods are the categories, named on the axis rather than in the legend.
                single = len(points) == 1
                bar = 0.7 if single else 0.8 / max(len(shown), 1)
                xs = np.arange(len(shown) if single else len(points))
                log = ax.get_yscale() == "log"
                for m_i, m in enumerate(shown):
                    cells = [stats[(p.label, m, metric)][:2] if (p.label, m, metric) in stats else (np.nan, 0.0) for p in points]
                    pos = xs[m_i:m_i + 1] if single else xs + (m_i - (len(shown) - 1) / 2) * bar
                    ax.bar(pos, [c[0] for c in cells], bar, yerr=[c[1] for c in cells], capsize=2,
                           color=styles[m][0], edgecolor="k", linewidth=0.4, label=f"_{m}" if single else m)
                    lo, hi = ax.get_ylim()
                    for x_, (mu, sd) in zip(pos, cells):
                        if np.isfinite(mu) and lo <= mu <= hi:
                            # Every bar carries its value, written above its error bar, so a bar of
                            # about 0 reads as 0.003, not as missing.
                            y = (mu + sd) * 1.08 if log else mu + sd + 0.015 * (hi - lo)
                            ax.text(x_, y, format_number(mu, fmt), ha="center", va="bottom", fontsize=6,
                                    rotation=90 if len(shown) * len(points) > 8 else 0)
                if not angle and 0.5 < max(values, default=0.0) <= 1.0:  # head-room holds the values; a fraction's ticks stop at 1
                    ax.set_yticks([t for t in np.linspace(0, 1, 6) if t <= ax.get_ylim()[1]])
                ax.grid(alpha=0.3, axis="y")
                bottom_row = i == len(metrics) - 1  # the rows share the settings: name them once, at the bottom
                if single:
                    ax.set_xticks(xs, shown if bottom_row else [""] * len(shown), rotation=15, fontsize=8)
                    if bottom_row:
                        ax.set_xlabel(f"setting: {points[0].label}")  # the column title names the panel
                elif bottom_row:
                    ax.set_xticks(xs, [p.label for p in points], rotation=12 if len(points) > 2 else 0, fontsize=8)
                    ax.set_xlabel((x_labels or {}).get(panel, panel_titles.get(panel, panel)))
                else:
                    ax.set_xticks(xs, [""] * len(points))
            else:
                ax = fig.add_subplot(grid[i, j])
                axes = [ax]
                xs_run = sorted({float(p.x) for p in points})
                span = (xs_run[0], xs_run[-1]) if xs_run[-1] > xs_run[0] else (xs_run[0] - 1.0, xs_run[0] + 1.0)
                for m_i, m in enumerate(shown):
                    pts = sorted((float(p.x), *stats[(p.label, m, metric)][:2]) for p in points if (p.label, m, metric) in stats)
                    if not pts:
                        continue
                    x, mu, sd = (np.array(v) for v in zip(*pts))
                    x = _dodge(x, m_i, len(shown), span, panel in log_panels and span[0] > 0)
                    # On a log scale a lower bar below zero would vanish, so clip it inside the axis.
                    lower = np.minimum(sd, 0.9 * mu) if angle else sd
                    colour, ls, marker = styles[m]
                    # The contrastive learner is the subject: drawn last, on top of the references.
                    on_top = 5 if colour == PALETTE["vermillion"] else 3
                    ax.errorbar(x, mu, yerr=[lower, sd], marker=marker, ms=5, capsize=3, lw=1.6, ls=ls, color=colour,
                                label=m, zorder=on_top, mfc="white" if ls != "-" else colour)
                if panel in log_panels:
                    ax.set_xscale("log")
                ax.xaxis.set_major_locator(FixedLocator(xs_run))  # ticks where runs are, readable on a log axis
                ax.xaxis.set_major_formatter(plain)
                ax.xaxis.set_minor_locator(NullLocator())
                if angle:
                    ax.set_yscale("log")
                    finite = [v for v in values if np.isfinite(v) and v > 0]
                    lo = min(finite, default=1.0) / 1.6
                    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 45, 90) if lo <= t <= 100]
                    ax.set_ylim(lo, 100)
                    ax.yaxis.set_major_locator(FixedLocator(ticks))
                    ax.yaxis.set_major_formatter(plain)
                    ax.yaxis.set_minor_locator(NullLocator())
                elif metric in _UNIT_METRICS:
                    finite = [v for v in values if np.isfinite(v)]
                    ax.set_ylim(max(-0.02, min(finite, default=0.0) - 0.05), 1.02)
                if i == len(metrics) - 1 or len(panels) == 1:  # above the bottom row the column title says it
                    ax.set_xlabel((x_labels or {}).get(panel, panel_titles.get(panel, panel)))
                ax.grid(alpha=0.3)
            if decorate is not None:
                decorate(axes[-1], panel, metric, stats)
            if i == 0 and len(panels) > 1:
                axes[0].set_title(panel_titles.get(panel, panel), fontsize=10)
            label = panel_metric_labels.get((panel, metric), metric_labels.get(metric, metric))
            if j == 0 or (panel, metric) in panel_metric_labels or mixed:
                # Wrapped to the row's height, so the labels of two rows never run into each other.
                axes[-1].set_ylabel(textwrap.fill(label, width=34), fontsize=9)
    legend: dict[str, Any] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    order = [m for m in methods if m in legend] + [k for k in legend if k not in methods]
    labels, handles = order, [legend[k] for k in order]
    # As many legend columns as fit the width (about 5.5 points per character at 9 pt).
    per_entry = 5.5 * max((len(label) for label in labels), default=1) + 40
    ncol = max(1, min(len(labels), int(width * 72 // per_entry)))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=9, frameon=False)
    full = f"{title} (mean ± sd over {n_seeds} seed{'s' if n_seeds != 1 else ''})"
    fig.suptitle(textwrap.fill(full, width=int(width * 72 / 5.8)), fontsize=10)
    fig.savefig(path, dpi=110)


def reference_slope(ax: Any, stats: dict, settings: Sequence[StudySetting], method: str, metric: str,
                    slope: float = -0.5) -> None:
    """A dashed line of the given log-log slope through ``method``'s first point: the √n rate, by default."""
    pts = sorted((float(s.x), stats[(s.label, method, metric)][0]) for s in settings if (s.label, method, metric) in stats)
    if len(pts) < 2:
        return
    x0, y0 = pts[0]
    xs = np.array([x0, pts[-1][0]])
    ax.plot(xs, y0 * (xs / x0) ** slope, color="#555555", ls=(0, (4, 3)), lw=1.0, zorder=1,
            label=f"slope {slope:g} (√n rate)" if slope == -0.5 else f"slope {slope:g}")


__all__ = [
    "VARIANT_STYLES",
    "method_styles",
    "method_colours",
    "plot_panels",
    "reference_slope",
]
