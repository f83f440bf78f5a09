"""From long-format results to what a person reads: results.csv, one figure per study, report.md.

Every claim's sentence is filled from the results (:mod:`~contrastive_gmm.experiments.claims`)
and printed with the table of per-setting means that supports or contradicts it; the figures are
drawn by each study kind's plot (:mod:`~contrastive_gmm.experiments.figures`). The output
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
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from contrastive_gmm.experiments.claims import (
    ClaimResult,
    _claim_methods,
    claims_table,
    evaluate_claims,
    format_cell,
    setting_stats,
)
from contrastive_gmm.experiments.engine import RESULT_COLUMNS, StudySetting, get_kind
from contrastive_gmm.experiments.spec import StudySpec, parse_study

_VERSIONED = ("contrastive-gmm", "numpy", "scipy", "scikit-learn", "torch", "matplotlib", "pydantic", "joblib", "dask", "distributed")


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
    """Write long-format rows (:data:`~contrastive_gmm.experiments.engine.RESULT_COLUMNS`) atomically; floats round-trip exactly."""
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


def markdown_table(
    stats: dict, settings: Sequence[StudySetting], methods: Sequence[str], metric: str, first_header: str = "setting",
    sd: bool = True,
) -> str:
    """One line per setting, one column per method: mean ± sd over seeds of ``metric`` (the mean alone without ``sd``)."""
    lines = [f"| {first_header} | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for s in settings:
        stat = lambda m: stats.get((s.label, m, metric)) if sd else (stats[(s.label, m, metric)][0], 0.0, 1) if (s.label, m, metric) in stats else None  # noqa: E731
        cells = [format_cell(stat(m), metric) for m in methods]
        lines.append(f"| {s.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
                f"{max(bad):.0f} direction{'s' if max(bad) > 1 else ''}"
            )
    return notes


# ---------------------------------------------------------------------------- the report


def _verdict(holds: bool) -> str:
    return "**supported**" if holds else "**not supported**"


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe_setup(
    settings: Sequence[StudySetting], panel_titles: dict[str, str] | None = None, quiet: dict[str, Any] | None = None
) -> str:
    """What ran, from the settings themselves: the parameters all share, then what each panel varies.

    >>> pts = [StudySetting(f"n_pairs={n}", "n_pairs", float(n), {"dim": 40, "n_pairs": n}) for n in (1000, 4000)]
    >>> describe_setup(pts)
    'All settings: dim 40. n_pairs: n_pairs 1000, 4000.'
    """
    panel_titles, quiet = panel_titles or {}, quiet or {}
    # A parameter left at its default everywhere is not listed (the line says so).
    keys = [k for k in dict.fromkeys(k for s in settings for k in s.params)
            if not (k in quiet and all(s.params.get(k) == quiet[k] for s in settings))]
    present = lambda ss, k: [s.params.get(k) for s in ss if s.params.get(k) is not None]  # noqa: E731
    common = {k: settings[0].params.get(k) for k in keys
              if settings and all(s.params.get(k) == settings[0].params.get(k) for s in settings)
              and settings[0].params.get(k) is not None}
    parts = ["All settings: " + ", ".join(f"{k} {_value(v)}" for k, v in common.items()) + "." if common else ""]
    for panel in dict.fromkeys(s.panel for s in settings):
        ss = [s for s in settings if s.panel == panel]
        title = panel_titles.get(panel, panel)
        rest = [k for k in keys if k not in common and present(ss, k)]
        if any(isinstance(s.x, str) for s in ss):
            # Named settings: each one's own parameters.
            each = [f"{s.label} (" + ", ".join(f"{k} {_value(s.params[k])}" for k in rest
                                                if s.params.get(k) is not None and _value(s.params[k]) != s.label) + ")"
                    for s in ss]
            each = [e.removesuffix(" ()") for e in each]
            parts.append(f"{title}: " + "; ".join(each) + ".")
            continue
        varying = [k for k in rest if len(set(map(str, present(ss, k)))) > 1]
        fixed = [k for k in rest if k not in varying]
        text = f"{title}: " + "; ".join(f"{k} " + ", ".join(_value(v) for v in dict.fromkeys(present(ss, k))) for k in varying)
        if fixed:
            text += " (with " + ", ".join(f"{k} {_value(ss[0].params[k])}" for k in fixed) + ")"
        parts.append(text + ".")
    # Parameters left out as defaults are not named: the report's introduction says so.
    return " ".join(p for p in parts if p)


def _panel_titles(spec: StudySpec, settings: Sequence[StudySetting]) -> dict[str, str]:
    title = getattr(spec, "panel_title", None)
    return {p: title(p) for p in dict.fromkeys(s.panel for s in settings)} if callable(title) else {}


def _study_section(spec: StudySpec, rows: list[dict[str, Any]], figure: str, claims: list[ClaimResult]) -> str:
    parts = [f"## {spec.title}", ""]
    if spec.description:
        parts += [spec.description.strip(), ""]
    settings = spec.expand()
    n_runs = len({(r["setting"], r["seed"]) for r in rows})
    seeds = sorted({int(r["seed"]) for r in rows})
    parts += [
        f"![{spec.name}]({figure})", "",
        f"*Study `{spec.name}`: {n_runs} runs, root seed {spec.seed}, {len(seeds)} replicate{'s' if len(seeds) != 1 else ''}.* "
        + describe_setup([StudySetting(s.label, s.panel, s.x, spec.shown_params(s.params)) for s in settings],
                         _panel_titles(spec, settings), spec.quiet_defaults()),
        "",
    ]
    for i, c in enumerate(claims, 1):
        parts += [f"**{i}.** {c.sentence} — {_verdict(c.holds)}", ""]
    stats = setting_stats(rows)
    # One table per study: every (metric, setting) a claim looked at, every method that has it.
    used = _claim_cells(claims)
    if used:
        methods = list(dict.fromkeys(r["method"] for r in rows))
        rows_for = [(m, [s for s in settings if s.label in ls]) for m, ls in used.items()]
        # A metric the figure does not show gets only the methods a claim quotes on it (results.csv has the rest).
        figure = set(getattr(spec, "metrics", []))
        quoted = {m: ms for m, ms in _claim_methods(claims).items() if m not in figure}
        parts += [claims_table(stats, rows_for, methods, quoted), ""]
    notes = collapse_notes(rows)
    if notes:
        parts += ["**Collapsed maps** (a direction is lost when its singular value is below 1% of the largest):", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(parts)


def _claim_cells(claims: Sequence[ClaimResult]) -> dict[str, set[str]]:
    """The settings each metric's checks looked at (including those set aside), by metric."""
    used: dict[str, set[str]] = {}
    for c in claims:
        for r in c.checks:
            used.setdefault(r.check.metric, set()).update(s.label for s in (*r.settings, *(a for a, _ in r.set_aside)))
    return used


def _appendix(spec: StudySpec, rows: list[dict[str, Any]], claims: list[ClaimResult]) -> str:
    """Per-setting tables of the study's figure angle metrics, for the settings the body's table leaves out."""
    stats = setting_stats(rows)
    settings = [s for s in spec.expand() if any(r["setting"] == s.label for r in rows)]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    shown = _claim_cells(claims)
    # Angles only: the report stays under its size limit (the other figure metrics are in results.csv).
    wanted = [m for m in getattr(spec, "metrics", []) if "angle" in m]
    parts = []
    for metric in wanted:
        # Only the settings the body's table leaves out, so no line is printed twice.
        rest = [s for s in settings if s.label not in shown.get(metric, set())]
        cols = [m for m in methods if any((s.label, m, metric) in stats for s in rest)]
        rows_ = [s for s in rest if any((s.label, m, metric) in stats for m in cols)]
        if cols and rows_:
            parts += [f"*{spec.name}: {metric}*", "", markdown_table(stats, rows_, cols, metric, sd=False), ""]
    return "\n".join(parts)


def _seeds_section(specs: Sequence[StudySpec]) -> str:
    lines = [
        "## Software and seeds",
        "",
        "Replicate r (column `seed` of results.csv) draws all its randomness from "
        "`numpy.random.SeedSequence(entropy=<study's root seed>, spawn_key=(r,))` (plus a hash of the setting with "
        "common random numbers off), so results do not depend on the backend, the workers or the order runs finish in.",
        "",
    ]
    off = [s.name for s in specs if not s.common_random_numbers]
    lines.append("Common random numbers are on in every study." if not off else f"Common random numbers are off in: {', '.join(off)}.")
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
        "without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517). Each claim is filled in from "
        "this run's results; its study's table holds the means. Angles: the largest "
        "principal angle (degrees) to the true Fisher subspace; NMI: k-means on held-out points. Each study's line "
        "lists the setting parameters that ran (the others at their defaults; in the mixture studies k and "
        "n_noise_directions are K - 1 unless listed); a metric its figure does not show has, in its table, only "
        "the methods a claim quotes (results.csv has every number).",
        "",
        f"Command: `{manifest.get('command', 'cgmm')}`; "
        f"{manifest.get('n_runs', '?')} runs ({manifest.get('computed', '?')} computed, {manifest.get('reused', '?')} reused) "
        f"on the {manifest.get('backend', '?')} backend in {manifest.get('wall_seconds', math.nan):.0f} s "
        f"(the runs themselves took {compute:.0f} s of worker time); finished {manifest.get('finished', '?')}.",
        "",
        *([("A `--quick` run: fewer settings, replicates and pairs than the full specs (`cgmm reproduce` without "
            "`--quick`)."), ""]
          if manifest.get("quick") else []),
        f"## Claims: {n_ok} of {n_claims} supported",
    ]
    failed = [f"{name} claim {i}" for name, cs in claims.items() for i, c in enumerate(cs, 1) if not c.holds]
    if failed:
        head += ["", "Not supported: " + ", ".join(failed) + "."]
    body = [_study_section(s, by_study.get(s.name, []), figures[s.name], claims[s.name]) for s in specs]
    appendix = [a for a in (_appendix(s, by_study.get(s.name, []), claims[s.name]) for s in specs) if a]
    if appendix:
        body += ["## Appendix: per-setting tables", "",
                 "Figure angles at the settings the study tables leave out: means (sd in the figures); every number is "
                 "in `results.csv`.", "", *appendix]
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
    "markdown_table",
    "collapse_notes",
    "describe_setup",
    "rows_by_study",
    "build_report",
    "write_outputs",
    "render",
    "load_outputs",
    "render_report",
    "run_manifest",
]
