"""From long-format results to what a person reads: results.csv, one figure per study, report.md.

Every claim's sentence is filled from the results (see :class:`~contrastive_gmm.config.Check`)
and printed with the table of per-setting means that supports or contradicts it. The output
folder also keeps ``studies.json`` (the resolved specs) and ``manifest.json`` (how the run was
made), so :func:`render_report` can rebuild the figures and the report from the folder alone.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import tempfile
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

from .config import Check, Claim, StudySpec, parse_study
from .engine import RESULT_COLUMNS, StudySetting, get_kind

_VERSIONED = ("contrastive-gmm", "numpy", "scipy", "scikit-learn", "torch", "matplotlib", "pydantic", "joblib", "dask", "distributed")
_FORMATS = {"nmi": "{:.3f}", "ari": "{:.3f}", "accuracy": "{:.3f}", "effective_rank": "{:.1f}", "collapsed": "{:.1f}"}


# ---------------------------------------------------------------------------- files


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write long-format rows (:data:`~contrastive_gmm.engine.RESULT_COLUMNS`) atomically; floats round-trip exactly."""
    path = Path(path)
    lines: list[str] = []

    class _Sink:
        def write(self, s: str) -> None:
            lines.append(s)

    writer = csv.DictWriter(_Sink(), fieldnames=list(RESULT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: r[k] for k in RESULT_COLUMNS} for r in rows)
    _write_atomic(path, "".join(lines))
    return path


def _number_or_text(s: str) -> float | str:
    try:
        return float(s)
    except ValueError:
        return s


def read_results_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read a results.csv written by :func:`write_results_csv` (numbers as floats, seed as int)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; run `cgmm reproduce --out {path.parent}` first")
    rows = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(RESULT_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} is not a cgmm results file: it lacks the columns {sorted(missing)}")
        for r in reader:
            r["x"] = _number_or_text(r["x"])
            r["seed"] = int(r["seed"])
            for k in ("value", "fit_seconds", "run_seconds"):
                r[k] = float(r[k])
            rows.append(r)
    return rows


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages the numbers depend on."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------- claims


def setting_stats(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[float, float, int]]:
    """Mean, sample sd and count over seeds, keyed by (setting, method, metric)."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["setting"], r["method"], r["metric"]), []).append(float(r["value"]))
    out = {}
    for key, values in groups.items():
        arr = np.asarray(values)
        out[key] = (float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0, int(arr.size))
    return out


def select_settings(check: Check, settings: Sequence[StudySetting]) -> list[StudySetting]:
    """The settings a check looks at, in display order."""
    out = []
    for s in settings:
        if check.panel is not None and s.panel != check.panel:
            continue
        if check.settings is not None and s.label not in check.settings:
            continue
        if check.x_min is not None or check.x_max is not None:
            if isinstance(s.x, str):
                continue
            if check.x_min is not None and s.x < check.x_min or check.x_max is not None and s.x > check.x_max:
                continue
        out.append(s)
    return out


@dataclass
class CheckResult:
    """A check's values (the claim's placeholders), its verdict and the settings it looked at."""

    check: Check
    values: dict[str, Any]
    holds: bool
    settings: list[StudySetting]


def evaluate_check(check: Check, settings: Sequence[StudySetting], stats: dict) -> CheckResult:
    """Compute a check from per-setting means (see :class:`~contrastive_gmm.config.Check`)."""
    chosen = select_settings(check, settings)
    mean = lambda s, m: stats.get((s.label, m, check.metric), (math.nan,))[0]  # noqa: E731
    nan = math.nan
    values: dict[str, Any] = {"method": check.method, "metric": check.metric, "n_settings": len(chosen)}
    ms = [mean(s, check.method) for s in chosen]
    usable = bool(chosen) and all(np.isfinite(ms))
    holds = False
    if check.check == "close":
        refs = [mean(s, check.reference) for s in chosen]
        factor = check.factor or 1.5
        usable = usable and all(np.isfinite(refs))
        if check.better == "lower":
            ratios = [m / r if r else math.inf for m, r in zip(ms, refs)]
            diffs = [m - r for m, r in zip(ms, refs)]
            oks = [m <= max(factor * r, r + check.slack) for m, r in zip(ms, refs)]
        else:
            ratios = [r / m if m else math.inf for m, r in zip(ms, refs)]
            diffs = [r - m for m, r in zip(ms, refs)]
            oks = [m >= min(r / factor, r - check.slack) for m, r in zip(ms, refs)]
        worst = int(np.argmax(ratios)) if usable else None
        values.update(
            reference=check.reference,
            factor=factor,
            slack=check.slack,
            worst_ratio=ratios[worst] if usable else nan,
            worst_diff=max(diffs) if usable else nan,
            worst_setting=chosen[worst].label if usable else "-",
        )
        holds = usable and all(oks)
    elif check.check in ("above", "below"):
        lo, hi = (int(np.argmin(ms)), int(np.argmax(ms))) if usable else (None, None)
        values.update(
            threshold=check.threshold,
            min=ms[lo] if usable else nan,
            max=ms[hi] if usable else nan,
            min_setting=chosen[lo].label if usable else "-",
            max_setting=chosen[hi].label if usable else "-",
        )
        if usable:
            holds = all(m > check.threshold for m in ms) if check.check == "above" else all(m < check.threshold for m in ms)
    elif check.check == "trend":
        numeric = sorted(((float(s.x), m) for s, m in zip(chosen, ms) if not isinstance(s.x, str)), key=lambda t: t[0])
        usable = usable and len(numeric) >= 2
        factor = check.factor or 1.0
        if usable:
            xs, ys = np.array([t[0] for t in numeric]), np.array([t[1] for t in numeric])
            first, last = float(ys[0]), float(ys[-1])
            slope = float(np.polyfit(np.log(xs), np.log(ys), 1)[0]) if (xs > 0).all() and (ys > 0).all() else nan
            holds = last > factor * first if check.direction == "increasing" else first > factor * last
            values.update(first=first, last=last, ratio=last / first if first else nan, slope=slope,
                          x_first=float(xs[0]), x_last=float(xs[-1]), factor=factor)
        else:
            values.update(first=nan, last=nan, ratio=nan, slope=nan, x_first=nan, x_last=nan, factor=factor)
    elif check.check == "beats":
        refs = [mean(s, check.reference) for s in chosen]
        usable = usable and all(np.isfinite(refs))
        sign = 1.0 if check.better == "higher" else -1.0
        gains = [sign * (m - r) for m, r in zip(ms, refs)]
        worst = int(np.argmin(gains)) if usable else None
        values.update(
            reference=check.reference,
            margin=check.margin,
            min_gain=gains[worst] if usable else nan,
            max_gain=max(gains) if usable else nan,
            worst_setting=chosen[worst].label if usable else "-",
        )
        holds = usable and all(g >= check.margin for g in gains)
    elif check.check == "flat":
        values.update(slack=check.slack, min=min(ms) if usable else nan, max=max(ms) if usable else nan)
        values["spread"] = values["max"] - values["min"]
        holds = usable and values["spread"] <= check.slack
    return CheckResult(check, values, bool(holds), chosen)


def _cell(stat: tuple[float, float, int] | None, metric: str) -> str:
    if stat is None:
        return "–"
    fmt = _FORMATS.get(metric, "{:.2f}")
    mean, sd, n = stat
    return fmt.format(mean) + (f" ± {fmt.format(sd)}" if n > 1 else "")


def markdown_table(
    stats: dict, settings: Sequence[StudySetting], methods: Sequence[str], metric: str, first_header: str = "setting"
) -> str:
    """One line per setting, one column per method: mean ± sd over seeds of ``metric``."""
    lines = [f"| {first_header} | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for s in settings:
        cells = [_cell(stats.get((s.label, m, metric)), metric) for m in methods]
        lines.append(f"| {s.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass
class ClaimResult:
    """A claim's filled-in sentence, verdict, checks and supporting tables (Markdown)."""

    study: str
    claim: Claim
    sentence: str
    holds: bool
    checks: list[CheckResult]
    tables: str


def evaluate_claims(spec: StudySpec, rows: Sequence[dict[str, Any]]) -> list[ClaimResult]:
    """Every claim of ``spec``, checked against the study's rows."""
    settings = spec.expand()
    stats = setting_stats(rows)
    all_methods = list(dict.fromkeys(r["method"] for r in rows))
    out = []
    for claim in spec.claims:
        results = [evaluate_check(c, settings, stats) for c in claim.checks]
        sentence = claim.text.format(**{r.check.label: SimpleNamespace(**r.values) for r in results})
        chosen = {s.label for r in results for s in r.settings}
        shown = [s for s in settings if s.label in chosen]
        methods = claim.methods or all_methods
        metrics = list(dict.fromkeys(c.metric for c in claim.checks))
        tables = "\n\n".join(
            (f"*{metric}*\n\n" if len(metrics) > 1 else "") + markdown_table(stats, shown, methods, metric) for metric in metrics
        )
        out.append(ClaimResult(spec.name, claim, sentence, all(r.holds for r in results), results, tables))
    return out


def collapse_notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per (setting, method) whose map collapsed in some seed (metric ``collapsed`` > 0)."""
    seen: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["metric"] == "collapsed":
            seen.setdefault((r["setting"], r["method"]), []).append(float(r["value"]))
    notes = []
    for (setting, method), values in seen.items():
        bad = [v for v in values if v > 0]
        if bad:
            notes.append(
                f"{method} at {setting}: {len(bad)} of {len(values)} seeds lost "
                f"{max(bad):.0f} direction{'s' if max(bad) > 1 else ''} (a singular value below 1% of the largest)"
            )
    return notes


# ---------------------------------------------------------------------------- figures

_COLOURS = {
    "InfoNCE": "#d62728",
    "pair CCA": "#1f77b4",
    "LDA (labels)": "#2ca02c",
    "PCA": "#7f7f7f",
    "spectral on means": "#9467bd",
}
_PALETTE = ("#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f")
_UNIT_METRICS = ("nmi", "ari", "accuracy")


def method_colours(methods: Sequence[str]) -> dict[str, str]:
    """A stable colour per method: fixed ones for the usual methods, a palette for the rest."""
    taken = {_COLOURS[m] for m in methods if m in _COLOURS}
    free = [c for c in _PALETTE if c not in taken] or list(_PALETTE)
    out, i = {}, 0
    for m in methods:
        if m in _COLOURS:
            out[m] = _COLOURS[m]
        else:
            out[m], i = free[i % len(free)], i + 1
    return out


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
) -> None:
    """Write one PNG: a row per metric, a column per panel; mean over seeds with ±1 sd error bars.

    ``panel_titles`` name the panels (their column titles and, unless ``x_labels`` says
    otherwise, their x axes).

    A panel of numeric x values is a line plot per method (log-scale x for ``log_panels``); a panel
    of named settings (string x) is a grouped bar chart. Metrics whose name ends in ``angle`` are
    degrees: log-scale up to 90 in line plots, 0-90 in bar charts. Any study kind can use it.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    metric_labels, panel_titles = metric_labels or {}, panel_titles or {}
    panels = list(dict.fromkeys(s.panel for s in settings))
    present = {r["metric"] for r in rows}
    metrics = [m for m in metrics if m in present]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colours = method_colours(methods)
    n_seeds = len({r["seed"] for r in rows})
    stats = setting_stats(rows)
    width = max(7.0, 4.4 * len(panels))
    fig = Figure(figsize=(width, 3.0 * len(metrics) + 1.4), layout="constrained")
    axes = fig.subplots(max(len(metrics), 1), len(panels), squeeze=False)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for i, metric in enumerate(metrics):
        angle = metric.endswith("angle")
        for j, panel in enumerate(panels):
            ax = axes[i][j]
            points = [s for s in settings if s.panel == panel]
            # Only the methods this panel has (a study may run different methods in different panels).
            shown = [m for m in methods if any((p.label, m, metric) in stats for p in points)]
            if all(isinstance(p.x, str) for p in points):
                bar = 0.8 / max(len(shown), 1)
                xs = np.arange(len(points))
                for m_i, m in enumerate(shown):
                    cells = [stats[(p.label, m, metric)][:2] if (p.label, m, metric) in stats else (np.nan, 0.0) for p in points]
                    ax.bar(xs + (m_i - (len(shown) - 1) / 2) * bar, [c[0] for c in cells], bar,
                           yerr=[c[1] for c in cells], capsize=2, color=colours[m], label=m)
                ax.set_xticks(xs, [p.label for p in points], rotation=15, fontsize=8)
                if angle:
                    ax.set_ylim(0, 92)
            else:
                for m in shown:
                    pts = sorted((float(p.x), *stats[(p.label, m, metric)][:2]) for p in points if (p.label, m, metric) in stats)
                    if not pts:
                        continue
                    x, mu, sd = (np.array(v) for v in zip(*pts))
                    # On a log scale a lower bar below zero would vanish, so clip it inside the axis.
                    lower = np.minimum(sd, 0.9 * mu) if angle else sd
                    ax.errorbar(x, mu, yerr=[lower, sd], marker="o", ms=4, capsize=3, lw=1.5, color=colours[m], label=m)
                if panel in log_panels:
                    ax.set_xscale("log")
                    ax.xaxis.set_major_formatter(plain)
                if angle:
                    ax.set_yscale("log")
                    ax.set_ylim(top=100)
                    ax.yaxis.set_major_formatter(plain)
                ax.set_xlabel((x_labels or {}).get(panel, panel_titles.get(panel, panel)))
            if metric in _UNIT_METRICS:
                ax.set_ylim(-0.02, 1.02)
            if i == 0 and len(panels) > 1:
                ax.set_title(panel_titles.get(panel, panel), fontsize=10)
            if j == 0:
                ax.set_ylabel(metric_labels.get(metric, metric))
            ax.grid(alpha=0.3)
    legend: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    labels, handles = list(legend), list(legend.values())
    # As many legend columns as fit the width (about 5.5 points per character at 9 pt).
    per_entry = 5.5 * max((len(label) for label in labels), default=1) + 40
    ncol = max(1, min(len(labels), int(width * 72 // per_entry)))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=9, frameon=False)
    wrapped = textwrap.fill(title, width=int(width * 72 / 6.5))
    fig.suptitle(f"{wrapped}\n(mean ± sd over {n_seeds} seed{'s' if n_seeds != 1 else ''})", fontsize=11)
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------------------- the report


def _verdict(holds: bool) -> str:
    return "**supported**" if holds else "**contradicted**"


def _study_section(spec: StudySpec, rows: list[dict[str, Any]], figure: str, claims: list[ClaimResult]) -> str:
    parts = [f"## {spec.title}", ""]
    if spec.description:
        parts += [spec.description.strip(), ""]
    n_runs = len({(r["setting"], r["seed"]) for r in rows})
    parts += [f"![{spec.name}]({figure})", "", f"*Study `{spec.name}`: {n_runs} runs, seed {spec.seed}, {spec.seeds} replicate(s) per setting.*", ""]
    for i, c in enumerate(claims, 1):
        parts += [f"**Claim {i}.** {c.sentence} — {_verdict(c.holds)}", "", c.tables, ""]
    notes = collapse_notes(rows)
    if notes:
        parts += ["**Collapsed maps** (recorded, not hidden):", ""] + [f"- {n}" for n in notes] + [""]
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    stats = setting_stats(rows)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    settings = [s for s in spec.expand() if any(r["setting"] == s.label for r in rows)]
    parts += ["<details><summary>All settings and metrics</summary>", ""]
    for metric in metrics:
        parts += [f"*{metric}*", "", markdown_table(stats, settings, methods, metric), ""]
    parts += ["</details>", ""]
    return "\n".join(parts)


def _seeds_section(specs: Sequence[StudySpec]) -> str:
    lines = [
        "## Software and seeds",
        "",
        "Run r of a setting draws all its randomness (mixture, pairs, held-out points, learner initialisation) from "
        "`numpy.random.SeedSequence(entropy=<study seed>, spawn_key=(r,))`, spawned into four streams; with common "
        "random numbers off, a hash of the setting is appended to the spawn key. Results do not depend on the "
        "backend, the number of workers or the order runs finish in. Seed column r in results.csv is that replicate.",
        "",
        "| study | seed | replicates | settings | common random numbers |",
        "|---|---|---|---|---|",
    ]
    for s in specs:
        lines.append(f"| {s.name} | {s.seed} | {s.seeds} | {len(s.expand())} | {'yes' if s.common_random_numbers else 'no'} |")
    return "\n".join(lines)


def rows_by_study(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each study, by study name."""
    by_study: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_study.setdefault(r["study"], []).append(r)
    return by_study


def build_report(
    specs: Sequence[StudySpec],
    rows: Sequence[dict[str, Any]],
    manifest: dict[str, Any],
    figures: dict[str, str],
    claims: dict[str, list[ClaimResult]],
) -> str:
    """The Markdown report: a claims summary, a section per study (figure, claims, tables), versions and seeds."""
    by_study = rows_by_study(rows)
    compute = sum({r["task"]: float(r["run_seconds"]) for r in rows}.values())
    n_claims = sum(len(c) for c in claims.values())
    n_ok = sum(c.holds for cs in claims.values() for c in cs)
    head = [
        "# contrastive-gmm: reproduction report",
        "",
        "Linear contrastive learning on positive pairs of a Gaussian mixture recovers the Fisher (LDA) subspace "
        "without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517). Each claim below is one "
        "sentence filled in from this run's results, followed by the table that supports or contradicts it. "
        "Angles are the largest principal angle (degrees) between the learned subspace and the true Fisher "
        "subspace; NMI is k-means on held-out points.",
        "",
        f"Command: `{manifest.get('command', 'cgmm')}`; "
        f"{manifest.get('n_runs', '?')} runs ({manifest.get('computed', '?')} computed, {manifest.get('reused', '?')} reused "
        f"from earlier files) on the {manifest.get('backend', '?')} backend in {manifest.get('wall_seconds', math.nan):.0f} s "
        f"(the runs themselves took {compute:.0f} s of worker time); finished {manifest.get('finished', '?')}.",
        "",
        f"## Claims: {n_ok} of {n_claims} supported",
        "",
        "| study | claim | verdict |",
        "|---|---|---|",
    ]
    for name, cs in claims.items():
        for c in cs:
            head.append(f"| {name} | {c.sentence.replace('|', '/')} | {'supported' if c.holds else 'contradicted'} |")
    body = [_study_section(s, by_study.get(s.name, []), figures[s.name], claims[s.name]) for s in specs]
    versions = manifest.get("versions") or software_versions()
    software = ", ".join(f"{k} {v}" for k, v in versions.items())
    tail = [
        _seeds_section(specs),
        "",
        f"Software: {software}. Platform: {manifest.get('platform', platform.platform())}, {manifest.get('cpus', '?')} CPUs.",
        "",
    ]
    return "\n".join(head + [""] + body + tail)


def write_outputs(
    out_dir: str | Path, specs: Sequence[StudySpec], rows: Sequence[dict[str, Any]], manifest: dict[str, Any]
) -> tuple[Path, dict[str, list[ClaimResult]]]:
    """Write results.csv, studies.json, manifest.json, a figure per study and report.md.

    Returns the report's path and each study's evaluated claims.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_results_csv(rows, out / "results.csv")
    studies = {"studies": [s.model_dump(mode="json", by_alias=True) for s in specs]}
    _write_atomic(out / "studies.json", json.dumps(studies, indent=1))
    _write_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    return render(out, specs, rows, manifest)


def render(
    out: Path, specs: Sequence[StudySpec], rows: Sequence[dict[str, Any]], manifest: dict[str, Any]
) -> tuple[Path, dict[str, list[ClaimResult]]]:
    """Draw each study's figure and write report.md into ``out``; returns its path and the claims."""
    by_study = rows_by_study(rows)
    figures = {}
    for spec in specs:
        figures[spec.name] = f"{spec.name}.png"
        if by_study.get(spec.name):
            get_kind(spec.kind).plot(spec, by_study[spec.name], out / figures[spec.name])
    claims = {s.name: evaluate_claims(s, by_study.get(s.name, [])) for s in specs}
    path = out / "report.md"
    _write_atomic(path, build_report(specs, rows, manifest, figures, claims))
    return path, claims


def load_outputs(out_dir: str | Path) -> tuple[list[StudySpec], list[dict[str, Any]], dict[str, Any]]:
    """Read back the specs, rows and manifest that :func:`write_outputs` saved."""
    out = Path(out_dir)
    if not (out / "studies.json").exists():
        raise FileNotFoundError(f"{out} holds no studies.json: it is not a finished `cgmm reproduce` / `cgmm run` folder")
    raw = json.loads((out / "studies.json").read_text())
    specs = [parse_study(s, source=f"{out / 'studies.json'}") for s in raw.get("studies", [])]
    rows = read_results_csv(out / "results.csv")
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    return specs, rows, manifest


def render_report(out_dir: str | Path) -> Path:
    """Re-draw the figures and rewrite report.md from a finished folder's saved results."""
    specs, rows, manifest = load_outputs(out_dir)
    return render(Path(out_dir), specs, rows, manifest)[0]


def run_manifest(command: str, quick: bool, backend: str, execution: Any, wall_seconds: float) -> dict[str, Any]:
    """What the report states about a run: command, backend, counts, time, versions, platform."""
    return {
        "command": command,
        "quick": quick,
        "backend": backend,
        "n_runs": execution.computed + execution.reused,
        "computed": execution.computed,
        "reused": execution.reused,
        "wall_seconds": wall_seconds,
        "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": software_versions(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


__all__ = [
    "write_results_csv",
    "read_results_csv",
    "software_versions",
    "setting_stats",
    "select_settings",
    "evaluate_check",
    "evaluate_claims",
    "CheckResult",
    "ClaimResult",
    "markdown_table",
    "collapse_notes",
    "method_colours",
    "plot_panels",
    "build_report",
    "write_outputs",
    "render",
    "load_outputs",
    "render_report",
    "run_manifest",
]
